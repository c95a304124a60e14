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
    if alpha == 0.0 and max_value == 6.0 and threshold == 0.0 and x.is_floating_point():
        return F.hardtanh(x, 0.0, 6.0)  # tf.nn.relu6, as tf.keras: one op, zero gradient at 0 and at 6
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


# ----- Keras 3 activations -----
# Keras 3 names that tf.keras lacks, or (``hard_sigmoid``) spells with another formula. They live in the
# registry under ``'keras3>NAME'`` only, so that tf.keras configs and direct Python use keep tf.keras's
# meaning (``get('hard_silu')`` is refused, as tf.keras refuses it); Keras 3 configs reach them through
# :func:`from_keras3`, and :func:`to_keras3` writes their Keras 3 name back. ``threshold`` (no defaults)
# and ``sparsemax`` are not implemented.
KERAS3_PREFIX = "keras3>"
# kerastorch's name, in a Keras 3 config, for tf.keras's own ``hard_sigmoid`` (Keras 3 has no such function).
TF_KERAS_HARD_SIGMOID = "tf_keras>hard_sigmoid"


def _keras3(name: str) -> Callable[[Callable[..., torch.Tensor]], Callable[..., torch.Tensor]]:
    def wrap(fn: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
        fn.__name__ = KERAS3_PREFIX + name  # the canonical registry name (``__qualname__`` keeps pickling working)
        return register()(fn)

    return wrap


@_keras3("hard_sigmoid")
def keras3_hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras 3 ``hard_sigmoid``: ``relu6(x + 3) / 6``."""
    return F.relu6(x + 3.0) / 6.0


@_keras3("hard_silu")
def keras3_hard_silu(x: torch.Tensor) -> torch.Tensor:
    """Keras 3 ``hard_silu`` (alias ``hard_swish``): ``x * relu6(x + 3) / 6``."""
    return x * (F.relu6(x + 3.0) / 6.0)


@_keras3("celu")
def keras3_celu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """Keras 3 ``celu``: ``max(x, 0) + alpha * expm1(min(x, 0) / alpha)``."""
    return x.clamp(min=0.0) + alpha * torch.expm1(x.clamp(max=0.0) / alpha)


@_keras3("glu")
def keras3_glu(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """Keras 3 ``glu``: halves ``a, b`` of ``axis``, ``a * sigmoid(b)``."""
    if x.shape[axis] % 2 != 0:
        raise ValueError(f"axis size must be divisible by 2. Received: x.shape={tuple(x.shape)} with axis={axis}")
    a, b = x.chunk(2, dim=axis)
    return a * torch.sigmoid(b)


@_keras3("hard_tanh")
def keras3_hard_tanh(x: torch.Tensor) -> torch.Tensor:
    return x.clamp(-1.0, 1.0)


@_keras3("hard_shrink")
def keras3_hard_shrink(x: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    return torch.where(x.abs() > threshold, x, torch.zeros_like(x))


@_keras3("soft_shrink")
def keras3_soft_shrink(x: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    zero = torch.zeros_like(x)
    return torch.where(x > threshold, x - threshold, torch.where(x < -threshold, x + threshold, zero))


@_keras3("tanh_shrink")
def keras3_tanh_shrink(x: torch.Tensor) -> torch.Tensor:
    return x - torch.tanh(x)


@_keras3("sparse_plus")
def keras3_sparse_plus(x: torch.Tensor) -> torch.Tensor:
    """0 for ``x <= -1``, ``(x + 1)^2 / 4`` for ``-1 < x < 1``, ``x`` above."""
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x < 1, 0.25 * (x + 1) ** 2, x))


@_keras3("sparse_sigmoid")
def keras3_sparse_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """0 for ``x <= -1``, 1 for ``x >= 1``, ``(x + 1) / 2`` between."""
    return torch.where(x <= -1, torch.zeros_like(x), torch.where(x >= 1, torch.ones_like(x), 0.5 * (x + 1)))


@_keras3("squareplus")
def keras3_squareplus(x: torch.Tensor, b: float = 4.0) -> torch.Tensor:
    return (x + torch.sqrt(x * x + b)) / 2


@_keras3("log_sigmoid")
def keras3_log_sigmoid(x: torch.Tensor) -> torch.Tensor:
    return F.logsigmoid(x)


_KERAS3_ONLY = ("hard_sigmoid", "hard_silu", "celu", "glu", "hard_tanh", "hard_shrink", "soft_shrink", "tanh_shrink",
                "sparse_plus", "sparse_sigmoid", "squareplus", "log_sigmoid")
# Keras 3 name -> registry name, where they differ.
_FROM_KERAS3 = {
    **{n: KERAS3_PREFIX + n for n in _KERAS3_ONLY},
    "hard_swish": KERAS3_PREFIX + "hard_silu",
    TF_KERAS_HARD_SIGMOID: "hard_sigmoid",
}
_TO_KERAS3 = {KERAS3_PREFIX + n: n for n in _KERAS3_ONLY} | {"hard_sigmoid": TF_KERAS_HARD_SIGMOID}


def _translate(identifier: Any, table: dict[str, str]) -> Any:
    if isinstance(identifier, str):
        return table.get(identifier, identifier)
    if isinstance(identifier, dict) and identifier.get("class_name") == "function" and isinstance(identifier.get("config"), str):
        return {**identifier, "config": table.get(identifier["config"], identifier["config"])}
    return identifier


def from_keras3(identifier: Any) -> Any:
    """An activation identifier of a Keras 3 config (name or ``{'class_name': 'function', ...}``) as
    kerastorch's registry names it: Keras 3's ``hard_sigmoid``, ``hard_silu`` / ``hard_swish`` ... get their
    Keras 3 formulas. Anything else is returned unchanged. Apply once per config."""
    return _translate(identifier, _FROM_KERAS3)


def to_keras3(identifier: Any) -> Any:
    """Inverse of :func:`from_keras3`: the name a Keras 3 config gives a serialized activation. tf.keras's
    ``hard_sigmoid`` (no Keras 3 equivalent) becomes ``'tf_keras>hard_sigmoid'``, which only kerastorch reads."""
    return _translate(identifier, _TO_KERAS3)


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
