"""``Attention`` (Luong-style dot-product attention, tf.keras and Keras 3 ``layers.Attention``).

Reproduces ``tf_keras/layers/attention/{base_dense_attention,attention}.py`` and
``keras/src/layers/attention/attention.py``: inputs ``[query, value]`` or ``[query, value, key]``, scores
``query @ key^T`` (``score_mode="dot"``, times the scalar ``scale`` when ``use_scale``) or
``concat_score_weight * sum(tanh(scale * (q + k)))`` (``"concat"``); masked scores get ``-1e9`` added
(``-65504`` in float16), so a fully masked row is uniform as in Keras; softmax, dropout of the weights in
training, ``weights @ value``; the query mask zeroes the output rows and is the output mask.
``mask=[query_mask, value_mask]`` (entries may be ``None``), ``use_causal_mask`` (tf.keras's deprecated
``causal=True`` constructor argument too) and ``return_attention_scores`` are call arguments.

The dot score mode without requested scores runs as one ``F.scaled_dot_product_attention`` (the masks as an
additive ``-1e9`` bias broadcast over the query axis, causality as ``is_causal``); the other cases compute
the ``(batch, Tq, Tv)`` scores Keras defines.
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from ..._registry import LAYERS
from ...graph.keras_tensor import KerasTensor
from ...graph.symbolic import _to_spec, check_call_arguments, output_spec
from ..input_spec import InputSpec
from ..layer import Layer, WeightSpec

_SCORE_MODES = ("dot", "concat")


def _mask_bias(dtype: torch.dtype) -> float:
    return 65504.0 if dtype == torch.float16 else 1.0e9


@LAYERS.register()
class Attention(Layer):
    """Keras's ``Attention`` (see the module docstring)."""

    supports_masking = True

    def __init__(
        self,
        use_scale: bool = False,
        score_mode: str = "dot",
        dropout: float = 0.0,
        seed: int | None = None,
        causal: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self._init_common(dropout, seed, causal)
        if score_mode not in _SCORE_MODES:
            raise self._error(
                "Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. "
                f"Received: score_mode={score_mode!r}"
            )
        self.use_scale = self._bool_arg(use_scale, "use_scale")
        self.score_mode = score_mode
        self.input_spec = InputSpec(min_ndim=3)
        self._finish_init()

    # ----- arguments -----
    def _error(self, message: str) -> ValueError:
        return ValueError(f'{type(self).__name__} layer "{self.name}": {message}')

    def _bool_arg(self, value: Any, what: str) -> bool:
        if not isinstance(value, bool):
            raise self._error(f"`{what}` must be a boolean. Received: {what}={value!r}")
        return value

    def _init_common(self, dropout: Any, seed: Any, causal: Any) -> None:
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise self._error(f"`dropout` must be a float between 0 and 1. Received: dropout={dropout!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise self._error(f"Argument `seed` must be an integer. Received: seed={seed!r}")
        self.dropout = float(dropout)
        self.seed = None if seed is None else int(seed)  # config only: draws come from torch's generator
        self.causal = self._bool_arg(causal, "causal")

    # ----- weights -----
    def weight_specs(self, input_shape: Any) -> list[WeightSpec]:
        specs = []
        if self.use_scale:
            specs.append(WeightSpec("scale", (), "ones"))
        if self.score_mode == "concat":
            specs.append(WeightSpec("concat_score_weight", (), "ones"))
        return specs

    def input_shape_from_weights(self, shapes: Any) -> list[tuple]:
        return [(None, None, None), (None, None, None)]

    # ----- shapes -----
    def _split(self, shapes: Any) -> tuple[Any, Any, Any]:
        """``(query, value, key)`` of a list of shapes or of tensors (``key`` defaults to ``value``)."""
        if not isinstance(shapes, (list, tuple)) or not shapes or not isinstance(
            shapes[0], (list, tuple, torch.Size, torch.Tensor)
        ):
            got = f"a tensor of shape {tuple(shapes.shape)}" if isinstance(shapes, torch.Tensor) else repr(shapes)
            raise self._error(
                f"must be called on a list of inputs, namely [query, value] or [query, value, key]. Received: {got}."
            )
        if not 2 <= len(shapes) <= 3:
            raise self._error(
                "accepts inputs list of length 2 or 3, namely [query, value] or [query, value, key]. "
                f"Received length: {len(shapes)}."
            )
        q, v = shapes[0], shapes[1]
        return q, v, shapes[2] if len(shapes) > 2 else v

    def _check_shapes(self, shapes: Any) -> None:
        q, v, k = self._split(shapes)
        if not len(q) == len(v) == len(k):
            raise self._error(
                f"query, value and key must have the same rank. Received shapes: query={tuple(q)}, "
                f"value={tuple(v)}, key={tuple(k)}"
            )
        if None not in (q[-1], k[-1]) and q[-1] != k[-1]:
            raise self._error(
                "the last dimension of query and key must be equal. "
                f"Received shapes: query={tuple(q)}, key={tuple(k)}"
            )
        if None not in (k[-2], v[-2]) and k[-2] != v[-2]:
            raise self._error(
                "key and value must have the same number of timesteps (axis -2). "
                f"Received shapes: value={tuple(v)}, key={tuple(k)}"
            )
        for a, b in ((q, v), (q, k)):
            for x, y in zip(a[:-2], b[:-2]):
                if None not in (x, y) and x != y:
                    raise self._error(
                        "query, value and key must have the same batch dimensions. "
                        f"Received shapes: query={tuple(q)}, value={tuple(v)}, key={tuple(k)}"
                    )

    def build(self, input_shape: Any) -> None:
        self._check_shapes(input_shape)
        super().build(input_shape)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        q, v, _ = self._split(input_shape)
        return (*tuple(q)[:-1], v[-1])

    def symbolic_output_spec(self, args: tuple, kwargs: dict) -> Any:
        """A call on KerasTensors (the checks and build of ``symbolic_call``); with ``return_attention_scores``
        Keras's pair ``(output, scores)``, scores of shape ``(batch, Tq, Tv)``."""
        check_call_arguments(self, args, kwargs)
        inputs = args[0] if args else None
        if not isinstance(inputs, (list, tuple)):
            self._split(inputs)  # raises: a list of inputs is expected
        self._split([()] * len(inputs))  # raises unless 2 or 3 inputs
        if any(not isinstance(t, KerasTensor) for t in inputs):
            raise self._error("was called on a mix of symbolic KerasTensors and other values; in a functional model "
                              "every input of a layer must come from `Input` or another layer.")
        shapes = [t.shape for t in inputs]
        known = all(sh is not None for sh in shapes)
        self._symbolic_build(inputs, [tuple(sh) for sh in shapes] if known else None)
        out = output_spec(self, list(inputs))
        if not kwargs.get("return_attention_scores"):
            return out
        q, v, _ = self._split(shapes) if known else (None, None, None)
        return (out, _to_spec((*tuple(q)[:-1], v[-2]) if known else None, out[1]))

    def _on_new_inputs(self, inputs: Sequence[torch.Tensor]) -> None:
        for x in inputs:
            if not x.dtype.is_floating_point:
                raise self._error(f"expects floating point inputs. Received an input of dtype {x.dtype}.")
        self._check_shapes([tuple(x.shape) for x in inputs])

    # ----- masks -----
    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """Keras's output mask: the query mask."""
        masks = self._masks(mask)
        return None if masks is None or masks[0] is None else masks[0]

    def produces_mask(self, input_masked: Any) -> bool:
        return bool(isinstance(input_masked, (list, tuple)) and input_masked and input_masked[0])

    def _masks(self, mask: Any) -> list | None:
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)):
            raise self._error(f"mask must be a list, namely [query_mask, value_mask]. Received: mask={mask!r}.")
        if not 2 <= len(mask) <= 3:
            raise self._error(f"mask must be a list of length 2, namely [query_mask, value_mask]. Received length: {len(mask)}.")
        if all(m is None for m in mask):
            return None
        return [None if m is None else torch.as_tensor(m) for m in mask[:2]]

    def _checked_mask(self, m: torch.Tensor | None, x: torch.Tensor, what: str) -> torch.Tensor | None:
        if m is None:
            return None
        expected = tuple(x.shape[:-1])
        # `a != b and a != 1`, not `a not in (b, 1)`: dynamo compares symbolic sizes by identity inside `in`
        if m.dim() != len(expected) or any(a != b and a != 1 for a, b in zip(m.shape, expected)):
            raise self._error(
                f"the {what} mask must have shape {expected} (the {what}'s shape without its last axis). "
                f"Received: {what}_mask.shape={tuple(m.shape)}"
            )
        return m if m.dtype == torch.bool else m != 0

    # ----- the computation -----
    def _scores(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """Keras's ``_calculate_scores``: ``(..., Tq, Tv)``."""
        if self.score_mode == "dot":
            scores = torch.matmul(q, k.transpose(-1, -2))
            return scores * self.scale if self.use_scale else scores
        s = q.unsqueeze(-2) + k.unsqueeze(-3)
        if self.use_scale:
            s = self.scale * s
        return self.concat_score_weight * torch.tanh(s).sum(-1)

    def _score_mask(self, v_mask: torch.Tensor | None, causal: bool, tq: int, tv: int, device: Any) -> torch.Tensor | None:
        """Where scores take part: ``(..., 1, Tv)`` or ``(..., Tq, Tv)`` (Keras's ``_calculate_score_mask``)."""
        mask = None if v_mask is None else v_mask.unsqueeze(-2)
        if causal:
            tri = torch.ones(tq, tv, dtype=torch.bool, device=device).tril()
            mask = tri if mask is None else mask & tri
        return mask

    def call(
        self,
        inputs: Any,
        mask: Any = None,
        training: bool | None = None,
        return_attention_scores: bool = False,
        use_causal_mask: bool = False,
    ) -> Any:
        q, v, k = self._split(inputs)
        masks = self._masks(mask)
        q_mask = v_mask = None
        if masks is not None:
            q_mask = self._checked_mask(masks[0], q, "query")
            v_mask = self._checked_mask(masks[1], v, "value")
        causal = bool(use_causal_mask) or self.causal
        rate = self.dropout if training else 0.0
        if self.score_mode == "dot" and not return_attention_scores:
            out = self._fused(q, k, v, v_mask, causal, rate)
            weights = None
        else:
            scores = self._scores(q, k)
            smask = self._score_mask(v_mask, causal, scores.shape[-2], scores.shape[-1], scores.device)
            if smask is not None:
                scores = scores - (~smask).to(scores.dtype) * _mask_bias(scores.dtype)
            weights = torch.softmax(scores, dim=-1)
            if rate > 0:
                weights = F.dropout(weights, rate, training=True)
            out = torch.matmul(weights, v)
        if q_mask is not None:
            out = out * q_mask.unsqueeze(-1).to(out.dtype)
        return (out, weights) if return_attention_scores else out

    def _fused(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, v_mask: torch.Tensor | None,
               causal: bool, rate: float) -> torch.Tensor:
        """``softmax(scale * q k^T + bias) v`` by ``F.scaled_dot_product_attention`` (Keras applies no
        ``1/sqrt(d)``: the softmax scale is 1, ``use_scale``'s weight multiplies the query)."""
        if self.use_scale:
            q = q * self.scale
        bias = None
        if v_mask is not None:
            smask = self._score_mask(v_mask, causal, q.shape[-2], k.shape[-2], q.device)
            bias = (~smask).to(q.dtype) * -_mask_bias(q.dtype)
            causal = False
        return F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=rate, is_causal=causal, scale=1.0)

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "dropout": self.dropout, "use_scale": self.use_scale,
                  "score_mode": self.score_mode, "seed": self.seed}
        if self.causal:
            config["causal"] = True
        return config

    def extra_repr(self) -> str:
        parts = [f"name={self.name!r}", f"use_scale={self.use_scale}", f"score_mode={self.score_mode!r}"]
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        return ", ".join(parts + self._repr_common())
