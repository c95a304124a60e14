"""Pairing the layers of a Keras weight file with the kerastorch layers of a module.

With ``by_name=False`` (the default), in this order:

1. **Names.** When every kerastorch layer with weights carries an explicit name (not a generated
   ``conv2d`` / ``conv2d_3``) and these are exactly the file's layer names (unique on both sides),
   layers pair by name: the names say which is which, whatever the module's order.
2. **Positions.** Otherwise Keras layers with weights pair with the module's kerastorch layers with
   weights in ``module.modules()`` order: in the order the file records (tf.keras ``layer_names``, a
   ``.keras`` config). A bare Keras 3 ``.weights.h5`` records paths, not order: in a flat one
   (``layers/<class>[_<n>]``) the ``n``-th layer of a class is the ``n``-th of that class, as
   Keras 3 resolves those paths for the equivalent flat model; a nested one (``layers/sequential/
   layers/conv2d``) is followed path by path through the module tree (a torch container stands for
   a nested Keras model, a torch attribute for a subclassed model's attribute) and is refused when
   the module's structure does not say which group is which.
3. **No contradictions.** A positional pair whose kerastorch layer is explicitly named after
   *another* layer of the file is refused: positions and names disagree.

``by_name=True`` is tf.keras's ``load_weights(by_name=True)``: pairs by name, leaves the rest alone.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Iterable

import torch

from ..._registry import LAYERS
from ...layers.layer import Layer
from .names import (
    canonical_class, class_from_stem, class_name_of_stem, classes_from_weights, is_auto_name, keras3_snake, keras_class,
    keras_weight_names,
)
from .reader import KerasLayerWeights, _natural_key

Pair = tuple[KerasLayerWeights, str, Layer]


def weighted_layers(module: torch.nn.Module) -> list[tuple[str, Layer]]:
    """``(prefix, layer)`` of every kerastorch layer with weights, in ``module.modules()`` order, once each."""
    seen: set[int] = set()
    out = []
    wrappers: list[str] = []  # layers whose weights are their sublayers' (RNN(cell), Bidirectional): one Keras layer
    for prefix, m in module.named_modules():
        if any(prefix.startswith(w + ".") if w else prefix for w in wrappers):
            continue
        if isinstance(m, Layer) and getattr(m, "_kt_nested_weights", False):
            wrappers.append(prefix)
        if isinstance(m, Layer) and id(m) not in seen and m.weight_names:
            seen.add(id(m))
            out.append((prefix, m))
    return out


# ----------------------------------------------------------------------------- descriptions
def infer_classes(entry: KerasLayerWeights) -> tuple[str, ...]:
    """The Keras classes the entry can be: the one recorded in a config or named by a Keras 3 path,
    else every class its weights fit (``kernel`` rank 4: ``Conv2D`` or ``Conv2DTranspose``)."""
    if entry.class_name:
        return (canonical_class(entry.class_name),)
    if entry.class_stem:
        return (class_from_stem(entry.class_stem) or class_name_of_stem(entry.class_stem),)
    return classes_from_weights(entry.weight_names, entry.arrays)


def infer_class(entry: KerasLayerWeights) -> str | None:
    """The entry's Keras class for messages and grouping (``'Conv2D or Conv2DTranspose'`` when only
    the weights tell, and they fit several)."""
    classes = infer_classes(entry)
    return " or ".join(classes) if classes else None


def describe(entry: KerasLayerWeights) -> str:
    inferred = infer_class(entry)
    if entry.class_name or entry.class_stem:
        cls = inferred
    else:
        cls = f"{inferred} by its weights" if inferred else "class unknown"
    shapes = [tuple(a.shape) for a in entry.arrays]
    return f"Keras layer {entry.name!r} ({cls}, at {entry.path!r}, weight shapes {shapes})"


def describe_layer(prefix: str, layer: Layer) -> str:
    where = f"module path {prefix!r}" if prefix else "the module itself"
    return f"kerastorch layer {layer.name!r} ({type(layer).__name__}, {where})"


def _layer_shapes(layer: Layer) -> list:
    """Keras weight shapes for messages (``None`` where an unbuilt layer does not know them yet)."""
    if layer.built:
        return [tuple(layer.keras_weight(n).shape) for n in layer.weight_names]
    return [tuple(spec.shape) for spec in layer.weight_specs(None)]


def pair_problems(entry: KerasLayerWeights, prefix: str, layer: Layer) -> list[str]:
    """What keeps ``entry`` from loading into ``layer``: class, weight count and names, shapes."""
    who = f"{describe(entry)} -> {describe_layer(prefix, layer)}"
    file_classes = infer_classes(entry)
    if file_classes and keras_class(layer) not in file_classes:
        kind = "is" if entry.class_name or entry.class_stem else "looks like"
        return [f"{who}: the Keras layer {kind} a {infer_class(entry)}, the kerastorch layer a {keras_class(layer)}"]
    names = layer.weight_names
    if len(entry.arrays) != len(names):
        return [f"{who}: expected {len(names)} weights {names}, found {len(entry.arrays)}"]
    if entry.weight_names is not None and entry.weight_names not in keras_weight_names(layer):
        return [f"{who}: expected weights named {names}, found {entry.weight_names}"]
    found = [tuple(a.shape) for a in entry.arrays]
    try:
        shapes = layer.weight_shapes_from(dict(zip(names, found)))
    except ValueError as e:
        return [f"{who}: {e}"]
    return [
        f"{who}: weight {n!r} expected shape {shapes[n]}, found shape {got}"
        for n, got in zip(names, found)
        if shapes[n] != got
    ]


# ----------------------------------------------------------------------------- matching
def match(
    entries: list[KerasLayerWeights], ordered: bool, module: torch.nn.Module, by_name: bool, skip_unsupported: bool | None
) -> tuple[list[Pair], list[str]]:
    """Pair file layers with kerastorch layers (module docstring); problems instead of guesses.

    ``skip_unsupported=None``: the caller offers no such option (``load_model``), and messages don't suggest it.
    """
    layers = weighted_layers(module)
    if by_name:
        return _match_by_name(entries, layers)
    supported = set(LAYERS.names())
    # A tf.keras weights-only .h5 records no classes, only the layers' order and weight names: a layer
    # whose class its weights don't tell (BatchNormalization's gamma, beta, moving_mean, ...) pairs by
    # that order when its weight names are those of one of the module's own layers (checked per pair).
    own = {tuple(n) for _, layer in layers for n in keras_weight_names(layer)}
    problems: list[str] = []
    usable = []
    for e in entries:
        if any(c in supported for c in infer_classes(e)):
            usable.append(e)
        elif ordered and not (e.class_name or e.class_stem) and e.weight_names is not None and tuple(e.weight_names) in own:
            usable.append(e)
        elif not skip_unsupported:
            hint = "" if skip_unsupported is None else " (pass skip_unsupported=True to ignore such layers)"
            if ordered and e.weight_names is not None and not (e.class_name or e.class_stem):
                problems.append(
                    f"{describe(e)} has no kerastorch counterpart in the module (none of its layers has weights "
                    f"named {e.weight_names}){hint}"
                )
            else:
                problems.append(f"{describe(e)} has no kerastorch counterpart{hint}")
    pairs = _pair_by_names(usable, layers)
    if pairs is not None:
        return pairs, problems
    if not ordered and not _is_flat(usable):
        found, problem = _follow_paths(usable, module, layers)
        if problem:
            return [], problems + [problem]
        usable = found
    elif not ordered:
        usable = _align_by_class(usable, layers)
    if len(usable) != len(layers):
        found_str = ", ".join(f"{e.name} {[tuple(a.shape) for a in e.arrays]}" for e in usable)
        expected = ", ".join(f"{layer.name} {_layer_shapes(layer)}" for _, layer in layers)
        problems.append(
            f"the file has {len(usable)} Keras layers with weights ({found_str}), the module has "
            f"{len(layers)} kerastorch layers with weights ({expected})"
        )
        return [], problems
    pairs = [(e, prefix, layer) for e, (prefix, layer) in zip(usable, layers)]
    return pairs, problems + _name_conflicts(pairs, usable)


def _unique(names: Iterable[str]) -> bool:
    names = list(names)
    return len(set(names)) == len(names)


def _pair_by_names(usable: list[KerasLayerWeights], layers: list[tuple[str, Layer]]) -> list[Pair] | None:
    """Pairs by name when the kerastorch layers are explicitly named after the file's layers, one to one."""
    if not layers or any(is_auto_name(layer) for _, layer in layers):
        return None
    if not _unique(layer.name for _, layer in layers) or not _unique(e.name for e in usable):
        return None
    by_name = {e.name: e for e in usable}
    if set(by_name) != {layer.name for _, layer in layers}:
        return None
    return [(by_name[layer.name], prefix, layer) for prefix, layer in layers]


