"""Validate-then-copy loading shared by every weight-file format.

A load first works out, without touching the module, the shape every parameter will have
(unbuilt kerastorch layers take theirs from the file), checks every key, shape and dtype, and
only then builds layers and copies values. A failed load raises one ``ValueError`` listing every
offending key and leaves the module as it was.
"""
from __future__ import annotations

from typing import Callable, Mapping

import torch
from torch.nn.parameter import is_lazy

from ..layers.layer import Layer


def _kind(dtype: torch.dtype) -> str:
    if dtype == torch.bool:
        return "bool"
    if dtype.is_floating_point:
        return "float"
    if dtype.is_complex:
        return "complex"
    return "int"


def unbuilt_layers(module: torch.nn.Module) -> dict[str, Layer]:
    return {prefix: m for prefix, m in module.named_modules() if isinstance(m, Layer) and not m.built}


def expected_shapes(module: torch.nn.Module, shapes: Mapping[str, tuple[int, ...]]) -> tuple[dict[str, tuple[int, ...] | None], list[str]]:
    """Shape each state_dict key must have after loading ``shapes`` (``None``: any, torch lazy)."""
    problems: list[str] = []
    state = module.state_dict(keep_vars=True)
    expected: dict[str, tuple[int, ...] | None] = {k: (None if is_lazy(v) else tuple(v.shape)) for k, v in state.items()}
    for prefix, layer in unbuilt_layers(module).items():
        dot = prefix + "." if prefix else ""
        found = {n: shapes[dot + n] for n in layer.weight_names if dot + n in shapes}
        if not found:
            continue  # reported as missing keys below
        try:
            layer_shapes = layer.weight_shapes_from(found, layout="storage")
        except ValueError as e:
            problems.append(f"{dot}{next(iter(found))}: {e}")
            continue
        for n, s in layer_shapes.items():
            expected[dot + n] = tuple(s)
    return expected, problems


def check(
    module: torch.nn.Module,
    tensors: Mapping[str, torch.Tensor],
    strict: bool,
    source: str,
) -> None:
    """Raise one ValueError naming every problem, before anything is changed."""
    shapes = {k: tuple(v.shape) for k, v in tensors.items()}
    expected, problems = expected_shapes(module, shapes)
    state = module.state_dict(keep_vars=True)
    missing = [k for k in expected if k not in tensors]
    unexpected = [k for k in tensors if k not in expected]
    if strict:
        problems += [f"missing key {k!r} (expected shape {expected[k]})" for k in missing]
        problems += [f"unexpected key {k!r} (found shape {shapes[k]})" for k in unexpected]
    for key, value in tensors.items():
        if key not in expected:
            continue
        want = expected[key]
        if want is not None and tuple(value.shape) != want:
            problems.append(f"{key!r}: expected shape {want}, found shape {tuple(value.shape)}")
        target = state[key]
        if _kind(value.dtype) != _kind(target.dtype):
            problems.append(f"{key!r}: expected a {_kind(target.dtype)} tensor ({target.dtype}), found {value.dtype}")
    if problems:
        raise ValueError(f"Cannot load {source} into {type(module).__name__}: " + "; ".join(problems))


def build_unbuilt(module: torch.nn.Module, shapes: Mapping[str, tuple[int, ...]]) -> None:
    """Build the unbuilt layers from the (already checked) storage shapes of their weights."""
    for prefix, layer in unbuilt_layers(module).items():
        dot = prefix + "." if prefix else ""
        found = {n: tuple(shapes[dot + n]) for n in layer.weight_names if dot + n in shapes}
        if found:
            layer.build_from_weight_shapes(found, layout="storage")


def apply_each(
    module: torch.nn.Module,
    shapes: Mapping[str, tuple[int, ...]],
    produce: Callable[[str, torch.Tensor], torch.Tensor | None],
) -> None:
    """:func:`apply` for values made one at a time by ``produce(key, weight)`` (read from a file): it either
    writes the value into ``weight`` itself (a read straight into the weight's storage, which must bump its
    version counter, see :func:`written_in_place`) and returns None, or returns a value (in storage layout,
    maybe a strided view) copied into the weight once. Each is released before the next is made: a load
    needs the finished model plus one weight, not a second copy of every weight. ``shapes`` has passed
    :func:`check` (as meta tensors)."""
    with torch.no_grad():
        build_unbuilt(module, shapes)
        state = module.state_dict(keep_vars=True)
        for key in shapes:
            value = produce(key, state[key])
            if value is not None:
                state[key].copy_(value)
            del value


def direct_target(weight: torch.Tensor) -> torch.Tensor | None:
    """The tensor a reader may write a weight's bytes into (a detached view of its storage), or None when the
    weight is not a plain contiguous CPU tensor (the reader then returns a value to copy instead)."""
    if weight.device.type != "cpu" or not weight.is_contiguous() or weight.is_quantized or weight.layout != torch.strided:
        return None
    return weight.detach()


def written_in_place(weight: torch.Tensor) -> None:
    """Record a write made through a :func:`direct_target` view outside torch (a file read into its memory): the
    version counter tells ``initializers.DeferredInitialization`` which weights the file wrote."""
    torch.autograd.graph.increment_version(weight)


def apply(module: torch.nn.Module, tensors: Mapping[str, torch.Tensor], strict: bool) -> None:
    """Build unbuilt layers from the (already checked) shapes, then copy every value."""
    with torch.no_grad():
        for prefix, layer in unbuilt_layers(module).items():
            dot = prefix + "." if prefix else ""
            found = {n: tuple(tensors[dot + n].shape) for n in layer.weight_names if dot + n in tensors}
            if found:
                layer.build_from_weight_shapes(found, layout="storage")
        module.load_state_dict(dict(tensors), strict=strict)
