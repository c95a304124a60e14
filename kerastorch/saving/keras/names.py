"""Keras class names: which Keras class a kerastorch layer is, and how Keras files spell classes.

Resolved through the one layer registry (``kerastorch._registry.LAYERS``); a file's class names are
data, looked up there, never imported.
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from ... import _naming
from ..._registry import LAYERS


def keras3_snake(name: str) -> str:
    """``keras.src.utils.naming.to_snake_case`` (Keras 3): how weight-file paths name classes."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def keras_class(layer: object) -> str:
    """The Keras class a kerastorch layer reproduces (a user subclass maps to its registered base). A class whose
    Keras Python name differs from the name Keras writes in configs says so (``_keras_python_class``: Keras 3's
    ``GroupedQueryAttention``, exported and serialized as ``GroupQueryAttention``)."""
    for cls in type(layer).__mro__:
        explicit = cls.__dict__.get("_keras_python_class")
        if explicit:
            return str(explicit)
        name = LAYERS.name_of(cls)
        if name is not None:
            return name
    return type(layer).__name__


# Keras 3.15 ``keras.layers`` classes that can hold weights (and the model classes), so that a file's
# path stem names its class in messages (``dense`` -> ``Dense``) without importing Keras.
_KERAS3_WEIGHTED_CLASSES = (
    "AdditiveAttention", "Attention", "BatchNormalization", "Bidirectional", "Conv1D", "Conv1DTranspose",
    "Conv2D", "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
    "Dense", "DepthwiseConv1D", "DepthwiseConv2D", "EinsumDense", "Embedding", "Functional", "GRU", "GRUCell",
    "GroupNormalization", "GroupedQueryAttention", "IntegerLookup", "LSTM", "LSTMCell", "Layer",
    "LayerNormalization", "Model", "MultiHeadAttention", "Normalization", "PReLU", "RMSNormalization", "RNN",
    "ReversibleEmbedding", "SeparableConv1D", "SeparableConv2D", "Sequential", "SimpleRNN", "SimpleRNNCell",
    "SpectralNormalization", "StackedRNNCells", "StringLookup", "TextVectorization", "TimeDistributed",
)


def class_from_stem(stem: str | None) -> str | None:
    """The Keras class whose Keras 3 path stem is ``stem`` (``conv2d`` -> ``Conv2D``), if registered."""
    if stem is None:
        return None
    for name in LAYERS.names():
        if keras3_snake(name) == stem and LAYERS.name_of(LAYERS.lookup(name)) == name:
            return name
    return None


def class_name_of_stem(stem: str) -> str:
    """The Keras class name a Keras 3 path stem stands for, for messages (``dense`` -> ``Dense``):
    a registered class, a known Keras layer, else the stem in CamelCase."""
    known = class_from_stem(stem) or next((c for c in _KERAS3_WEIGHTED_CLASSES if keras3_snake(c) == stem), None)
    return known or "".join(part[:1].upper() + part[1:] for part in stem.split("_"))


def is_auto_name(layer: object) -> bool:
    """Whether a layer's name looks generated (``conv2d``, ``conv2d_3``), as Keras and kerastorch name
    unnamed layers after their class: such names say nothing about which Keras layer is meant."""
    name = getattr(layer, "name", None)
    if not isinstance(name, str):
        return True
    stems = {keras3_snake(keras_class(layer)), keras3_snake(type(layer).__name__), _naming.to_snake_case(type(layer).__name__)}
    return any(re.fullmatch(re.escape(stem) + r"(_\d+)?", name) for stem in stems)


def canonical_class(name: str) -> str:
    """A recorded Keras class name as kerastorch's registry names it (``Convolution2D`` -> ``Conv2D``)."""
    if name in LAYERS:
        return LAYERS.name_of(LAYERS.lookup(name)) or name
    return name


def _rank_classes(rank: int, *families: str) -> list[str]:
    """``Conv{n}D``-style class names of the families for a kernel of ``rank`` (``n = rank - 2``)."""
    n = rank - 2
    limits = {"Conv": 3, "ConvTranspose": 3, "DepthwiseConv": 2, "SeparableConv": 2}
    out = []
    for family in families:
        if 1 <= n <= limits[family]:
            out.append(f"Conv{n}DTranspose" if family == "ConvTranspose" else f"{family}{n}D")
    return out


def _bias_fits(cls: str, kernel: tuple[int, ...], bias: tuple[int, ...] | None) -> bool:
    """Whether a bias of shape ``bias`` goes with ``kernel`` in a layer of class ``cls`` (Keras layouts:
    Conv ``(*k, in/groups, filters)``, ConvTranspose ``(*k, filters, in)``, Depthwise ``(*k, in, M)``)."""
    if bias is None:
        return True
    if cls.endswith("Transpose"):
        return bias == (kernel[-2],)
    if cls.startswith("Depthwise"):
        return bias == (kernel[-2] * kernel[-1],)
    return bias == (kernel[-1],)


