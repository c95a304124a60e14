"""The seeded weight fill of the model fixtures, without TensorFlow (written once; tests import it).

The rule is ``compat_fixtures/gen/models.py``'s (documented in ``compat_fixtures/models/MANIFEST.json``
``"fill"``): one ``numpy.random.default_rng(seed)`` consumed weight by weight in the source library's
``model.weights`` order, the distribution chosen by the weight's leaf name and shape.

Keras order from a kerastorch model (:func:`keras_weight_order`): tf.keras lists every trainable weight
(layer order, nested models expanded) and then every non-trainable one; Keras 3 lists them layer by layer,
each layer's weights in its own order. :func:`fill_model` computes the fill in that order, checks it
against the recorded ``[[keras name, shape, dtype], ...]`` (leaf names and shapes, position by position)
and sets the values.
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np
import torch


def fill_values(weights: Sequence, seed: int) -> list[np.ndarray | None]:
    """The fill for ``[[keras name, shape, dtype], ...]`` in Keras order; ``None`` = unchanged (integer
    weights, e.g. ``Normalization.count``: no draw)."""
    rng = np.random.default_rng(seed)
    out: list[np.ndarray | None] = []
    for name, shape, dtype in weights:
        shape = tuple(int(d) for d in shape)
        leaf = leaf_name(name)
        if not np.issubdtype(np.dtype(dtype), np.floating):
            out.append(None)
            continue
        if leaf == "gamma":
            v = 1.0 + 0.1 * rng.standard_normal(shape)
        elif leaf in ("beta", "moving_mean", "mean"):
            v = 0.1 * rng.standard_normal(shape)
        elif leaf in ("moving_variance", "variance"):
            v = rng.uniform(0.5, 1.5, shape)
        elif len(shape) >= 2:
            fan_in = int(np.prod(shape[:-2])) if leaf == "depthwise_kernel" else int(np.prod(shape[:-1]))
            v = rng.standard_normal(shape) * np.sqrt(1.0 / max(fan_in, 1))
        else:
            v = 0.1 * rng.standard_normal(shape)
        out.append(v.astype(dtype))
    return out


def leaf_name(name: str) -> str:
    """``"block1/conv/kernel:0"`` -> ``"kernel"``."""
    return name.split("/")[-1].split(":")[0]


def keras_weight_order(model: torch.nn.Module, source: str) -> list[tuple[torch.nn.Module, str]]:
    """``(layer, weight name)`` of a kerastorch model in ``model.weights`` order of ``source``
    (``"tf_keras"``: all trainable then all non-trainable; ``"keras3"``: layer by layer)."""
    if source == "tf_keras":
        return model._weight_slots()
    if source != "keras3":
        raise ValueError(f"unknown source {source!r}")
    from kerastorch.layers.layer import Layer
    from kerastorch.engine.base_model import _Model

    slots: list[tuple[torch.nn.Module, str]] = []
    seen: set[tuple[int, str]] = set()

    def walk(m: torch.nn.Module) -> None:
        for layer in m.layers:
            if isinstance(layer, _Model):
                walk(layer)
            elif isinstance(layer, Layer):
                for n in layer.weight_names:
                    if (id(layer), n) not in seen:
                        seen.add((id(layer), n))
                        slots.append((layer, n))

    walk(model)
    return slots


#: Keras 3 names some weights differently from tf.keras (the attribute kerastorch uses): (ours, Keras 3 leaf).
#: DepthwiseConv2D's kernel is ``.../kernel`` in Keras 3; ConvNeXt's LayerScale ``gamma`` is an unnamed
#: ``add_weight`` in Keras 3 (``.../variable``, ``variable_1``, ...). The fill draws by the RECORDED name
#: (Keras's), as Keras did.
KERAS3_LEAF_ALIASES = {("depthwise_kernel", "kernel"), ("gamma", "variable")}


def _same_leaf(ours: str, keras: str, source: str) -> bool:
    keras = re.sub(r"^variable_\d+$", "variable", keras)
    return ours == keras or (source == "keras3" and (ours, keras) in KERAS3_LEAF_ALIASES)


def _dtype_name(layer: torch.nn.Module, name: str) -> str:
    return str(layer.keras_weight(name).dtype).replace("torch.", "")


def fill_model(model: torch.nn.Module, recorded: Sequence, seed: int, source: str) -> None:
    """Set ``model``'s weights to the fill of ``seed``, in ``source``'s Keras order, after checking that
    order (leaf name, shape, dtype kind) equals the recorded ``[[keras name, shape, dtype], ...]``."""
    slots = keras_weight_order(model, source)
    ours = [(n, list(layer.weight_spec(n).shape), _dtype_name(layer, n)) for layer, n in slots]
    theirs = [(leaf_name(n), [int(d) for d in s], d) for n, s, d in recorded]
    assert len(ours) == len(theirs), f"{len(ours)} weights, Keras has {len(theirs)}"
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert a[1] == b[1] and _same_leaf(a[0], b[0], source), f"weight {i} ({recorded[i][0]}): kerastorch has {a}, Keras {b}"
        floating = np.issubdtype(np.dtype(b[2]), np.floating)
        assert (a[2].startswith(("float", "bfloat"))) == floating, f"weight {i}: dtype {a[2]} vs Keras {b[2]}"
    values = fill_values(recorded, seed)
    by_layer: dict[int, tuple[torch.nn.Module, dict[str, np.ndarray]]] = {}
    for (layer, n), v in zip(slots, values):
        if v is not None:
            by_layer.setdefault(id(layer), (layer, {}))[1][n] = v
    for layer, vals in by_layer.values():
        current = dict(zip(layer.weight_names, layer.get_weights()))
        current.update(vals)
        layer.set_weights([current[n] for n in layer.weight_names])
