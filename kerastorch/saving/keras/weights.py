"""Real Keras weight files: ``load_keras_weights`` / ``save_keras_weights``.

Read (through :mod:`kerastorch.saving.keras_read`): Keras 3 ``.weights.h5``, ``.keras`` archives
and tf.keras ``.h5`` files, weights-only or full model. Write: a Keras 3 ``.weights.h5`` laid out exactly as Keras 3 writes it for
the equivalent flat ``Sequential``/functional model.

Matching: the Keras layers of the file that hold weights are paired, in order, with the
kerastorch layers of the module that hold weights, in ``module.modules()`` order (weight-free
Keras layers such as ``Flatten`` or pooling are ignored; non-kerastorch torch modules are not
matched). ``by_name=True`` pairs them by layer name instead, as tf.keras's
``load_weights(by_name=True)`` does. Keras kernels are ``(*kernel_size, in // groups, filters)``,
the layout kerastorch stores, so values are copied as they are.

Loading validates everything first (layer types, weight counts and names, shapes; unbuilt
layers are built from the file's shapes) through :mod:`kerastorch.saving.plan`; a failed load
raises one ``ValueError`` naming every offending layer and weight, and changes nothing.

h5py is an optional dependency (``pip install kerastorch[keras]``), imported when needed.
"""
from __future__ import annotations

import io
import os
from typing import Any, Iterable

import numpy as np
import torch
from torch.nn.parameter import is_lazy

from ..._registry import LAYERS
from ...layers.layer import Layer
from .. import plan
from ..atomic import atomic_write
from .names import class_from_stem, class_from_weights, keras3_snake, keras_class
from .reader import KerasLayerWeights, _import_h5py, read_keras_weights

__all__ = ["KerasLayerWeights", "load_keras_weights", "read_keras_weights", "save_keras_weights"]

# ----------------------------------------------------------------------------- matching
def _weighted_layers(module: torch.nn.Module) -> list[tuple[str, Layer]]:
    seen: set[int] = set()
    out = []
    for prefix, m in module.named_modules():
        if isinstance(m, Layer) and id(m) not in seen and m.weight_names:
            seen.add(id(m))
            out.append((prefix, m))
    return out


def _layer_shapes(layer: Layer) -> list[Any]:
    """Keras weight shapes for messages (``None`` where an unbuilt layer does not know them yet)."""
    if layer.built:
        return [tuple(layer.keras_weight(n).shape) for n in layer.weight_names]
    return [tuple(spec.shape) for spec in layer.weight_specs(None)]


def _infer_class(entry: KerasLayerWeights) -> str | None:
    """The entry's Keras class: recorded in a config, named by a Keras 3 path, or told by its weights."""
    return entry.class_name or class_from_stem(entry.class_stem) or entry.class_stem or class_from_weights(entry.weight_names, entry.arrays)


def _describe(entry: KerasLayerWeights) -> str:
    inferred = _infer_class(entry)
    cls = entry.class_name or (f"{inferred} by its weights" if inferred else "class unknown")
    shapes = [tuple(a.shape) for a in entry.arrays]
    return f"Keras layer {entry.name!r} ({cls}, at {entry.path!r}, weight shapes {shapes})"


def _describe_layer(prefix: str, layer: Layer) -> str:
    where = f"module path {prefix!r}" if prefix else "the module itself"
    return f"kerastorch layer {layer.name!r} ({type(layer).__name__}, {where})"


def _align_by_class(entries: list[KerasLayerWeights], layers: list[tuple[str, Layer]]) -> list[KerasLayerWeights]:
    """Order a path-only (Keras 3) file's layers as Keras 3 resolves paths: per class, in order."""
    queues: dict[str | None, list[KerasLayerWeights]] = {}
    for e in entries:
        queues.setdefault(_infer_class(e), []).append(e)
    out = []
    for _, layer in layers:
        queue = queues.get(keras_class(layer))
        if queue:
            out.append(queue.pop(0))
    taken = {id(e) for e in out}
    return out + [e for e in entries if id(e) not in taken]


