"""``model.summary()``: tf.keras's table, character for character.

A port of tf_keras 2.21 ``utils/layer_utils.print_summary`` (the format tf.keras prints; Keras 3's
rich-text table is not reproduced). Sequential models and functional models whose graph is a single
chain get the 65-column table (layer (type), output shape, param #); other functional models get
the 98-column one with "Connected to" (``layer[node][tensor]``, node indices counting every call of
the layer, as tf.keras's ``_inbound_nodes`` do). Totals: ``Total params: N (S Byte)`` with the
weights' memory size. Checked against texts recorded from tf.keras (``compat_fixtures/models/summaries.json``).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import torch

from ..graph.keras_tensor import KerasTensor
from ..graph.node import Node, map_structure
from ..layers.core.input_layer import InputLayer
from ..layers.layer import Layer
from ..layers.ops import OpLayer
from .shapes import out_shape as _out_shape


def _is_functional(model: Any) -> bool:
    """A Functional model (its class says so: this module sits below the model classes, which use it)."""
    return getattr(type(model), "_kt_model_kind", None) == "functional"


def _is_sequential(model: Any) -> bool:
    return getattr(type(model), "_kt_model_kind", None) == "sequential"


def _class_name(layer: torch.nn.Module) -> str:
    if isinstance(layer, OpLayer):  # tf.keras prints TFOpLambda / SlicingOpLambda (or the Keras 3 op)
        return str(layer.serialize().get("class_name", type(layer).__name__))
    return type(layer).__name__


def _node_output_shapes(node: Node) -> Any:
    """tf.keras ``Node.output_shapes``: the output shape(s); an input node's in a list; a single
    output of rank 1 reads as its one dimension (``len(shape) == 1``, tf.keras's own quirk)."""
    is_input = isinstance(node.layer, InputLayer) and not node.input_tensors
    shapes = map_structure(lambda t: t.shape if isinstance(t, KerasTensor) else None, node.outputs)
    if is_input:
        return [shapes]
    if isinstance(shapes, (list, tuple)) and len(shapes) == 1:
        return shapes[0]
    return shapes


def _output_shape(layer: torch.nn.Module, fallback: Any = "multiple") -> Any:
    """tf.keras ``layer.output_shape``: the same over every node of the layer, else ``"multiple"``."""
    nodes = layer.__dict__.get("_kt_nodes") or []
    if not nodes:
        return fallback
    shapes = [_node_output_shapes(n) for n in nodes]
    if len({str(s) for s in shapes}) == 1:
        return shapes[0]
    return "multiple"


def _count(weights: Sequence[torch.Tensor]) -> int:
    return int(sum(w.numel() for w in {id(w): w for w in weights}.values() if not torch.nn.parameter.is_lazy(w)))


def _memory(weights: Sequence[torch.Tensor]) -> int:
    return int(sum(w.numel() * w.element_size() for w in {id(w): w for w in weights}.values()
                   if not torch.nn.parameter.is_lazy(w)))


def readable_memory_size(size: float) -> str:
    """tf.keras ``readable_memory_size``: ``"448.00 Byte"``, ``"1.50 KB"``..."""
    units = ["Byte", "KB", "MB", "GB", "TB", "PB"]
    for unit in units:
        if size / 1024 < 1:
            return "{:.2f} {}".format(size, unit)
        size /= 1024
    return "{:.2f} {}".format(size, units[-1])


def _layer_weights(layer: torch.nn.Module, trainable: bool | None = None) -> list[torch.Tensor]:
    if hasattr(layer, "_all_weights"):
        items = layer._all_weights()
    elif isinstance(layer, Layer):
        items = [(w, layer._specs[n].trainable and w.requires_grad) for n, w in zip(layer._specs, layer.weights)]
    else:  # a user's torch module
        items = [(p, p.requires_grad) for p in layer.parameters()] + [(b, False) for b in layer.buffers()]
    return [w for w, t in items if trainable is None or t == trainable]


def _is_built(layer: torch.nn.Module) -> bool:
    return bool(getattr(layer, "built", True))


def _sequential_like(model: torch.nn.Module) -> bool:
    if not _is_functional(model):
        return True
    chain: set[int] = set()
    for nodes in model._nodes_by_depth.values():
        if len(nodes) > 1 or (len(nodes) == 1 and len(nodes[0].input_tensors) > 1):
            return False
        chain.update(n.id for n in nodes)
    for layer in model.layers:  # a layer called twice in the chain: not sequential
        if sum(n.id in chain for n in layer.__dict__.get("_kt_nodes") or []) > 1:
            return False
    return True


def _check_table(line_length: Any, positions: list, to_display: list[str]) -> None:
    """tf.keras loops forever on a table too narrow for its text: refuse such arguments clearly."""
    if isinstance(line_length, bool) or not isinstance(line_length, int) or line_length < 0:
        raise ValueError(f"summary(): line_length must be a positive integer; received line_length={line_length!r}")
    if len(positions) < len(to_display) or not all(
            isinstance(p, (int, float)) and not isinstance(p, bool) for p in positions):
        raise ValueError(f"summary(): positions must be {len(to_display)} numbers (the right edge of each column "
                         f"{to_display}, as fractions of line_length or as characters); received positions={positions!r}")


def _check_columns(line_length: int, given: list, positions: list[int], to_display: list[str]) -> None:
    for col, name in enumerate(to_display):
        width = positions[col] - (positions[col - 1] if col else 0)
        last = col == len(positions) - 1
        needed = 1 if last else 4  # the text, and 2 spaces and 1 separator before the next column
        if width < needed:
            raise ValueError(
                f"summary(): line_length={line_length} with positions={given} leaves the column {name!r} {width} "
                f"character(s); it needs at least {needed}. Use a larger line_length or other positions."
            )


def print_summary(
    model: torch.nn.Module,
    line_length: int | None = None,
    positions: Sequence[float] | None = None,
    print_fn: Callable[[str], Any] | None = None,
    expand_nested: bool = False,
    show_trainable: bool = False,
) -> str:
    """tf.keras ``print_summary``: ``print_fn`` is called on each line (default ``print``); the text is returned."""
    if _is_sequential(model) and model.input_shape is None:
        raise ValueError("This model has not yet been built. Build the model first by calling `build()` or by "
                         "calling the model on a batch of data.")
    lines: list[str] = []
    emit = lines.append
    sequential_like = _sequential_like(model)
    if sequential_like:
        line_length = line_length or 65
        positions = list(positions or [0.45, 0.85, 1.0])
        to_display = ["Layer (type)", "Output Shape", "Param #"]
        relevant: set[int] = set()
    else:
        line_length = line_length or 98
        positions = list(positions or [0.3, 0.6, 0.70, 1.0])
        to_display = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        relevant = {n.id for nodes in model._nodes_by_depth.values() for n in nodes}
    given = list(positions)
    _check_table(line_length, positions, to_display)
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    _check_columns(line_length, given, positions, to_display)
    if show_trainable:
        line_length += 11
        positions.append(line_length)
        to_display.append("Trainable")

    def print_row(fields: list[Any], nested_level: int = 0) -> None:
        left = [str(x) for x in fields]
        while any(left):
            line = ""
            for col in range(len(left)):
                start = positions[col - 1] if col > 0 else 0
                end = positions[col]
                space = 2 if col != len(positions) - 1 else 0
                cutoff = end - start - space
                if col != len(positions) - 1:
                    cutoff -= 1
                if col == 0:
                    cutoff -= nested_level
                cutoff = max(cutoff, 1)  # deep nesting in a narrow column: one character a line, never stuck
                fit = left[col][:cutoff]
                candidates = [fit.find(x) + len(x) for x in ("),", "},", "],", "',") if fit.find(x) >= 0]
                if candidates:
                    cutoff = min(candidates)
                    fit = fit[:cutoff]
                if col == 0:
                    line += "|" * nested_level + " "
                line += fit
                line += " " * space if space else ""
                left[col] = left[col][cutoff:]
                if nested_level and col == len(positions) - 1:
                    line += " " * (positions[col] - len(line) - nested_level)
                else:
                    line += " " * (positions[col] - len(line))
            line += "|" * nested_level
            emit(line)

    def layer_rows(m: torch.nn.Module) -> list[tuple[torch.nn.Module, Any]]:
        """(layer, output shape) of each layer of ``m`` (a Sequential's from its chain of shapes)."""
        if _is_sequential(m):
            out, shape = [], m.input_shape
            for layer in m.layers:
                shape = _out_shape(layer, shape)
                out.append((layer, _output_shape(layer, shape if shape is not None else "multiple")))
            return out
        return [(layer, _output_shape(layer)) for layer in getattr(m, "layers", [])]

    def print_layer_row(layer: torch.nn.Module, shape: Any, nested_level: int) -> None:
        name = f"{getattr(layer, 'name', type(layer).__name__)} ({_class_name(layer)})"
        if sequential_like:
            params: Any = "0 (unused)" if not _is_built(layer) and not _is_functional(layer) else \
                _count(_layer_weights(layer))
            fields = [name, shape, params]
        else:
            connections = []
            for node in layer.__dict__.get("_kt_nodes") or []:
                if relevant and node.id not in relevant:
                    continue
                for t in node.input_tensors:
                    src = t.node.layer
                    index = (src.__dict__.get("_kt_nodes") or []).index(t.node)
                    connections.append(f"{src.name}[{index}][{t.index}]")
            fields = [name, shape, _count(_layer_weights(layer)), connections]
        if show_trainable:
            fields.append("Y" if getattr(layer, "trainable", True) else "N")
        print_row(fields, nested_level)

    def print_layer(layer: torch.nn.Module, shape: Any, nested_level: int = 0, is_nested_last: bool = False) -> None:
        print_layer_row(layer, shape, nested_level)
        inner = layer_rows(layer) if expand_nested and hasattr(layer, "layers") and not isinstance(layer, InputLayer) else []
        if inner:
            emit("|" * (nested_level + 1) + "¯" * (line_length - 2 * nested_level - 2) + "|" * (nested_level + 1))
            for i, (sub, sub_shape) in enumerate(inner):
                print_layer(sub, sub_shape, nested_level + 1, i == len(inner) - 1)
            emit("|" * nested_level + "¯" * (line_length - 2 * nested_level) + "|" * nested_level)
            is_nested_last = True  # tf.keras reuses the loop's variable: no blank line after a block
        if not is_nested_last:
            emit("|" * nested_level + " " * (line_length - 2 * nested_level) + "|" * nested_level)

    emit(f'Model: "{model.name}"')
    emit("_" * line_length)
    print_row(to_display)
    emit("=" * line_length)
    for layer, shape in layer_rows(model):
        print_layer(layer, shape)
    emit("=" * line_length)
    trainable = _layer_weights(model, True)
    frozen = _layer_weights(model, False)
    n_t, n_f = _count(trainable), _count(frozen)
    m_t, m_f = _memory(trainable), _memory(frozen)
    emit(f"Total params: {n_t + n_f} ({readable_memory_size(m_t + m_f)})")
    emit(f"Trainable params: {n_t} ({readable_memory_size(m_t)})")
    emit(f"Non-trainable params: {n_f} ({readable_memory_size(m_f)})")
    emit("_" * line_length)
    out = print_fn or print
    for line in lines:
        out(line)
    return "\n".join(lines)
