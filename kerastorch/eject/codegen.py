"""The ejected source: a model's graph walked into one ``nn.Module`` class (``__init__`` + ``forward``) and
its ``state_dict`` in torch layout.

The walk flattens the model into calls (a Functional's nodes in creation order, a Sequential's chain, nested
models inlined under their own layers' names), asks each layer's emitter for its module, forward expression
and weights, and keeps every value's layout (Keras's, or the channels-first view of a channels_last tensor),
converting with one ``permute`` where a consumer needs the other layout. A value may carry a Keras mask: a
boolean variable of ``forward`` planned as kerastorch's models plan masks (``_plan_masks``), made by the output
mask rules of ``masks.py`` and handed to the emitters of the layers that read it (``Call.mask``); a model
without mask sources gets no mask code.
"""
from __future__ import annotations

import ast
import builtins
import keyword
import re
import textwrap
from typing import Any

import torch

from ..engine.functional import Functional
from ..engine.masking import any_flag, named_mask_args, output_mask_flags, takes_mask
from ..engine.sequential import Sequential
from ..graph.keras_tensor import KerasTensor
from ..graph.node import flatten, map_structure
from ..layers.core.input_layer import InputLayer
from .emitters import CF, KERAS, Call, EjectError, Emitted, Placeholder, emitter_for
from .helpers import helper_source, module_names
from .masks import output_masks

_RESERVED = {"self", "torch", "F", "nn", "x", "os", "model", "annotations", "training", "path", "load"}


def identifier(name: str) -> str:
    """A Keras name as a Python identifier (``block1/conv:0`` -> ``block1_conv_0``)."""
    out = re.sub(r"\W", "_", str(name)).strip("_") or "layer"
    if out[0].isdigit():
        out = "l_" + out
    if keyword.iskeyword(out) or out in _RESERVED or hasattr(torch.nn.Module, out):
        out += "_"
    return out


def class_name(name: str) -> str:
    parts = [p for p in re.split(r"\W|_", str(name)) if p]
    out = "".join(p[:1].upper() + p[1:] for p in parts) or "Model"
    return ("Model" + out) if out[0].isdigit() or out in ("Module", "F", "nn", "torch") else out


_WIDTH = 120


def _split_top(text: str) -> list[str]:
    """``text``'s comma-separated parts outside brackets."""
    parts, depth, part = [], 0, ""
    for ch in text:
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(ch, 0)
        if ch == "," and depth == 0 and not (part.lstrip().startswith("lambda") and ":" not in part):
            parts.append(part.strip())
            part = ""
        else:
            part += ch
    parts.append(part.strip())
    return [p for p in parts if p]


def wrap(line: str, indent: str) -> str:
    """``line`` (a statement at ``indent``) as it is, or, past the width, its last call's arguments one per line
    (black's style), the call being the one whose parenthesis closes the line (before any subscripts); a long
    list argument gets its items one per line too. A parenthesized expression (not a call) with one part gets no
    trailing comma (that would make it a tuple); a wrapped text that does not parse to the same code as ``line``
    is not used."""
    if len(indent) + len(line) <= _WIDTH:
        return indent + line
    wrapped = _wrap_last_call(line, indent)
    return wrapped if wrapped == indent + line or _same_code(line, wrapped) else indent + line


def _same_code(line: str, wrapped: str) -> bool:
    try:
        return ast.dump(ast.parse(line)) == ast.dump(ast.parse(textwrap.dedent(wrapped)))
    except SyntaxError:
        return False