def _pair_problems(entry: KerasLayerWeights, prefix: str, layer: Layer) -> list[str]:
    who = f"{_describe(entry)} -> {_describe_layer(prefix, layer)}"
    file_class = _infer_class(entry)
    if file_class is not None and file_class != keras_class(layer):
        kind = "is" if entry.class_name else "looks like"
        return [f"{who}: the Keras layer {kind} a {file_class}, the kerastorch layer a {keras_class(layer)}"]
    names = layer.weight_names
    if len(entry.arrays) != len(names):
        return [f"{who}: expected {len(names)} weights {names}, found {len(entry.arrays)}"]
    if entry.weight_names is not None and entry.weight_names != names:
        return [f"{who}: expected weights named {names}, found {entry.weight_names}"]
    found = [tuple(a.shape) for a in entry.arrays]
    try:
        shapes = layer.weight_shapes_from(dict(zip(names, found)))
    except ValueError as e:
        return [f"{who}: {e}"]
    expected = [shapes[n] for n in names]
    return [
        f"{who}: weight {n!r} expected shape {want}, found shape {got}"
        for n, want, got in zip(names, expected, found)
        if want != got
    ]


def _match(
    entries: list[KerasLayerWeights], ordered: bool, module: torch.nn.Module, by_name: bool, skip_unsupported: bool
) -> tuple[list[tuple[KerasLayerWeights, str, Layer]], list[str]]:
    layers = _weighted_layers(module)
    supported = set(LAYERS.names())
    problems: list[str] = []
    if by_name:
        return _match_by_name(entries, layers)
    usable = []
    for e in entries:
        if _infer_class(e) in supported:
            usable.append(e)
        elif not skip_unsupported:
            problems.append(
                f"{_describe(e)} has no kerastorch counterpart (pass skip_unsupported=True to ignore such layers)"
            )
    if not ordered:
        usable = _align_by_class(usable, layers)
    if len(usable) != len(layers):
        found = ", ".join(f"{e.name} {[tuple(a.shape) for a in e.arrays]}" for e in usable)
        expected = ", ".join(f"{layer.name} {_layer_shapes(layer)}" for _, layer in layers)
        problems.append(
            f"the file has {len(usable)} Keras layers with weights ({found}), the module has "
            f"{len(layers)} kerastorch layers with weights ({expected})"
        )
        return [], problems
    pairs = [(e, prefix, layer) for e, (prefix, layer) in zip(usable, layers)]
    return pairs, problems


def _match_by_name(
    entries: list[KerasLayerWeights], layers: list[tuple[str, Layer]]
) -> tuple[list[tuple[KerasLayerWeights, str, Layer]], list[str]]:
    problems = []
    by_name: dict[str, KerasLayerWeights] = {}
    for e in entries:
        if e.name in by_name:
            problems.append(f"the file has two Keras layers named {e.name!r} ({by_name[e.name].path!r}, {e.path!r})")
        by_name[e.name] = e
    names = [layer.name for _, layer in layers]
    problems += [f"the module has two kerastorch layers named {n!r}" for n in sorted({n for n in names if names.count(n) > 1})]
    pairs = [(by_name[layer.name], prefix, layer) for prefix, layer in layers if layer.name in by_name]
    if not pairs:
        problems.append(
            f"no layer names in common (file: {[e.name for e in entries]}, module: {names})"
        )
    return pairs, problems


