"""``MultiHeadAttention``: Keras's multi-head attention (``keras/src/layers/attention/multi_head_attention.py``,
``tf_keras/src/layers/attention/multi_head_attention.py``).

Four ``EinsumDense`` projections named ``query``, ``key``, ``value`` and ``attention_output`` with Keras's
equations and kernel shapes (``(d_model, heads, key_dim)``, ``(heads, value_dim, d_out)``), so that weight files
name them as Keras does (``multi_head_attention/query/kernel:0``; Keras 3 ``query_dense/vars``), Keras 3's
``use_gate`` projection (``gate``), ``attention_axes`` (several axes too), dropout on the attention
probabilities, ``return_attention_scores``, ``use_causal_mask``, Keras 3's ``sliding_window``.

Masks, combined as Keras combines them: the query's mask ``[B, T, 1]``, the value's ``[B, 1, S]``, the key's
``[B, 1, S]``, the causal mask ``[1, T, S]`` and ``attention_mask`` are ANDed. A graph hands the query's
mask as ``mask`` and each tensor argument's mask as ``query_mask``/``value_mask``/``key_mask`` (Keras 3's
``<argument>_mask`` rule, ``engine/masking.py``); direct calls pass them by hand. Masked logits become
``-1e9``; a fully masked row gives uniform weights (tf.keras, and Keras 3's fused path) or zeros (Keras 3
when it materializes the scores: ``return_attention_scores``, ``dropout > 0`` or several attention axes).
A layer from a Keras 3 config follows Keras 3.

Speed: ``F.scaled_dot_product_attention`` (mask as an additive bias, ``is_causal`` when the causal mask is
the only one) unless the scores are requested, the attention spans several axes, or tf.keras's additive masking
is trained with a mask (then the explicit softmax, whose gradient through a row masked whole is Keras's). Projections are ``F.linear`` on views of the stored kernels.

Why one file of ~570 lines: it is one Keras class with Keras's whole argument surface (four sublayers,
weights in two file layouts, two Keras versions' mask rules); GroupQueryAttention reuses its methods.
"""
from __future__ import annotations

import math
import string
from typing import Any, Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ... import constraints, initializers, regularizers
from ..._registry import LAYERS
from ...dtype_policy import autocast_enabled
from ...graph.keras_tensor import KerasTensor
from ...graph.symbolic import _to_spec, check_call_arguments
from ..layer import Layer
from ..utils.mask_rules import keras3_config
from ..utils.nested_weights import NestedWeights

_SUBLAYERS = (("query_dense", "query"), ("key_dense", "key"), ("value_dense", "value"), ("output_dense", "attention_output"))


def _positive_int(value: Any, name: str, allow_none: bool = False) -> Any:
    if value is None and allow_none:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        extra = " or `None`" if allow_none else ""
        raise ValueError(
            f"Received an invalid value for argument `{name}`, expected a positive integer{extra}. "
            f"Received: {name}={value}"
        )
    return int(value)


def _einsum_dense(*args: Any, **kwargs: Any) -> Any:
    """A ``core.EinsumDense`` (Keras's projections), found through the layer registry: layer families import
    nothing from each other."""
    return LAYERS.lookup("EinsumDense")(*args, **kwargs)


def proj_equation(free_dims: int, bound_dims: int, output_dims: int) -> tuple[str, str, int]:
    """Keras's ``_build_proj_equation``: ``(equation, bias_axes, output rank)``."""
    letters = string.ascii_lowercase
    inp = letters[:free_dims]
    bound = letters[free_dims:free_dims + bound_dims]
    outs = letters[free_dims + bound_dims:free_dims + bound_dims + output_dims]
    return f"{inp}{bound},{bound}{outs}->{inp}{outs}", outs, free_dims + output_dims


