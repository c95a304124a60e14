"""Emitters of op layers: the ``keras.ops`` / TF ops of functional graphs (``OpLayer``, ``TFOpLambda``,
``SlicingOpLambda``), each as one torch expression.

The node's arguments are bound to the op-table function's own signature (``kerastorch.layers.ops.table``), so
that an argument means what it means when kerastorch runs the op. One form per table function, registered under
every table key of that function. Elementwise ops run in whatever layout their inputs are in (a constant
array operand, a buffer of the op's attribute, is stored in that layout); softmax, reductions, concatenation,
slices and transposes follow a channels-first input along the mapped axes; every other op runs in Keras's
layout (Keras's axes).

Every emitted expression is checked when it is written: run on meta tensors (shapes and dtypes only), it must
give the shapes and dtypes the table function gives, else the op is refused (never a silently different file).
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..graph.node import map_structure
from ..layers.ops.op_layer import _SENTINEL, _display
from ..layers.ops.table import OPS, _constant, _dtype, _index
from .emitters import CF, EMITTERS, KERAS, Call, Emitted, Placeholder, cf_axis, common_layout, fmt, tup
from .helpers import helper_source, register_helpers

register_helpers({
    "l2_normalize": '''
def l2_normalize(x: torch.Tensor, dim, epsilon: float = 1e-12) -> torch.Tensor:
    """tf.math.l2_normalize: x / sqrt(max(sum(x ** 2), epsilon)) over dim (F.normalize clamps the norm, not
    its square)."""
    return x * torch.rsqrt(x.square().sum(dim=dim, keepdim=True).clamp(min=epsilon))
''',
})


class _NoForm(Exception):
    """This op / argument combination has no ejected form (the reason)."""


#: table function -> form(arguments, call) -> Emitted; arguments: the node's bound to the function's parameters
_FORMS: dict[Callable[..., Any], Callable[[dict, Call], Emitted]] = {}
#: ops whose result depends on tensor values (not checkable on meta tensors)
_VALUE_DEPENDENT = {"tf:range"}


def _form(*keys: str) -> Callable[[Callable[[dict, Call], Emitted]], Callable[[dict, Call], Emitted]]:
    """Register a form for the table functions of ``keys`` (so for every key that shares one of them)."""
    def wrap(fn: Callable[[dict, Call], Emitted]) -> Callable[[dict, Call], Emitted]:
        for k in keys:
            _FORMS[OPS[k]] = fn
        return fn
    return wrap


def ejectable_ops() -> list[str]:
    """The op-table keys with an ejected form."""
    return sorted(k for k, fn in OPS.items() if fn in _FORMS)


# ----------------------------------------------------------------------------- operands as source
class _Constant:
    """A constant array operand of the graph (tf.keras: nested lists in the node; Keras 3: ``__numpy__`` /
    ``__tensor__`` values): a buffer of the op's module attribute, ``{m}`` in the forward."""

    def __init__(self, value: torch.Tensor):
        self.value = value

    def __str__(self) -> str:
        return "{m}"


def _src(v: Any) -> str:
    """An operand as source: a tensor input's placeholder, a constant's buffer, or a constant literal."""
    if isinstance(v, (Placeholder, _Constant)):
        return str(v)
    if isinstance(v, torch.Tensor):
        if v.dim() != 0:
            raise _NoForm("a constant tensor operand")
        v = v.item()
    if isinstance(v, bool) or v is None:
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return fmt(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_src(e) for e in v) + "]"
    raise _NoForm(f"the operand {type(v).__name__}")


def _int(v: Any) -> int:
    if isinstance(v, Placeholder) or isinstance(v, bool) or not isinstance(v, (int, float, torch.Tensor)):
        raise _NoForm("a non-constant integer argument")
    return int(v)


def _ints(v: Any) -> tuple:
    return tuple(_int(e) for e in v) if isinstance(v, (list, tuple)) else (_int(v),)


def _dims_src(dims: tuple) -> str:
    return str(dims[0]) if len(dims) == 1 else tup(dims)


def _dtype_src(dtype: Any) -> str:
    try:
        return _torch_dtype(_dtype(dtype))
    except ValueError as e:
        raise _NoForm(str(e)) from None


def _torch_dtype(dtype: torch.dtype) -> str:
    return f"torch.{str(dtype).split('.')[-1]}"


def _dtype_of(v: Any, call: Call) -> torch.dtype | None:
    return call.dtypes[v.i] if isinstance(v, Placeholder) else None


