"""Weights and state of a Layer: build, ``add_weight``, Keras-order weight lists, ``get_weights``/``set_weights``,
building from weight shapes, losses and constraints (a mixin of :class:`kerastorch.layers.layer.Layer`).

Weights are declared once, as :class:`WeightSpec`s; a weight is stored as a contiguous tensor in the layout
its torch kernel reads, and the Keras layout is a view (``keras_weight``).
"""
from __future__ import annotations

import functools
from typing import Any, Mapping, Sequence

import numpy as np
import torch
from torch.nn.parameter import is_lazy
from torch.nn.utils import parametrize

from .. import dtype_policy, initializers
from .input_spec import InputSpec, check_shape, shape_str
from .weight_spec import WeightSpec, _check_trainable


_ABSENT = object()


class LayerWeights:
    """Build and weights (``Layer`` reads ``_specs``, ``_dtype_policy``, ``_trainable`` set by its ``__init__``)."""

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

    # ----- weights -----
    def _current(self, name: str) -> Any:
        """Weight or buffer ``name`` as the layer computes with it: read from torch's parameter/buffer tables
        (``Module.__getattr__`` costs ~0.5 us per read, several per call), or the attribute a parametrization or
        pruning computes (the name is then not in the tables)."""
        t = self._parameters.get(name, _ABSENT)
        if t is _ABSENT:
            t = self._buffers.get(name, _ABSENT)
            if t is _ABSENT:
                return getattr(self, name)
        return t

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
            # np.array, not np.ascontiguousarray: numpy < 2 turns a 0-d weight (Normalization's count) into 1-d
            out.append(np.array((t.float() if t.dtype == torch.bfloat16 else t).numpy(), order="C"))
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
