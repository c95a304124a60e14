"""Operation nodes of functional models: Keras 3 ``keras.ops`` and tf.keras ``TFOpLambda``/``SlicingOpLambda``.

A Keras 3 functional config names an op by its class (``{"module": "keras.src.ops.numpy", "class_name":
"Add", "config": {"name": "add"}}``, constructor arguments such as ``axis`` in the config, tensors and
constants in the node's ``args``). A tf.keras config names a TensorFlow function (``TFOpLambda`` with
``"function": "math.reduce_mean"``), the first positional argument in the node's inbound tensors and the
rest in the node's kwargs; ``SlicingOpLambda`` is ``x[slice_spec]``.

:data:`OPS` maps each op name (``"k3:Add"``, ``"tf:math.reduce_mean"``) to a torch implementation taking
the TensorFlow/Keras argument names. :class:`OpLayer` runs one op as a weight-free layer, so the graph runs
ops like layers. An op not in the table is refused with a ``ValueError`` naming it and the layer.

Broadcasting is numpy's (TF, Keras 3 and torch agree). Dtypes follow the recorded Keras results
(``compat_fixtures/ops``): a python number takes the tensor's dtype (a float with an int tensor gives float32,
Keras 3); integer ``sum``/``prod`` keep the integer dtype (torch would widen to int64); Keras 3 ``mean`` and
``divide`` of integers are float32, TF ``reduce_mean`` of integers is the truncated integer mean and TF
``truediv`` of int32/int64 is float64.
"""
from __future__ import annotations

import operator
from typing import Any, Callable

import torch
import torch.nn.functional as F

OPS: dict[str, Callable[..., Any]] = {}

_DTYPES = {
    "float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64,
    "int8": torch.int8, "int16": torch.int16, "int32": torch.int32, "int64": torch.int64, "uint8": torch.uint8,
    "bool": torch.bool, "half": torch.float16, "float": torch.float32, "double": torch.float64,
}


def register_op(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register a torch implementation under op names (``"k3:<Class>"``, ``"tf:<function>"``)."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        for n in names:
            OPS[n] = fn
        return fn

    return wrap


def _axis(axis: Any) -> Any:
    if isinstance(axis, (list, tuple)):
        return tuple(int(a) for a in axis)
    return axis


def _dtype(dtype: Any) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, dict):  # a serialized DType / policy
        dtype = (dtype.get("config") or {}).get("name", dtype.get("class_name"))
    try:
        return _DTYPES[str(dtype)]
    except KeyError:
        raise ValueError(f"Unsupported dtype for a cast op: {dtype!r}") from None


def _reduce(fn: Callable[..., torch.Tensor], keras3_mean: bool = False, keep_int: bool = False) -> Callable[..., torch.Tensor]:
    """A Keras/TF reduction: ``axis`` None (all), an int or a list; ``keepdims``. ``keep_int``: integer inputs
    keep their dtype (TF and Keras 3 ``sum``/``prod`` of int32 is int32; torch would give int64).
    ``keras3_mean``: Keras 3 ``mean`` of integers is float32; TF ``reduce_mean`` of integers is the truncated
    integer mean (both recorded in the fixtures)."""

    def op(x: torch.Tensor, axis: Any = None, keepdims: bool = False, **_: Any) -> torch.Tensor:
        axis = _axis(axis)
        dims = tuple(range(x.dim())) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
        if not x.is_floating_point() and fn is torch.mean:
            if keras3_mean:
                x = x.to(torch.float32)
            else:
                count = 1
                for d in dims:
                    count *= x.shape[d]
                total = torch.sum(x, dim=dims, keepdim=bool(keepdims), dtype=x.dtype)
                return torch.div(total, max(count, 1), rounding_mode="trunc")
        if keep_int and not x.is_floating_point() and x.dtype != torch.bool:
            return fn(x, dim=dims, keepdim=bool(keepdims), dtype=x.dtype)
        return fn(x, dim=dims, keepdim=bool(keepdims))

    return op


def _amax(x: torch.Tensor, dim: tuple, keepdim: bool) -> torch.Tensor:
    return torch.amax(x, dim=dim, keepdim=keepdim)


def _amin(x: torch.Tensor, dim: tuple, keepdim: bool) -> torch.Tensor:
    return torch.amin(x, dim=dim, keepdim=keepdim)


