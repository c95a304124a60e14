"""``Discretization``: values into the bins of ``bin_boundaries`` (given, or found by ``adapt`` from quantiles).

Bins are left-closed, ``[b[i-1], b[i])``, with TF's ``Bucketize`` semantics: the boundaries are float32 numbers,
NaN goes to the last bin, an integer input is compared as float32 (C++'s int64-vs-float comparison).

``adapt`` reproduces each version's approximate-quantile summary (both keep a ``(2, n)`` summary of values and
weights, merge it batch by batch and compress it with ``np.interp`` to ``1 / epsilon`` points, then compress it to
``num_bins`` to read the boundaries) with the two versions' own differences: tf.keras cuts an array into batches of
32 rows (``batch_size``), starts each batch's sample at ``increment`` and sorts stably; Keras 3 summarizes a whole
array at once (an iterable batch by batch), starts at ``step - 1`` and sorts with numpy's default sort. A layer made
from a Keras 3 config (or ``keras3=True``) adapts as Keras 3; otherwise as tf.keras.
"""
from __future__ import annotations

import numbers
from typing import Any, Iterable, Sequence

import numpy as np
import torch

from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import WeightSpec
from ..utils.mask_rules import keras3_config
from .categorical import CategoricalLayer, check_dense, check_output_mode, check_size, encoded_shape, layer_label
from .encoding_utils import encode_categorical_inputs


def _summarize(values: np.ndarray, epsilon: float, keras3: bool) -> np.ndarray:
    values = np.sort(np.reshape(values, [-1]).astype(np.float32))
    if keras3:
        step = max(values.size / (1.0 / epsilon), 1)
        sample = values[int(step - 1)::int(step)]
        return np.stack([sample, np.ones_like(sample) * step])
    increment = int(np.float32(values.size) / np.float32(1.0 / epsilon))  # tf.cast(float32, int32) truncates
    step = max(increment, 1)
    sample = values[increment::step]
    return np.stack([sample, np.ones_like(sample) * np.float32(step)]).astype(np.float32)


def _compress(summary: np.ndarray, epsilon: float) -> np.ndarray:
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_weight_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_weight_percents, summary[0])
    cum_weights = np.interp(percents, cum_weight_percents, cum_weights)
    new_weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype("float32")


def _merge(new: np.ndarray, old: np.ndarray, epsilon: float, keras3: bool) -> np.ndarray:
    merged = np.concatenate((new, old), axis=1)
    order = np.argsort(merged[0]) if keras3 else np.argsort(merged[0], kind="stable")  # tf.argsort is stable
    return _compress(np.take(merged, order, axis=1), epsilon)


