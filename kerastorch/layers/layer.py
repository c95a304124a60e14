"""The Keras ``Layer`` contract on a ``torch.nn.Module``: what every kerastorch layer shares.

Reproduces from tf.keras's base layer: names, ``trainable``, dtype policies, ``build``/``built`` with the
build input shape (``get_build_config``/``build_from_config``), input checks against an ``InputSpec``,
autocasting floating inputs to the compute dtype, the activity regularizer (divided by the batch
size), ``losses``, weights in Keras order (trainable then non-trainable), ``get_weights``/
``set_weights``, ``get_config``/``from_config``.

Weights are declared once, as :class:`WeightSpec`s returned by ``weight_specs(input_shape)``: build,
"which shapes would this layer take", regularization, constraints and saving all read them.

The class is assembled from one mixin per responsibility: ``layer_weights.LayerWeights`` (build, weights,
state), ``call_pipeline.CallPipeline`` (``__call__``/``forward``), ``lazy_state.LazyState`` (torch's
lazy-module protocol, device moves, pickling). This file holds construction, the subclass hooks, the
Keras properties and config/repr.
"""
from __future__ import annotations

import functools
import inspect
import numbers
from typing import Any, Callable, Mapping

import torch
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedBuffer, UninitializedParameter

from .. import _naming, activations, constraints, dtype_policy, initializers, regularizers
from .._registry import describe
from .call_pipeline import CallPipeline
from .input_spec import InputSpec
from .layer_weights import LayerWeights
from .lazy_state import LazyState
from .weight_spec import WeightSpec, _check_trainable, _input_shape_arg, _normalize_shape

__all__ = ["Layer", "WeightSpec"]

_LAYER_KWARGS = ("input_shape", "batch_input_shape", "batch_size", "input_dim", "weights", "autocast", "implementation")

Shape = tuple  # a tuple of ints / None


def _wrap_build(build: Callable[..., None]) -> Callable[..., None]:
    """Keras's build wrapper: bookkeeping (``built``, the build shape, lazy hooks) once, outermost."""

    @functools.wraps(build)
    def wrapper(self: "Layer", input_shape: Any) -> None:
        if self.built:
            return
        shape = _normalize_shape(input_shape)
        outer = not self.__dict__.get("_building", False)
        self.__dict__["_building"] = True
        try:
            build(self, shape)
        finally:
            if outer:
                self.__dict__["_building"] = False
        if outer:
            self._build_shape = shape
            self.built = True
            self._call_key = None
            self._drop_lazy_hooks()

    wrapper._kt_build_wrapper = True  # type: ignore[attr-defined]
    return wrapper


