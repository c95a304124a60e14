"""``ReversibleEmbedding``: Keras 3's embedding that can also project back to the vocabulary.

Reproduces ``keras/src/layers/core/reversible_embedding.py`` (Keras 3.15): ``call(ids)`` is an
``Embedding`` lookup (with its ``mask_zero`` mask); ``call(hidden, reverse=True)`` gives the logits
``hidden @ embeddings.T`` (``tie_weights=True``, the default) or ``hidden @ reverse_embeddings``
(``(output_dim, input_dim)``, own weight), in ``reverse_dtype`` when given, soft-capped as
``tanh(logits / cap) * cap`` with ``logit_soft_cap``.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from ... import dtype_policy
from ..._registry import LAYERS
from ..layer import WeightSpec
from .embedding import Embedding


@LAYERS.register()
class ReversibleEmbedding(Embedding):
    """Keras 3 ``ReversibleEmbedding(input_dim, output_dim, tie_weights=True, embeddings_initializer='uniform',
    embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False, reverse_dtype=None,
    logit_soft_cap=None)``; ``call(inputs, reverse=False)``."""

    def __init__(self, input_dim: int, output_dim: int, tie_weights: bool = True, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, embeddings_constraint: Any = None, mask_zero: bool = False,
                 reverse_dtype: Any = None, logit_soft_cap: float | None = None, **kwargs: Any):
        self.tie_weights = bool(tie_weights)
        self.reverse_dtype = reverse_dtype
        self._reverse_torch_dtype = None if reverse_dtype is None else dtype_policy.get(reverse_dtype).compute_dtype
        self.logit_soft_cap = None if logit_soft_cap is None else float(logit_soft_cap)
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer, embeddings_constraint=embeddings_constraint,
                         mask_zero=mask_zero, **kwargs)

    def weight_specs(self, input_shape: Any) -> list[WeightSpec]:
        specs = super().weight_specs(input_shape)
        if not self.tie_weights:
            specs.append(WeightSpec("reverse_embeddings", (self.output_dim, self.input_dim), self.embeddings_initializer))
        return specs

    def call(self, inputs: torch.Tensor, reverse: bool = False) -> torch.Tensor:
        if not reverse:
            return super().call(inputs)
        if not inputs.is_floating_point():
            raise ValueError(f'ReversibleEmbedding layer "{self.name}": `reverse=True` projects floating hidden states '
                             f"of shape (..., {self.output_dim}); received dtype {inputs.dtype}.")
        if inputs.shape[-1] != self.output_dim:
            raise ValueError(f'ReversibleEmbedding layer "{self.name}": `reverse=True` expects the last axis to be '
                             f"output_dim={self.output_dim}; received input shape {tuple(inputs.shape)}.")
        kernel = self.effective_embeddings().t() if self.tie_weights else self.reverse_embeddings
        if self._reverse_torch_dtype is not None:
            inputs, kernel = inputs.to(self._reverse_torch_dtype), kernel.to(self._reverse_torch_dtype)
        logits = torch.matmul(inputs, kernel)
        if self.logit_soft_cap is not None:
            logits = torch.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return logits

    def compute_mask(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor | None:
        """The lookup's ``ids != 0`` (``mask_zero``); none for the reverse projection (floating input)."""
        if isinstance(inputs, torch.Tensor) and inputs.is_floating_point():
            return None
        return super().compute_mask(inputs, mask)

    def compute_output_shape(self, input_shape: Sequence[int | None], reverse: bool = False) -> tuple[int | None, ...]:
        shape = tuple(None if d is None else int(d) for d in input_shape)
        return (*shape[:-1], self.input_dim) if reverse else (*shape, self.output_dim)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        for key in ("batch_input_shape", "input_length"):  # Keras 3 only: no tf.keras keys
            if config.get(key) in (None, [None, None], (None, None)):
                config.pop(key, None)
        config.update({"quantization_config": None, "tie_weights": self.tie_weights, "reverse_dtype": self.reverse_dtype,
                       "logit_soft_cap": self.logit_soft_cap})
        return config