@LAYERS.register()
class Discretization(CategoricalLayer):
    """Keras ``Discretization(bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode='int', sparse=False)``.

    ``output_mode='int'`` returns the bin indices (int64 as tf.keras; int32 for a Keras 3 config, as Keras 3),
    ``one_hot``/``multi_hot``/``count`` float vectors of ``len(bin_boundaries) + 1``. ``adapt`` (with ``num_bins``)
    finds the boundaries; they are the layer's state, written to its config as Keras 3 does.
    """

    def __init__(self, bin_boundaries: Sequence[float] | None = None, num_bins: int | None = None,
                 epsilon: float = 0.01, output_mode: str = "int", sparse: bool = False, **kwargs: Any):
        if "bins" in kwargs:  # tf.keras's deprecated argument
            bins = kwargs.pop("bins")
            if isinstance(bins, int) and num_bins is None:
                num_bins = bins
            elif bin_boundaries is None:
                bin_boundaries = bins
        self._keras3 = bool(kwargs.pop("keras3", False)) or keras3_config(kwargs)
        check_output_mode(layer_label("Discretization", kwargs), output_mode,
                          ("int", "one_hot", "multi_hot", "count"))
        if not self._keras3 and output_mode == "int" and kwargs.get("dtype") is not None \
                and "int" not in str(kwargs["dtype"]):
            kwargs["dtype"] = "int64"  # tf.keras replaces a floating dtype in int mode
        kwargs = self._init_output(kwargs, output_mode, None if self._keras3 else "int64")
        if self._keras3 and output_mode == "int":
            self._out_dtype = torch.int32  # Keras 3: the dtype is the input's, int mode returns int32
        super().__init__(**kwargs)
        if sparse and output_mode == "int":
            raise self._error(
                "`sparse=True` may only be used if `output_mode` is `'one_hot'`, `'multi_hot'`, or `'count'`. "
                f"Received: sparse={sparse} and output_mode={output_mode}"
            )
        self.sparse = check_dense(layer_label("Discretization", {"name": self.name}), sparse)
        if num_bins is not None and (isinstance(num_bins, bool) or not isinstance(num_bins, int) or num_bins < 0):
            raise self._error(f"`num_bins` must be greater than or equal to 0. Received: `num_bins={num_bins!r}`")
        check_size(layer_label("Discretization", {"name": self.name}), "num_bins", num_bins)
        if num_bins is not None and bin_boundaries is not None:
            raise self._error(
                "Both `num_bins` and `bin_boundaries` should not be set. "
                f"Received: `num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`"
            )
        if num_bins is None and bin_boundaries is None:
            raise self._error("You need to set either `num_bins` or `bin_boundaries`.")
        if not isinstance(epsilon, numbers.Real) or isinstance(epsilon, bool) or not 0 < epsilon <= 1:
            raise self._error(f"`epsilon` must be a number in (0, 1]. Received: epsilon={epsilon!r}")
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.bin_boundaries: list[float] | None = None
        self.input_spec = InputSpec(float_only=False)
        self._summary = np.zeros((2, 0), dtype=np.float32)
        # tf.keras keeps an adaptable layer's state as a non-trainable ``summary`` weight (its config's
        # bin_boundaries stay None): of width len(arange(0, 1, epsilon)) once adapt compressed it
        self._has_summary = not self._keras3 and num_bins is not None and bin_boundaries is None
        self._summary_version = 0
        self._set_boundaries(bin_boundaries)
        self._finish_init()

    def weight_specs(self, input_shape: Any) -> list[WeightSpec]:
        if not self._has_summary:
            return []
        return [WeightSpec("summary", (2, len(np.arange(0.0, 1.0, self.epsilon))), "zeros", trainable=False)]

    def input_shape_from_weights(self, shapes: Any) -> Any:
        return None

    def _sync_summary(self) -> None:
        if self._has_summary and self.built and self.summary._version != self._summary_version:
            self._boundaries_from_summary()

    def _boundaries_from_summary(self) -> None:
        """A ``summary`` written by a tf.keras file (or ``set_weights``): its boundaries, as tf.keras's
        ``finalize_state`` computes them (an all-zero summary, never adapted, says nothing)."""
        self._summary_version = self.summary._version
        summary = self.summary.detach().cpu().numpy().astype(np.float32)
        if summary[1].sum() > 0:
            self._summary = summary
            self.finalize_state()

    def _retire_summary(self) -> None:
        """Once the boundaries are known the summary weight goes: kerastorch keeps them in the config, as Keras 3
        does (a re-saved file then holds no variable for this layer, which both Kerases read)."""
        if self._has_summary:
            self._has_summary = False
            self._specs.pop("summary", None)
            self._buffers.pop("summary", None)

    def _set_boundaries(self, boundaries: Any) -> None:
        if boundaries is None:
            self.bin_boundaries = None
            self.register_buffer("_boundaries", None, persistent=False)
            return
        if isinstance(boundaries, torch.Tensor):
            boundaries = boundaries.detach().cpu().tolist()
        try:
            values = np.asarray(boundaries, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise self._error(f"`bin_boundaries` must be a list of numbers. Received: {boundaries!r}") from None
        if np.isnan(values).any() or (np.diff(values) < 0).any():
            raise self._error(f"`bin_boundaries` must be sorted in increasing order. Received: {list(boundaries)}")
        self.bin_boundaries = [float(v) for v in values]
        device = self._buffers["_boundaries"].device if self._buffers.get("_boundaries") is not None else None
        self.register_buffer("_boundaries", torch.tensor(values, dtype=torch.float32, device=device), persistent=False)
        self._call_key = None

    def reset_parameters(self) -> None:
        """The boundaries buffer again from ``bin_boundaries`` (after ``to_empty``), on its device."""
        super().reset_parameters()
        if self.bin_boundaries is not None and self._boundaries.device.type != "meta":
            with torch.no_grad():
                self._boundaries.copy_(torch.tensor(self.bin_boundaries, dtype=torch.float32))

    @property
    def depth(self) -> int:
        return len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else (self.num_bins or 0)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if not torch.compiler.is_compiling():
            self._sync_summary()
        if self._boundaries is None:
            raise self._error(
                "You need to either pass the `bin_boundaries` argument at construction time or call "
                "`adapt(dataset)` before you can start using the `Discretization` layer."
            )
        boundaries = self._boundaries
        if inputs.dtype.is_floating_point:
            boundaries = boundaries.to(inputs.dtype)
        else:
            inputs = inputs.to(boundaries.dtype)
        indices = torch.bucketize(inputs, boundaries.to(inputs.device), right=True)  # NaN: the last bin, as TF
        return encode_categorical_inputs(indices, self.output_mode, len(self.bin_boundaries) + 1,
                                         dtype=self.output_dtype)

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        return encoded_shape(input_shape, self.output_mode, self.depth)

    # ----- adapt -----
    def reset_state(self) -> None:
        self._summary = np.zeros((2, 0), dtype=np.float32)

    def update_state(self, data: Any) -> None:
        """Merge one batch into the quantile summary (the version's ``update_state``)."""
        if self.num_bins is None:
            raise self._error(
                "Cannot adapt a Discretization layer that has been initialized with `bin_boundaries`, use "
                "`num_bins` instead."
            )
        array = data.detach().cpu().numpy() if isinstance(data, torch.Tensor) else np.asarray(data)
        summary = _summarize(array.astype(np.float32), self.epsilon, self._keras3)
        self._summary = _merge(summary, self._summary, self.epsilon, self._keras3)

    def finalize_state(self) -> None:
        if self.num_bins is None:
            return
        self._set_boundaries(_compress(self._summary, 1.0 / self.num_bins)[0, :-1].astype(np.float32).tolist())
        self._retire_summary()

    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Find ``num_bins`` quantile boundaries of ``data``: a tensor, array or list (tf.keras: in batches of
        ``batch_size`` rows, 32 by default; Keras 3: at once), or any iterable of batches (a generator, a
        ``DataLoader``; ``(x, y)`` batches use ``x``), streamed one batch at a time; ``steps`` limits the batches."""
        if self.num_bins is None:
            raise self._error(
                "Cannot adapt a Discretization layer that has been initialized with `bin_boundaries`, use "
                "`num_bins` instead."
            )
        if isinstance(data, (torch.Tensor, np.ndarray, list, tuple)) and not _is_batch_list(data):
            array = data.detach().cpu().numpy() if isinstance(data, torch.Tensor) else np.asarray(data)
            if array.ndim == 0:
                raise self._error("cannot adapt to a scalar.")
            if self._keras3:
                batches: Iterable[Any] = [array]
            else:
                size = batch_size or 32
                batches = [array[i:i + size] for i in range(0, max(len(array), 1), size)]
        else:
            batches = data
        self.reset_state()
        for step, batch in enumerate(batches):
            if steps is not None and step >= steps:
                break
            if isinstance(batch, (tuple, list)) and batch and isinstance(batch[0], (torch.Tensor, np.ndarray)):
                batch = batch[0]
            self.update_state(batch)
        self.finalize_state()

    # ----- config -----
    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Discretization":
        """Keras 3's ``from_config``: an adapted layer's config holds both ``num_bins`` and ``bin_boundaries``."""
        config = dict(config)
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            boundaries = config.pop("bin_boundaries")
            layer = cls(**config)
            layer._set_boundaries(boundaries)
            return layer
        return cls(**config)

    def get_config(self) -> dict[str, Any]:
        self._sync_summary()
        config = super().get_config()
        config.pop("trainable")  # Keras 3's Discretization takes only name and dtype (tf.keras reads it without)
        if config["dtype"] == "int64":  # both read 'float32' as int output (tf.keras: int64; Keras 3: an input dtype)
            config["dtype"] = "float32"
        return {**config, "bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins,
                "epsilon": self.epsilon, "output_mode": self.output_mode, "sparse": self.sparse}

    def extra_repr(self) -> str:
        what = f"bin_boundaries={self.bin_boundaries}" if self.bin_boundaries is not None else f"num_bins={self.num_bins}"
        return f"{what}, " + super().extra_repr()


def _is_batch_list(data: Any) -> bool:
    """A list/tuple of arrays or tensors: batches (Keras 3 adapts an iterable batch by batch)."""
    return isinstance(data, (list, tuple)) and bool(data) and isinstance(data[0], (torch.Tensor, np.ndarray))