class Layer(LayerWeights, CallPipeline, LazyState, LazyModuleMixin, torch.nn.Module):
    """Base for kerastorch layers.

    Subclasses set ``self.input_spec``, return their weights from ``weight_specs(input_shape)``
    (``input_shape`` may be ``None`` before build), say how to recover the input shape from weight
    shapes (``input_shape_from_weights``), and implement ``call``, ``compute_output_shape`` and
    ``get_config``. Custom layers may instead override ``build`` and call ``add_weight``, as in Keras.
    """

    _call_takes_training = False
    _call_takes_mask = False
    #: Keras's ``supports_masking``: the default ``compute_mask`` passes the input mask on when true.
    supports_masking = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_kt_build_wrapper", False):
            cls.build = _wrap_build(build)
        if "call" in cls.__dict__:
            params = inspect.signature(cls.call).parameters
            cls._call_takes_training = "training" in params
            cls._call_takes_mask = "mask" in params

    def __init__(
        self,
        *,
        trainable: bool = True,
        name: str | None = None,
        dtype: Any = None,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ):
        super().__init__()
        unknown = set(kwargs) - set(_LAYER_KWARGS)
        if unknown:
            raise TypeError(f"Keyword argument not understood: {sorted(unknown)[0]!r}")
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"`name` must be a non-empty string. Received: name={name!r}")
        self.name = name or _naming.unique_name(_naming.to_snake_case(type(self).__name__))
        self._trainable = _check_trainable(trainable)
        self._dtype_policy = dtype_policy.get(dtype)
        self._explicit_dtype = dtype is not None
        try:
            self.activity_regularizer = regularizers.get(activity_regularizer)
        except ValueError as e:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": {e}') from None
        self.built = False
        self.input_spec: InputSpec | list[InputSpec] | None = None
        self._activity_losses: list[torch.Tensor] = []
        self._specs: dict[str, WeightSpec] = {}
        self._build_shape: Any = None
        # the eager fast path's key: (full shape, non-batch shape, dtype) of the last checked input, or
        # (list/tuple type, ((shape, dtype), ...), None) for a list of tensors; None: check the next call
        self._call_key: tuple | None = None
        self._batch_input_shape = self._batch_shape_from_kwargs(kwargs)
        self._initial_weights = kwargs.get("weights")

    # ----- construction -----
    @staticmethod
    def _batch_shape_from_kwargs(kwargs: dict[str, Any]) -> tuple[int | None, ...] | None:
        if kwargs.get("batch_input_shape") is not None:
            return _input_shape_arg(kwargs["batch_input_shape"], "batch_input_shape")
        batch = kwargs.get("batch_size")
        if batch is not None and (not isinstance(batch, numbers.Integral) or isinstance(batch, bool) or batch < 0):
            raise ValueError(f"`batch_size` must be a non-negative integer or None. Received: batch_size={batch!r}")
        if kwargs.get("input_shape") is not None:
            return (batch,) + _input_shape_arg(kwargs["input_shape"], "input_shape")
        if kwargs.get("input_dim") is not None:
            return (batch,) + _input_shape_arg((kwargs["input_dim"],), "input_dim")
        return None

    def _declare_weights(self) -> None:
        """Create the placeholders of ``weight_specs(None)`` (Keras order: trainable first)."""
        specs = self.weight_specs(None)
        for spec in sorted(specs, key=lambda s: not s.trainable):
            self._specs[spec.name] = spec
            dtype = self._dtype_policy.variable_dtype
            if spec.trainable:
                self.register_parameter(spec.name, UninitializedParameter(requires_grad=self._trainable, dtype=dtype))
            else:
                self.register_buffer(spec.name, UninitializedBuffer(dtype=dtype))

    def _finish_init(self) -> None:
        """Declare the weights; build right away when given an input shape (and initial weights)."""
        self._declare_weights()
        if self._batch_input_shape is not None:
            self.build(self._batch_input_shape)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    # ----- what subclasses provide -----
    def weight_specs(self, input_shape: Any) -> list[WeightSpec]:
        """The layer's weights for ``input_shape`` (``None``: not known yet; unknown dims are ``None``)."""
        return []

    def input_shape_from_weights(self, shapes: Mapping[str, tuple[int, ...]]) -> Any:
        """An input shape for which this layer's weights take the Keras ``shapes`` given."""
        raise ValueError(f'Layer "{self.name}" cannot be built from weight shapes {dict(shapes)}.')

    def _on_build(self, input_shape: Any) -> None:
        """Subclass hook after the weights exist: fix the input spec, precompute call arguments."""

    def _on_new_input(self, inputs: torch.Tensor) -> None:
        """Subclass hook on the checked path, for each input shape not seen just before."""

    def _on_new_inputs(self, inputs: list[torch.Tensor] | tuple[torch.Tensor, ...]) -> None:
        """Subclass hook on the checked path for a list of inputs (after the casts), for each list of input
        shapes/dtypes not seen just before (the fast path skips it for the same full shapes and dtypes)."""

    def call(self, inputs: Any) -> Any:
        return inputs

    def _components_config(self, *weights: str) -> dict[str, Any]:
        """The ``<w>_initializer``, ``<w>_regularizer``, ``activity_regularizer`` and ``<w>_constraint`` config
        entries of the named weights, serialized, in Keras's key order."""
        config = {f"{w}_initializer": initializers.serialize(getattr(self, f"{w}_initializer")) for w in weights}
        config.update({f"{w}_regularizer": regularizers.serialize(getattr(self, f"{w}_regularizer")) for w in weights})
        config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        config.update({f"{w}_constraint": constraints.serialize(getattr(self, f"{w}_constraint")) for w in weights})
        return config

    def _components_repr(self, *weights: str) -> list[str]:
        """``extra_repr`` parts for ``activation``, ``use_bias`` and the named weights' set regularizers/constraints."""
        parts = []
        if not isinstance(self.activation, torch.nn.Module):  # a module activation prints as a child
            try:
                parts.append(f"activation={activations.serialize(self.activation)!r}")
            except ValueError:
                parts.append(f"activation={describe(self.activation)}")
        parts.append(f"use_bias={self.use_bias}")
        for label in [f"{w}_{kind}" for kind in ("regularizer", "constraint") for w in weights]:
            value = getattr(self, label)
            if value is not None:
                parts.append(f"{label}={describe(value)}")
        return parts

    # ----- Keras properties -----
    @property
    def trainable(self) -> bool:
        params = [p for p in self._parameters.values() if p is not None]
        return all(p.requires_grad for p in params) if params else self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = _check_trainable(value)
        self.requires_grad_(self._trainable)

    def requires_grad_(self, requires_grad: bool = True) -> "Layer":
        # torch's own lazy modules refuse this before initialization; Keras layers don't.
        for param in self._parameters.values():
            if param is not None:
                param.requires_grad = requires_grad
        for child in self.children():
            child.requires_grad_(requires_grad)
        return self

    def _first_weight(self) -> torch.Tensor | None:
        for table in (self._parameters, self._buffers):
            for t in table.values():
                if t is not None and t.dtype.is_floating_point:
                    return t
        return None

    @property
    def dtype(self) -> str:
        """Variable dtype name, as Keras's ``layer.dtype``; follows ``module.to(dtype)``."""
        first = self._first_weight()
        if first is not None and not self._dtype_policy.is_mixed:
            return dtype_policy.name_of(first.dtype)
        return dtype_policy.name_of(self._dtype_policy.variable_dtype)

    @property
    def dtype_policy(self) -> str:
        return self._dtype_policy.name

    @property
    def compute_dtype(self) -> torch.dtype:
        if self._dtype_policy.is_mixed:
            return self._dtype_policy.compute_dtype
        first = self._first_weight()
        return first.dtype if first is not None else self._dtype_policy.compute_dtype

    # ----- config -----
    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        config["dtype"] = self._dtype_policy.serialize() if self._dtype_policy.is_mixed else self.dtype
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Layer":
        return cls(**config)

    def _repr_common(self) -> list[str]:
        """The repr entries every layer shows after its own (never raises)."""
        parts = []
        if self.activity_regularizer is not None:
            parts.append(f"activity_regularizer={describe(self.activity_regularizer)}")
        if not self.trainable:
            parts.append("trainable=False")
        if self._dtype_policy.is_mixed or self.dtype != "float32":
            parts.append(f"dtype={self._dtype_policy.name if self._dtype_policy.is_mixed else self.dtype!r}")
        if not self.built:
            parts.append("built=False")
        return parts


Layer.build = _wrap_build(Layer.build)  # type: ignore[method-assign]