def _name_conflicts(pairs: list[Pair], usable: list[KerasLayerWeights]) -> list[str]:
    """Positional pairs that contradict an explicit name: the layer is named after another file layer."""
    by_name: dict[str, list[KerasLayerWeights]] = {}
    for e in usable:
        by_name.setdefault(e.name, []).append(e)
    problems = []
    for entry, prefix, layer in pairs:
        if is_auto_name(layer) or layer.name == entry.name or layer.name not in by_name:
            continue
        other = by_name[layer.name][0]
        problems.append(
            f"by position, {describe(entry)} would load into {describe_layer(prefix, layer)}, but the file's "
            f"layer {layer.name!r} is another one (at {other.path!r}): the module's layer order and names "
            "disagree with the file's. Name every kerastorch layer after its Keras layer (layers then pair by "
            "name), pass by_name=True, or put the layers in the file's order"
        )
    return problems


def _match_by_name(entries: list[KerasLayerWeights], layers: list[tuple[str, Layer]]) -> tuple[list[Pair], list[str]]:
    """tf.keras ``load_weights(by_name=True)``: pairs by name; unpaired layers on either side stay alone."""
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
        problems.append(f"no layer names in common (file: {[e.name for e in entries]}, module: {names})")
    return pairs, problems


# ----------------------------------------------------------------------------- bare Keras 3 files
_FLAT_PATH = re.compile(r"/layers/[^/]+/vars")