def classes_from_weights(weight_names: Sequence[str] | None, arrays: Sequence[np.ndarray]) -> tuple[str, ...]:
    """The Keras classes a layer can be by its weights alone, for files that record no class (tf.keras
    weights-only ``.h5``: weight names; attribute groups of subclassed Keras 3 models: shapes only).

    Weight names decide between families (``depthwise_kernel`` is a depthwise convolution, with a
    ``pointwise_kernel`` a separable one); a ``kernel`` alone cannot tell ``Conv2D`` from
    ``Conv2DTranspose`` (both rank 4), nor, without names, from ``DepthwiseConv2D``: every class
    that fits stays a candidate and the shapes decide. Empty when nothing fits.
    """
    if not arrays:
        return ()
    names = list(weight_names) if weight_names is not None else None
    shapes = [tuple(a.shape) for a in arrays]
    rank = len(shapes[0])
    if names in (["depthwise_kernel", "pointwise_kernel"], ["depthwise_kernel", "pointwise_kernel", "bias"]):
        return tuple(_rank_classes(rank, "SeparableConv"))
    if names in (["depthwise_kernel"], ["depthwise_kernel", "bias"]):
        return tuple(_rank_classes(rank, "DepthwiseConv"))
    if names is None and 2 <= len(shapes) <= 3 and len(shapes[1]) == rank >= 3:
        # Separable: depthwise (*k, in, M), pointwise (1, ..., 1, in * M, filters)[, bias (filters,)].
        depthwise, pointwise = shapes[0], shapes[1]
        fits = all(d == 1 for d in pointwise[:-2]) and pointwise[-2] == depthwise[-2] * depthwise[-1]
        if fits and (len(shapes) == 2 or shapes[2] == (pointwise[-1],)):
            return tuple(_rank_classes(rank, "SeparableConv"))
        return ()
    if names is not None and names not in (["kernel"], ["kernel", "bias"]):
        return ()
    if len(shapes) > 2 or (len(shapes) == 2 and len(shapes[1]) != 1):
        return ()
    if rank == 2:
        return ("Dense",)
    bias = shapes[1] if len(shapes) == 2 else None
    families = ("Conv", "ConvTranspose") if names is not None else ("Conv", "ConvTranspose", "DepthwiseConv")
    candidates = _rank_classes(rank, *families)
    fitting = [c for c in candidates if _bias_fits(c, shapes[0], bias)]
    return tuple(fitting or candidates)  # a bias that fits nothing: the shape check will say so


def keras_weight_names(layer: object) -> list[list[str]]:
    """The weight-name lists a Keras file may record for ``layer``: tf.keras's (kerastorch's own), and
    Keras 3's where they differ (Keras 3 names a ``DepthwiseConv*D``'s kernel ``kernel``)."""
    # a wrapper's weights are its sublayers' (``forward_layer.kernel``): the file names the last part
    names = [n.rsplit(".", 1)[-1] for n in layer.weight_names]  # type: ignore[attr-defined]
    out = [names]
    if keras_class(layer) in ("DepthwiseConv1D", "DepthwiseConv2D"):
        out.append(["kernel" if n == "depthwise_kernel" else n for n in names])
    return out


def keras3_var_groups(layer: object) -> list[tuple[str, str, list[str]]]:
    """Keras 3's variable groups of a layer, relative to the layer's own group: ``(path, name, weight
    names)``. A plain layer keeps its weights in ``vars``; a recurrent layer in its cell's group
    (``cell/vars``, ``cell/cells/lstm_cell/vars``), ``Bidirectional`` in ``forward_layer/cell/vars`` and
    ``backward_layer/cell/vars``, with an empty ``vars`` group for the wrapper itself, as Keras 3 writes
    them. ``weight names`` are the layer's ``weight_names`` stored in that group, in order."""
    own = getattr(layer, "keras3_var_groups", None)
    if own is not None:  # a layer that states its Keras 3 groups itself (SpectralNormalization)
        return own()
    subs = getattr(layer, "keras_sublayer_paths", None)
    if subs is None:
        return [("", str(getattr(layer, "name", "")), list(layer.weight_names))]  # type: ignore[attr-defined]
    out: list[tuple[str, str, list[str]]] = [("", str(layer.name), [])]  # type: ignore[attr-defined]
    used: dict[str, int] = {}
    for path, prefix, sub in subs():
        if path.endswith("*"):  # a list of sublayers: Keras 3 names each <snake class>[_n], counted per class
            stem = keras3_snake(keras_class(sub))
            path = path[:-1] + (stem if stem not in used else f"{stem}_{used[stem] + 1}")
            used[stem] = used.get(stem, -1) + 1
        if sub is layer:  # the layer owns the weights Keras keeps in its cell
            out.append((path, str(layer.cell.name), list(layer.weight_names)))  # type: ignore[attr-defined]
            continue
        dot = prefix + "." if prefix else ""
        for p2, name, names in keras3_var_groups(sub):
            out.append((f"{path}/{p2}" if p2 else path, name, [dot + n for n in names]))
    return out


def tf_keras_weight_names(layer: object) -> list[str]:
    """tf.keras's full weight names of a layer (``lstm/lstm_cell/kernel:0``,
    ``bidirectional/forward_lstm/lstm_cell/kernel:0``, ``rnn/stacked_rnn_cells/gru_cell/bias:0``)."""
    name = layer.name  # type: ignore[attr-defined]
    subs = getattr(layer, "keras_sublayer_paths", None)
    if subs is None:
        return [f"{name}/{w}:0" for w in layer.weight_names]  # type: ignore[attr-defined]
    out: list[str] = []
    for _, _, sub in subs():
        if sub is layer:  # tf.keras scopes an LSTM's weights in its cell (lstm_cell), not a ConvLSTM's
            scope = f"{layer.cell.name}/" if getattr(layer, "_tf_keras_cell_scope", True) else ""  # type: ignore[attr-defined]
            out += [f"{name}/{scope}{w}:0" for w in layer.weight_names]  # type: ignore[attr-defined]
        else:
            out += [f"{name}/{n}" for n in tf_keras_weight_names(sub)]
    return out
