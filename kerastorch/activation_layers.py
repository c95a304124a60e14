"""tf.keras activation *layers* usable as ``activation=`` identifiers ('ReLU', 'LeakyReLU', ...).

tf.keras's ``activations.get('LeakyReLU')`` returns a layer instance, and layer configs then hold
it serialized under ``module: 'keras.layers'``. These weight-free callables reproduce that, with
the layers' own defaults (LeakyReLU's slope is 0.3, unlike the ``leaky_relu`` function's 0.2).
PReLU has weights of its own and is refused.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from . import _naming
from ._registry import Serializable


def _f32(x: float) -> float:
    return float(np.float32(x))


class ActivationLayer(Serializable):
    """Base: a named, weight-free callable with a Keras layer config."""

    def __init__(self, name: str | None = None, trainable: bool = True, dtype: Any = "float32"):
        self.name = name or _naming.unique_name(_naming.to_snake_case(type(self).__name__))
        self.trainable = trainable
        self.dtype = dtype if isinstance(dtype, str) else "float32"
        self.build_input_shape: list[int] | None = None  # set by the first call, as Keras builds a layer

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.build_input_shape is None:
            self.build_input_shape = list(x.shape)
        return self.call(x)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def serialize(self) -> dict[str, Any]:
        """Keras's serialized form, with ``build_config`` once the layer has been called."""
        out: dict[str, Any] = {"module": "keras.layers", "class_name": type(self).__name__, "config": self.get_config(), "registered_name": None}
        if self.build_input_shape is not None:
            out["build_config"] = {"input_shape": self.build_input_shape}
        return out

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}



class ReLU(ActivationLayer):
    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError(f"max_value of a ReLU layer cannot be a negative value. Received: {max_value}")
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError(f"negative_slope of a ReLU layer cannot be a negative value. Received: {negative_slope}")
        if threshold is None or threshold < 0.0:
            raise ValueError(f"threshold of a ReLU layer cannot be a negative value. Received: {threshold}")
        self.max_value = None if max_value is None else _f32(max_value)
        self.negative_slope, self.threshold = _f32(negative_slope), _f32(threshold)

    def call(self, x: torch.Tensor) -> torch.Tensor:
        from .activations import relu

        return relu(x, alpha=self.negative_slope, max_value=self.max_value, threshold=self.threshold)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(ActivationLayer):
    def __init__(self, alpha: float = 0.3, **kwargs: Any):
        super().__init__(**kwargs)
        self.alpha = _f32(alpha)

    def call(self, x):
        return F.leaky_relu(x, negative_slope=self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class ELU(ActivationLayer):
    def __init__(self, alpha: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.alpha = _f32(alpha)

    def call(self, x):
        from .activations import elu

        return elu(x, alpha=self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(ActivationLayer):
    def __init__(self, axis: int = -1, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, x):
        return torch.softmax(x, dim=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class ThresholdedReLU(ActivationLayer):
    def __init__(self, theta: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        if theta is None or theta < 0:
            raise ValueError(f"Theta of a Thresholded ReLU layer cannot be negative. Received: {theta}")
        self.theta = _f32(theta)

    def call(self, x):
        return x * (x > self.theta).to(x.dtype)

    def get_config(self):
        return {**super().get_config(), "theta": self.theta}


LAYERS: dict[str, type[ActivationLayer]] = {c.__name__: c for c in (ReLU, LeakyReLU, ELU, Softmax, ThresholdedReLU)}