def _is_flat(entries: list[KerasLayerWeights]) -> bool:
    """Every layer directly in the model's ``layers`` list (no nested model, no attribute groups)."""
    return all(_FLAT_PATH.fullmatch(e.path) for e in entries)


def _align_by_class(entries: list[KerasLayerWeights], layers: list[tuple[str, Layer]]) -> list[KerasLayerWeights]:
    """Order a flat Keras 3 file's layers as Keras 3 resolves its paths: per class, in order."""
    queues: dict[str | None, list[KerasLayerWeights]] = {}
    for e in entries:
        queues.setdefault(infer_class(e), []).append(e)
    out = []
    for _, layer in layers:
        queue = queues.get(keras_class(layer))
        if queue:
            out.append(queue.pop(0))
    taken = {id(e) for e in out}
    return out + [e for e in entries if id(e) not in taken]


@dataclasses.dataclass
class _Group:
    """An HDF5 group of a Keras 3 weights file: a layer's weights and/or child groups."""

    entry: KerasLayerWeights | None = None
    children: dict[str, "_Group"] = dataclasses.field(default_factory=dict)


class _Mismatch(Exception):
    pass


def _file_tree(entries: list[KerasLayerWeights]) -> _Group:
    root = _Group()
    for e in entries:
        node = root
        for key in e.path.strip("/").split("/")[:-1]:  # drop the final "vars"
            node = node.children.setdefault(key, _Group())
        node.entry = e
    return root


def _is_leaf(module: torch.nn.Module) -> bool:
    return isinstance(module, Layer) and bool(module.weight_names)


def _holds_layers(module: torch.nn.Module) -> bool:
    return any(_is_leaf(m) for m in module.modules())


def _follow_paths(
    usable: list[KerasLayerWeights], module: torch.nn.Module, layers: list[tuple[str, Layer]]
) -> tuple[list[KerasLayerWeights], str | None]:
    """A nested bare Keras 3 file: the file layer of each kerastorch layer, found by following the
    Keras 3 paths (``layers/<class>[_<n>]``, nested models, attribute groups) through the module tree."""
    found: dict[int, KerasLayerWeights] = {}
    try:
        if _is_leaf(module):
            raise _Mismatch("the module is a single layer")
        _follow_model(_file_tree(usable), module, "", found)
        unpaired = [e for e in usable if all(e is not f for f in found.values())]
        if unpaired:
            raise _Mismatch("no kerastorch layer at " + ", ".join(repr(e.path) for e in unpaired))
        missing = [layer.name for _, layer in layers if id(layer) not in found]
        if missing:
            raise _Mismatch(f"kerastorch layers {missing} have no group in the file")
    except _Mismatch as e:
        groups = [e.path[: -len("/vars")] for e in usable if not _FLAT_PATH.fullmatch(e.path)]
        shown = ", ".join(groups[:4]) + (", ..." if len(groups) > 4 else "")
        return [], (
            f"the file is a bare Keras 3 .weights.h5 of a nested or subclassed Keras model (layers at {shown}): "
            "it records where each layer's weights are, not the order of the layers, and the module's structure "
            f"does not mirror the Keras model's ({e}), so its layers cannot be paired with certainty. Load the "
            "model's .keras file instead, or name the kerastorch layers after the file's layers "
            f"{[x.name for x in usable]} and pass by_name=True"
        )
    return [found[id(layer)] for _, layer in layers], None


