"""What Functional and Sequential share: layers registered under their Keras names, weights across layers in
Keras's order, ``get_weights``/``set_weights``, losses, constraints, ``summary()``.

Submodules are the Keras layers under their Keras names, so ``state_dict`` keys read
``<layer name>.<weight name>`` (``conv1_conv.kernel``, ``block.bn.moving_mean`` for a nested model).
torch module names cannot contain ``'.'``: a ``'.'`` in a Keras layer name becomes ``'__'`` (a name that
would still clash with another layer or a model attribute gets ``'_'`` appended until free); the mapping is
deterministic, so keys are stable across processes. ``module_name(keras_name)`` gives it.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch

from ..graph.keras_tensor import KerasTensor
from ..layers.input_spec import check_shape
from ..layers.layer import Layer
from .summary import print_summary


def module_name(keras_name: str) -> str:
    """The torch submodule name of a Keras layer name (``'.'`` -> ``'__'``)."""
    return keras_name.replace(".", "__")


class _Model(Layer):
    """What Functional and Sequential share: weights across layers, configs, summary."""

    _kt_is_model = True
    _call_takes_training = True

    def _config_node_offset(self, legacy: bool) -> int:
        """How many nodes of its own a config counts before this model's calls (Functional: 1; tf.keras:
        also a Sequential with an input layer, which is a graph network there)."""
        return 0

    def _keras3_entry(self) -> dict[str, Any]:
        """This model's entry in a Keras 3 config (``serialization.serialize``)."""
        raise NotImplementedError

    def _entry_layers(self, inputs: Any) -> list[tuple[Any, Any]]:
        """``(input layer or None, input)`` for each input of a call: the layers that check a real call's inputs."""
        raise NotImplementedError

    def _symbolic_build(self, inputs: Any, shapes: Any) -> None:
        """A model called on symbolic tensors (nested in another model): each input checked against its input
        layer's declared shape, the check (and message) of a real call, so that a graph feeding a nested model
        the wrong shape fails when it is built (a file: at load), not at the first call."""
        for layer, t in self._entry_layers(inputs):
            if layer is not None and isinstance(t, KerasTensor) and t.shape is not None:
                check_shape(layer.input_spec, t.shape, layer.name)

    def _register_layers(self, layers: Sequence[torch.nn.Module]) -> dict[int, str]:
        """Register ``layers`` as submodules under their (mapped) Keras names; return id -> attribute name."""
        keys: dict[int, str] = {}
        names = [getattr(layer, "name", None) or type(layer).__name__.lower() for layer in layers]
        for name in names:
            if names.count(name) > 1:  # tf.keras's message
                raise ValueError(
                    f'The name "{name}" is used {names.count(name)} times in the model. All layer names should be unique.'
                )
        for layer, name in zip(layers, names):
            key = module_name(name)
            while key in self._modules or (hasattr(self, key) and key not in self._modules) or key in keys.values():
                key += "_"
            self.add_module(key, layer)
            keys[id(layer)] = key
        return keys

    # ----- Keras layer list and weights -----
    @property
    def layers(self) -> list[torch.nn.Module]:
        return list(self._modules.values())

    def get_layer(self, name: str | None = None, index: int | None = None) -> torch.nn.Module:
        """Keras ``get_layer``: by name (Keras's name, not the module key) or by index."""
        if index is not None and name is not None:
            raise ValueError(f"Provide only a layer name or a layer index. Received: index={index}, name={name}.")
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(self.layers)} layers.")
            return self.layers[index]
        for layer in self.layers:
            if getattr(layer, "name", None) == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[getattr(l, 'name', None) for l in self.layers]}.")

    def _all_weights(self) -> list[tuple[torch.Tensor, bool]]:
        out = []
        seen: set[int] = set()
        for layer in self.layers:
            if isinstance(layer, _Model):
                items = layer._all_weights()
            elif isinstance(layer, Layer):
                # weight_names, not the layer's own specs: a wrapper's weights are its sublayers' (NestedWeights)
                items = [(w, layer.weight_spec(n).trainable and w.requires_grad) for n, w in zip(layer.weight_names, layer.weights)]
            else:  # a user's torch module: its parameters, then its buffers
                items = [(p, p.requires_grad) for p in layer.parameters()] + [(b, False) for b in layer.buffers()]
            for w, trainable in items:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append((w, trainable))
        return out

    @property
    def weights(self) -> list[torch.Tensor]:
        """Keras order (tf.keras and Keras 3 ``model.weights``): layer by layer in ``layers`` order, each
        layer's own weights in its order; a weight shared by several layers counts once."""
        return [w for w, _ in self._all_weights()]

    @property
    def trainable_weights(self) -> list[torch.Tensor]:
        return [w for w, t in self._all_weights() if t]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        return [w for w, t in self._all_weights() if not t]

    def _weight_slots(self) -> list[tuple[torch.nn.Module, str]]:
        """(layer, weight name) for each Keras weight, in ``weights`` order (a weight shared by several
        layers or nested models once). A user's plain torch module (``custom_objects``) contributes its
        parameters, then its buffers, under their torch names, in torch's layout."""
        slots: list[tuple[torch.nn.Module, str]] = []
        seen: set[tuple[int, str]] = set()
        for layer in self.layers:
            if isinstance(layer, _Model):
                inner = layer._weight_slots()
            elif isinstance(layer, Layer):
                inner = [(layer, n) for n in layer.weight_names]
            else:
                inner = [(layer, n) for n, _ in layer.named_parameters()] + [(layer, n) for n, _ in layer.named_buffers()]
            for l, n in inner:
                if (id(l), n) not in seen:
                    seen.add((id(l), n))
                    slots.append((l, n))
        return slots

    def get_weights(self) -> list[np.ndarray]:
        """Keras ``get_weights`` (Keras layouts, ``weights`` order)."""
        out = []
        for layer in self.layers:
            if isinstance(layer, Layer) and not layer.built:
                raise ValueError(f'Layer "{layer.name}" is not built yet: call the model once or load weights first.')
        for layer, n in self._weight_slots():
            t = (layer.keras_weight(n) if isinstance(layer, Layer) else _plain_weight(layer, n)).detach().cpu()
            out.append(np.array((t.float() if t.dtype == torch.bfloat16 else t).numpy(), order="C"))  # 0-d stays 0-d
        return out

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Keras ``set_weights``: a list in ``get_weights`` order; all shapes are checked before any copy."""
        slots = self._weight_slots()
        weights = list(weights)
        if len(weights) != len(slots):
            raise ValueError(f"You called `set_weights(weights)` on model {self.name!r} with a weight list of length "
                             f"{len(weights)}, but the model was expecting {len(slots)} weights.")
        arrays = [w if isinstance(w, torch.Tensor) else torch.as_tensor(np.asarray(w)) for w in weights]
        for (layer, n), a in zip(slots, arrays):
            if isinstance(layer, Layer):
                expected = tuple(layer.weight_spec(n).shape) if layer.built else tuple(a.shape)
            else:
                expected = tuple(_plain_weight(layer, n).shape)
            if expected != tuple(a.shape):
                raise ValueError(f'Layer "{getattr(layer, "name", type(layer).__name__)}" weight shape {expected} is not '
                                 f"compatible with provided weight shape {tuple(a.shape)}.")
        by_layer: dict[int, tuple[torch.nn.Module, dict[str, torch.Tensor]]] = {}
        for (layer, n), a in zip(slots, arrays):
            by_layer.setdefault(id(layer), (layer, {}))[1][n] = a
        for layer, values in by_layer.values():
            if isinstance(layer, Layer):
                layer.set_weights([values[n] for n in layer.weight_names])
            else:
                with torch.no_grad():
                    for n, a in values.items():
                        target = _plain_weight(layer, n)
                        target.copy_(a.to(device=target.device, dtype=target.dtype))

    @property
    def losses(self) -> list[torch.Tensor]:
        out: list[torch.Tensor] = []
        for layer in self.layers:
            out += list(getattr(layer, "losses", []))
        return out

    def apply_constraints(self) -> None:
        for layer in self.layers:
            if hasattr(layer, "apply_constraints"):
                layer.apply_constraints()

    def count_params(self) -> int:
        return int(sum(w.numel() for w, _ in self._all_weights()))

    def _first_weight(self) -> torch.Tensor | None:
        for w, _ in self._all_weights():
            if w.dtype.is_floating_point and not torch.nn.parameter.is_lazy(w):
                return w
        return None

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        Layer.trainable.fset(self, value)  # type: ignore[attr-defined]
        for layer in self.layers:
            if isinstance(layer, Layer):
                layer.trainable = value

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        return None  # a model's own lazy hook has nothing to build: its layers build themselves

    def summary(
        self,
        line_length: int | None = None,
        positions: Sequence[float] | None = None,
        print_fn: Callable[[str], Any] | None = None,
        expand_nested: bool = False,
        show_trainable: bool = False,
    ) -> str:
        """tf.keras ``model.summary()``: its table (layer (type), output shape, param #, and "Connected to"
        for non-chain graphs) and totals, ``print_fn`` called per line (default ``print``). Returns the text."""
        return print_summary(self, line_length, positions, print_fn, expand_nested, show_trainable)


def _plain_weight(module: torch.nn.Module, name: str) -> torch.Tensor:
    """Parameter or buffer ``name`` of a plain torch module."""
    try:
        return module.get_parameter(name)
    except AttributeError:
        return module.get_buffer(name)