def _elementwise(expr: str, call: Call, n_out: int = 1) -> Emitted:
    """An op over inputs broadcast elementwise: in their layout (one input) or a common one."""
    layout = common_layout(call) if len(call.shapes) > 1 else call.layouts[0]
    return Emitted(expr, layout_in=layout, layout_out=layout, n_out=n_out)


def _axes(call: Call, axis: Any, rank: int) -> tuple:
    """Keras axes (None: all) as non-negative dims, sorted; out of range is refused (the table refuses it too)."""
    dims = tuple(range(rank)) if axis is None else _ints(axis)
    if any(not -rank <= d < rank for d in dims):
        raise _NoForm(f"axis {axis} is out of range for rank {rank}")
    return tuple(sorted({d % rank for d in dims}))


def _axis_layout(call: Call, dims: tuple, keepdims: bool) -> tuple[str, tuple, str]:
    """(layout in, dims in it, layout out) of an op along ``dims`` of input 0: a channels-first input stays so
    (its dims mapped) where the result keeps the batch axis; the result is channels-first when it keeps every
    axis or the channels, else in Keras's order (the channels-first view minus the channels is Keras's order)."""
    rank = call.rank
    if call.layouts[0] != CF or rank < 3 or (0 in dims and not keepdims):
        return KERAS, dims, KERAS
    mapped = tuple(sorted(cf_axis(d, rank) for d in dims))
    out = CF if keepdims or rank - 1 not in dims else KERAS
    return CF, mapped, out


# ----------------------------------------------------------------------------- elementwise
_UNARY = {
    "k3:Negative": "-{x}", "k3:Absolute": "torch.abs({x})", "k3:Sqrt": "torch.sqrt({x})",
    "k3:Square": "torch.square({x})", "k3:Exp": "torch.exp({x})", "k3:Log": "torch.log({x})",
    "tf:math.rsqrt": "torch.rsqrt({x})", "k3:Rsqrt": "torch.rsqrt({x})", "k3:Relu": "F.relu({x})",
    "k3:Relu6": "F.relu6({x})", "k3:Sigmoid": "torch.sigmoid({x})", "k3:Tanh": "torch.tanh({x})",
    "k3:Silu": "F.silu({x})", "tf:identity": "{x}", "k3:Softplus": "F.softplus({x})",
    "k3:Softsign": "F.softsign({x})", "k3:Selu": "F.selu({x})", "tf:nn.elu": "F.elu({x})",
    "k3:HardSigmoid": "F.hardsigmoid({x})", "k3:HardSilu": "F.hardswish({x})",  # relu6(x + 3) / 6 (Keras 3)
    "k3:Floor": "torch.floor({x})", "k3:Ceil": "torch.ceil({x})", "k3:Sign": "torch.sign({x})",
    "k3:Reciprocal": "torch.reciprocal({x})", "k3:Erf": "torch.erf({x})",
    "tf:math.round": "torch.round({x})",  # half to even, like tf.round
    "k3:LogicalNot": "torch.logical_not({x})",
}


def _unary(template: str) -> Callable[[dict, Call], Emitted]:
    def form(a: dict, call: Call) -> Emitted:
        return _elementwise(template.replace("{x}", _src(a["x"])), call)
    return form


for _key, _template in _UNARY.items():
    _form(_key)(_unary(_template))

_BINARY = {"k3:Add": "{x} + {y}", "k3:Subtract": "{x} - {y}", "k3:Multiply": "{x} * {y}", "k3:Divide": "{x} / {y}",
           "k3:Power": "torch.pow({x}, {y})", "k3:NotEqual": "{x} != {y}", "k3:Equal": "{x} == {y}",
           "k3:Greater": "{x} > {y}", "k3:GreaterEqual": "{x} >= {y}", "k3:Less": "{x} < {y}",
           "k3:LessEqual": "{x} <= {y}"}


def _binary(template: str) -> Callable[[dict, Call], Emitted]:
    def form(a: dict, call: Call) -> Emitted:
        x, y = a["x"], a["y"]
        if not isinstance(x, Placeholder) and not isinstance(y, Placeholder):
            raise _NoForm("no tensor operand")
        return _elementwise(template.replace("{x}", _src(x)).replace("{y}", _src(y)), call)
    return form


for _key, _template in _BINARY.items():
    _form(_key)(_binary(_template))


