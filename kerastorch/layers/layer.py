"""The Keras ``Layer`` contract on a ``torch.nn.Module``: what every kerastorch layer shares.

Reproduces from tf.keras's base layer: names, ``trainable``, dtype policies, ``build``/``built`` with the
build input shape (``get_build_config``/``build_from_config``), input checks against an ``InputSpec``,
autocasting floating inputs to the compute dtype, the activity regularizer (divided by the batch
size), ``losses``, weights in Keras order (trainable then non-trainable), ``get_weights``/
``set_weights``, ``get_config``/``from_config``.

Weights are declared once, as :class:`WeightSpec`s returned by ``weight_specs(input_shape)``: build,
"which shapes would this layer take", regularization, constraints and saving all read them. A weight
is stored as a contiguous tensor in the layout its torch kernel reads (``WeightSpec.storage_order``);
the Keras layout is a view (``keras_weight``). Non-trainable weights are buffers.

Unbuilt layers are torch lazy modules: their weights are ``UninitializedParameter``/``UninitializedBuffer``
placeholders that the first call, ``build``, ``set_weights`` or ``load_state_dict`` materializes in
place, so an optimizer made before the first call keeps working.
"""
from __future__ import annotations

import dataclasses
import functools
import inspect
import numbers
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy
from torch.nn.utils import parametrize

from .. import _naming, constraints, dtype_policy, initializers, regularizers
from .._registry import describe
from .input_spec import InputSpec, assert_input_compatibility, check_shape, shape_str

_LAYER_KWARGS = ("input_shape", "batch_input_shape", "batch_size", "input_dim", "weights", "autocast", "implementation")

Shape = tuple  # a tuple of ints / None


@dataclasses.dataclass(frozen=True)
class WeightSpec:
    """One Keras weight: its Keras name and shape, how it starts, is penalized and projected.

    ``shape`` is Keras's (``None`` where the input is not known yet). ``storage_order`` lists the
    Keras dims in the order the stored tensor holds them (``None``: Keras's own order), so that the
    stored tensor is contiguous in the layout the torch kernel reads. ``initializer=None`` means
    ``glorot_uniform``, Keras's ``add_weight`` default for floating weights.
    """

    name: str
    shape: tuple[int | None, ...]
    initializer: Any = None
    regularizer: Any = None
    constraint: Any = None
    trainable: bool = True
    storage_order: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        # Keras identifiers ('zeros', 'l2', {'class_name': ...}) are accepted, as in ``add_weight``.
        object.__setattr__(self, "initializer", initializers.get(self.initializer))
        object.__setattr__(self, "regularizer", regularizers.get(self.regularizer))
        object.__setattr__(self, "constraint", constraints.get(self.constraint))

    @property
    def storage_shape(self) -> tuple[int | None, ...]:
        return tuple(self.shape[d] for d in self.storage_order) if self.storage_order else tuple(self.shape)

    def to_keras(self, stored: torch.Tensor) -> torch.Tensor:
        """The Keras-layout view of a stored tensor."""
        return stored.permute(*np.argsort(self.storage_order).tolist()) if self.storage_order else stored

    def to_storage(self, keras_value: torch.Tensor) -> torch.Tensor:
        """The stored-layout view of a Keras-layout tensor."""
        return keras_value.permute(*self.storage_order) if self.storage_order else keras_value

    def keras_shape(self, storage_shape: Sequence[int]) -> tuple[int, ...]:
        if not self.storage_order:
            return tuple(storage_shape)
        return tuple(storage_shape[i] for i in np.argsort(self.storage_order).tolist())

    def initial_value(self, dtype: torch.dtype, device: Any) -> torch.Tensor:
        """A fresh value in Keras layout, from the initializer."""
        init = self.initializer if self.initializer is not None else initializers.GlorotUniform()
        value = torch.as_tensor(init(tuple(self.shape), dtype=dtype, device=device), dtype=dtype, device=device)
        if tuple(value.shape) != tuple(self.shape):
            raise ValueError(
                f"the initializer of `{self.name}` returned shape {tuple(value.shape)}, expected {tuple(self.shape)}"
            )
        return value


def _check_trainable(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"Expected `trainable` argument to be a boolean, but got: {value!r}")


