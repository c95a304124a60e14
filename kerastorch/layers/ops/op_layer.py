"""Op layers: one ``keras.ops``/``TFOpLambda`` operation of a functional graph as a weight-free layer.

:class:`OpLayer` runs an entry of the op table (``table.OPS``); ``keras3_op`` reads a Keras 3 op config;
``apply`` records a python operator on KerasTensors (installed into ``kerastorch.graph`` on import).
"""
from __future__ import annotations

from typing import Any

import torch

from ... import _naming
from ..._registry import LAYERS
from ...graph.keras_tensor import KerasTensor, set_operator_recorder
from ...graph.node import _Spec, flatten, map_structure
from ...graph.symbolic import symbolic_call
from ..layer import Layer
from .table import OPS

# Keras 3 op classes: (module, constructor arguments kept in the config) for writing configs.
_K3_MODULES = {
    "Relu": "keras.src.ops.nn", "Relu6": "keras.src.ops.nn", "Sigmoid": "keras.src.ops.nn", "Silu": "keras.src.ops.nn",
    "Swish": "keras.src.ops.nn", "Gelu": "keras.src.ops.nn", "Softmax": "keras.src.ops.nn", "Cast": "keras.src.ops.core",
    "Softplus": "keras.src.ops.nn", "Softsign": "keras.src.ops.nn", "Selu": "keras.src.ops.nn", "Elu": "keras.src.ops.nn",
    "LeakyRelu": "keras.src.ops.nn", "LogSoftmax": "keras.src.ops.nn", "HardSigmoid": "keras.src.ops.nn",
    "HardSilu": "keras.src.ops.nn", "Erf": "keras.src.ops.math", "Rsqrt": "keras.src.ops.math",
}
# Python operators on KerasTensors record these Keras 3 ops (what Keras 3 records for the same operator).
_OPERATORS = {
    "add": "Add", "subtract": "Subtract", "multiply": "Multiply", "divide": "TrueDivide", "power": "Power",
    "matmul": "Matmul", "negative": "Negative", "absolute": "Absolute", "getitem": "GetItem",
}

_SENTINEL = 9973  # stands for an unknown dim in shape inference (a prime: products stay recognizable)


