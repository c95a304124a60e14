"""``CategoryEncoding``: integer indices in ``[0, num_tokens)`` as one-hot, multi-hot or count vectors (tf.keras and
Keras 3, which agree up to rank 2; a rank > 2 multi_hot/count input follows Keras 3, which reduces axis 1, where
tf.keras refuses it)."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from ..._registry import LAYERS
from ..input_spec import InputSpec
from .categorical import (CategoricalLayer, check_dense, check_output_mode, check_range, check_size, encoded_shape,
                          layer_label)
from .encoding_utils import encode_categorical_inputs


@LAYERS.register()
class CategoryEncoding(CategoricalLayer):
    """Keras ``CategoryEncoding(num_tokens, output_mode='multi_hot', sparse=False)``.

    ``one_hot`` encodes each element (a trailing axis of size 1 is replaced by the encoding), ``multi_hot`` and
    ``count`` encode the last axis as one sample; ``call(inputs, count_weights=...)`` sums the weights instead of
    1 (``count`` only). An index outside ``[0, num_tokens)`` is a ValueError (tf.keras's check). The output has the
    layer's dtype (float32 by default).
    """

    def __init__(self, num_tokens: int | None = None, output_mode: str = "multi_hot", sparse: bool = False,
                 **kwargs: Any):
        if "max_tokens" in kwargs:  # tf.keras's deprecated name
            num_tokens = kwargs.pop("max_tokens")
        if output_mode == "binary":
            output_mode = "multi_hot"
        check_output_mode(layer_label("CategoryEncoding", kwargs), output_mode,
                          ("count", "one_hot", "multi_hot"))
        kwargs = self._init_output(kwargs, output_mode, None)
        super().__init__(**kwargs)
        if num_tokens is None:
            raise self._error(
                "num_tokens must be set to use this layer. If the number of tokens is not known beforehand, use "
                "the IntegerLookup layer instead."
            )
        if isinstance(num_tokens, bool) or not isinstance(num_tokens, int) or num_tokens < 1:
            raise self._error(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens!r}.")
        check_size(layer_label("CategoryEncoding", {"name": self.name}), "num_tokens", num_tokens)
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = check_dense(layer_label("CategoryEncoding", {"name": self.name}), sparse)
        self.input_spec = InputSpec(float_only=False)
        self._finish_init()

    def _check_count_weights(self, count_weights: Any, shape: Any, weights_shape: Any) -> None:
        """Keras's checks of ``count_weights`` against the mode and the input's shape (``None`` dims of a symbolic
        shape match any size; an unknown shape is not compared)."""
        if self.output_mode != "count":
            raise self._error(
                "`count_weights` is not used when `output_mode` is not `'count'`. "
                f"Received `count_weights={count_weights}`."
            )
        if shape is None or weights_shape is None:
            return
        if len(weights_shape) != len(shape) or any(a is not None and b is not None and a != b
                                                   for a, b in zip(weights_shape, shape)):
            raise self._error(
                f"`count_weights` must have the shape of the input {tuple(shape)}. Received "
                f"`count_weights` of shape {tuple(weights_shape)}."
            )

    def _symbolic_check_arguments(self, args: tuple, kwargs: dict) -> None:
        """When the graph is built (Keras runs the call symbolically): the call's ``count_weights`` checks."""
        weights = kwargs.get("count_weights", args[1] if len(args) > 1 else None)
        if weights is not None:
            shape = getattr(weights, "shape", None) if hasattr(weights, "shape") else np.shape(weights)
            self._check_count_weights(weights, getattr(args[0], "shape", None), shape)

    def call(self, inputs: torch.Tensor, count_weights: Any = None) -> torch.Tensor:
        indices = inputs if not inputs.dtype.is_floating_point else inputs.to(torch.int64)
        if count_weights is not None:
            if self.output_mode == "count":
                count_weights = torch.as_tensor(count_weights, device=indices.device).to(self.output_dtype)
            shape = tuple(count_weights.shape) if isinstance(count_weights, torch.Tensor) else None
            self._check_count_weights(count_weights, tuple(indices.shape), shape)
        check_range(self, indices, self.num_tokens)
        return encode_categorical_inputs(indices, self.output_mode, self.num_tokens, dtype=self.output_dtype,
                                         count_weights=count_weights)

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        return encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_tokens": self.num_tokens, "output_mode": self.output_mode,
                "sparse": self.sparse}

    def extra_repr(self) -> str:
        return f"num_tokens={self.num_tokens}, " + super().extra_repr()
