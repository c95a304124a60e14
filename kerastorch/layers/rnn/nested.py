"""Layers whose Keras weights belong to sublayers (``RNN(cell)``, ``StackedRNNCells``, ``Bidirectional``).

Keras lists a wrapper's weights as its sublayers' (``bidirectional.weights`` = forward then backward).
These layers present them the same way through the Layer weight API: ``weight_names`` are the sublayers'
``state_dict`` paths (``forward_layer.kernel``, ``cell.cells.0.bias``), and ``get_weights``/``set_weights``,
``weight_shapes_from``, ``build_from_weight_shapes``, ``losses`` and ``apply_constraints`` delegate, so that
Keras weight files, ``load_state_dict`` into an unbuilt model and the file writers see one Keras layer.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import torch

from ..._registry import LAYERS
from ..layer import Layer
from ..utils.nested_weights import NestedWeights  # noqa: F401  (re-exported: the recurrent layers' import)


def deserialize(config: Any) -> Any:
    """A layer from a serialized config (registry lookup by class name); a Keras 3 ``build_config`` builds it."""
    if isinstance(config, torch.nn.Module):
        return config
    layer = LAYERS.deserialize(config)
    build = config.get("build_config") if isinstance(config, dict) else None
    if isinstance(build, dict) and isinstance(layer, Layer):
        layer.build_from_config(build)
    return layer