def _input_shape_arg(value: Any, what: str) -> tuple[int | None, ...]:
    """``input_shape``-style arguments: a sequence of positive ints (or ``None``)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) and not isinstance(value, torch.Size):
        raise ValueError(f"`{what}` must be a tuple of positive integers or None. Received: {what}={value!r}")
    dims = []
    for d in value:
        if d is None:
            dims.append(None)
        elif isinstance(d, numbers.Integral) and not isinstance(d, bool) and int(d) > 0:
            dims.append(int(d))
        else:
            raise ValueError(
                f"`{what}` must be a tuple of positive integers or None. Received: {what}={tuple(value)!r} "
                f"(element {d!r})"
            )
    return tuple(dims)


def _normalize_shape(shape: Any) -> Any:
    """A build shape: a tuple of ints/None, or a list of them for multi-input layers."""
    if isinstance(shape, (list, tuple)) and shape and all(isinstance(s, (list, tuple, torch.Size)) for s in shape):
        return [tuple(None if d is None else int(d) for d in s) for s in shape]
    if isinstance(shape, dict) and "input_shape" in shape:  # a Keras build_config
        return _normalize_shape(shape["input_shape"])
    try:
        return tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"Expected an input shape (a tuple of ints or None), received {shape!r}") from None


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


def _is_symbolic(x: Any) -> bool:
    """A KerasTensor (``kerastorch.models``), or a list/tuple/dict holding one: duck-typed, no import."""
    if isinstance(x, torch.Tensor):
        return False
    if isinstance(x, (list, tuple)):
        return any(getattr(t, "_kt_symbolic", False) for t in x)
    if isinstance(x, dict):
        return any(getattr(t, "_kt_symbolic", False) for t in x.values())
    return getattr(x, "_kt_symbolic", False)


def _same_tensors(inputs: Any, key: tuple) -> bool:
    """Whether ``inputs`` (a list/tuple) are tensors of exactly the (shape, dtype) pairs of ``key``."""
    if len(inputs) != len(key):
        return False
    for t, (shape, dtype) in zip(inputs, key):
        if not isinstance(t, torch.Tensor) or t.dtype is not dtype or t.shape != shape:
            return False
    return True


_module_call = torch.nn.Module.__call__


class Layer(LazyModuleMixin, torch.nn.Module):
    """Base for kerastorch layers.

    Subclasses set ``self.input_spec``, return their weights from ``weight_specs(input_shape)``
    (``input_shape`` may be ``None`` before build), say how to recover the input shape from weight
    shapes (``input_shape_from_weights``), and implement ``call``, ``compute_output_shape`` and
    ``get_config``. Custom layers may instead override ``build`` and call ``add_weight``, as in Keras.
    """

    _call_takes_training = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_kt_build_wrapper", False):
            cls.build = _wrap_build(build)
        if "call" in cls.__dict__:
            cls._call_takes_training = "training" in inspect.signature(cls.call).parameters

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

    # ----- build -----
    def build(self, input_shape: Any) -> None:
        """Create the weights for ``input_shape`` (batch dim included, ``None`` allowed)."""
        if not isinstance(input_shape, list):
            check_shape(self.input_spec if isinstance(self.input_spec, InputSpec) else None, input_shape, self.name)
        self._create_weights(self.weight_specs(input_shape))
        self._on_build(input_shape)

    def _create_weights(self, specs: Sequence[WeightSpec]) -> None:
        """Materialize every weight of ``specs``; all values are computed before anything changes."""
        declared = [n for n in self._specs]
        if [s.name for s in sorted(specs, key=lambda s: not s.trainable)] != declared:
            raise ValueError(f'Layer "{self.name}": weights {[s.name for s in specs]} differ from the declared {declared}.')
        deferral = initializers.active_deferral()  # a load that overwrites every weight from a file
        values = []
        for spec in specs:
            if any(d is None for d in spec.shape):
                raise ValueError(f'Layer "{self.name}": the shape of weight `{spec.name}` is not fully known: {spec.shape}.')
            slot = self._stored(spec.name)
            try:
                values.append(None if deferral is not None else spec.initial_value(slot.dtype, slot.device))
            except ValueError as e:
                raise ValueError(f'Layer "{self.name}": {e}') from None
        with torch.no_grad():
            for spec, value in zip(specs, values):
                slot = self._stored(spec.name)
                if is_lazy(slot):
                    slot.materialize(spec.storage_shape)
                self._specs[spec.name] = spec
                if value is None:
                    deferral.record(self._stored(spec.name), functools.partial(self._initialize_weight, spec.name))
                else:
                    slot.copy_(spec.to_storage(value))

    def _initialize_weight(self, name: str) -> None:
        """Fill the weight ``name`` from its initializer (a weight whose initialization was deferred)."""
        slot, spec = self._stored(name), self._specs[name]
        try:
            value = spec.initial_value(slot.dtype, slot.device)
        except ValueError as e:
            raise ValueError(f'Layer "{self.name}": {e}') from None
        with torch.no_grad():
            slot.copy_(spec.to_storage(value))

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
        from .. import activations

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

    def add_weight(
        self,
        name: str,
        shape: Sequence[int],
        initializer: Any = None,
        regularizer: Any = None,
        constraint: Any = None,
        trainable: bool = True,
        dtype: Any = None,
    ) -> torch.Tensor:
        """Keras ``add_weight`` for custom layers' ``build``: a parameter (buffer if not trainable), now."""
        spec = WeightSpec(name, tuple(int(d) for d in shape), initializer, regularizer, constraint, _check_trainable(trainable))
        dtype = dtype_policy.get(dtype).variable_dtype if dtype is not None else self._dtype_policy.variable_dtype
        deferral = initializers.active_deferral()
        value = spec.initial_value(dtype, None) if deferral is None else torch.empty(spec.shape, dtype=dtype)
        if trainable:
            self.register_parameter(name, torch.nn.Parameter(value, requires_grad=self._trainable))
        else:
            self.register_buffer(name, value)
        self._specs[name] = spec
        if deferral is not None:
            deferral.record(self._stored(name), functools.partial(self._initialize_weight, name))
        self._specs = {n: self._specs[n] for n in sorted(self._specs, key=lambda n: not self._specs[n].trainable)}
        return getattr(self, name)

    def get_build_config(self) -> dict[str, Any] | None:
        """Keras 3's ``build_config``: the input shape the layer was built with."""
        if not self.built or self._build_shape is None:
            return None
        shape = self._build_shape
        return {"input_shape": [list(s) for s in shape] if isinstance(shape, list) else list(shape)}

    def build_from_config(self, config: dict[str, Any]) -> None:
        if config and config.get("input_shape") is not None:
            self.build(config["input_shape"])

    # ----- the call pipeline -----
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Functional-model construction: a call on symbolic KerasTensors records a graph node instead
        # (kerastorch.models.keras_tensor). Never taken while tracing. A tensor is answered first (the
        # cheapest test), so that eager calls pay one isinstance here.
        if args and not isinstance(args[0], torch.Tensor) and _is_symbolic(args[0]) and not torch.compiler.is_compiling():
            from ..models.keras_tensor import symbolic_call

            return symbolic_call(self, args, kwargs)
        return _module_call(self, *args, **kwargs)

    def forward(self, inputs: Any, *args: Any, training: bool | None = None, **kwargs: Any) -> Any:
        """Check the input against the layer's spec, build, cast, ``call``, record the activity loss.

        An input shaped and typed like the previous one skips the checks (the fast path).
        ``training`` defaults to ``self.training`` (torch's train and eval modes).
        """
        # While tracing, always take the checked path (it costs nothing at run time) and never read
        # the key, so that no guard depends on what eager calls did.
        if torch.compiler.is_compiling():
            inputs = self._prepare(inputs)
        else:
            key = self._call_key
            if key is None:
                inputs = self._prepare(inputs)
            elif isinstance(inputs, torch.Tensor):
                # key: (full shape, non-batch shape, dtype); the full shape is compared first (no slice)
                shape = inputs.shape
                if inputs.dtype is not key[2] or (shape != key[0] and shape[1:] != key[1]):
                    inputs = self._prepare(inputs)
            elif type(inputs) is not key[0] or not _same_tensors(inputs, key[1]):  # a list/tuple of tensors
                inputs = self._prepare(inputs)
        if self._call_takes_training:
            kwargs["training"] = self.training if training is None else bool(training)
        outputs = self.call(inputs, *args, **kwargs)
        if self.activity_regularizer is not None:
            self._record_activity(outputs)
        return outputs

    def _prepare(self, inputs: Any) -> Any:
        """The checked path: input spec, build, cast to the compute dtype, per-shape hook."""
        assert_input_compatibility(self.input_spec, inputs, self.name)
        if not self.built and self._weights_state() == "lazy":
            self.build([tuple(t.shape) for t in inputs] if isinstance(inputs, (list, tuple)) else tuple(inputs.shape))
        if isinstance(inputs, (list, tuple)):
            cast = type(inputs)(self._cast(t) for t in inputs)
            self._on_new_inputs(cast)
            # Fast-path key for a list of tensors: every full shape and dtype, only when no cast happened.
            if not torch.compiler.is_compiling():
                same = self.built and all(isinstance(t, torch.Tensor) and c is t for c, t in zip(cast, inputs))
                self._call_key = (type(inputs), tuple((t.shape, t.dtype) for t in inputs), None) if same else None
            return cast
        inputs = self._cast(inputs)
        self._on_new_input(inputs)
        if self.built and not torch.compiler.is_compiling():
            self._call_key = (inputs.shape, inputs.shape[1:], inputs.dtype)
        return inputs

    def _cast(self, x: torch.Tensor) -> torch.Tensor:
        """Keras autocast: floating inputs go to the compute dtype (torch's autocast decides when on).

        A weight-free layer without an explicit ``dtype`` keeps its input's dtype (it follows the
        model around it, as torch modules do, instead of casting a float64 model's data to float32).
        """
        if not (self._explicit_dtype or self._first_weight() is not None):
            return x
        dtype = self.compute_dtype
        if x.dtype.is_floating_point and x.dtype != dtype and not torch.is_autocast_enabled(x.device.type):
            return x.to(dtype)
        return x

    def _record_activity(self, outputs: torch.Tensor) -> None:
        """tf.keras ``_handle_activity_regularization``: ``reg(outputs) / batch_size`` (0 for an empty batch)."""
        loss = self.activity_regularizer(outputs)
        batch = outputs.shape[0] if outputs.dim() else 1
        self._activity_losses = [loss.to(outputs.dtype) / max(batch, 1)]

    def __prepare_scriptable__(self) -> "Layer":
        raise RuntimeError(
            f"{type(self).__name__} (a kerastorch layer) cannot be compiled by torch.jit.script: TorchScript "
            "cannot express Keras layers. Use torch.compile(model) or torch.export.export(model, args) instead "
            "(torch.jit.trace also works)."
        )

    # ----- weights -----
    def _stored(self, name: str) -> torch.Tensor:
        """The leaf tensor that holds weight ``name`` (under a parametrization or pruning too)."""
        if parametrize.is_parametrized(self, name):
            return self.parametrizations[name].original
        for table in (self._parameters, self._buffers):
            if name in table and table[name] is not None:
                return table[name]
        orig = self._parameters.get(name + "_orig")  # torch.nn.utils.prune
        if orig is not None:
            return orig
        raise AttributeError(f'Layer "{self.name}" has no weight {name!r}.')

    def _weights_state(self) -> str:
        """'lazy' (all uninitialized), 'real' (none), or refuse a mix (e.g. a partial functional_call)."""
        lazy = [is_lazy(self._stored(n)) for n in self._specs]
        if all(lazy):
            return "lazy"
        if not any(lazy):
            return "real"
        raise ValueError(f'Layer "{self.name}" is unbuilt and was given only some of its weights.')

    @property
    def weight_names(self) -> list[str]:
        """Names of the layer's weights in Keras order (trainable, then non-trainable), built or not."""
        return list(self._specs)

    def weight_spec(self, name: str) -> WeightSpec:
        """The spec of weight ``name`` (its Keras shape has ``None`` dims until the layer is built)."""
        return self._specs[name]

    def keras_weight(self, name: str) -> torch.Tensor:
        """Weight ``name`` in Keras's layout: a view of the stored tensor (gradients flow through it)."""
        return self._specs[name].to_keras(getattr(self, name))

    @property
    def weights(self) -> list[torch.Tensor]:
        """The weights' parameters and buffers in Keras order (stored layout; ``get_weights()`` and
        ``keras_weight(name)`` give Keras's layout). These are the leaf tensors an optimizer takes."""
        return [self._stored(n) for n in self._specs] if self.built else []

    @property
    def trainable_weights(self) -> list[torch.Tensor]:
        return [w for w in self.weights if w.requires_grad]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        return [w for w in self.weights if not w.requires_grad]

    def get_weights(self) -> list[np.ndarray]:
        """Weights as numpy arrays in Keras layout and order (bfloat16 comes back as float32)."""
        out = []
        for n in self._specs if self.built else ():
            t = self.keras_weight(n).detach().cpu()
            out.append(np.ascontiguousarray((t.float() if t.dtype == torch.bfloat16 else t).numpy()))
        return out

    def weight_shapes_from(self, shapes: Mapping[str, Sequence[int]], layout: str = "keras") -> dict[str, tuple[int, ...]]:
        """The shape of every weight after building from some of them (``shapes``, pure).

        ``layout`` is ``'keras'`` or ``'storage'`` (state_dict), for both the given and the returned
        shapes. A built layer answers with its own shapes. Raises ``ValueError`` when ``shapes`` do not
        fit the layer's configuration.
        """
        if self.built:
            specs = list(self._specs.values())
        else:
            keras = {
                n: (tuple(s) if layout == "keras" else self._specs[n].keras_shape(s)) for n, s in shapes.items() if n in self._specs
            }
            specs = self.weight_specs(self.input_shape_from_weights(keras))
        return {s.name: tuple(s.shape if layout == "keras" else s.storage_shape) for s in specs}

    def build_from_weight_shapes(self, shapes: Mapping[str, Sequence[int]], layout: str = "keras") -> None:
        """Build an unbuilt layer for the weights ``shapes`` (checked first)."""
        if self.built:
            return
        expected = self.weight_shapes_from(shapes, layout)
        for name, shape in shapes.items():
            if name in expected and tuple(shape) != expected[name]:
                raise ValueError(
                    f'Layer "{self.name}": weight `{name}` of shape {tuple(shape)} does not match the layer '
                    f"configuration (expected {shape_str(expected[name])})."
                )
        keras = {n: (tuple(s) if layout == "keras" else self._specs[n].keras_shape(s)) for n, s in shapes.items() if n in self._specs}
        self.build(self.input_shape_from_weights(keras))

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Keras ``set_weights`` (Keras layout and order): everything is checked before anything is copied.

        An unbuilt layer is built from the weight shapes first (Keras would refuse).
        """
        weights = list(weights)
        if not self.built and not weights:  # tf.keras: an unbuilt layer's get_weights() is [] and set_weights([]) accepts it
            return
        names = self.weight_names
        if len(weights) != len(names):
            raise ValueError(
                f'You called `set_weights(weights)` on layer "{self.name}" with a weight list of length '
                f"{len(weights)}, but the layer was expecting {len(names)} weights."
            )
        arrays = [w if isinstance(w, torch.Tensor) else torch.as_tensor(np.asarray(w)) for w in weights]
        given = {n: tuple(a.shape) for n, a in zip(names, arrays)}
        try:
            expected = self.weight_shapes_from(given)
        except ValueError as e:
            raise ValueError(f"{e} Provided weight shapes: {list(given.values())}.") from None
        for n in names:
            if expected[n] != given[n]:
                raise ValueError(
                    f'Layer "{self.name}" weight shape {expected[n]} is not compatible with provided weight shape {given[n]}.'
                )
        self.build_from_weight_shapes(given)
        with torch.no_grad():
            for n, value in zip(names, arrays):
                stored = self._stored(n)
                self._specs[n].to_keras(stored).copy_(value.to(device=stored.device, dtype=stored.dtype))

    def reset_parameters(self) -> None:
        """Draw every weight again from its initializer (torch's convention, e.g. after ``to_empty``)."""
        if not self.built:
            return
        values = {n: s.initial_value(self._stored(n).dtype, self._stored(n).device) for n, s in self._specs.items()}
        with torch.no_grad():
            for n, value in values.items():
                self._stored(n).copy_(self._specs[n].to_storage(value))

    @property
    def losses(self) -> list[torch.Tensor]:
        """Activity loss of the latest call, then weight-regularizer terms of the current weights."""
        out = list(self._activity_losses)
        if self.built:
            out += [s.regularizer(self.keras_weight(n)) for n, s in self._specs.items() if s.regularizer is not None]
        return out

    def apply_constraints(self) -> None:
        """Project trainable weights onto their constraints now (what Keras does after each update)."""
        if not self.built:
            return
        with torch.no_grad():
            for n, spec in self._specs.items():
                stored = self._stored(n)
                if spec.constraint is not None and stored.requires_grad:
                    view = spec.to_keras(stored)
                    view.copy_(spec.constraint(view))

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

    # ----- torch lazy-module protocol -----
    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        """Called by torch's lazy-module hook before the first forward: build from the input.

        When every weight was supplied from outside (``torch.func.functional_call`` on an unbuilt
        layer) nothing is built: the call is stateless and the layer stays unbuilt.
        """
        if not self.built and args and self._weights_state() == "lazy":
            assert_input_compatibility(self.input_spec, args[0], self.name)
            x = args[0]
            self.build([tuple(t.shape) for t in x] if isinstance(x, (list, tuple)) else tuple(x.shape))

    def _infer_parameters(self, module: "Layer", args: Any, kwargs: Any = None) -> None:
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.built:
            module._drop_lazy_hooks()

    def has_uninitialized_params(self) -> bool:
        return any(is_lazy(t) for t in (*self._parameters.values(), *self._buffers.values()) if t is not None)

    def _drop_lazy_hooks(self) -> None:
        """Once built, torch's lazy-module hooks have nothing left to do: remove them."""
        for hook in ("_initialize_hook", "_load_hook"):
            handle = self.__dict__.pop(hook, None)
            if handle is not None:
                handle.remove()

    def _lazy_load_hook(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        """``load_state_dict`` into an unbuilt layer: build from whichever weights are given."""
        if self.built:
            return
        shapes = {}
        for name in self._specs:
            value = state_dict.get(prefix + name)
            if value is not None and not is_lazy(value):
                shapes[name] = tuple(value.shape)
        if not shapes:
            return
        try:
            self.build_from_weight_shapes(shapes, layout="storage")
        except ValueError as e:
            # Say once, clearly, why; and keep torch from adding its own size-0 copy error for these keys.
            error_msgs.append(f"{e} (unbuilt layer {self.name!r} is built from the state_dict's {sorted(shapes)})")
            for name in shapes:
                state_dict.pop(prefix + name, None)

    def _apply(self, fn: Callable[..., Any], recurse: bool = True) -> "Layer":
        # torch refuses .half()/.bfloat16()/... on uninitialized tensors; apply fn to an empty probe
        # and move the placeholder in place (same object, so optimizers keep it) where torch allows,
        # else (e.g. cpu <-> meta) replace it, as torch's own lazy modules do.
        self._call_key = None
        moved: dict[str, tuple[dict, torch.Tensor]] = {}
        for table in (self._parameters, self._buffers):
            for name, t in list(table.items()):
                if t is None or not is_lazy(t):
                    continue
                probe = fn(torch.empty(0, dtype=t.dtype, device=t.device))
                new = torch.empty(0, dtype=probe.dtype, device=probe.device)
                if torch._has_compatible_shallow_copy_type(t, new):
                    with torch.no_grad():
                        t.data = new
                elif isinstance(t, UninitializedParameter):
                    t = UninitializedParameter(requires_grad=t.requires_grad, device=new.device, dtype=new.dtype)
                else:
                    t = UninitializedBuffer(device=new.device, dtype=new.dtype)
                moved[name] = (table, t)
                del table[name]
        try:
            return super()._apply(fn, recurse)
        finally:
            for name, (table, t) in moved.items():
                table[name] = t
            order = list(self._specs)
            for table in (self._parameters, self._buffers):
                items = dict(table)
                table.clear()
                table.update({n: items[n] for n in order if n in items})
                table.update({n: v for n, v in items.items() if n not in table})

    def __getstate__(self) -> dict[str, Any]:
        # Pickle/deepcopy: activity losses are graph tensors (detach them); uninitialized tensors
        # pickle without their dtype/device, so record those and rebuild the placeholders.
        state = self.__dict__.copy()
        state["_activity_losses"] = [loss.detach() for loss in self._activity_losses]
        lazy = {}
        for table in ("_parameters", "_buffers"):
            entries = dict(state[table])
            for name, t in entries.items():
                if t is not None and is_lazy(t):
                    lazy[name] = (table, t.dtype, str(t.device), t.requires_grad)
                    entries[name] = None
            state[table] = entries
        state["_lazy_tensors"] = lazy
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        lazy = state.pop("_lazy_tensors", {})
        super().__setstate__(state)
        for name, (table, dtype, device, requires_grad) in lazy.items():
            if table == "_parameters":
                self._parameters[name] = UninitializedParameter(requires_grad=requires_grad, device=device, dtype=dtype)
            else:
                self._buffers[name] = UninitializedBuffer(device=device, dtype=dtype)


Layer.build = _wrap_build(Layer.build)  # type: ignore[method-assign]