@_form("tf:math.truediv")
def _tf_truediv(a: dict, call: Call) -> Emitted:
    """TF truediv: integers divide in float64 (32/64-bit) or float32 (8/16-bit)."""
    x, y = a["x"], a["y"]
    parts = []
    for v in (x, y):
        dtype = _dtype_of(v, call)
        s = _src(v)
        if dtype is not None and not dtype.is_floating_point:
            wide = dtype in (torch.int32, torch.int64, torch.uint32, torch.uint64)
            s = f"{s}.to(torch.{'float64' if wide else 'float32'})"
        parts.append(s)
    return _elementwise(f"{parts[0]} / {parts[1]}", call)


def _min_max(fn: str, bound: str) -> Callable[[dict, Call], Emitted]:
    def form(a: dict, call: Call) -> Emitted:
        x, y = a["x"], a["y"]
        if isinstance(x, Placeholder) and isinstance(y, Placeholder):
            return _elementwise(f"torch.{fn}({x}, {y})", call)
        t, c = (x, y) if isinstance(x, Placeholder) else (y, x)
        if not isinstance(t, Placeholder):
            raise _NoForm("no tensor operand")
        if isinstance(c, _Constant):
            return _elementwise(f"torch.{fn}({t}, {c})", call)
        return _elementwise(f"{t}.clamp({bound}={_src(c)})", call)  # a number: promotes like Keras's
    return form


_form("k3:Maximum")(_min_max("maximum", "min"))
_form("k3:Minimum")(_min_max("minimum", "max"))


def _logical(fn: str) -> Callable[[dict, Call], Emitted]:
    def form(a: dict, call: Call) -> Emitted:
        if not (isinstance(a["x"], Placeholder) and isinstance(a["y"], Placeholder)):
            raise _NoForm("a constant operand")
        return _elementwise(f"torch.{fn}({a['x']}, {a['y']})", call)
    return form


_form("k3:LogicalAnd")(_logical("logical_and"))
_form("k3:LogicalOr")(_logical("logical_or"))


def _alpha(value: Any) -> str:
    return "" if float(value) == 1.0 else f", alpha={fmt(float(value))}"


#: elementwise ops with arguments: key -> the expression of the bound arguments
_WITH_ARGUMENTS: dict[str, Callable[[dict], str]] = {
    "k3:Elu": lambda a: f"F.elu({a['x']}{_alpha(a['alpha'])})",
    "k3:LeakyRelu": lambda a: f"F.leaky_relu({a['x']}, {fmt(float(a['negative_slope']))})",
    "tf:nn.leaky_relu": lambda a: f"F.leaky_relu({a['features']}, {fmt(float(a['alpha']))})",
    "k3:Round": lambda a: f"torch.round({a['x']}" + (f", decimals={d})" if (d := _int(a["decimals"])) else ")"),
    "k3:Gelu": lambda a: f"F.gelu({a['x']}" + (', approximate="tanh")' if a["approximate"] else ")"),
    "k3:Clip": lambda a: f"torch.clamp({a['x']}, {_src(a['x_min'])}, {_src(a['x_max'])})",
    "tf:clip_by_value": lambda a: f"torch.clamp({a['t']}, {_src(a['clip_value_min'])}, {_src(a['clip_value_max'])})",
    "k3:Cast": lambda a: f"{a['x']}.to({_dtype_src(a['dtype'])})",
}


def _with_arguments(expr: Callable[[dict], str]) -> Callable[[dict, Call], Emitted]:
    def form(a: dict, call: Call) -> Emitted:
        if not isinstance(a.get("x", a.get("t", a.get("features"))), Placeholder):
            raise _NoForm("a constant operand")
        return _elementwise(expr(a), call)
    return form


for _key, _expr in _WITH_ARGUMENTS.items():
    _form(_key)(_with_arguments(_expr))


@_form("k3:ConvertToTensor")
def _convert(a: dict, call: Call) -> Emitted:
    if not isinstance(a["x"], Placeholder):
        raise _NoForm("a constant")
    return _elementwise(str(a["x"]) if a["dtype"] is None else f"{a['x']}.to({_dtype_src(a['dtype'])})", call)


def _like(fn: str) -> Callable[[dict, Call], Emitted]:
    def form(a: dict, call: Call) -> Emitted:
        dtype = "" if a["dtype"] is None else f", dtype={_dtype_src(a['dtype'])}"
        return _elementwise(f"torch.{fn}({a['x']}{dtype})", call)
    return form


_form("k3:ZerosLike")(_like("zeros_like"))
_form("k3:OnesLike")(_like("ones_like"))