def _dims_descending(x: torch.Tensor, dims: tuple) -> list[int]:
    """Reduction axes as non-negative dims, last first; an axis outside ``[-rank, rank)`` is an error (never wrapped)."""
    for d in dims:
        if not -x.dim() <= d < x.dim():
            raise ValueError(f"axis {d} is out of bounds for a tensor of rank {x.dim()}")
    return sorted((d % x.dim() for d in dims), reverse=True)


def _prod(x: torch.Tensor, dim: tuple, keepdim: bool, dtype: Any = None) -> torch.Tensor:
    for d in _dims_descending(x, dim):
        x = torch.prod(x, dim=d, keepdim=keepdim, dtype=dtype)
    return x


# ----- elementwise binary (python scalars adopt the tensor dtype) -----
def _constant(v: Any, like: Any) -> Any:
    """A constant operand beside the tensor ``like``: a list (tf.keras writes a numpy constant into the node as
    nested lists) becomes a tensor of ``like``'s dtype, as TF converts it; a constant tensor (Keras 3's
    ``__numpy__`` / ``__tensor__`` values, made on the CPU) goes to ``like``'s device (meta in shape inference)."""
    if not isinstance(like, torch.Tensor):
        return v
    if isinstance(v, (list, tuple)):
        return torch.as_tensor(v, dtype=like.dtype, device=like.device)
    if isinstance(v, torch.Tensor) and v.device.type == "cpu" and like.device.type != "cpu" and v.dim():
        return v.to(like.device)
    return v


def _operands(x: Any, y: Any) -> tuple[Any, Any]:
    return _constant(x, y), _constant(y, x)


register_op("k3:Add", "tf:__operators__.add", "tf:math.add", "tf:add")(
    lambda x, y, name=None: operator.add(*_operands(x, y)))
register_op("k3:Subtract", "tf:math.subtract", "tf:subtract")(lambda x, y, name=None: operator.sub(*_operands(x, y)))
register_op("k3:Multiply", "tf:math.multiply", "tf:multiply")(lambda x, y, name=None: operator.mul(*_operands(x, y)))
register_op("k3:Divide", "k3:TrueDivide")(  # int / int -> float32 (Keras 3)
    lambda x, y, name=None: operator.truediv(*_operands(x, y)))


@register_op("tf:math.truediv", "tf:math.divide", "tf:truediv", "tf:divide", "tf:__operators__.truediv")
def _tf_truediv(x: Any, y: Any, name: Any = None) -> Any:
    """TF ``truediv``: integers are divided in float32 (8/16-bit) or float64 (32/64-bit), like TF."""
    x, y = _operands(x, y)
    ref = x if isinstance(x, torch.Tensor) else y
    if isinstance(ref, torch.Tensor) and not ref.is_floating_point():
        wide = ref.dtype in (torch.int32, torch.int64, torch.uint32, torch.uint64)
        ft = torch.float64 if wide else torch.float32
        x, y = _tensors(x, y)
        return x.to(ft) / y.to(ft)
    return x / y


register_op("k3:Power", "tf:math.pow", "tf:pow")(lambda x, y, name=None: torch.pow(*_operands(x, y)))
register_op("k3:Maximum", "tf:math.maximum", "tf:maximum")(
    lambda x, y, name=None: torch.maximum(*_tensors(x, y)))
register_op("k3:Minimum", "tf:math.minimum", "tf:minimum")(
    lambda x, y, name=None: torch.minimum(*_tensors(x, y)))


