"""``GroupQueryAttention``: Keras 3's grouped-query attention (``keras/src/layers/attention/grouped_query_attention.py``).

``num_query_heads`` query heads share ``num_key_value_heads`` key/value heads (each repeated
``num_query_heads // num_key_value_heads`` times, as ``ops.repeat`` does: head ``i`` serves query heads
``i*r .. i*r+r-1``). Projections with Keras's equations and names: ``query`` ``bqm,muh->bquh``, ``key``/``value``
``bkm,mvh->bkvh``, Keras 3's ``gate``, ``attention_output`` ``bquh,uhm->bqm``; masks, causal and sliding-window
masks, dropout and scores as in :class:`MultiHeadAttention` (Keras 3's rules), on
``F.scaled_dot_product_attention`` unless the scores are requested.
"""
from __future__ import annotations

from typing import Any

import torch

from ..._registry import LAYERS
from .multi_head_attention import MultiHeadAttention, _einsum_dense, _positive_int


@LAYERS.register("GroupedQueryAttention")
class GroupQueryAttention(MultiHeadAttention):
    """Keras 3's ``GroupQueryAttention(head_dim, num_query_heads, num_key_value_heads, dropout=0.0, use_bias=True,
    ...)``; call it as ``layer(query, value, key=None, ...)`` (query and value with the same last dimension)."""

    #: Keras 3's Python class (weight-file paths: ``layers/grouped_query_attention``); configs say GroupQueryAttention
    _keras_python_class = "GroupedQueryAttention"

    def __init__(self, head_dim: int, num_query_heads: int, num_key_value_heads: int, dropout: float = 0.0,
                 use_bias: bool = True, sliding_window: int | None = None, flash_attention: bool | None = None,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, use_gate: bool = False,
                 seed: int | None = None, **kwargs: Any):
        where = f'GroupQueryAttention layer "{kwargs.get("name") or "group_query_attention"}"'
        try:
            kv = _positive_int(num_key_value_heads, "num_key_value_heads")
            heads = _positive_int(num_query_heads, "num_query_heads")
            if heads % kv != 0:
                raise ValueError(
                    "`num_query_heads` must be divisible by `num_key_value_heads`. Received: "
                    f"num_query_heads={heads}, num_key_value_heads={kv}"
                )
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
        self.num_key_value_heads = kv
        self.num_repeats = heads // kv
        super().__init__(heads, head_dim, dropout=dropout, use_bias=use_bias, sliding_window=sliding_window,
                         flash_attention=flash_attention, kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer, activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint, use_gate=use_gate,
                         seed=seed, **kwargs)
        self._keras3 = True

    @property
    def head_dim(self) -> int:
        return self.key_dim

    @property
    def num_query_heads(self) -> int:
        return self.num_heads

    def _make_sublayers(self, q_rank: int, v_rank: int, k_rank: int, query_dim: int | None) -> None:
        def proj(eq: str, heads: int, bias: str, name: str, activation: Any = None) -> Any:
            return _einsum_dense(eq, output_shape=(None, heads, self.key_dim), bias_axes=bias if self.use_bias else None,
                                 name=name, activation=activation, **self._common())
        self.query_dense = proj("bqm,muh->bquh", self.num_heads, "uh", "query")
        self.key_dense = proj("bkm,mvh->bkvh", self.num_key_value_heads, "vh", "key")
        if self.use_gate:
            self.gate_dense = proj("bqm,muh->bquh", self.num_heads, "uh", "gate", activation="sigmoid")
        self.value_dense = proj("bkm,mvh->bkvh", self.num_key_value_heads, "vh", "value")
        self.output_dense = _einsum_dense("bquh,uhm->bqm", output_shape=(None, query_dim),
                                          bias_axes="m" if self.use_bias else None, name="attention_output",
                                          **self._common())
        self._ranks = (q_rank, v_rank, k_rank)

    def keras_sublayer_paths(self) -> list[tuple[str, str, Any]]:
        """Keras 3 keeps GroupedQueryAttention's projections under their private attribute names (``_query_dense``)."""
        return [("_" + path, path, layer) for path, layer in self._weight_owners()]

    def build(self, input_shape: Any) -> None:
        q, v = tuple(input_shape[0]), tuple(input_shape[1])
        if len(q) != 3 or len(v) != 3:
            raise ValueError(
                f'GroupQueryAttention layer "{self.name}": expected query and value of rank 3 (batch, sequence, '
                f"features); received query_shape={q}, value_shape={v}."
            )
        if q[-1] is not None and v[-1] is not None and q[-1] != v[-1]:
            raise ValueError(
                f'GroupQueryAttention layer "{self.name}": The last dimension of `query_shape` and `value_shape` must '
                f"be equal, but are {q[-1]}, {v[-1]}. Received: query_shape={q}, value_shape={v}"
            )
        super().build(input_shape)

    def _kv_heads(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.num_repeats == 1:
            return k, v
        return k.repeat_interleave(self.num_repeats, dim=2), v.repeat_interleave(self.num_repeats, dim=2)

    def get_config(self) -> dict[str, Any]:
        base = super().get_config()
        config = {k: base[k] for k in ("name", "trainable", "dtype") if k in base}
        config.update({
            "head_dim": self.key_dim, "num_query_heads": self.num_heads,
            "num_key_value_heads": self.num_key_value_heads, "use_bias": self.use_bias, "use_gate": self.use_gate,
            "sliding_window": self.sliding_window, "dropout": self.dropout,
        })
        for k in ("kernel_initializer", "bias_initializer", "kernel_regularizer", "bias_regularizer",
                  "activity_regularizer", "kernel_constraint", "bias_constraint", "seed"):
            config[k] = base[k]
        return config

    def extra_repr(self) -> str:
        parts = [f"name={self.name!r}", f"head_dim={self.key_dim}", f"num_query_heads={self.num_heads}",
                 f"num_key_value_heads={self.num_key_value_heads}"]
        return ", ".join(parts + self._repr_common())


# Keras 3's class is GroupedQueryAttention, exported (and written in configs) as GroupQueryAttention
GroupedQueryAttention = GroupQueryAttention