@_form("k3:Where")
def _where(a: dict, call: Call) -> Emitted:
    cond, x, y = a["condition"], a["x"], a["y"]
    if x is None and y is None:
        raise _NoForm("where(condition) (the indices of true values: a value-dependent shape)")
    if not isinstance(cond, Placeholder) or not (isinstance(x, Placeholder) or isinstance(y, Placeholder)):
        raise _NoForm("a constant condition, or two constant values")
    c = str(cond) if _dtype_of(cond, call) == torch.bool else f"{cond}.bool()"
    return _elementwise(f"torch.where({c}, {_src(x)}, {_src(y)})", call)


# ----------------------------------------------------------------------------- along axes
def _softmax(fn: str) -> Callable[[dict, Call], Emitted]:
    def form(a: dict, call: Call) -> Emitted:
        axis = -1 if a["axis"] is None else a["axis"]
        layout, (dim,), out = _axis_layout(call, _axes(call, axis, call.rank), True)
        return Emitted(f"torch.{fn}({a['x']}, dim={dim if layout == CF else _int(axis)})", layout_in=layout,
                       layout_out=out)
    return form


_form("k3:Softmax")(_softmax("softmax"))
_form("k3:LogSoftmax")(_softmax("log_softmax"))


def _reduce_call(x: str, method: str, dims: tuple, keepdims: bool, rank: int, extra: str = "") -> str:
    """``x.method(dim=..., keepdim=...)``; all axes without keepdims: ``x.method()``."""
    if len(dims) == rank and not keepdims:
        return f"{x}.{method}({extra})"
    keep = ", keepdim=True" if keepdims else ""
    return f"{x}.{method}(dim={_dims_src(dims)}{keep}{', ' + extra if extra else ''})"


def _chained(x: str, method: str, dims: tuple, keepdims: bool, extra: str = "") -> str:
    """One reduction per axis, last first (torch's prod / any / all take one dim)."""
    for d in sorted(dims, reverse=True):
        x = f"{x}.{method}(dim={d}{', keepdim=True' if keepdims else ''}{', ' + extra if extra else ''})"
    return x


def _reduction(method: str, keep_int: bool = False, chained: bool = False, keras3_mean: bool = False,
               tf_mean: bool = False, boolean: bool = False) -> Callable[[dict, Call], Emitted]:
    def form(a: dict, call: Call) -> Emitted:
        rank, keepdims, dtype = call.rank, bool(a["keepdims"]), call.dtypes[0]
        layout, dims, out = _axis_layout(call, _axes(call, a["axis"], rank), keepdims)
        x, extra = str(a["x"]), ""
        if boolean:
            x = x if dtype == torch.bool else f"{x}.bool()"
            if a["axis"] is None:
                expr = f"{x}.{method}()"
                return Emitted(f"{expr}.reshape({tup((1,) * rank)})" if keepdims else expr, layout_in=layout,
                               layout_out=out)
        elif not dtype.is_floating_point and dtype != torch.bool:
            if keras3_mean:
                x = f"{x}.to(torch.float32)"
            elif tf_mean:  # TF's integer mean: the truncated quotient of the integer sum
                count = " * ".join(str(call.shape[d]) if call.shape[d] is not None and layout == KERAS
                                   else f"{a['x']}.shape[{d}]" for d in dims) or "1"
                total = _reduce_call(x, "sum", dims, keepdims, rank, f"dtype={_torch_dtype(dtype)}")
                return Emitted(f'torch.div({total}, {count}, rounding_mode="trunc")', layout_in=layout, layout_out=out)
            elif keep_int:
                extra = f"dtype={_torch_dtype(dtype)}"
        expr = (_chained(x, method, dims, keepdims, extra) if chained
                else _reduce_call(x, method, dims, keepdims, rank, extra))
        return Emitted(expr, layout_in=layout, layout_out=out)
    return form


_form("k3:Sum")(_reduction("sum", keep_int=True))
_form("k3:Prod")(_reduction("prod", keep_int=True, chained=True))
_form("k3:Max")(_reduction("amax"))
_form("k3:Min")(_reduction("amin"))
_form("k3:Mean")(_reduction("mean", keras3_mean=True))
_form("tf:math.reduce_mean")(_reduction("mean", tf_mean=True))
_form("k3:Any")(_reduction("any", chained=True, boolean=True))
_form("k3:All")(_reduction("all", chained=True, boolean=True))


