"""``Normalization`` (tf.keras preprocessing): ``(x - mean) / max(sqrt(variance), epsilon)`` per kept axis.

``mean``/``variance`` given as arguments are constants (tf.keras then has no weights; kerastorch keeps them
as non-persistent buffers, so they move with the module). Otherwise the adapted state is tf.keras's three
non-trainable weights ``mean``, ``variance`` (the kept axes' shape) and ``count`` (int64, a scalar), set by
``adapt()``, ``set_weights`` or a Keras weight file.
"""
from __future__ import annotations

import numbers
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import torch
from torch.nn.parameter import UninitializedBuffer

from ... import config as kt_config
from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer, WeightSpec
from ..utils.mask_rules import keras3_config


def _zeros_count(shape: Sequence[int], dtype: torch.dtype | None = None, device: Any = None) -> torch.Tensor:
    return torch.zeros(tuple(shape), dtype=dtype or torch.int64, device=device)


def _listify(value: Any) -> Any:
    """tf.keras's ``listify_tensors``: arrays and tensors become (nested) lists in the config."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().tolist()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


@LAYERS.register()
class Normalization(Layer):
    """tf.keras ``Normalization(axis=-1, mean=None, variance=None, invert=False)``.

    ``axis``: the axes kept (an int, a tuple, or ``None`` for a single scalar mean/variance); the others
    are reduced by ``adapt``. ``invert=True`` computes ``mean + x * max(sqrt(variance), epsilon)``.
    Inputs (integers too) are cast to the compute dtype, as tf.keras does.
    """

    def __init__(self, axis: int | Sequence[int] | None = -1, mean: Any = None, variance: Any = None,
                 invert: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.supports_masking = keras3_config(kwargs)  # tf.keras drops the mask, Keras 3 passes it (mask_rules)
        if axis is None:
            axes: tuple = ()
        elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
            axes = (int(axis),)
        else:
            try:
                axes = tuple(axis)
            except TypeError:
                axes = (axis,)
            if any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in axes):
                raise ValueError(
                    f'Normalization layer "{self.name}": `axis` must be an integer, a tuple of integers or None. '
                    f"Received: axis={axis!r}"
                )
            axes = tuple(int(a) for a in axes)
        self.axis = axes
        if (mean is not None) != (variance is not None):
            raise ValueError(
                f'Normalization layer "{self.name}": When setting values directly, both `mean` and `variance` '
                f"must be set. Got mean: {mean} and variance: {variance}"
            )
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self.input_spec = InputSpec(float_only=False)
        self._keep_axis: list[int] = []
        self._broadcast_shape: tuple[int, ...] = ()
        self._static_shape: tuple[int, ...] = ()
        self._static_dtype: torch.dtype = self._dtype_policy.compute_dtype
        self._static_device: torch.device | None = None
        self._finish_init()

    def _finish_init(self) -> None:
        # tf.keras's adapt() leaves ``batch_input_shape=(None,) * rank`` in the config of an adapted layer: the
        # kept axes are unknown there, so such a layer is built later (first call, set_weights, a weight file)
        shape = self._batch_input_shape
        ndim = len(shape) if shape is not None else 0
        if shape is not None and all(-ndim <= a < ndim for a in self.axis) and any(shape[a] is None for a in self.axis):
            self._batch_input_shape = None
            try:
                super()._finish_init()
            finally:
                self._batch_input_shape = shape
        else:
            super()._finish_init()

    # ----- weights -----
    @property
    def _adaptable(self) -> bool:
        return self.input_mean is None

    def _declare_weights(self) -> None:
        super()._declare_weights()
        if self._adaptable:  # tf.keras's count is an int64 variable
            self.register_buffer("count", UninitializedBuffer(dtype=torch.int64))

    def _kept(self, input_shape: Sequence[int | None]) -> list[int]:
        """The kept axes of an input of this shape, non-negative and sorted (tf.keras's checks)."""
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                f'Normalization layer "{self.name}": All `axis` values must be in the range [-ndim, ndim). '
                f"Found ndim: `{ndim}`, axis: {self.axis}"
            )
        keep = sorted(a if a >= 0 else a + ndim for a in self.axis)
        for d in keep:
            if input_shape[d] is None:
                raise ValueError(
                    f'Normalization layer "{self.name}": All `axis` values to be kept must have known shape. '
                    f"Got axis: {self.axis}, input shape: {list(input_shape)}, with unknown axis at index: {d}"
                )
        return keep

    def weight_specs(self, input_shape: Any) -> list[WeightSpec]:
        if not self._adaptable:
            return []
        if input_shape is None:
            shape: tuple = (None,)
        else:
            shape = tuple(int(input_shape[d]) for d in self._kept(input_shape))
        return [
            WeightSpec("mean", shape, "zeros", trainable=False),
            WeightSpec("variance", shape, "ones", trainable=False),
            WeightSpec("count", (), _zeros_count, trainable=False),
        ]

    def input_shape_from_weights(self, shapes: Mapping[str, tuple[int, ...]]) -> Any:
        """The smallest input rank whose kept axes take the ``mean`` (or ``variance``) shape (unknown dims
        are ``None``)."""
        given = [n for n in ("mean", "variance") if n in shapes]
        if not given:
            raise ValueError(
                f'Normalization layer "{self.name}": the input shape cannot be told from weights {sorted(shapes)} '
                "alone (`mean` or `variance` is needed)."
            )
        kept = tuple(shapes[given[0]])
        ndim = max([len(kept), 1] + [a + 1 for a in self.axis if a >= 0] + [-a for a in self.axis if a < 0])
        shape: list[int | None] = [None] * ndim
        keep = sorted(a if a >= 0 else a + ndim for a in self.axis)
        if len(keep) != len(kept):
            raise ValueError(f'Normalization layer "{self.name}": weight `mean` of shape {kept} does not fit axis={self.axis}.')
        for d, n in zip(keep, kept):
            shape[d] = n
        return tuple(shape)

    def build(self, input_shape: Any) -> None:
        if isinstance(input_shape, list):
            raise ValueError(
                f'Normalization layer "{self.name}": Normalization only accepts a single input. If you are passing a '
                "python list or tuple as a single input, please convert to a numpy array or `tf.Tensor`."
            )
        self._kept(input_shape)
        super().build(input_shape)

    def _static_values(self, kept: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """tf.keras's ``input_mean * np.ones(kept)`` (and variance), with numpy's broadcast error named."""
        try:
            mean = np.asarray(np.asarray(self.input_mean, dtype=np.float64) * np.ones(tuple(kept)))
            variance = np.asarray(np.asarray(self.input_variance, dtype=np.float64) * np.ones(tuple(kept)))
        except ValueError as e:
            raise ValueError(f'Normalization layer "{self.name}": {e}') from None
        if mean.shape != tuple(kept) or variance.shape != tuple(kept):
            raise ValueError(
                f'Normalization layer "{self.name}": `mean` and `variance` (shapes {mean.shape}, {variance.shape}) '
                f"must broadcast to the kept axes' shape {tuple(kept)}."
            )
        return mean, variance

    def _fill_static(self) -> None:
        """The given mean/variance as constants of the kept axes' shape: non-persistent buffers (they move with
        the module), in the dtype and on the device the unbuilt layer was moved to (default: the compute
        dtype, the default device)."""
        mean, variance = self._static_values(self._static_shape)
        for name, value in (("_mean_value", mean), ("_variance_value", variance)):
            slot = self._buffers.get(name)
            if slot is None:
                self.register_buffer(name, torch.tensor(value, dtype=self._static_dtype, device=self._static_device),
                                     persistent=False)
            else:
                with torch.no_grad():
                    slot.copy_(torch.from_numpy(value))

    def _apply(self, fn: Any, recurse: bool = True) -> "Normalization":
        if not self._adaptable and not self.built:  # remember .to(dtype/device) for the build's constants
            probe = fn(torch.empty(0, dtype=self._static_dtype, device=self._static_device))
            self._static_dtype, self._static_device = probe.dtype, probe.device
        return super()._apply(fn, recurse)

    def _on_build(self, input_shape: Any) -> None:
        if not self._adaptable:
            self._static_shape = tuple(int(input_shape[d]) for d in self._kept(input_shape))
            self._fill_static()

    def reset_parameters(self) -> None:
        """The adapted state's initial values (mean 0, variance 1, count 0), or the given mean/variance again."""
        super().reset_parameters()
        if not self._adaptable and self.built:
            self._fill_static()

    def _on_new_input(self, inputs: torch.Tensor) -> None:
        shape = tuple(inputs.shape)
        keep = self._kept(shape)
        kept = tuple(shape[d] for d in keep)
        expected = tuple(self._state()[0].shape)
        if kept != expected:
            raise ValueError(
                f'Normalization layer "{self.name}": the kept axes {self.axis} of the input (shape {shape}) have '
                f"sizes {kept}, but the layer was built for {expected}."
            )
        self._keep_axis = keep
        self._broadcast_shape = tuple(shape[d] if d in keep else 1 for d in range(len(shape)))

    def _state(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._adaptable:
            return self.mean, self.variance
        return self._mean_value, self._variance_value

    # ----- call -----
    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        mean, variance = self._state()
        if inputs.dtype != mean.dtype:
            inputs = inputs.to(mean.dtype)
        mean = mean.reshape(self._broadcast_shape)
        std = torch.sqrt(variance.reshape(self._broadcast_shape)).clamp(min=kt_config.epsilon())
        if self.invert:
            return mean + inputs * std
        return (inputs - mean) / std

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        return tuple(input_shape)

    # ----- adapt (tf.keras's streaming moments) -----
    def reset_state(self) -> None:
        """tf.keras ``reset_state``: mean 0, variance 1, count 0 (no-op with static mean/variance or unbuilt)."""
        if not self._adaptable or not self.built:
            return
        with torch.no_grad():
            self.mean.zero_()
            self.variance.fill_(1.0)
            self.count.zero_()

    def update_state(self, data: Any) -> None:
        """tf.keras ``update_state``: merge one batch's moments into the running mean/variance/count."""
        if not self._adaptable:
            raise ValueError(
                f'Normalization layer "{self.name}": Cannot `adapt` a Normalization layer that is initialized with '
                f"static `mean` and `variance`, you passed mean {self.input_mean} and variance {self.input_variance}."
            )
        if not self.built:
            raise ValueError(f'Normalization layer "{self.name}": `build` must be called before `update_state`.')
        data = torch.as_tensor(data).to(device=self.mean.device, dtype=self.mean.dtype)
        keep = self._kept(tuple(data.shape))
        if tuple(data.shape[d] for d in keep) != tuple(self.mean.shape):
            raise ValueError(
                f'Normalization layer "{self.name}": data of shape {tuple(data.shape)} has an incompatible shape: its '
                f"kept axes {self.axis} have sizes {tuple(data.shape[d] for d in keep)}, the layer's state "
                f"{tuple(self.mean.shape)}."
            )
        reduce = [d for d in range(data.dim()) if d not in keep]
        with torch.no_grad():
            if reduce:
                batch_var, batch_mean = torch.var_mean(data, dim=reduce, correction=0)
                batch_count = int(np.prod([data.shape[d] for d in reduce]))
            else:
                batch_mean, batch_var, batch_count = data, torch.zeros_like(data), 1
            total = batch_count + int(self.count)
            batch_weight = torch.tensor(batch_count, dtype=self.mean.dtype) / torch.tensor(total, dtype=self.mean.dtype)
            existing_weight = 1.0 - batch_weight
            total_mean = self.mean * existing_weight + batch_mean * batch_weight
            total_var = (self.variance + (self.mean - total_mean) ** 2) * existing_weight + (
                batch_var + (batch_mean - total_mean) ** 2
            ) * batch_weight
            self.mean.copy_(total_mean)
            self.variance.copy_(total_var)
            self.count.fill_(total)

    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """tf.keras ``adapt``: reset, then ``update_state`` over batches of ``data`` (an array, tensor or
        (nested) list: 32 rows unless ``batch_size``; any other iterable, e.g. a generator or a DataLoader,
        yields the batches as given; ``steps`` limits the batches)."""
        if isinstance(data, (torch.Tensor, np.ndarray, list, tuple)):  # lists are data, as tf.keras converts them
            tensor = data if isinstance(data, torch.Tensor) else torch.as_tensor(np.asarray(data))
            if tensor.dim() == 0:
                raise ValueError(f'Normalization layer "{self.name}": cannot adapt to a scalar.')
            size = batch_size or 32
            batches: Iterable[Any] = [tensor[i:i + size] for i in range(0, max(tensor.shape[0], 1), size)]
            shape = tuple(tensor.shape)
            keeps_batch = any(a in (0, -len(shape)) for a in self.axis)
            build_shape = shape if keeps_batch else (None, *shape[1:])
            array_rank: int | None = len(shape)
        else:
            batches = [torch.as_tensor(np.asarray(b) if not isinstance(b, torch.Tensor) else b) for b in data]
            if not batches:
                raise ValueError(f'Normalization layer "{self.name}": `adapt` received no data.')
            build_shape, array_rank = (None, *batches[0].shape[1:]), None
        if not self.built:
            # tf.keras (``_adapt_maybe_build``) builds from an array's shape and records ``(None,) * rank`` as the
            # layer's batch_input_shape (it then shows in get_config)
            if self._batch_input_shape is None and array_rank is not None:
                self._batch_input_shape = (None,) * array_rank
            self.build(build_shape)
        self.reset_state()
        for step, batch in enumerate(batches):
            if steps is not None and step >= steps:
                break
            self.update_state(batch)
        self._call_key = None

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "axis": self.axis,
            "invert": self.invert,
            "mean": _listify(self.input_mean),
            "variance": _listify(self.input_variance),
        }

    def extra_repr(self) -> str:
        return ", ".join([f"name={self.name!r}", f"axis={self.axis}", f"invert={self.invert}", *self._repr_common()])