# ----------------------------------------------------------------------------- public API
def load_keras_weights(
    module: torch.nn.Module,
    path: str | os.PathLike,
    *,
    by_name: bool = False,
    skip_unsupported: bool = False,
) -> None:
    """Load a real Keras weight file into the kerastorch layers of ``module``.

    Reads Keras 3 ``.weights.h5`` and ``.keras`` files and tf.keras ``.h5`` files (weights-only
    or full model). Keras layers with weights are paired in order with the module's kerastorch
    layers with weights (``module.modules()`` order), checking classes and shapes; with
    ``by_name=True`` they are paired by layer name and unpaired layers on either side are left
    alone (tf.keras ``load_weights(by_name=True)``). Keras layers with weights but no kerastorch
    counterpart (``Dense``, ...) are an error unless ``skip_unsupported=True``. Unbuilt layers
    are built from the file's shapes. All checks run before anything is copied: on a
    ``ValueError`` the module is unchanged.
    """
    source = repr(os.fspath(path))
    entries, ordered = read_keras_weights(path)
    pairs, problems = _match(entries, ordered, module, by_name, skip_unsupported)
    for entry, prefix, layer in pairs:
        problems += _pair_problems(entry, prefix, layer)
    if problems:
        raise ValueError(f"Cannot load Keras weights {source} into {type(module).__name__}: " + "; ".join(problems))
    tensors: dict[str, torch.Tensor] = {}
    for entry, prefix, layer in pairs:
        dot = prefix + "." if prefix else ""
        for name, array in zip(layer.weight_names, entry.arrays):
            tensors[dot + name] = layer.weight_spec(name).to_storage(torch.from_numpy(array)).contiguous()
    plan.check(module, tensors, False, f"Keras weights {source}")
    plan.apply(module, tensors, False)


def _keras_array(param: torch.Tensor) -> np.ndarray:
    t = param.detach().cpu()
    if t.dtype == torch.bfloat16:  # Keras casts on assignment; float32 holds every bfloat16
        t = t.float()
    return np.ascontiguousarray(t.numpy())


def _unsupported_params(module: torch.nn.Module) -> list[str]:
    owned = {id(p) for m in module.modules() if isinstance(m, Layer) for p in m.parameters(recurse=False)}
    return [n for n, p in module.named_parameters() if id(p) not in owned]


def save_keras_weights(module: torch.nn.Module, path: str | os.PathLike, *, skip_unsupported: bool = False) -> None:
    """Write the module's kerastorch layers as a Keras 3 ``.weights.h5``, atomically.

    The layout is what Keras 3's ``model.save_weights`` writes for the equivalent flat
    ``Sequential`` or functional model (same layers, ``module.modules()`` order):
    ``layers/<class>[_<n>]/vars/<i>`` with the layer name as the ``vars`` group's ``name``
    attribute, so ``keras_model.load_weights(path)`` loads it. Parameters outside kerastorch
    layers are an error unless ``skip_unsupported=True`` (they are then left out).
    """
    h5py = _import_h5py()
    state = module.state_dict(keep_vars=True)
    lazy = [k for k, v in state.items() if is_lazy(v)]
    if lazy:
        raise ValueError(f"Cannot save weights of unbuilt layers (call the model once or build() first): {lazy}")
    extra = _unsupported_params(module)
    if extra and not skip_unsupported:
        raise ValueError(
            f"Cannot save {type(module).__name__} as Keras weights: parameters {extra} are not in kerastorch "
            "layers and have no Keras layer to go to (pass skip_unsupported=True to leave them out)."
        )
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        _write_layers(f, (layer for _, layer in _weighted_layers(module)))
        f.create_group("vars").attrs["name"] = keras3_snake(type(module).__name__)
    with atomic_write(path) as out:
        out.write(buffer.getvalue())


def _write_layers(f: Any, layers: Iterable[Layer]) -> None:
    used: dict[str, int] = {}
    container = f.create_group("layers")
    for layer in layers:
        stem = keras3_snake(keras_class(layer))
        key = stem if stem not in used else f"{stem}_{used[stem] + 1}"
        used[stem] = used.get(stem, -1) + 1
        group = container.create_group(key).create_group("vars")
        group.attrs["name"] = layer.name
        for i, name in enumerate(layer.weight_names):
            group.create_dataset(str(i), data=_keras_array(layer.keras_weight(name)))