@_form("tf:math.l2_normalize")
def _l2_normalize(a: dict, call: Call) -> Emitted:
    axis = a["axis"] if a["axis"] is not None else a["dim"]
    layout, dims, out = _axis_layout(call, _axes(call, axis, call.rank), True)
    eps = float(a["epsilon"])
    return Emitted(f"l2_normalize({a['x']}, {_dims_src(dims)}" + (")" if eps == 1e-12 else f", {fmt(eps)})"),
                   layout_in=layout, layout_out=out, helpers=("l2_normalize",))


@_form("k3:Concatenate")
def _concat(a: dict, call: Call) -> Emitted:
    xs = a["xs"]
    if not isinstance(xs, (list, tuple)) or not all(isinstance(v, Placeholder) for v in xs):
        raise _NoForm("constant parts")
    rank = call.rank
    axis = _axes(call, a["axis"], rank)[0]
    layout = common_layout(call)
    dim = cf_axis(axis, rank) if layout == CF else axis
    return Emitted(f"torch.cat({_src(xs)}, dim={dim})", layout_in=layout, layout_out=layout)


@_form("k3:Stack")
def _stack(a: dict, call: Call) -> Emitted:
    xs = a["xs"]
    if not isinstance(xs, (list, tuple)) or not all(isinstance(v, Placeholder) for v in xs):
        raise _NoForm("constant parts")
    return Emitted(f"torch.stack({_src(xs)}, dim={_int(a['axis'])})")


# ----------------------------------------------------------------------------- shapes (Keras's layout)
def _first(a: dict, *names: str) -> Any:
    """The first of the named arguments that is given (the table's aliases: ``newshape`` / ``shape`` ...)."""
    return next((a[n] for n in names if a.get(n) is not None), None)


def _target_shape(shape: Any) -> tuple:
    return tuple(-1 if d is None else _int(d) for d in shape)


#: shape ops (in Keras's layout): key -> the expression of the bound arguments
_SHAPES: dict[str, Callable[[dict], str]] = {
    "k3:Reshape": lambda a: f"{a['x']}.reshape({tup(_target_shape(_first(a, 'newshape', 'shape')))})",
    "k3:ExpandDims": lambda a: f"{a['x']}.unsqueeze({_int(a['axis'])})",
    "k3:Squeeze": lambda a: f"{a['x']}.squeeze(" + (
        "" if _first(a, "axis", "squeeze_dims") is None else _dims_src(_ints(_first(a, "axis", "squeeze_dims")))) + ")",
    "k3:Swapaxes": lambda a: f"{a['x']}.transpose({_int(a['axis1'])}, {_int(a['axis2'])})",
    "k3:Moveaxis": lambda a: f"torch.movedim({a['x']}, {_dims_src(_ints(a['source']))}, "
                             f"{_dims_src(_ints(a['destination']))})",
    "k3:Tile": lambda a: f"{a['x']}.tile({tup(_ints(a['repeats']))})",
    "tf:tile": lambda a: f"{a['input']}.tile({tup(_ints(a['multiples']))})",
}


@_form("k3:Transpose")
def _transpose(a: dict, call: Call) -> Emitted:
    """A permutation of Keras's axes; of a channels-first tensor, the one permute that gives the same result
    (Keras axis ``p`` is axis ``cf_axis(p)`` of the channels-first view)."""
    order = _first(a, "axes", "perm")
    rank = call.rank
    perm = tuple(reversed(range(rank))) if order is None else _ints(order)
    layout = CF if call.layouts[0] == CF and rank >= 3 else KERAS
    if layout == CF:
        perm = tuple(cf_axis(p, rank) for p in perm)
    if perm == tuple(range(rank)):  # (0, 3, 1, 2) of a channels-first tensor: it already is that
        return Emitted(str(a["x"]), layout_in=layout)
    return Emitted(f"{a['x']}.permute({', '.join(map(str, perm))})", layout_in=layout)


def _shape_op(expr: Callable[[dict], str]) -> Callable[[dict, Call], Emitted]:
    def form(a: dict, call: Call) -> Emitted:
        return Emitted(expr(a))
    return form


for _key, _shape_expr in _SHAPES.items():
    _form(_key)(_shape_op(_shape_expr))


@_form("k3:Repeat")
def _repeat(a: dict, call: Call) -> Emitted:
    x, repeats = str(a["x"]), a["repeats"]
    r = str(_int(repeats)) if not isinstance(repeats, (list, tuple)) else \
        f"torch.tensor({tup(_ints(repeats))}, device={x}.device)"
    if a["axis"] is None:
        return Emitted(f"{x}.reshape(-1).repeat_interleave({r})")
    return Emitted(f"{x}.repeat_interleave({r}, dim={_int(a['axis'])})")


