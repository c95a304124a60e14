"""The custom layers of ``keras.applications`` models (ConvNeXt's ``LayerScale`` and ``StochasticDepth``).

Reproduces keras/src/applications/convnext.py (same in tf_keras): ``LayerScale(init_values, projection_dim)``
multiplies by a trainable ``gamma`` of shape ``(projection_dim,)`` (initialized to ``init_values``);
``StochasticDepth(drop_path_rate)`` drops whole samples in training, scaling the kept ones by
``1 / (1 - rate)``, and is the identity in inference.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch

from .. import initializers
from .._registry import LAYERS
from .input_spec import InputSpec
from .layer import Layer, WeightSpec


@LAYERS.register()
class LayerScale(Layer):
    """ConvNeXt's ``LayerScale``: ``x * gamma`` over the last axis."""

    def __init__(self, init_values: float, projection_dim: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.init_values = float(init_values)
        self.projection_dim = int(projection_dim)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: self.projection_dim})
        self._finish_init()

    def weight_specs(self, input_shape: Any) -> list[WeightSpec]:
        return [WeightSpec("gamma", (self.projection_dim,), initializers.Constant(self.init_values))]

    def input_shape_from_weights(self, shapes: Mapping[str, tuple[int, ...]]) -> Any:
        return (None, self.projection_dim)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs * self.gamma

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "init_values": self.init_values, "projection_dim": self.projection_dim}


@LAYERS.register()
class StochasticDepth(Layer):
    """ConvNeXt's ``StochasticDepth`` (drop path): per-sample dropping of the residual branch in training."""

    def __init__(self, drop_path_rate: float, **kwargs: Any):
        super().__init__(**kwargs)
        self.drop_path_rate = float(drop_path_rate)
        self._finish_init()

    def call(self, inputs: torch.Tensor, training: bool = False) -> torch.Tensor:
        if training and self.drop_path_rate > 0:
            keep = 1.0 - self.drop_path_rate
            shape = (inputs.shape[0],) + (1,) * (inputs.dim() - 1)
            mask = torch.floor(keep + torch.rand(shape, dtype=inputs.dtype, device=inputs.device))
            return inputs / keep * mask
        return inputs

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "drop_path_rate": self.drop_path_rate}