@LAYERS.register("TFOpLambda", "SlicingOpLambda")
class OpLayer(Layer):
    """One operation of a functional graph, as a weight-free layer.

    ``op`` is the table key (``"k3:Reshape"``, ``"tf:math.reduce_mean"``); ``op_config`` the op's own
    constructor arguments (Keras 3: ``{"newshape": [-1, 15]}``), passed as keyword arguments after the
    node's positional ones. Loaded from a tf.keras ``TFOpLambda``/``SlicingOpLambda`` config or a Keras 3
    op config; ``get_config`` writes the form it came from.
    """

    def __init__(self, op: str | None = None, op_config: dict[str, Any] | None = None, *, function: str | None = None,
                 name: str | None = None, **kwargs: Any):
        if op is None:
            if function is None:
                raise ValueError("An op layer needs an op: `function` (TFOpLambda) or a Keras 3 op class.")
            op = "tf:" + str(function)
        kwargs.pop("trainable", None)
        dtype = kwargs.pop("dtype", None)
        kwargs.pop("build_config", None)
        super().__init__(name=name or _default_name(op), **kwargs)
        if op not in OPS:
            raise ValueError(
                f'Layer "{self.name}" uses the operation {_display(op)!r}, which kerastorch does not implement. '
                f"Implemented operations: {', '.join(sorted(_display(k) for k in OPS))}."
            )
        self.op = op
        self.op_config = dict(op_config or {})
        self._fn = OPS[op]
        self._tf_dtype = dtype if isinstance(dtype, str) else None
        self._finish_init()
        self.built = True

    def __getstate__(self) -> dict[str, Any]:
        # The table's functions are mostly lambdas, which pickle cannot name: keep the key, not the function.
        state = super().__getstate__()
        state.pop("_fn", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        if self.op not in OPS:
            raise ValueError(f'Layer "{self.name}": unknown operation {_display(self.op)!r} in the pickled state.')
        self._fn = OPS[self.op]

    def forward(self, *args: Any, training: Any = None, **kwargs: Any) -> Any:
        return self._fn(*args, **self.op_config, **kwargs)

    def symbolic_output_spec(self, args: tuple, kwargs: dict) -> Any:
        """Output (shape, dtype) on symbolic args: the op run on meta tensors (an unknown dim is a sentinel)."""
        if any(t.shape is None for t in flatten((args, kwargs))):
            return _Spec((None, next((t.dtype for t in flatten(args)), torch.float32)))

        def meta(t: Any) -> Any:
            if isinstance(t, KerasTensor):
                return torch.empty([_SENTINEL if d is None else d for d in t.shape], dtype=t.dtype, device="meta")
            return t

        try:
            out = self._fn(*map_structure(meta, args), **self.op_config, **map_structure(meta, kwargs))
        except (RuntimeError, IndexError, TypeError, ValueError, OverflowError) as e:
            reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__  # torch appends C++ frames
            raise ValueError(f'Op layer "{self.name}" ({_display(self.op)}) cannot be applied to these inputs: {reason}') from None
        return map_structure(
            lambda o: _Spec((tuple(None if d != 0 and d % _SENTINEL == 0 else int(d) for d in o.shape), o.dtype)), out
        )

    def get_config(self) -> dict[str, Any]:
        if self.op.startswith("tf:"):
            return {"name": self.name, "trainable": True, "dtype": self._tf_dtype or "float32", "function": self.op[3:]}
        return {"name": self.name, **self.op_config}

    def serialize(self) -> dict[str, Any]:
        """This op's entry in a model config: Keras 3's op class form, or tf.keras's TFOpLambda form."""
        if self.op.startswith("tf:"):
            cls = "SlicingOpLambda" if self.op == "tf:__operators__.getitem" else "TFOpLambda"
            return {"module": "tf_keras.src.layers.core.tf_op_layer", "class_name": cls, "config": self.get_config(),
                    "registered_name": cls}
        cls = self.op[3:]
        return {"module": _K3_MODULES.get(cls, "keras.src.ops.numpy"), "class_name": cls, "config": self.get_config(),
                "registered_name": cls}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "OpLayer":
        return cls(**config)

    def extra_repr(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.op_config.items())
        return f"name={self.name!r}, op={_display(self.op)!r}{extra}"


def _display(op: str) -> str:
    return "tf." + op[3:] if op.startswith("tf:") else "keras.ops." + op[3:] if op.startswith("k3:") else op


def _default_name(op: str) -> str:
    return _naming.unique_name(_naming.to_snake_case(op[3:]) if op.startswith("k3:") else "tf." + op[3:])


def keras3_op(class_name: str, config: dict[str, Any]) -> OpLayer:
    """An op layer from a Keras 3 op config (``class_name`` such as ``"Reshape"``, config ``{"name", ...}``)."""
    config = dict(config)
    name = config.pop("name", None)
    if "k3:" + class_name not in OPS:
        raise ValueError(
            f'Layer "{name}" uses the Keras operation {class_name!r} (keras.ops), which kerastorch does not implement. '
            f"Implemented operations: {', '.join(sorted(_display(k) for k in OPS))}."
        )
    for unused in ("initial", "trainable", "dtype"):  # Max(initial=None), generic op fields
        if config.get(unused) is None:
            config.pop(unused, None)
    return OpLayer("k3:" + class_name, config, name=name)


def apply(operator: str, *args: Any) -> Any:
    """A python operator applied to KerasTensors: record the Keras 3 op Keras records for it."""
    return symbolic_call(OpLayer("k3:" + _OPERATORS[operator]), args, {})


def is_op_class(class_name: str) -> bool:
    return "k3:" + class_name in OPS


set_operator_recorder(apply)  # python operators on KerasTensors (kerastorch.graph) record these op layers