def _piece_count(call: Call) -> int:
    return len(call.out_shapes)


@_form("k3:Split")
def _k3_split(a: dict, call: Call) -> Emitted:
    x, spec, axis = a["x"], a["indices_or_sections"], _int(a["axis"])
    if isinstance(spec, (list, tuple)):
        return Emitted(f"torch.tensor_split({x}, {list(_ints(spec))}, dim={axis})", n_out=_piece_count(call))
    return Emitted(f"{x}.chunk({_int(spec)}, dim={axis})", n_out=_piece_count(call))


@_form("tf:split")
def _tf_split(a: dict, call: Call) -> Emitted:
    x, spec, axis = a["value"], a["num_or_size_splits"], _int(a["axis"])
    if isinstance(spec, (list, tuple)):
        sizes = list(_ints(spec))
        if -1 in sizes:
            size = call.shape[axis]
            if size is None:
                raise _NoForm("a -1 piece of an axis of unknown size")
            sizes[sizes.index(-1)] = size - (sum(sizes) + 1)
        return Emitted(f"{x}.split({sizes}, dim={axis})", n_out=_piece_count(call))
    return Emitted(f"{x}.chunk({_int(spec)}, dim={axis})", n_out=_piece_count(call))


@_form("k3:Matmul")
def _matmul(a: dict, call: Call) -> Emitted:
    x = next(v for v in (a["x"], a["a"], a["x1"]) if v is not None)
    y = next(v for v in (a["y"], a["b"], a["x2"]) if v is not None)
    if not (isinstance(x, Placeholder) and isinstance(y, Placeholder)):
        raise _NoForm("a constant operand")
    xs = f"{x}.transpose(-2, -1)" if a["transpose_a"] or a["adjoint_a"] else str(x)
    ys = f"{y}.transpose(-2, -1)" if a["transpose_b"] or a["adjoint_b"] else str(y)
    return Emitted(f"{xs} @ {ys}")


@_form("k3:Einsum")
def _einsum(a: dict, call: Call) -> Emitted:
    operands = a["operands"]
    if not all(isinstance(v, Placeholder) for v in operands) or not isinstance(a["subscripts"], str):
        raise _NoForm("constant operands")
    return Emitted(f"torch.einsum({a['subscripts']!r}, {', '.join(map(str, operands))})")


def _channels_first_index(entries: list, rank: int) -> list | None:
    """An index of slices only (and at most one ``...``) over a channels_last tensor, as the index of its
    channels-first view (the same elements); None where it holds integers or new axes (they change the rank)."""
    if any(not isinstance(e, (slice, type(Ellipsis))) for e in entries) or entries.count(Ellipsis) > 1:
        return None
    cut = entries.index(Ellipsis) if Ellipsis in entries else len(entries)
    before, after = entries[:cut], entries[cut + 1:]
    if len(before) + len(after) > rank:
        return None
    full = before + [slice(None)] * (rank - len(before) - len(after)) + after
    return [full[0], full[-1], *full[1:-1]]


@_form("k3:GetItem")
def _getitem(a: dict, call: Call) -> Emitted:
    """numpy/TF indexing; a negative step is a ``flip`` first (torch slices step forward only). Slices of a
    channels-first tensor index its channels-first view."""
    spec = a["key"] if a["key"] is not None else a["slice_spec"]
    try:
        index = _index(spec)
    except ValueError as e:
        raise _NoForm(str(e)) from None
    entries = list(index) if isinstance(index, tuple) else [index]
    if any(not isinstance(e, (slice, int, type(None), type(Ellipsis))) for e in entries):
        raise _NoForm("an index that is not a slice, an integer, None or ...")
    rank, shape, layout = call.rank, list(call.shape), KERAS
    cf = _channels_first_index(entries, rank) if call.layouts[0] == CF and rank >= 3 else None
    if cf is not None:
        entries, shape, layout = cf, [shape[0], shape[-1], *shape[1:-1]], CF
    flips, parts = [], []
    consuming = [e is not None and e is not Ellipsis for e in entries]
    dim = 0
    for pos, e in enumerate(entries):
        if e is Ellipsis:
            dim = rank - sum(consuming[pos + 1:])
            parts.append("...")
            continue
        if isinstance(e, slice):
            step = None if e.step is None else _int(e.step)
            if step is not None and step < 0:  # torch slices step forward: the same elements of the flipped axis
                flips.append(dim)
                if (e.start, e.stop, step) == (None, None, -1):
                    e, step = slice(None), None
                else:
                    size = shape[dim] if dim < rank else None
                    if size is None:
                        raise _NoForm("a negative slice step along an axis of unknown size")
                    picked = range(*slice(e.start, e.stop, step).indices(size))
                    first, last = (size - 1 - picked[0], size - picked[-1]) if len(picked) else (0, 0)
                    e, step = slice(first or None, last if last < size else None), -step
            text = ("" if e.start is None else str(_int(e.start))) + ":" + ("" if e.stop is None else str(_int(e.stop)))
            parts.append(text + ("" if step in (None, 1) else f":{step}"))
        else:
            parts.append("None" if e is None else str(_int(e)))
        dim += 1 if consuming[pos] else 0
    x = str(a["x"]) if not flips else f"{a['x']}.flip({_dims_src(tuple(flips))})"
    while parts and parts[-1] == ":":  # trailing full slices select everything: x[:, :3, :, :] -> x[:, :3]
        parts.pop()
    return Emitted(f"{x}[{', '.join(parts)}]" if parts else x, layout_in=layout, layout_out=layout)