def _follow_model(group: _Group, module: torch.nn.Module, path: str, found: dict[int, KerasLayerWeights]) -> None:
    """A Keras model's group: attribute groups by torch attribute name, then its ``layers`` list. A
    torch module that only wraps one container (``self.body = Sequential(...)``) is looked through."""
    children = [c for _, c in module.named_children() if _holds_layers(c)]
    attempt = dict(found)
    try:
        _follow_model_here(group, module, path, attempt)
    except _Mismatch:
        if len(children) == 1 and not _is_leaf(children[0]):
            _follow_model(group, children[0], path, found)
            return
        raise
    found.update(attempt)


def _follow_model_here(group: _Group, module: torch.nn.Module, path: str, found: dict[int, KerasLayerWeights]) -> None:
    if group.entry is not None:
        raise _Mismatch(f"{path or '/'} holds weights of the model itself")
    children = [(n, c) for n, c in module.named_children() if _holds_layers(c)]
    keys = dict(group.children)
    container = keys.pop("layers", None)
    rest = []
    for name, child in children:
        if name in keys:  # a subclassed model's attribute
            _follow_one(keys.pop(name), child, f"{path}/{name}", found)
        else:
            rest.append(child)
    if container is None and keys and rest:  # a list attribute, or the model of a plain torch container
        container, keys = _Group(children=keys), {}
    if keys:
        raise _Mismatch(f"no kerastorch layer at {', '.join(repr(f'{path}/{k}') for k in keys)}")
    if container is not None:
        _follow_list(container, rest, f"{path}/layers" if "layers" in group.children else path, found)
    elif rest:
        raise _Mismatch(f"{path or '/'} has no layers for kerastorch layers in {module.__class__.__name__}")


def _follow_one(group: _Group, child: torch.nn.Module, path: str, found: dict[int, KerasLayerWeights]) -> None:
    if _is_leaf(child):
        if group.entry is None or group.children:
            raise _Mismatch(f"{path!r} is a nested model, kerastorch layer {child.name!r} a layer")
        found[id(child)] = group.entry
    else:
        _follow_model(group, child, path, found)


def _follow_list(group: _Group, children: list[torch.nn.Module], path: str, found: dict[int, KerasLayerWeights]) -> None:
    """A Keras list of layers: the ``n``-th layer of class ``C`` is at ``<c>_<n>``; nested models pair
    in their counter order, which is only known when they share one class."""
    used: dict[str, int] = {}
    nested = []
    for child in children:
        if not _is_leaf(child):
            nested.append(child)
            continue
        stem = keras3_snake(keras_class(child))
        key = stem if stem not in used else f"{stem}_{used[stem] + 1}"
        used[stem] = used.get(stem, -1) + 1
        if id(child) in found:  # a shared layer: Keras saves it once, where it is first met
            continue
        if key not in group.children:
            raise _Mismatch(f"kerastorch layer {child.name!r} would be at {path}/{key}, which the file lacks")
        _follow_one(group.children[key], child, f"{path}/{key}", found)
    models = sorted((k for k, g in group.children.items() if g.entry is None), key=_natural_key)
    if len(models) != len(nested):
        raise _Mismatch(
            f"{path} holds {len(models)} nested model(s) {models}, the module {len(nested)} torch container(s) there"
        )
    if len({re.sub(r"_\d+$", "", k) for k in models}) > 1:
        raise _Mismatch(f"the order of the nested models {models} at {path} is not recorded")
    for key, child in zip(models, nested):
        _follow_model(group.children[key], child, f"{path}/{key}", found)
