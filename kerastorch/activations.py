"""tf.keras activations on torch tensors, with tf.keras formulas and names.

``silu`` is tf.keras's ``swish`` (it serializes as ``'swish'``, as tf.keras does).

``get`` takes a name, a serialized config, a callable or ``None`` (-> ``linear``); ``serialize``
returns the plain name Keras writes into layer configs.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

from ._registry import LAYERS, Registry, describe

_registry = Registry("activation function", "keras.activations")
register = _registry.register


@register()
def linear(x: torch.Tensor) -> torch.Tensor:
    return x


@register()
def relu(
    x: torch.Tensor, alpha: float = 0.0, max_value: float | None = None, threshold: float = 0.0
) -> torch.Tensor:
    """tf.keras ``relu`` with its ``alpha``, ``max_value`` and ``threshold`` arguments."""
    if alpha == 0.0 and max_value is None and threshold == 0.0:
        return F.relu(x)
    if threshold != 0.0:
        out = torch.where(x > threshold, x, torch.zeros_like(x))
    else:
        out = F.relu(x)
    if max_value is not None:
        out = out.clamp(max=max_value)
    if alpha != 0.0:
        below = x < threshold
        out = torch.where(below, alpha * (x - threshold), out)
    return out


@register()
def sigmoid(x: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(x)


@register()
def softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Softmax over ``axis`` (the last one by default, whatever the data format, as Keras does)."""
    return torch.softmax(x, dim=axis)


@register()
def log_softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    return torch.log_softmax(x, dim=axis)


@register()
def softplus(x: torch.Tensor) -> torch.Tensor:
    return F.softplus(x)


@register()
def softsign(x: torch.Tensor) -> torch.Tensor:
    return F.softsign(x)


@register()
def tanh(x: torch.Tensor) -> torch.Tensor:
    return torch.tanh(x)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _elu_tf(x: torch.Tensor, alpha: float) -> torch.Tensor:
    # TF's gradient at exactly 0 takes the linear branch (torch's F.elu takes the exponential one).
    return torch.where(x >= 0, x, alpha * torch.expm1(x.clamp(max=0)))


@register()
def selu(x: torch.Tensor) -> torch.Tensor:
    return _SELU_SCALE * _elu_tf(x, _SELU_ALPHA)


@register()
def elu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    return F.elu(x) if alpha == 1.0 else _elu_tf(x, alpha)


@register()
def exponential(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(x)


@register()
def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """tf.keras form ``clip(0.2 * x + 0.5, 0, 1)`` (Keras 3 uses ``x / 6 + 0.5`` instead)."""
    return (0.2 * x + 0.5).clamp(0.0, 1.0)


@register("silu")
def swish(x: torch.Tensor) -> torch.Tensor:
    return F.silu(x)


@register()
def gelu(x: torch.Tensor, approximate: bool = False) -> torch.Tensor:
    """Exact (erf) GELU by default, as tf.keras."""
    return F.gelu(x, approximate="tanh" if approximate else "none")


@register()
def relu6(x: torch.Tensor) -> torch.Tensor:
    return F.relu6(x)


@register()
def mish(x: torch.Tensor) -> torch.Tensor:
    return x * torch.tanh(F.softplus(x))


@register()
def leaky_relu(x: torch.Tensor, alpha: float = 0.2) -> torch.Tensor:
    """``tf.nn.leaky_relu``: slope 0.2 by default."""
    return F.leaky_relu(x, negative_slope=alpha)


# tf.keras activation *layers* that ``activations.get`` accepts by class name; PReLU has weights.
_LAYER_NAMES = ("ReLU", "LeakyReLU", "ELU", "Softmax", "ThresholdedReLU")


def serialize(activation: Callable[..., Any] | None) -> Any:
    """What Keras stores in a layer config: the function's name (``None`` -> ``'linear'``), or an
    activation layer's serialized config. Anything else raises a ``ValueError`` naming it."""
    if activation is None:
        return "linear"
    if LAYERS.name_of(type(activation)) in _LAYER_NAMES:
        return LAYERS.serialize(activation)
    name = _registry.name_of(activation)
    if name is None:
        raise ValueError(
            f"Cannot serialize activation {describe(activation)}: it is not one of kerastorch's Keras activations "
            f"({', '.join(_registry.names())}), so a Keras config cannot name it."
        )
    return name


def _activation_layer(name: str, config: Any = None) -> Callable[..., torch.Tensor]:
    if name == "PReLU":
        raise ValueError("PReLU has trainable weights of its own and cannot be used as `activation=` in kerastorch.")
    return LAYERS.deserialize({"class_name": name, "config": dict(config or {})})


def deserialize(config: str | dict[str, Any]) -> Callable[..., torch.Tensor]:
    if isinstance(config, dict) and config.get("class_name") in (*_LAYER_NAMES, "PReLU"):
        return _activation_layer(config["class_name"], config.get("config"))
    if isinstance(config, str) and config in (*_LAYER_NAMES, "PReLU"):
        return _activation_layer(config)
    if isinstance(config, dict):
        # New form: {'class_name': 'function', 'config': 'relu'}; legacy: {'class_name': 'relu'}.
        name = config.get("config") if config.get("class_name") == "function" else config.get("class_name")
        config = name  # type: ignore[assignment]
    if not isinstance(config, str):
        raise ValueError(f"Could not interpret activation function identifier: {config!r}")
    if config not in _registry:
        raise ValueError(
            f"Unknown activation function '{config}' cannot be deserialized. Known: {', '.join(_registry.names())}."
        )
    return _registry.lookup(config)


def get(identifier: Any) -> Callable[..., torch.Tensor]:
    """tf.keras ``activations.get``: ``None`` -> ``linear``; name, config or callable."""
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")