@_form("tf:shape")
def _shape(a: dict, call: Call) -> Emitted:
    x = a["input"]
    return Emitted(f"torch.tensor({x}.shape, dtype={_dtype_src(a['out_type'] or 'int32')}, device={x}.device)")


@_form("tf:range")
def _range(a: dict, call: Call) -> Emitted:
    start, limit, delta = a["start"], a["limit"], a["delta"]
    if limit is None:
        start, limit = 0, start
    values = (start, limit, delta)
    if a["dtype"] is not None:
        dtype = _dtype_src(a["dtype"])
    else:
        ints = all(isinstance(v, int) or (isinstance(v, Placeholder) and not call.dtypes[v.i].is_floating_point)
                   for v in values)
        dtype = "torch.int32" if ints else "torch.float32"
    # a bound read from a shape (tf.shape(x)[1]) is x.shape[1], a Python int (a SymInt under torch.compile): no
    # data-dependent size; a bound computed otherwise stays a tensor, whose value decides the output's size
    sized = {v.i: call.sizes[v.i] for v in values if isinstance(v, Placeholder) and call.sizes[v.i]}
    tensor = next((v for v in values if isinstance(v, Placeholder) and v.i not in sized), None)
    device = (f", device={tensor}.device" if tensor is not None
              else f", device={next(iter(sized.values()))[1]}.device" if sized else "")
    src = [sized[v.i][0] if isinstance(v, Placeholder) and v.i in sized else _src(v) for v in values]
    return Emitted(f"torch.arange({', '.join(src)}, dtype={dtype}{device})")


# ----------------------------------------------------------------------------- the emitter
_META_NS: dict[frozenset, dict] = {}


def _namespace(helpers: tuple) -> dict:
    """torch, F, nn and the named helpers: what ``model.py`` holds (our own source text only)."""
    key = frozenset(helpers)
    if key not in _META_NS:
        ns: dict = {"torch": torch, "F": F, "nn": nn}
        exec(helper_source(set(helpers)), ns)  # noqa: S102 - the helpers' fixed source text, no file content
        _META_NS[key] = {"__builtins__": {"float": float}, **{k: v for k, v in ns.items() if k != "__builtins__"}}
    return _META_NS[key]


def _permuted(t: torch.Tensor, layout: str) -> torch.Tensor:
    return t.permute(0, t.dim() - 1, *range(1, t.dim() - 1)) if layout == CF and t.dim() >= 3 else t


