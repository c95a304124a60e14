"""Emitters of op layers: the ``keras.ops`` / TF ops (``OpLayer``, ``TFOpLambda``, ``SlicingOpLambda``) of
functional graphs that read as one torch expression."""
from __future__ import annotations

import re
from typing import Any

from .emitters import EMITTERS, Call, Emitted, Placeholder, common_layout, fmt

# ----------------------------------------------------------------------------- op layers (keras.ops / TFOpLambda)
_BINARY = {"add": "+", "multiply": "*", "subtract": "-", "truediv": "/", "divide": "/"}
_UNARY = {"relu": "F.relu({x})", "relu6": "F.relu6({x})", "sigmoid": "torch.sigmoid({x})", "tanh": "torch.tanh({x})",
          "silu": "F.silu({x})", "swish": "F.silu({x})", "negative": "-{x}", "sqrt": "torch.sqrt({x})",
          "exp": "torch.exp({x})", "abs": "torch.abs({x})", "absolute": "torch.abs({x})", "square": "torch.square({x})"}


def _op_name(op: str) -> str:
    """``'tf:math.reduce_mean'`` / ``'k3:Mean'`` -> ``'reduce_mean'`` / ``'mean'``; tf's operator names lose
    their module, Keras 3 classes become snake_case."""
    name = op.split(":", 1)[1].rsplit(".", 1)[-1]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("true_divide", "truediv").replace("get_item", "getitem")


def _index(spec: Any) -> str:
    """A slice spec (python slices, TF's {start, stop, step} dicts, ints) as a subscript."""
    def one(s: Any) -> str:
        if isinstance(s, dict):
            s = slice(s.get("start"), s.get("stop"), s.get("step"))
        if isinstance(s, slice):
            if s.step not in (None, 1):
                raise ValueError("step")
            return f"{'' if s.start is None else s.start}:{'' if s.stop is None else s.stop}"
        if s is None:
            return "None"
        if s is Ellipsis:
            return "..."
        if isinstance(s, int):
            return str(s)
        raise ValueError("index")
    return ", ".join(one(s) for s in (spec if isinstance(spec, (list, tuple)) else [spec]))


@EMITTERS.register("OpLayer", "TFOpLambda", "SlicingOpLambda")
def op_layer(layer: Any, call: Call) -> Emitted:
    """The keras.ops / tf ops of functional graphs that read as one torch expression (all in Keras's layout)."""
    name = _op_name(layer.op)
    args, kwargs = call.operands
    kw = {**(layer.op_config or {}), **{k: v for k, v in kwargs.items() if k != "name"}}
    args = list(args)
    for key in ("y", "x"):
        if key in kw and len(args) < 2:
            args.append(kw.pop(key))
    try:
        if name in _BINARY and len(args) == 2:
            a, b = (str(v) if isinstance(v, Placeholder) else fmt(float(v)) for v in args)
            # with a number, elementwise in any layout; two tensors meet in a common one
            layout = common_layout(call) if len(call.shapes) == 2 else call.layouts[0]
            return Emitted(f"{a} {_BINARY[name]} {b}", layout_in=layout, layout_out=layout)
        if name in _UNARY and len(args) == 1:
            return Emitted(_UNARY[name], layout_in=call.layouts[0], layout_out=call.layouts[0])
        if name == "reshape":
            shape = kw.get("newshape", kw.get("shape", args[1] if len(args) > 1 else None))
            return Emitted(f"{{x}}.reshape({fmt(tuple(int(d) for d in shape))})")
        if name in ("concat", "concatenate"):
            xs = ", ".join(str(p) for p in args[0])
            return Emitted(f"torch.cat([{xs}], dim={int(kw.get('axis', args[1] if len(args) > 1 else 0))})")
        if name == "getitem":
            spec = kw.get("slice_spec", args[1] if len(args) > 1 else None)
            return Emitted(f"{{x}}[{_index(spec)}]")
        if name in ("mean", "reduce_mean"):
            axis = kw.get("axis")
            dims = "" if axis is None else f"dim={fmt(tuple(axis) if isinstance(axis, list) else int(axis))}, "
            return Emitted(f"{{x}}.mean({dims}keepdim={bool(kw.get('keepdims', False))})".replace("(, ", "("))
        if name == "transpose":
            perm = kw.get("axes", kw.get("perm"))
            return Emitted(f"{{x}}.permute({', '.join(str(int(d)) for d in perm)})")
    except (ValueError, TypeError, IndexError):
        pass
    raise call.fail(f"the operation {layer.op.split(':', 1)[1]!r} with these arguments has no ejected form yet "
                    "(arithmetic, relu/relu6/sigmoid/tanh/silu, reshape, concat, slicing, mean and transpose have)")
