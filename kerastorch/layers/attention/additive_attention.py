"""``AdditiveAttention`` (Bahdanau-style attention, tf.keras and Keras 3 ``layers.AdditiveAttention``).

Scores ``sum(scale * tanh(q[..., :, None, :] + k[..., None, :, :]), -1)`` with a per-feature ``scale`` of
shape ``(dim,)`` (glorot-uniform) when ``use_scale`` (the default), then masking, softmax, dropout and the
query mask exactly as :class:`Attention`. ``dim`` is the query's last axis (Keras 3; tf.keras reads the
value's, which must be the same size for the scores to broadcast).
"""
from __future__ import annotations

from typing import Any

import torch

from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer, WeightSpec
from .attention import Attention


@LAYERS.register()
class AdditiveAttention(Attention):
    """Keras's ``AdditiveAttention`` (see the module docstring)."""

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, seed: int | None = None,
                 causal: bool = False, **kwargs: Any):
        Layer.__init__(self, **kwargs)
        self._init_common(dropout, seed, causal)
        self.use_scale = self._bool_arg(use_scale, "use_scale")
        self.score_mode = "additive"
        self.input_spec = InputSpec(min_ndim=3)
        self._finish_init()

    def weight_specs(self, input_shape: Any) -> list[WeightSpec]:
        if not self.use_scale:
            return []
        dim = None if input_shape is None else input_shape[0][-1]
        return [WeightSpec("scale", (dim,), "glorot_uniform")]

    def input_shape_from_weights(self, shapes: Any) -> list[tuple]:
        (dim,) = tuple(shapes["scale"])
        return [(None, None, dim), (None, None, dim)]

    def _scores(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        t = torch.tanh(q.unsqueeze(-2) + k.unsqueeze(-3))
        return (t * self.scale).sum(-1) if self.use_scale else t.sum(-1)

    def get_config(self) -> dict[str, Any]:
        config = {**Layer.get_config(self), "dropout": self.dropout, "use_scale": self.use_scale, "seed": self.seed}
        if self.causal:
            config["causal"] = True
        return config

    def extra_repr(self) -> str:
        parts = [f"name={self.name!r}", f"use_scale={self.use_scale}"]
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        return ", ".join(parts + self._repr_common())