def _outputs(out: Any) -> list:
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _check(layer: Any, call: Call, em: Emitted, args: tuple, kwargs: dict) -> None:
    """The expression run on meta tensors must give the table function's shapes and dtypes."""
    metas = [torch.empty([_SENTINEL if d is None else d for d in s], dtype=dt, device="meta")
             for s, dt in zip(call.shapes, call.dtypes)]
    fill = lambda v: metas[v.i] if isinstance(v, Placeholder) else v  # noqa: E731
    want = _outputs(layer._fn(*map_structure(fill, args), **layer.op_config, **map_structure(fill, kwargs)))
    layouts = [em.layout_in] * len(metas) if isinstance(em.layout_in, str) else list(em.layout_in)
    local = {f"x{i}": _permuted(m, lay) for i, (m, lay) in enumerate(zip(metas, layouts))}
    if "" in em.weights:
        local["m"] = em.weights[""].to("meta")
    expr = em.forward.replace("{x}", "{x0}").replace("{m}", "m")
    for i in range(len(metas)):
        expr = expr.replace(f"{{x{i}}}", f"x{i}")
    try:
        got = eval(expr, _namespace(em.helpers), local)  # noqa: S307 - literals from fmt/repr, on meta tensors
    except Exception as e:  # noqa: BLE001 - any failure means this form does not fit
        raise _NoForm(f"its torch form fails ({type(e).__name__})") from None
    got = _outputs(got)
    for g, w in zip(got, want):
        w = _permuted(w, em.layout_out)
        if tuple(g.shape) != tuple(w.shape) or g.dtype != w.dtype:
            raise _NoForm(f"its torch form gives {tuple(g.shape)} {g.dtype} where the op gives "
                          f"{tuple(w.shape)} {w.dtype}")
    if len(got) != len(want):
        raise _NoForm(f"its torch form gives {len(got)} outputs, the op {len(want)}")


def _constants(arguments: dict, call: Call) -> list:
    """Constant arrays among the operands ``x`` / ``y`` become :class:`_Constant` (a list as the table converts
    it: a tensor of the other operand's dtype); one per op, which becomes its module attribute's buffer."""
    found = []
    for name, other in (("x", "y"), ("y", "x")):
        v = arguments.get(name)
        if isinstance(v, (list, tuple)) or (isinstance(v, torch.Tensor) and v.dim()):
            like = arguments.get(other)
            like_dtype = call.dtypes[like.i] if isinstance(like, Placeholder) else torch.float32
            value = _constant(v, torch.empty(0, dtype=like_dtype)) if not isinstance(v, torch.Tensor) else v
            if not isinstance(value, torch.Tensor):
                raise _NoForm("a constant operand that is not an array")
            found.append(_Constant(value.detach().to("cpu")))
            arguments[name] = found[-1]
    if len(found) > 1:
        raise _NoForm("two constant array operands")
    return found


@EMITTERS.register("OpLayer", "TFOpLambda", "SlicingOpLambda")
def op_layer(layer: Any, call: Call) -> Emitted:
    """A keras.ops / TF op node as one torch expression, its arguments bound as the op table binds them."""
    display = _display(layer.op)
    form = _FORMS.get(layer.op and OPS.get(layer.op))
    args, kwargs = call.operands
    kwargs = {k: v for k, v in kwargs.items() if k != "training"}
    try:
        if form is None:
            raise _NoForm("this operation has no ejected form yet")
        try:
            bound = inspect.signature(layer._fn).bind(*args, **{**layer.op_config, **kwargs})
        except TypeError as e:
            raise _NoForm(f"its arguments do not fit ({e})") from None
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        for name, p in inspect.signature(layer._fn).parameters.items():
            if p.kind is p.VAR_KEYWORD:
                arguments.update(arguments.pop(name, {}))
        for name, value in arguments.items():  # text reaches model.py only through repr / the dtype table
            if isinstance(value, str) and name not in ("subscripts", "dtype", "out_type", "name"):
                raise _NoForm(f"the text argument {name}")
        constants = _constants(arguments, call)
        em = form(arguments, call)
        if constants:
            value = constants[0].value
            rank = call.rank
            if em.layout_in == CF and value.dim() <= rank == len(call.out_shapes[0]):
                # stored channels-first: it broadcasts against the channels-first view as against Keras's layout
                value = value.reshape((1,) * (rank - value.dim()) + tuple(value.shape))
                value = value.permute(0, rank - 1, *range(1, rank - 1)).contiguous()
            else:
                em.layout_in = em.layout_out = KERAS  # it broadcasts against Keras's trailing axes
            em.weights = {"": value}
            em.init = (f'self.register_buffer("{{a}}", torch.empty({tup(tuple(value.shape))}, '
                       f'dtype={_torch_dtype(value.dtype)}))  # a graph constant',)
        if layer.op not in _VALUE_DEPENDENT:
            _check(layer, call, em, args, kwargs)
    except (_NoForm, ValueError, TypeError, IndexError, KeyError, StopIteration) as e:
        why = str(e) or type(e).__name__
        raise call.fail(f"the operation {display} with these arguments has no ejected form ({why}); "
                        f"{len(ejectable_ops())} of the {len(OPS)} operations kerastorch runs have one") from None
    return em