def _tensors(x: Any, y: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Both operands as tensors. A python number is weakly typed (TF, Keras 3 and torch agree): it takes the
    tensor's dtype, except a float with an integer tensor, which gives float32 (Keras 3; TF refuses it)."""
    x, y = _operands(x, y)
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(x, dtype=torch.result_type(y, x), device=y.device)
    if not isinstance(y, torch.Tensor):
        y = torch.as_tensor(y, dtype=torch.result_type(x, y), device=x.device)
    return x, y


@register_op("k3:Matmul", "tf:linalg.matmul", "tf:matmul")
def _matmul(x: Any = None, y: Any = None, transpose_a: bool = False, transpose_b: bool = False,
            adjoint_a: bool = False, adjoint_b: bool = False, *, a: Any = None, b: Any = None, x1: Any = None,
            x2: Any = None, name: Any = None, **_: Any) -> torch.Tensor:
    """``keras.ops.matmul(x1, x2)`` / ``tf.linalg.matmul(a, b, transpose_a, transpose_b, adjoint_a, ...)``."""
    x = next(v for v in (x, a, x1) if v is not None)
    y = next(v for v in (y, b, x2) if v is not None)
    if transpose_a or adjoint_a:
        x = x.transpose(-1, -2)
    if transpose_b or adjoint_b:
        y = y.transpose(-1, -2)
    return torch.matmul(x, y)


# ----- elementwise unary -----
for _names, _fn in [
    (("k3:Negative", "tf:math.negative", "tf:negative"), torch.neg),
    (("k3:Absolute", "k3:Abs", "tf:math.abs", "tf:abs"), torch.abs),
    (("k3:Sqrt", "tf:math.sqrt", "tf:sqrt"), torch.sqrt),
    (("k3:Square", "tf:math.square", "tf:square"), torch.square),
    (("k3:Exp", "tf:math.exp", "tf:exp"), torch.exp),
    (("k3:Log", "tf:math.log", "tf:log"), torch.log),
    (("tf:math.rsqrt",), torch.rsqrt),
    (("k3:Relu", "tf:nn.relu"), torch.relu),
    (("k3:Relu6", "tf:nn.relu6"), F.relu6),
    (("k3:Sigmoid", "tf:math.sigmoid", "tf:nn.sigmoid", "tf:sigmoid"), torch.sigmoid),
    (("k3:Tanh", "tf:math.tanh", "tf:nn.tanh", "tf:tanh"), torch.tanh),
    (("k3:Silu", "k3:Swish", "tf:nn.silu", "tf:nn.swish"), F.silu),
    (("tf:identity",), lambda x: x),
    (("k3:Softplus", "tf:nn.softplus", "tf:math.softplus"), F.softplus),
    (("k3:Softsign", "tf:nn.softsign", "tf:math.softsign"), F.softsign),
    (("k3:Selu", "tf:nn.selu"), torch.selu),
    (("tf:nn.elu",), F.elu),
    (("k3:HardSigmoid",), lambda x: F.relu6(x + 3.0) / 6.0),  # Keras 3's (keras/src/backend/tensorflow/nn.py)
    (("k3:HardSilu",), lambda x: x * (F.relu6(x + 3.0) / 6.0)),
    (("k3:Floor", "tf:math.floor", "tf:floor"), torch.floor),
    (("k3:Ceil", "tf:math.ceil", "tf:ceil"), torch.ceil),
    (("k3:Sign", "tf:math.sign", "tf:sign"), torch.sign),
    (("k3:Reciprocal", "tf:math.reciprocal"), torch.reciprocal),
    (("k3:Erf", "tf:math.erf"), torch.erf),
    (("k3:Rsqrt",), torch.rsqrt),
    (("tf:math.round", "tf:round"), torch.round),  # half to even, as tf.round
]:
    register_op(*_names)(lambda x, name=None, _f=_fn: _f(x))

register_op("k3:Elu")(lambda x, alpha=1.0, name=None: F.elu(x, alpha=float(alpha)))
register_op("k3:LeakyRelu")(lambda x, negative_slope=0.2, name=None: F.leaky_relu(x, float(negative_slope)))
register_op("tf:nn.leaky_relu")(lambda features, alpha=0.2, name=None: F.leaky_relu(features, float(alpha)))
register_op("k3:LogSoftmax", "tf:nn.log_softmax", "tf:math.log_softmax")(
    lambda x, axis=-1, name=None: torch.log_softmax(x, dim=-1 if axis is None else int(axis)))
register_op("k3:Round")(lambda x, decimals=0, name=None: torch.round(x, decimals=int(decimals)))
register_op("k3:Gelu", "tf:nn.gelu")(
    lambda x, approximate=False, name=None: F.gelu(x, approximate="tanh" if approximate else "none"))
register_op("k3:Softmax", "tf:nn.softmax", "tf:math.softmax")(
    lambda x, axis=-1, name=None: torch.softmax(x, dim=-1 if axis is None else int(axis)))
register_op("k3:Clip")(lambda x, x_min, x_max, name=None: torch.clamp(x, x_min, x_max))
register_op("tf:clip_by_value")(
    lambda t, clip_value_min, clip_value_max, name=None: torch.clamp(t, clip_value_min, clip_value_max))
register_op("k3:Cast", "tf:cast")(lambda x, dtype, name=None: x.to(_dtype(dtype)))


@register_op("tf:math.l2_normalize", "tf:nn.l2_normalize", "tf:linalg.l2_normalize")
def _l2_normalize(x: torch.Tensor, axis: Any = None, epsilon: float = 1e-12, name: Any = None, dim: Any = None) -> torch.Tensor:
    axis = _axis(axis if axis is not None else dim)
    dims = tuple(range(x.dim())) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    return x * torch.rsqrt(torch.clamp(torch.sum(torch.square(x), dim=dims, keepdim=True), min=epsilon))


# ----- reductions -----
register_op("k3:Mean")(_reduce(torch.mean, keras3_mean=True))
register_op("tf:math.reduce_mean", "tf:reduce_mean")(_reduce(torch.mean))
for _names, _fn in [
    (("k3:Sum", "tf:math.reduce_sum", "tf:reduce_sum"), torch.sum),
    (("k3:Prod", "tf:math.reduce_prod", "tf:reduce_prod"), _prod),
]:
    register_op(*_names)(_reduce(_fn, keep_int=True))
for _names, _fn in [
    (("k3:Max", "tf:math.reduce_max", "tf:reduce_max"), _amax),
    (("k3:Min", "tf:math.reduce_min", "tf:reduce_min"), _amin),
]:
    register_op(*_names)(_reduce(_fn))


# ----- shapes -----
@register_op("k3:Reshape", "tf:reshape")
def _reshape(x: torch.Tensor, newshape: Any = None, shape: Any = None, name: Any = None) -> torch.Tensor:
    target = [int(d) if d is not None else -1 for d in (newshape if newshape is not None else shape)]
    return x.reshape(target)


@register_op("k3:Transpose", "tf:transpose", "tf:compat.v1.transpose", "tf:linalg.matrix_transpose")
def _transpose(x: torch.Tensor, axes: Any = None, perm: Any = None, conjugate: bool = False, name: Any = None) -> torch.Tensor:
    order = axes if axes is not None else perm
    if order is None:
        return x.permute(*reversed(range(x.dim())))
    return x.permute(*[int(a) for a in order])


@register_op("k3:Concatenate", "tf:concat")
def _concat(xs: Any, axis: int = 0, name: Any = None) -> torch.Tensor:
    return torch.cat(list(xs), dim=int(axis))


@register_op("k3:Stack", "tf:stack")
def _stack(xs: Any, axis: int = 0, name: Any = None) -> torch.Tensor:
    return torch.stack(list(xs), dim=int(axis))


@register_op("k3:ExpandDims", "tf:expand_dims")
def _expand_dims(x: torch.Tensor, axis: int, name: Any = None) -> torch.Tensor:
    return torch.unsqueeze(x, int(axis))


@register_op("k3:Squeeze", "tf:squeeze", "tf:compat.v1.squeeze")
def _squeeze(x: torch.Tensor, axis: Any = None, name: Any = None, squeeze_dims: Any = None) -> torch.Tensor:
    axis = _axis(axis if axis is not None else squeeze_dims)
    if axis is None:
        return torch.squeeze(x)
    return torch.squeeze(x, axis if isinstance(axis, tuple) else (int(axis),))


@register_op("k3:GetItem", "tf:__operators__.getitem")
def _getitem(x: torch.Tensor, key: Any = None, slice_spec: Any = None, var: Any = None) -> torch.Tensor:
    """``x[key]`` with numpy/TF semantics, including negative slice steps (torch has none: flip + slice)."""
    index = _index(key if key is not None else slice_spec)
    if not isinstance(index, tuple):
        index = (index,)
    if not any(isinstance(i, slice) and i.step is not None and i.step < 0 for i in index):
        return x[index]
    dim = 0
    for pos, i in enumerate(index):
        if i is Ellipsis:  # the entries after it address the last dims
            dim = x.dim() - sum(1 for j in index[pos + 1:] if j is not None and j is not Ellipsis)
            continue
        if i is None:
            x = x.unsqueeze(dim)
            dim += 1
        elif isinstance(i, int):
            x = x.select(dim, i)
        elif i.step is not None and i.step < 0:
            picked = range(*i.indices(x.shape[dim]))
            x = x.flip(dim)
            last = x.shape[dim] - 1
            start = last - picked[0] if len(picked) else 0
            stop = last - picked[-1] + 1 if len(picked) else 0
            x = x[(slice(None),) * dim + (slice(start, stop, -i.step),)]
            dim += 1
        else:
            x = x[(slice(None),) * dim + (i,)]
            dim += 1
    return x


def _index(spec: Any) -> Any:
    """A TF/Keras slice spec (dicts with start/stop/step, ints, None, Ellipsis; nested in lists) as a torch index."""
    if isinstance(spec, dict):
        cls = spec.get("class_name")
        if cls == "__slice__":
            spec = spec.get("config") or {}
        elif cls == "__ellipsis__":
            return Ellipsis
        elif cls == "__tuple__":
            return tuple(_index(s) for s in (spec.get("config") or {}).get("value", []))
        if set(spec) <= {"start", "stop", "step"}:
            return slice(spec.get("start"), spec.get("stop"), spec.get("step"))
        raise ValueError(f"Unsupported slice in a getitem op: {spec!r}")
    if isinstance(spec, (list, tuple)):
        return tuple(_index(s) for s in spec)
    if spec in ("...", "Ellipsis") or spec is Ellipsis:
        return Ellipsis
    if spec is None or isinstance(spec, (int, slice)):
        return spec
    raise ValueError(f"Unsupported slice in a getitem op: {spec!r}")


# ----- comparisons and logic (Keras 3 records its mask computations with these: NotEqual of Embedding's
# mask_zero, Any of Masking, LogicalOr/ZerosLike/ExpandDims of merging layers) -----
register_op("k3:NotEqual", "tf:math.not_equal", "tf:not_equal")(lambda x, y, name=None: torch.ne(*_tensors(x, y)))
register_op("k3:Equal", "tf:math.equal", "tf:equal")(lambda x, y, name=None: torch.eq(*_tensors(x, y)))
register_op("k3:LogicalAnd", "tf:math.logical_and", "tf:logical_and")(
    lambda x, y, name=None: torch.logical_and(*_tensors(x, y)))
register_op("k3:LogicalOr", "tf:math.logical_or", "tf:logical_or")(
    lambda x, y, name=None: torch.logical_or(*_tensors(x, y)))
register_op("k3:LogicalNot", "tf:math.logical_not", "tf:logical_not")(lambda x, name=None: torch.logical_not(x))


def _bool_reduce(fn: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    def op(x: torch.Tensor, axis: Any = None, keepdims: bool = False, name: Any = None) -> torch.Tensor:
        axis = _axis(axis)
        if axis is None:
            out = fn(x.bool())
            return out.reshape((1,) * x.dim()) if keepdims else out
        dims = axis if isinstance(axis, tuple) else (int(axis),)
        out = x.bool()
        for d in _dims_descending(x, dims):
            out = fn(out, dim=d, keepdim=bool(keepdims))
        return out

    return op


register_op("k3:Any", "tf:math.reduce_any", "tf:reduce_any")(_bool_reduce(torch.any))
register_op("k3:All", "tf:math.reduce_all", "tf:reduce_all")(_bool_reduce(torch.all))
register_op("k3:ZerosLike", "tf:zeros_like")(
    lambda x, dtype=None, name=None: torch.zeros_like(x, dtype=None if dtype is None else _dtype(dtype)))
register_op("k3:OnesLike", "tf:ones_like")(
    lambda x, dtype=None, name=None: torch.ones_like(x, dtype=None if dtype is None else _dtype(dtype)))


# ----- transformer graphs (issue 19): einsum, split, axes, comparisons, where, tile/repeat, shapes, ranges -----
@register_op("k3:Einsum")
def _einsum(*operands: torch.Tensor, subscripts: str, name: Any = None) -> torch.Tensor:
    """``keras.ops.einsum(subscripts, *operands)`` (tf.keras's ``tf.einsum`` TFOpLambda records no operands)."""
    return torch.einsum(subscripts, *operands)


@register_op("k3:Split")
def _k3_split(x: torch.Tensor, indices_or_sections: Any = 1, axis: int = 0, name: Any = None) -> list[torch.Tensor]:
    """``keras.ops.split`` (numpy's): an int splits into equal sections (refused when it does not divide), a
    list gives the split indices."""
    axis = int(axis)
    if isinstance(indices_or_sections, (list, tuple)):
        return list(torch.tensor_split(x, [int(i) for i in indices_or_sections], dim=axis))
    n = int(indices_or_sections)
    if n <= 0 or x.shape[axis] % n:
        raise ValueError(f"split: an axis of size {x.shape[axis]} does not divide into {n} equal sections")
    return list(torch.chunk(x, n, dim=axis))


@register_op("tf:split")
def _tf_split(value: torch.Tensor, num_or_size_splits: Any = 1, axis: Any = 0, num: Any = None,
              name: Any = None) -> list[torch.Tensor]:
    """``tf.split``: an int gives equal pieces, a list gives the pieces' sizes (``-1`` once: the rest)."""
    axis = int(axis)
    size = value.shape[axis]
    if isinstance(num_or_size_splits, (list, tuple)):
        sizes = [int(s) for s in num_or_size_splits]
        if sizes.count(-1) == 1:
            sizes[sizes.index(-1)] = size - (sum(sizes) + 1)
        if sum(sizes) != size or min(sizes) < 0:
            raise ValueError(f"tf.split: sizes {list(num_or_size_splits)} do not add up to the axis size {size}")
        return list(torch.split(value, sizes, dim=axis))
    n = int(num_or_size_splits)
    if n <= 0 or size % n:
        raise ValueError(f"tf.split: an axis of size {size} does not divide into {n} equal pieces")
    return list(torch.chunk(value, n, dim=axis))


register_op("k3:Swapaxes")(lambda x, axis1, axis2, name=None: x.transpose(int(axis1), int(axis2)))
register_op("k3:Moveaxis")(lambda x, source, destination, name=None: torch.movedim(x, _axis(source), _axis(destination)))
for _names, _cmp in [
    (("k3:Greater", "tf:math.greater", "tf:greater"), torch.gt),
    (("k3:GreaterEqual", "tf:math.greater_equal", "tf:greater_equal"), torch.ge),
    (("k3:Less", "tf:math.less", "tf:less"), torch.lt),
    (("k3:LessEqual", "tf:math.less_equal", "tf:less_equal"), torch.le),
]:
    register_op(*_names)(lambda x, y, name=None, _f=_cmp: _f(*_tensors(x, y)))


@register_op("k3:Where", "tf:where", "tf:where_v2")
def _where(condition: torch.Tensor, x: Any = None, y: Any = None, name: Any = None) -> Any:
    """``where(condition, x, y)``; a python number takes the other operand's dtype (Keras 3 / TF)."""
    if x is None and y is None:
        return torch.nonzero(condition)
    x, y = _tensors(x, y)
    return torch.where(condition.bool(), x, y)


register_op("k3:Tile")(lambda x, repeats, name=None: torch.tile(x, tuple(int(r) for r in repeats)))
register_op("tf:tile")(lambda input, multiples, name=None: torch.tile(input, tuple(int(r) for r in multiples)))  # noqa: A002


@register_op("k3:Repeat")
def _repeat(x: torch.Tensor, repeats: Any, axis: Any = None, name: Any = None) -> torch.Tensor:
    if axis is None:
        return torch.repeat_interleave(x.reshape(-1), repeats if isinstance(repeats, int) else torch.as_tensor(repeats))
    return torch.repeat_interleave(x, repeats if isinstance(repeats, int) else torch.as_tensor(repeats), dim=int(axis))


@register_op("tf:shape", "tf:compat.v1.shape")
def _shape(input: torch.Tensor, out_type: Any = "int32", name: Any = None) -> torch.Tensor:  # noqa: A002
    """``tf.shape``: the shape as an int32 (or ``out_type``) vector."""
    return torch.tensor(tuple(input.shape), dtype=_dtype(out_type or "int32"), device=input.device)


@register_op("tf:range")
def _tf_range(start: Any, limit: Any = None, delta: Any = 1, dtype: Any = None, name: Any = None) -> torch.Tensor:
    """``tf.range(start, limit, delta)`` (``tf.range(n)``: 0..n-1), int32 for integer bounds (TF's)."""
    def num(v: Any) -> Any:
        return v.item() if isinstance(v, torch.Tensor) else v

    if any(isinstance(v, torch.Tensor) and v.is_meta for v in (start, limit, delta)):
        from .op_layer import _SENTINEL  # shape inference: a bound known only at run time -> unknown length

        floating = dtype is not None and _dtype(dtype).is_floating_point
        return torch.empty(_SENTINEL, dtype=torch.float32 if floating else torch.int32, device="meta")
    device = next((v.device for v in (start, limit, delta) if isinstance(v, torch.Tensor)), None)  # its bound's
    start, limit, delta = num(start), num(limit), num(delta)
    if limit is None:
        start, limit = 0, start
    if dtype is not None:
        out_dtype = _dtype(dtype)
    else:
        out_dtype = torch.int32 if all(isinstance(v, int) for v in (start, limit, delta)) else torch.float32
    return torch.arange(start, limit, delta, dtype=out_dtype, device=device)
# Keras 3 records ``ops.convert_to_tensor`` nodes where a layer's compute_mask converts its mask (Attention)
register_op("k3:ConvertToTensor")(
    lambda x, dtype=None, sparse=None, ragged=None, name=None: x if dtype is None else torch.as_tensor(x).to(_dtype(dtype)))