def _wrap_last_call(line: str, indent: str) -> str:
    tail = re.search(r"(\[[^\[\]()]*\])*$", line).group(0)
    body = line[: len(line) - len(tail)]
    if not body.endswith(")"):
        return indent + line
    depth, start = 0, None
    for i in range(len(body) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(body[i], 0)
        if depth == 0:
            start = i
            break
    if not start:
        return indent + line
    inner = indent + "    "
    parts = _split_top(body[start + 1:-1])
    # one part of a parenthesized expression, or a call's lone generator argument: a trailing comma changes it
    call = bool(re.search(r"[\w)\]]$", body[:start]))
    single = len(parts) == 1 and (not call or re.search(r"\bfor\b", parts[0]))
    out = []
    for a in parts:
        comma = "" if single else ","
        if len(inner) + len(a) + 1 > _WIDTH and a.startswith("[") and a.endswith("]"):
            items = "".join(f"{inner}    {item},\n" for item in _split_top(a[1:-1]))
            out.append(f"{inner}[\n{items}{inner}]{comma}\n")
        else:
            out.append(f"{inner}{a}{comma}\n")
    return indent + body[: start + 1] + "\n" + "".join(out) + indent + ")" + tail


def _permutation(rank: int, to: str) -> str:
    if rank == 3:
        return ".transpose(1, 2)"
    perm = (0, rank - 1, *range(1, rank - 1)) if to == CF else (0, *range(2, rank), 1)
    return f".permute({', '.join(map(str, perm))})"


class _Value:
    __slots__ = ("key", "shape", "dtype", "layout", "uses", "var", "converted", "hint", "mask", "shape_of", "size")

    def __init__(self, key: Any, shape: tuple, dtype: torch.dtype, hint: str):
        self.key, self.shape, self.dtype, self.hint = key, tuple(shape), dtype, hint
        self.layout = KERAS
        self.uses = 0
        self.var: str | None = None
        self.converted: dict[str, str] = {}
        self.mask: str | None = None  # the variable holding its Keras mask
        self.shape_of: _Value | None = None  # tf.shape(v): the value whose shape this is
        self.size: tuple[str, str] | None = None  # tf.shape(v)[i]: (v's Python-int expression, v's variable)


class _Call:
    __slots__ = ("layer", "inputs", "outputs", "consts", "operands", "mask_arg")

    def __init__(self, layer: Any, inputs: list, outputs: list, consts: dict, operands: list, mask_arg: Any = None):
        self.layer, self.inputs, self.outputs, self.consts, self.operands = layer, inputs, outputs, consts, operands
        #: the values the node was given as mask=... (a key, or a list of keys / None; Keras 3 files record them)
        self.mask_arg = mask_arg

    @property
    def mask_inputs(self) -> list:
        arg = self.mask_arg
        return [k for k in (arg if isinstance(arg, list) else [arg]) if k is not None]


class _Walk:
    """The model flattened into calls over values."""

    def __init__(self, model: torch.nn.Module):
        self.values: dict[Any, _Value] = {}
        self.calls: list[_Call] = []
        self.layer_names: dict[int, str] = {}  # id(layer) -> attribute name
        self._taken: set[str] = set()
        self._counter = 0
        if isinstance(model, Functional):
            self.inputs = [self._value(t, t.shape, t.dtype, t.node.layer.name if t.node is not None else "input")
                           for t in model._in_flat]
            self.input_names = [identifier(t.node.layer.name) if t.node is not None else f"input_{i}"
                                for i, t in enumerate(model._in_flat)]
            self.input_strings = [t.node is not None and _is_string(t.node.layer) for t in model._in_flat]
            outs = self._functional(model, [v.key for v in self.inputs], prefix="")
            self.output_structure = model._output_structure
            self.output_names = [identifier(n) for n in model.output_names]
        elif isinstance(model, Sequential):
            inp = model.__dict__.get("_input_layer")
            if inp is None:
                raise EjectError(f'Sequential model "{model.name}" has no input shape yet: call it once or build it.')
            v = self._value(("in", 0), inp.batch_shape, _dtype(inp), inp.name)
            self.inputs = [v]
            self.input_names = [identifier(inp.name)]
            self.input_strings = [_is_string(inp)]
            outs = self._sequential(model, v.key, prefix="")
            self.output_structure = ("single", None)
            self.output_names = [identifier(model.layers[-1].name)] if model.layers else ["output"]
        else:
            raise EjectError(f"eject takes a kerastorch Sequential or Functional model; received {type(model).__name__}.")
        self.outputs = outs
        self._drop_recorded_masks()

    def _drop_recorded_masks(self) -> None:
        """A Keras 3 file records each propagated mask as op nodes (``not_equal``, ``logical_or``, ``any`` ...)
        handed to the consumer as ``mask=``: Keras 3's own compute_mask, which the generated forward computes
        from the mask rules as for any file. The nodes whose outputs only feed such ``mask=`` arguments go."""
        needed = set(self.outputs)
        keep = []
        for call in reversed(self.calls):
            if any(k in needed for k in call.outputs):
                keep.append(call)
                needed.update(call.inputs)
            elif not _is_op(call.layer):
                keep.append(call)  # not a mask computation: a layer whose output the model drops (kept, as before)
                needed.update(call.inputs)
        self.calls = keep[::-1]

    def _value(self, key: Any, shape: Any, dtype: torch.dtype, hint: str) -> _Value:
        if shape is None:
            raise EjectError(f'The output of "{hint}" has an unknown rank; eject needs the shapes of a built model.')
        v = _Value(key, shape, dtype, hint)
        self.values[key] = v
        return v

    def _attr(self, layer: Any, prefix: str) -> str:
        key = id(layer)
        if key not in self.layer_names:
            name = identifier(layer.name)
            if name in self._taken and prefix:
                name = identifier(f"{prefix}_{layer.name}")
            base, n = name, 1
            while name in self._taken:
                n += 1
                name = f"{base}_{n}"
            self._taken.add(name)
            self.layer_names[key] = name
        return self.layer_names[key]

    def _functional(self, model: Functional, in_keys: list, prefix: str) -> list:
        """Inline ``model``'s graph with its inputs bound to ``in_keys``; returns its flat output keys."""
        self._counter += 1
        scope = self._counter  # a nested model called twice gets fresh values each time
        bind: dict[int, Any] = {}
        for t, k in zip(model._in_flat, in_keys):
            bind[id(t)] = k
        for node in model._nodes:
            layer = node.layer
            if isinstance(layer, InputLayer):
                continue
            ins = [bind[id(t)] for t in flatten(node.args)]
            if getattr(layer, "_kt_is_model", False):
                if flatten(node.kwargs):
                    raise EjectError(f'Nested model "{layer.name}" is called with tensor keyword arguments.')
                inner = (self._functional(layer, ins, layer.name) if isinstance(layer, Functional)
                         else self._sequential(layer, ins[0], layer.name))
                for t, k in zip(node.flat_outputs, inner):
                    bind[id(t)] = k
                continue
            kwargs = {k: v for k, v in node.kwargs.items() if k != "mask"}  # a recorded mask: recomputed
            extra = flatten(kwargs)
            ins += [bind[id(t)] for t in extra]
            for t in node.flat_outputs:
                self._value((scope, id(t)), t.shape, t.dtype, layer.name)
                bind[id(t)] = (scope, id(t))
            consts = {k: v for k, v in kwargs.items() if not flatten(v)}
            order = {id(t): i for i, t in enumerate(flatten(node.args) + extra)}
            operands = map_structure(lambda a: Placeholder(order[id(a)]) if isinstance(a, KerasTensor) else a,
                                     (tuple(node.args), kwargs))
            mask = node.kwargs.get("mask")
            mask = ([None if m is None else bind[id(m)] for m in mask] if isinstance(mask, (list, tuple))
                    else None if mask is None else bind[id(mask)])
            self.calls.append(_Call(layer, ins, [bind[id(t)] for t in node.flat_outputs], consts, operands, mask))
            self._attr(layer, prefix)
        return [bind[id(t)] for t in model._out_flat]

    def _sequential(self, model: Sequential, key: Any, prefix: str) -> list:
        shape = self.values[key].shape
        for layer in model.layers:
            if getattr(layer, "_kt_is_model", False):
                key = (self._functional(layer, [key], layer.name) if isinstance(layer, Functional)
                       else self._sequential(layer, key, layer.name))[0]
                shape = self.values[key].shape
                continue
            shape = tuple(layer.compute_output_shape(shape))
            self._counter += 1
            out = ("seq", self._counter)
            self._value(out, shape, self.values[key].dtype, layer.name)
            self.calls.append(_Call(layer, [key], [out], {}, ((Placeholder(0),), {})))
            self._attr(layer, prefix)
            key = out
        return [key]


_NO_ARG = object()


def _plan_masks(call: _Call, ins: list, view: Call, explicit: Any) -> tuple[Any, list]:
    """Keras's masks at one call, as kerastorch's models plan them (``engine/masking.py``): sets ``view.mask``
    (what the layer's ``mask=`` argument gets: its first argument's masks, when the call takes one, else the
    masks handed to it, ``explicit``: their expressions, or None where a dropped node made them) and
    ``view.named_masks`` (Keras 3's ``<argument>_mask``); returns the first argument's masks and which outputs
    carry a mask."""
    args, kwargs = call.operands
    first = args[0] if args else None
    if isinstance(first, Placeholder):
        masks: Any = ins[first.i].mask
    elif isinstance(first, (list, tuple)) and first and all(isinstance(p, Placeholder) for p in first):
        masks = [ins[p.i].mask for p in first]
    else:  # an op on constants or nested structures: ops drop masks
        return _NO_ARG, [False] * len(call.outputs)
    flags = [m is not None for m in masks] if isinstance(masks, list) else masks is not None
    layer = call.layer
    if call.mask_inputs and not any_flag(flags):  # a mask handed to the call by hand, which its inputs do not carry
        if explicit is None:
            raise view.fail("a mask handed to the call (mask=...) that the generated forward does not compute")
        if takes_mask(layer):
            view.mask = explicit
    elif any_flag(flags) and takes_mask(layer):
        view.mask = masks
    if any(v.mask for v in ins):
        slots = named_mask_args(layer, args, kwargs, lambda p: p.i if isinstance(p, Placeholder) else None)
        view.named_masks = {p: ins[i].mask for p, i in slots if ins[i].mask}
    return masks, output_mask_flags(layer, flags, len(call.outputs))


def _is_op(layer: Any) -> bool:
    return type(layer).__name__ in ("OpLayer", "TFOpLambda", "SlicingOpLambda")


def _drop_unread(forward: list[str], candidates: set[int]) -> None:
    """Blank the ``candidates`` statements (pure: tf.shape and its getitem) whose variable no later statement reads
    before assigning it again: a shape whose item became ``x.shape[i]`` (tf.range's bound)."""
    changed = True
    while changed:
        changed = False
        for i in sorted(candidates):
            name = forward[i].split(" = ", 1)[0]
            if not name.isidentifier():
                continue
            read = False
            for line in forward[i + 1:]:
                target, _, value = line.partition(" = ") if not line.startswith("return ") else ("", "", line)
                if re.search(rf"\b{name}\b", value):
                    read = True
                    break
                if target == name:
                    break
            if not read:
                forward[i] = ""
                candidates.discard(i)
                changed = True


def _drop_unused_masks(forward: list[str], names: set[str]) -> None:
    """Remove the mask statements whose variable nothing reads (a mask only a model output carries)."""
    changed = True
    while changed:
        changed = False
        for i, line in enumerate(forward):
            name = line.split(" = ", 1)[0]
            if name in names and not any(re.search(rf"\b{name}\b", other) for j, other in enumerate(forward) if j != i):
                forward[i] = ""  # blanked, not deleted: other passes keep statement indices
                changed = True
                break


_SHAPE_OPS = ("tf:shape", "tf:compat.v1.shape")
_GETITEM_OPS = ("tf:__operators__.getitem", "k3:GetItem")


def _track_sizes(call: _Call, ins: list, outs: list) -> None:
    """Follow tf.shape(v)[i]: its value is ``v.shape[axis]`` (``axis`` mapped to v's layout), for the consumers
    that take a Python int (tf.range's bounds); only while ``v`` stays in a variable of its own (not the chained
    ``x``, which the next statement overwrites)."""
    layer = call.layer
    if not _is_op(layer) or len(outs) != 1:
        return
    if layer.op in _SHAPE_OPS and ins and ins[0].var != "x" and len(ins[0].shape) >= 1:
        outs[0].shape_of = ins[0]
    elif layer.op in _GETITEM_OPS and ins and ins[0].shape_of is not None:
        args, kwargs = call.operands
        index = args[1] if len(args) > 1 else kwargs.get("slice_spec", kwargs.get("key"))
        source = ins[0].shape_of
        rank = len(source.shape)
        if isinstance(index, bool) or not isinstance(index, int) or not -rank <= index < rank:
            return
        axis = index % rank
        if source.layout == CF and rank >= 3:  # the channels-first view: Keras's last axis is dim 1
            axis = 1 if axis == rank - 1 else axis + (axis > 0)
        outs[0].size = (f"{source.var}.shape[{axis}]", source.var)


def _same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(
        a[k] is b[k] or (a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and torch.equal(a[k].cpu(), b[k].cpu()))
        for k in a)


def _is_string(input_layer: Any) -> bool:
    return getattr(input_layer, "_dtype_name", None) == "string"


def _annotation(value: _Value, string: bool) -> str:
    """A forward parameter's annotation: a string input takes (nested) lists of str, as Keras's shape nests them
    (a flat list too), or a NumPy string array; the annotation names the lists (no import needed)."""
    if not string:
        return "torch.Tensor"
    nested = "str"
    for _ in range(max(len(value.shape), 1)):
        nested = f"list[{nested}]"
    return nested if len(value.shape) != 2 or value.shape[-1] != 1 else f"list[str] | {nested}"


def _dtype(layer: Any) -> torch.dtype:
    dtype = getattr(layer, "dtype", None)
    return dtype if isinstance(dtype, torch.dtype) else torch.float32


class Ejected:
    """The generated module: ``source`` (model.py's text) and ``state_dict`` (its weights in torch layout)."""

    def __init__(self, source: str, state_dict: dict[str, torch.Tensor], class_name: str):
        self.source, self.state_dict, self.class_name = source, state_dict, class_name


def generate(model: torch.nn.Module, header: str) -> Ejected:
    """Walk ``model`` and write the module. Raises :class:`EjectError` naming the first layer it cannot express."""
    walk = _Walk(model)
    for call in walk.calls:
        for k in call.inputs + call.mask_inputs:
            walk.values[k].uses += 1
    for k in walk.outputs:
        walk.values[k].uses += 1
    cls = class_name(model.name)
    taken = module_names() | {cls}  # model.py's module-level names: a local of forward must not shadow them
    for i, name in enumerate(walk.input_names):
        while name in taken or name in walk.input_names[:i]:
            name += "_"
        walk.input_names[i] = name
    for v, name in zip(walk.inputs, walk.input_names):
        v.var = name

    init: list[str] = []
    forward: list[str] = []
    weights: dict[str, torch.Tensor] = {}
    helpers: set[str] = set()
    used_vars = set(walk.input_names) | _RESERVED

    def new_var(hint: str) -> str:
        base = name = identifier(hint)
        if hasattr(builtins, base) or base in taken:  # a local named max or a helper's name would shadow it
            base = name = base + "_"
        n = 1
        while name in used_vars:
            n += 1
            name = f"{base}_{n}"
        used_vars.add(name)
        return name

    def read(v: _Value, layout: str, reused: bool = False) -> str:
        """The expression of ``v`` in ``layout`` (a permute of a rank >= 3 tensor where it differs); a variable
        when the value or the expression is used more than once (``reused``)."""
        if layout == v.layout or len(v.shape) < 3:
            return v.var
        if layout in v.converted:
            return v.converted[layout]
        expr = v.var + _permutation(len(v.shape), layout)
        if reused or (v.uses > 1 and v.var != "x"):
            name = new_var(f"{v.var}_{'nchw' if layout == CF else 'nhwc'}" if len(v.shape) == 4 else f"{v.var}_{layout}")
            forward.append(f"{name} = {expr}")
            v.converted[layout] = name
            return name
        return expr

    def explicit_masks(call: _Call) -> Any:
        """The expressions of the masks handed to ``call`` (mask=...), None if a dropped node made one."""
        arg = call.mask_arg
        keys = arg if isinstance(arg, list) else [arg]
        if any(k is not None and walk.values[k].var is None for k in keys):
            return None
        exprs = [None if k is None else read(walk.values[k], KERAS, True) for k in keys]
        return exprs if isinstance(arg, list) else exprs[0]

    #: per layer: its modules so far, (attribute, template, weights); a layer's calls share one module, but
    #: a weight-free layer (an op's constants) gets one module per distinct constants
    variants: dict[int, list[tuple[str, tuple, dict[str, torch.Tensor]]]] = {}

    def declare(layer: Any, attr: str, em: Emitted, view: Call) -> str:
        """The attribute holding this call's module and weights (declared on first use)."""
        template = (em.module, em.init)
        found = variants.setdefault(id(layer), [])
        for name, other, tensors in found:
            if other == template and _same_weights(tensors, em.weights):
                return name
        if found:
            if any(True for _ in layer.parameters()) or any(True for _ in layer.buffers()):
                raise view.fail("its calls need different modules or weights (one layer's state, shared by the "
                                "calls, cannot be split into several modules)")
            base, n = attr, len(found) + 1
            while f"{base}_{n}" in walk._taken:
                n += 1
            attr = f"{base}_{n}"
            walk._taken.add(attr)
        found.append((attr, template, em.weights))
        lines = ([f"self.{attr} = {em.module}"] if em.module is not None else [])
        lines += [line.replace("{m}", f"self.{attr}").replace("{a}", attr) for line in em.init]
        init.append("\n".join(lines))
        for suffix, w in em.weights.items():
            weights[f"{attr}{suffix}"] = w.detach().to("cpu").contiguous()
        return attr

    shape_lines: set[int] = set()  # the statements of tf.shape / getitem ops (dropped where nothing reads them)
    for index, call in enumerate(walk.calls):
        layer = call.layer
        ins = [walk.values[k] for k in call.inputs]
        outs = [walk.values[k] for k in call.outputs]
        emit = emitter_for(layer)
        view = Call(layer, [v.shape for v in ins], [v.layout for v in ins], [v.shape for v in outs], call.consts,
                    [v.dtype for v in ins])
        view.operands = call.operands  # type: ignore[attr-defined]
        view.sizes = [v.size for v in ins]
        if emit is None:
            raise view.fail("kerastorch.eject has no emitter for this layer class")
        arg_masks, out_flags = _plan_masks(call, ins, view, explicit_masks(call))
        em: Emitted = emit(layer, view)
        if em.n_out != len(outs):
            raise view.fail(f"its ejected form gives {em.n_out} output(s), the graph uses {len(outs)}")
        if (view.mask is not None or view.named_masks) and not em.masked:
            raise view.fail("its call reads a Keras mask, which its ejected form does not apply yet")
        if any(out_flags):
            exprs = output_masks(layer, view, arg_masks, len(outs))
            for v, flag, expr in zip(outs, out_flags, exprs):
                if not flag:
                    continue
                if expr is None:  # the layer may carry a mask (its class's rule) but this call drops it
                    continue
                if expr.isidentifier():
                    v.mask = expr
                    continue
                for i, u in enumerate(ins):
                    if f"{{x{i}}}" in expr:
                        expr = expr.replace(f"{{x{i}}}", read(u, KERAS, True))
                v.mask = new_var(f"{walk.layer_names[id(layer)]}_mask")
                forward.append(f"{v.mask} = {expr}")
        attr = walk.layer_names[id(layer)]
        if em.module is not None or em.init or em.weights:
            attr = declare(layer, attr, em, view)
        helpers.update(em.helpers)
        layouts = [em.layout_in] * len(ins) if isinstance(em.layout_in, str) else list(em.layout_in)
        args = [read(v, lay, em.forward.count(f"{{x{i}}}") + (em.forward.count("{x}") if i == 0 else 0) > 1)
                for i, (v, lay) in enumerate(zip(ins, layouts))]
        expr = em.forward.replace("{m}", f"self.{attr}").replace("{a}", attr).replace("{training}", "self.training")
        for i, a in enumerate(args):
            expr = expr.replace(f"{{x{i}}}", a)
        if args:
            expr = expr.replace("{x}", args[0])
        for v in outs:
            v.layout = em.layout_out if len(v.shape) >= 3 else KERAS
        nxt = walk.calls[index + 1] if index + 1 < len(walk.calls) else None
        for v in outs:
            chained = (len(outs) == 1 and v.uses == 1 and nxt is not None and call.outputs[0] in nxt.inputs
                       and v.key not in walk.outputs)
            v.var = "x" if chained else new_var(walk.layer_names[id(layer)] if len(outs) == 1 else f"{attr}_{outs.index(v)}")
        target = ", ".join(v.var for v in outs)
        _track_sizes(call, ins, outs)
        if _is_op(layer) and layer.op in _SHAPE_OPS + _GETITEM_OPS:
            shape_lines.add(len(forward))
        forward.append(f"{target} = {expr}" if target != expr else "")

    _drop_unused_masks(forward, {v.mask for v in walk.values.values() if v.mask})
    results = [read(walk.values[k], KERAS) for k in walk.outputs]
    kind, keys = walk.output_structure
    if kind == "single":
        forward.append(f"return {results[0]}")
        returns = "torch.Tensor"
    elif kind == "dict":
        items = dict(zip(sorted(keys), results))
        forward.append("return {" + ", ".join(f"{k!r}: {items[k]}" for k in keys) + "}")
        returns = "dict[str, torch.Tensor]"
    else:
        forward.append(f"return {', '.join(results)}" + ("," if len(results) == 1 else ""))
        returns = "tuple[torch.Tensor, ...]"

    _drop_unread(forward, shape_lines)  # after the return statement: it reads the outputs
    params = ", ".join(f"{n}: {_annotation(v, string)}"
                       for n, v, string in zip(walk.input_names, walk.inputs, walk.input_strings))
    body = [f"class {cls}(nn.Module):",
            f'    """Keras model "{model.name}": inputs and outputs in Keras\'s layout (channels_last), '
            'channels-first\n    (channels_last memory) inside."""',
            "",
            "    def __init__(self) -> None:",
            "        super().__init__()"]
    for text in init:
        body += [wrap(line, "        ") for line in text.split("\n")]
    body += ["", f"    def forward(self, {params}) -> {returns}:"]
    body += [wrap(line, "        ") for line in forward if line]
    loader = [
        "",
        "",
        f"def load(path: str | None = None) -> {cls}:",
        f'    """{cls} with its weights (model.safetensors beside this file unless `path` says otherwise), in eval mode."""',
        "    from safetensors.torch import load_file",
        "",
        f"    model = {cls}()",
        '    path = path or os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.safetensors")',
        "    model.load_state_dict(load_file(path))",
        "    return model.eval()",
    ]
    imports = "from __future__ import annotations\n\nimport os\n\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn\n"
    source = header + "\n" + imports + "\n" + ("\n" + helper_source(helpers) if helpers else "") + "\n" + \
        "\n".join(body) + "\n" + "\n".join(loader) + "\n"
    source = re.sub(r"\n{4,}", "\n\n\n", source)
    return Ejected(source, weights, cls)