def attention_equations(rank: int, attn_axes: tuple[int, ...]) -> tuple[str, str, int]:
    """Keras's ``_build_attention_equation``: ``(dot_product, combine, scores rank)``."""
    letters = string.ascii_lowercase
    target = letters[:rank]
    batch_dims = tuple(np.delete(range(rank), attn_axes + (rank - 1,)))
    offset, source = rank, ""
    for i in range(rank):
        if i in batch_dims or i == rank - 1:
            source += target[i]
        else:
            source += letters[offset]
            offset += 1
    product = "".join([target[i] for i in batch_dims] + [target[i] for i in attn_axes] + [source[i] for i in attn_axes])
    return f"{source},{target}->{product}", f"{product},{source}->{target}", len(product)


@LAYERS.register()
class MultiHeadAttention(NestedWeights, Layer):
    """Keras's ``MultiHeadAttention`` (see the module docstring); call ``mha(query, value, key=None, ...)``."""

    supports_masking = True
    _call_takes_training = True
    _call_takes_mask = True

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        dropout: float = 0.0,
        use_bias: bool = True,
        output_shape: Any = None,
        attention_axes: Any = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        use_gate: bool = False,
        sliding_window: int | None = None,
        flash_attention: bool | None = None,
        seed: int | None = None,
        query_shape: Any = None,
        key_shape: Any = None,
        value_shape: Any = None,
        softmax_robust_masking: bool = False,
        **kwargs: Any,
    ):
        self._keras3 = keras3_config(kwargs) or bool(use_gate) or sliding_window is not None or seed is not None \
            or flash_attention is not None
        super().__init__(**kwargs)
        where = f'MultiHeadAttention layer "{self.name}"'
        try:
            self.num_heads = _positive_int(num_heads, "num_heads")
            self.key_dim = _positive_int(key_dim, "key_dim")
            self.value_dim = _positive_int(value_dim, "value_dim", allow_none=True) or self.key_dim
            if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
                raise ValueError(f"`dropout` must be a float in [0, 1]. Received: dropout={dropout!r}")
            self.dropout = float(dropout)
            self.use_bias = bool(use_bias)
            if output_shape:
                if isinstance(output_shape, (int, np.integer)) and not isinstance(output_shape, bool):
                    output_shape = (int(output_shape),)
                if not isinstance(output_shape, (list, tuple)):
                    raise ValueError(
                        f"Invalid `output_shape`: {output_shape}. When specified, the `output_shape` should be of "
                        "type tuple, list, or int."
                    )
                output_shape = tuple(_positive_int(d, "output_shape") for d in output_shape)
            self._output_shape = output_shape or None
            if isinstance(attention_axes, (int, np.integer)) and not isinstance(attention_axes, bool):
                attention_axes = (int(attention_axes),)
            elif attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
                raise ValueError(f"`attention_axes` must be an int, list, or tuple.Received: attention_axes={attention_axes}")
            self.attention_axes = None if attention_axes is None else tuple(int(a) for a in attention_axes)
            self._config_axes = self.attention_axes
            self.sliding_window = _positive_int(sliding_window, "sliding_window", allow_none=True)
            self.use_gate = bool(use_gate)
            self.flash_attention = flash_attention
            if flash_attention and self.dropout > 0.0:
                raise ValueError(
                    "Dropout is not supported when flash attention is enabled. Please set dropout to 0.0 to use "
                    "flash attention."
                )
            self.seed = seed
            self.kernel_initializer = initializers.get(kernel_initializer)
            self.bias_initializer = initializers.get(bias_initializer)
            self.kernel_regularizer = regularizers.get(kernel_regularizer)
            self.bias_regularizer = regularizers.get(bias_regularizer)
            self.kernel_constraint = constraints.get(kernel_constraint)
            self.bias_constraint = constraints.get(bias_constraint)
            self._sub_activity = regularizers.get(activity_regularizer)
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
        self.softmax_robust_masking = bool(softmax_robust_masking)  # tf.keras: where() instead of adding -1e9
        self._scale = 1.0 / math.sqrt(float(self.key_dim))
        self._ranks: tuple[int, int, int] | None = None
        self._make_sublayers(3, 3, 3, None)
        self.input_spec = None
        self._check_key: tuple | None = None
        self._finish_init()
        if query_shape is not None and value_shape is not None:  # tf.keras configs carry the build shapes
            self.build([query_shape, value_shape, key_shape if key_shape is not None else value_shape])

    # ----- sublayers and weights -----
    def _common(self) -> dict[str, Any]:
        def clone(init: Any) -> Any:
            return init.__class__.from_config(init.get_config())
        return dict(kernel_initializer=clone(self.kernel_initializer), bias_initializer=clone(self.bias_initializer),
                    kernel_regularizer=self.kernel_regularizer, bias_regularizer=self.bias_regularizer,
                    activity_regularizer=self._sub_activity, kernel_constraint=self.kernel_constraint,
                    bias_constraint=self.bias_constraint, dtype=self._dtype_policy.name)

    def _make_sublayers(self, q_rank: int, v_rank: int, k_rank: int, query_dim: int | None) -> None:
        """Keras's projections for inputs of these ranks (``query_dim``: the output size when no ``output_shape``)."""
        def proj(rank: int, dim: int, name: str, activation: Any = None) -> Any:
            eq, bias_axes, out_rank = proj_equation(rank - 1, 1, 2)
            return _einsum_dense(eq, output_shape=[None] * (out_rank - 3) + [self.num_heads, dim],
                               bias_axes=bias_axes if self.use_bias else None, name=name, activation=activation,
                               **self._common())
        self.query_dense = proj(q_rank, self.key_dim, "query")
        self.key_dense = proj(k_rank, self.key_dim, "key")
        self.value_dense = proj(v_rank, self.value_dim, "value")
        if self.use_gate:
            self.gate_dense = proj(q_rank, self.value_dim, "gate", activation="sigmoid")
        out_shape = self._output_shape or (query_dim,)
        eq, bias_axes, out_rank = proj_equation(q_rank - 1, 2, len(out_shape))
        self.output_dense = _einsum_dense(eq, output_shape=[None] * (out_rank - 1 - len(out_shape)) + list(out_shape),
                                        bias_axes=bias_axes if self.use_bias else None, name="attention_output",
                                        **self._common())
        self._ranks = (q_rank, v_rank, k_rank)

    def _weight_owners(self) -> list[tuple[str, Layer]]:
        owners = [("query_dense", self.query_dense), ("key_dense", self.key_dense)]
        if self.use_gate:
            owners.append(("gate_dense", self.gate_dense))
        return owners + [("value_dense", self.value_dense), ("output_dense", self.output_dense)]

    def keras_sublayer_paths(self) -> list[tuple[str, str, Layer]]:
        return [(path, path, layer) for path, layer in self._weight_owners()]

    def _output_dim_from(self, kernel: Any) -> None:
        """Unbuilt without `output_shape`, the output size is the query's last dim: the output kernel tells it."""
        if (not self.built and not self._output_shape and kernel is not None and len(kernel) >= 3
                and not self.output_dense.built and self.output_dense.partial_output_shape[-1] != kernel[-1]):
            self._make_sublayers(*self._ranks, int(kernel[-1]))

    def weight_shapes_from(self, shapes: Mapping[str, Sequence[int]], layout: str = "keras") -> dict[str, tuple[int, ...]]:
        self._output_dim_from(shapes.get("output_dense.kernel"))
        return super().weight_shapes_from(shapes, layout)

    @property
    def compute_dtype(self) -> torch.dtype:
        """The projections' compute dtype (follows ``module.to(dtype)`` as every layer's does)."""
        return self.query_dense.compute_dtype

    def _lazy_load_hook(self, state_dict: Any, prefix: str, *args: Any) -> None:
        """``load_state_dict`` into an unbuilt layer: size the output projection from the state's kernel (its
        sublayers then build from their own weights, and this layer is built after them)."""
        kernel = state_dict.get(prefix + "output_dense.kernel")
        if not self.built and isinstance(kernel, torch.Tensor) and not isinstance(kernel, torch.nn.parameter.UninitializedTensorMixin):
            self._output_dim_from(tuple(kernel.shape))
            if not getattr(self, "_post_load_registered", False):
                self.register_load_state_dict_post_hook(lambda module, keys: module._built_from_sublayers()
                                                        if not module.built else None)
                self._post_load_registered = True

    def set_weights(self, weights: Sequence[Any]) -> None:
        weights = list(weights)
        names = self.weight_names
        if len(weights) == len(names):
            self._output_dim_from(tuple(weights[names.index("output_dense.kernel")].shape))
        super().set_weights(weights)

    def _input_shape_from_sublayer(self, shape: Any) -> Any:
        q = list(self.query_dense._build_shape)
        v = list(self.value_dense._build_shape)
        k = list(self.key_dense._build_shape)
        return [q, v, k]

    def build(self, input_shape: Any) -> None:
        """Keras's ``build(query_shape, value_shape, key_shape=None)`` from ``[query, value(, key)]`` shapes."""
        shapes = [tuple(s) for s in input_shape]
        q, v = shapes[0], shapes[1]
        k = shapes[2] if len(shapes) > 2 and shapes[2] is not None else v
        if tuple(v[1:-1]) != tuple(k[1:-1]):
            raise ValueError(
                f'MultiHeadAttention layer "{self.name}": All dimensions of `value` and `key`, except the last one, '
                f"must be equal. Received: value_shape={v} and key_shape={k}"
            )
        ranks = (len(q), len(v), len(k))
        if any(not sub.built for _, sub in self._weight_owners()):
            if ranks != self._ranks or (not self._output_shape and self.output_dense.partial_output_shape[-1] != q[-1]):
                self._make_sublayers(*ranks, q[-1])
            self.query_dense.build(q)
            self.key_dense.build(k)
            if self.use_gate:
                self.gate_dense.build(q)
            self.value_dense.build(v)
            o = list(self.query_dense.compute_output_shape(q))
            o[-1] = self.value_dim
            self.output_dense.build(tuple(o))
        self._build_attention(len(q) + 1)

    def _build_attention(self, rank: int) -> None:
        axes = self._config_axes
        if axes is None:
            axes = tuple(range(1, rank - 2))
        else:
            axes = tuple(a if a >= 0 else (rank - 1) + a for a in axes)
        if any(not 0 < a < rank - 2 for a in axes) or len(set(axes)) != len(axes):
            raise ValueError(
                f'MultiHeadAttention layer "{self.name}": `attention_axes` {self._config_axes} must name distinct '
                f"axes of the inputs other than the batch and the last one (inputs of rank {rank - 1})."
            )
        self._axes = axes
        self._dot_eq, self._combine_eq, self._scores_rank = attention_equations(rank, axes)
        self._fused_ok = axes == (rank - 3,) and rank == 4

    def get_build_config(self) -> dict[str, Any] | None:
        """Keras 3's ``{"shapes_dict": {"query_shape", "value_shape", "key_shape"}}``."""
        if not self.built:
            return None
        q, v, k = (list(s) for s in self._build_shape)
        return {"shapes_dict": {"query_shape": q, "value_shape": v, "key_shape": k}}

    def build_from_config(self, config: dict[str, Any]) -> None:
        shapes = (config or {}).get("shapes_dict") or config or {}
        if shapes.get("query_shape") is not None and shapes.get("value_shape") is not None:
            self.build([shapes["query_shape"], shapes["value_shape"], shapes.get("key_shape")])
        elif shapes.get("input_shape") is not None:
            self.build(shapes["input_shape"])

    def compute_output_shape(self, query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> tuple:
        if isinstance(query_shape, list) and query_shape and isinstance(query_shape[0], (list, tuple)):
            query_shape, value_shape = query_shape[0], query_shape[1]
        q = tuple(query_shape)
        return q[:-1] + (self._output_shape or (q[-1],))

    def symbolic_output_spec(self, args: tuple, kwargs: dict) -> Any:
        """A call on KerasTensors: build from the shapes of query, value and key (checked as Keras does)."""
        check_call_arguments(self, args, kwargs)
        q, v, k = self._qvk(args, kwargs)
        for label, t in (("query", q), ("value", v), ("key", k)):  # forward's check, on the graph's arguments
            if t is not None and not isinstance(t, KerasTensor):
                raise ValueError(f'MultiHeadAttention layer "{self.name}": `{label}` must be a tensor; received {type(t).__name__}.')
        shapes = [t.shape if isinstance(t, KerasTensor) else None for t in (q, v, k)]
        if not self.built and shapes[0] is not None and shapes[1] is not None:
            self.build([shapes[0], shapes[1], shapes[2] if shapes[2] is not None else shapes[1]])
        if shapes[0] is not None and shapes[1] is not None:
            self._check_shapes(tuple(shapes[0]), tuple(shapes[1]), tuple(shapes[2] or shapes[1]))
        dtype = q.dtype if isinstance(q, KerasTensor) else torch.float32
        out = _to_spec(None if shapes[0] is None else self.compute_output_shape(shapes[0]), dtype)
        if kwargs.get("return_attention_scores"):
            known = shapes[0] is not None and shapes[1] is not None
            scores = self._scores_shape(tuple(shapes[0]), tuple(shapes[2] or shapes[1])) if known else None
            return (out, _to_spec(scores, dtype))  # Keras returns the pair as a tuple
        return out

    def _scores_shape(self, q: tuple, k: tuple) -> tuple:
        """The attention scores' shape, as the call gives it (tf.keras's symbolic shape): ``(batch, *other axes,
        heads, *query attention axes, *key attention axes)``. Keras 3's symbolic shape takes the query's axes for
        the key's (``(B, H, T, T)`` for cross attention), which is not what its call returns."""
        axes = self._axes
        other = tuple(q[i] for i in range(1, len(q) - 1) if i not in axes)
        return (q[0], *other, self.num_heads, *(q[a] for a in axes), *(k[a] for a in axes))

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        """torch's lazy-module hook: build from the shapes of the first call's query, value and key."""
        if not self.built and args:
            q, v, k = self._qvk(args, kwargs)
            if all(isinstance(t, torch.Tensor) for t in (q, v)):
                k = v if k is None else k
                self.build([tuple(q.shape), tuple(v.shape), tuple(k.shape)])

    def _qvk(self, args: tuple, kwargs: dict) -> tuple[Any, Any, Any]:
        names = ("query", "value", "key")
        got = list(args[:3]) + [None] * (3 - len(args[:3]))
        for i, n in enumerate(names):
            if n in kwargs:
                got[i] = kwargs[n]
        if got[1] is None:
            raise ValueError(f'MultiHeadAttention layer "{self.name}" needs a `value` tensor: call it as layer(query, value).')
        return got[0], got[1], got[2]

    # ----- checks -----
    def _check_shapes(self, q: tuple, v: tuple, k: tuple) -> None:
        """Keras's checks on the call's shapes, each ValueError naming the layer."""
        where = f'MultiHeadAttention layer "{self.name}"'
        built = self._build_shape
        for label, shape, want in (("query", q, built[0]), ("value", v, built[1]), ("key", k, built[2])):
            if len(shape) != len(want) or (want[-1] is not None and shape[-1] is not None and shape[-1] != want[-1]):
                raise ValueError(
                    f"{where}: expected `{label}` of shape (batch, ..., {want[-1]}) with rank {len(want)} (the shape it "
                    f"was built with: {tuple(want)}); received {label} of shape {shape}."
                )
        if tuple(v[1:-1]) != tuple(k[1:-1]):
            raise ValueError(
                f"{where}: All dimensions of `value` and `key`, except the last one, must be equal. Received: "
                f"value_shape={v} and key_shape={k}"
            )
        batches = [d for d in (q[0], v[0], k[0]) if d is not None]
        # pairwise !=, not a set: under torch.jit.trace (ONNX's legacy exporter) sizes are distinct tensors
        if any(a != b for a, b in zip(batches, batches[1:])):
            raise ValueError(f"{where}: `query`, `value` and `key` must have the same batch size; received {q}, {v} and {k}.")

    # ----- call -----
    def forward(self, query: Any, value: Any = None, key: Any = None, query_mask: Any = None, value_mask: Any = None,
                key_mask: Any = None, attention_mask: Any = None, return_attention_scores: bool = False,
                training: bool | None = None, use_causal_mask: bool = False, mask: Any = None) -> Any:
        if value is None:
            raise ValueError(f'MultiHeadAttention layer "{self.name}" needs a `value` tensor: call it as layer(query, value).')
        for label, t in (("query", query), ("value", value), ("key", key)):
            if t is not None and not isinstance(t, torch.Tensor):
                raise ValueError(f'MultiHeadAttention layer "{self.name}": `{label}` must be a tensor; received {type(t).__name__}.')
        if return_attention_scores and self.flash_attention:
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": Returning attention scores is not supported when flash '
                "attention is enabled. Please disable flash attention to access attention scores."
            )
        self_value = value is query
        self_key = key is None or key is query
        if key is None:
            key = value
        if mask is not None:  # the graph's mask of the query (and of value/key when they are the query)
            if query_mask is None:
                query_mask = mask
            if self_value and value_mask is None:
                value_mask = mask
            if self_key and self_value and key_mask is None and key is not value:
                key_mask = mask
        compiling = torch.compiler.is_compiling() or torch.jit.is_tracing()
        ck = (query.shape, value.shape, key.shape, query.dtype)
        if compiling or ck != self._check_key:
            if not self.built:
                self.build([tuple(query.shape), tuple(value.shape), tuple(key.shape)])
            self._check_shapes(tuple(query.shape), tuple(value.shape), tuple(key.shape))
            for label, t in (("query", query), ("value", value), ("key", key)):
                if t.is_complex():
                    raise ValueError(f'MultiHeadAttention layer "{self.name}": `{label}` must be real; received {t.dtype}.')
            if not compiling:
                self._check_key = ck
        dtype = self.compute_dtype
        query, value, key = (t.to(dtype) if (t.dtype != dtype and not autocast_enabled(t.device)) else t
                             for t in (query, value, key))
        training = self.training if training is None else bool(training)
        return self._attend(query, value, key, query_mask, value_mask, key_mask, attention_mask,
                            bool(return_attention_scores), training, bool(use_causal_mask))

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The query's mask (Keras sets it on the output)."""
        return mask[0] if isinstance(mask, (list, tuple)) else mask

    def _project(self, layer: Any, x: torch.Tensor) -> torch.Tensor:
        y = layer.project(x)
        if layer.activity_regularizer is not None:
            layer._record_activity(y)
        return y

    def _combined_mask(self, query: torch.Tensor, value: torch.Tensor, query_mask: Any, value_mask: Any, key_mask: Any,
                       attention_mask: Any, causal: bool) -> torch.Tensor | None:
        """Keras's ``_compute_attention_mask``: every mask ANDed, shape broadcastable to ``[B, T, S]``."""
        auto = None
        if query_mask is not None:
            auto = query_mask.bool().unsqueeze(-1)
        for m in (value_mask, key_mask):
            if m is not None:
                m = m.bool().unsqueeze(-2)
                auto = m if auto is None else auto & m
        if causal or self.sliding_window is not None:
            t, s = query.shape[1], value.shape[1]
            rows = torch.arange(t, device=query.device).unsqueeze(-1)
            cols = torch.arange(s, device=query.device).unsqueeze(0)
            if causal:
                m = (rows >= cols).unsqueeze(0)
                auto = m if auto is None else auto & m
            if self.sliding_window is not None:
                m = ((rows - cols).abs() < self.sliding_window).unsqueeze(0)
                auto = m if auto is None else auto & m
        if attention_mask is not None:
            if not isinstance(attention_mask, torch.Tensor):
                attention_mask = torch.as_tensor(np.asarray(attention_mask), device=query.device)
            if auto is not None or self._keras3:
                attention_mask = attention_mask.bool() if (attention_mask.dtype == torch.bool or not self._keras3) \
                    else attention_mask > 0.5
        if auto is not None:
            return auto if attention_mask is None else attention_mask & auto
        return attention_mask

    def _expand_mask(self, mask: torch.Tensor, scores_rank: int, scores_shape: Any) -> torch.Tensor:
        """Keras's ``_masked_softmax`` expansion: new axes before the attention axes (the heads' place)."""
        n_attn = len(self._axes)
        where = f'MultiHeadAttention layer "{self.name}"'
        if mask.dim() > scores_rank:
            raise ValueError(f"{where}: the attention mask of shape {tuple(mask.shape)} has more dimensions than the "
                             f"attention scores {tuple(scores_shape)}.")
        while mask.dim() < scores_rank:
            mask = mask.unsqueeze(mask.dim() - 2 * n_attn)
        for m, s in zip(mask.shape, scores_shape):
            if m != 1 and m != s:
                raise ValueError(
                    f"{where}: the attention mask of shape {tuple(mask.shape)} (after Keras adds the heads axis) does "
                    f"not broadcast to the attention scores of shape {tuple(scores_shape)} (batch, heads, query, key)."
                )
        return mask

    def _neg(self, dtype: torch.dtype) -> float:
        if dtype == torch.float16:
            return -3e4 if self._keras3 else -65504.0
        return -1e9

    def _additive(self, mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """The mask as the bias Keras's softmax adds (``-1e9`` where masked)."""
        if mask.dtype == torch.bool:
            return (~mask).to(dtype) * self._neg(dtype)
        return (1.0 - mask.to(dtype)) * self._neg(dtype)

    def _kv_heads(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The projected key and value heads the query heads attend to (GroupQueryAttention repeats them)."""
        return k, v

    def _attend(self, query: torch.Tensor, value: torch.Tensor, key: torch.Tensor, query_mask: Any, value_mask: Any,
                key_mask: Any, attention_mask: Any, return_scores: bool, training: bool, causal: bool) -> Any:
        gate = self._project(self.gate_dense, query) if self.use_gate else None
        causal_only = (causal and query_mask is None and value_mask is None and key_mask is None
                       and attention_mask is None and self.sliding_window is None)
        mask = None if causal_only else self._combined_mask(query, value, query_mask, value_mask, key_mask,
                                                            attention_mask, causal)
        q = self._project(self.query_dense, query)
        k, v = self._kv_heads(self._project(self.key_dense, key), self._project(self.value_dense, value))
        dropout = self.dropout if training else 0.0
        # Keras 3 materializes the scores (and zeroes fully masked rows) when it cannot take its fused path
        zero_rows = self._keras3 and (self.dropout > 0.0 or return_scores or not self._fused_ok)
        scores = None
        # Rows masked whole (a query mask's padded positions, an attention_mask row) give Keras's uniform weights,
        # but the fused kernels' backward on a row of -1e9 biases is not Keras's gradient. Keras 3 (and
        # softmax_robust_masking) replace masked logits (where()): no gradient reaches q or k through such a row,
        # which the fused kernel gives with the row unmasked and its query zeroed (uniform weights from zero
        # logits). tf.keras adds the bias, so its gradient flows through the masked logits: the math path.
        where_masking = self._keras3 or self.softmax_robust_masking
        training_mask = mask is not None and torch.is_grad_enabled()
        fused = self._fused_ok and not return_scores and not (training_mask and not where_masking)
        if fused:
            qh, kh, vh = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # (B, H, T, K) views
            bias = None
            if mask is not None:
                mask = self._expand_mask(mask, 4, (q.shape[0], self.num_heads, q.shape[1], k.shape[1]))
                if training_mask:
                    keep = mask if mask.dtype == torch.bool else mask > 0.5
                    live = keep.any(-1, keepdim=True)
                    mask, qh = keep | ~live, qh * live.to(qh.dtype)
                bias = self._additive(mask, q.dtype)
            out = F.scaled_dot_product_attention(qh, kh, vh, attn_mask=bias, dropout_p=dropout,
                                                 is_causal=causal_only, scale=self._scale)
            if zero_rows and mask is not None and mask.dtype == torch.bool:
                out = out * mask.any(-1, keepdim=True).to(out.dtype)
            out = out.transpose(1, 2)
        else:
            if self._fused_ok:  # (B, H, T, S) scores as batched matmuls on the (B, H, T, K) views
                logits = torch.matmul(q.transpose(1, 2) * self._scale, k.permute(0, 2, 3, 1))
            else:
                logits = torch.einsum(self._dot_eq, k, q * self._scale)
            if causal_only:
                mask = self._combined_mask(query, value, None, None, None, None, True)
            if mask is not None:
                mask = self._expand_mask(mask, logits.dim(), logits.shape)
                if self._keras3 or self.softmax_robust_masking:  # where(): no gradient through masked logits
                    keep = mask if mask.dtype == torch.bool else mask > 0.5
                    logits = logits.masked_fill(~keep, self._neg(logits.dtype))
                else:  # tf.keras adds (1 - mask) * -1e9
                    logits = logits + self._additive(mask, logits.dtype)
            n = len(self._axes)
            if n == 1:
                probs = torch.softmax(logits, dim=-1)
            else:
                norm = tuple(range(logits.dim() - n, logits.dim()))
                probs = torch.exp(logits - torch.logsumexp(logits, dim=norm, keepdim=True))
            if zero_rows and mask is not None:
                probs = probs * (mask if mask.dtype == torch.bool else mask > 0.5).to(probs.dtype)
            scores = probs
            if dropout > 0.0:
                probs = F.dropout(probs, dropout, True)
            if self._fused_ok:
                out = torch.matmul(probs, v.transpose(1, 2)).transpose(1, 2)
            else:
                out = torch.einsum(self._combine_eq, probs, v)
        if gate is not None:
            out = out * gate
        y = self._project(self.output_dense, out)
        return (y, scores) if return_scores else y

    # ----- config / repr -----
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "output_shape": None if self._output_shape is None else list(self._output_shape),
            # Keras writes the axes resolved at build
            "attention_axes": list(self._axes) if self.built else (None if self._config_axes is None else list(self._config_axes)),
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self._sub_activity),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        })
        if self._keras3:
            config.update({"use_gate": self.use_gate, "sliding_window": self.sliding_window, "seed": self.seed})
        elif self.built:
            q, v, k = self._build_shape
            config.update({"query_shape": list(q), "key_shape": list(k), "value_shape": list(v)})
        if not self._keras3:
            config["softmax_robust_masking"] = self.softmax_robust_masking
        return config

    def extra_repr(self) -> str:
        parts = [f"name={self.name!r}", f"num_heads={self.num_heads}", f"key_dim={self.key_dim}"]
        if self.value_dim != self.key_dim:
            parts.append(f"value_dim={self.value_dim}")
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        if self._config_axes is not None:
            parts.append(f"attention_axes={self._config_axes}")
        return ", ".join(parts + self._repr_common())
