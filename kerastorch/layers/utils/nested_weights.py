"""Layers whose Keras weights belong to sublayers (``RNN(cell)``, ``StackedRNNCells``, ``Bidirectional``,
``MultiHeadAttention``).

Keras lists a wrapper's weights as its sublayers' (``bidirectional.weights`` = forward then backward).
These layers present them the same way through the Layer weight API: ``weight_names`` are the sublayers'
``state_dict`` paths (``forward_layer.kernel``, ``cell.cells.0.bias``), and ``get_weights``/``set_weights``,
``weight_shapes_from``, ``build_from_weight_shapes``, ``losses`` and ``apply_constraints`` delegate, so that
Keras weight files, ``load_state_dict`` into an unbuilt model and the file writers see one Keras layer.
(Shared by the recurrent and attention families; it sits below the Layer base: a mixin placed before ``Layer``.)
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch

from ..._registry import LAYERS


def deserialize_sublayer(config: Any) -> Any:
    """A wrapped layer / cell from its serialized config (registry lookup by class name), built from its
    Keras 3 ``build_config`` when it has one (what Keras's wrappers do in ``from_config``); a module as is."""
    if isinstance(config, torch.nn.Module):
        return config
    layer = LAYERS.deserialize(config)
    build = config.get("build_config") if isinstance(config, dict) else None
    if isinstance(build, dict) and hasattr(layer, "build_from_config"):
        layer.build_from_config(build)
    return layer


class NestedWeights:
    """Mixin for a ``Layer`` whose weights are its sublayers' (``_weight_owners``: ``[(path, layer)]``)."""

    _kt_nested_weights = True

    def _weight_owners(self) -> list[tuple[str, Any]]:
        raise NotImplementedError

    def _owner_of(self, name: str) -> tuple[Any, str]:
        for prefix, layer in self._weight_owners():
            if name.startswith(prefix + "."):
                return layer, name[len(prefix) + 1:]
        raise KeyError(f'Layer "{self.name}" has no weight {name!r}.')

    @property
    def weight_names(self) -> list[str]:
        return [f"{p}.{n}" for p, layer in self._weight_owners() for n in layer.weight_names]

    def weight_spec(self, name: str) -> Any:
        layer, rest = self._owner_of(name)
        return layer.weight_spec(rest)

    def keras_weight(self, name: str) -> torch.Tensor:
        layer, rest = self._owner_of(name)
        return layer.keras_weight(rest)

    def _stored(self, name: str) -> torch.Tensor:
        if "." in name:
            layer, rest = self._owner_of(name)
            return layer._stored(rest)
        return super()._stored(name)  # type: ignore[misc]

    @property
    def weights(self) -> list[torch.Tensor]:
        return [w for _, layer in self._weight_owners() for w in layer.weights]

    def get_weights(self) -> list[np.ndarray]:
        return [w for _, layer in self._weight_owners() for w in layer.get_weights()]

    def _split(self, items: Mapping[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
        out = []
        for prefix, layer in self._weight_owners():
            dot = prefix + "."
            out.append((layer, {k[len(dot):]: v for k, v in items.items() if k.startswith(dot)}))
        return out

    def weight_shapes_from(self, shapes: Mapping[str, Sequence[int]], layout: str = "keras") -> dict[str, tuple[int, ...]]:
        out = {}
        for (prefix, _), (layer, part) in zip(self._weight_owners(), self._split(shapes)):
            for n, s in layer.weight_shapes_from(part, layout).items():
                out[f"{prefix}.{n}"] = s
        return out

    def build_from_weight_shapes(self, shapes: Mapping[str, Sequence[int]], layout: str = "keras") -> None:
        if self.built:
            return
        self.weight_shapes_from(shapes, layout)  # every part checked before anything is built
        for layer, part in self._split(shapes):
            layer.build_from_weight_shapes(part, layout)
        self._built_from_sublayers()

    def _built_from_sublayers(self) -> None:
        """Mark this wrapper built once its sublayers are (its input shape is theirs)."""
        owners = self._weight_owners()
        if owners and all(layer.built for _, layer in owners):
            shape = owners[0][1]._build_shape
            self.build(self._input_shape_from_sublayer(shape))

    def _input_shape_from_sublayer(self, shape: Any) -> Any:
        return shape

    def set_weights(self, weights: Sequence[Any]) -> None:
        weights = list(weights)
        owners = self._weight_owners()
        counts = [len(layer.weight_names) for _, layer in owners]
        if len(weights) != sum(counts):
            raise ValueError(
                f'You called `set_weights(weights)` on layer "{self.name}" with a weight list of length '
                f"{len(weights)}, but the layer was expecting {sum(counts)} weights."
            )
        arrays = [w if isinstance(w, torch.Tensor) else torch.as_tensor(np.asarray(w)) for w in weights]
        self.weight_shapes_from(dict(zip(self.weight_names, [tuple(a.shape) for a in arrays])))
        i = 0
        for (_, layer), n in zip(owners, counts):
            layer.set_weights(arrays[i:i + n])
            i += n
        if not self.built:
            self._built_from_sublayers()

    def reset_parameters(self) -> None:
        for _, layer in self._weight_owners():
            layer.reset_parameters()

    @property
    def losses(self) -> list[torch.Tensor]:
        return list(self._activity_losses) + [l for _, layer in self._weight_owners() for l in layer.losses]

    def apply_constraints(self) -> None:
        for _, layer in self._weight_owners():
            layer.apply_constraints()

    def has_uninitialized_params(self) -> bool:
        return any(layer.has_uninitialized_params() for _, layer in self._weight_owners())
