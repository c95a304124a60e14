"""``Lambda``: wraps a Python callable as a layer (tf.keras ``layers.Lambda``), built from Python only.

Reproduces the call (``function(inputs, **arguments)``, ``training=`` passed when the function takes it)
and ``output_shape`` (a shape without the batch dim, or a callable on the input shape). A Lambda's
Keras config carries the function as marshalled bytecode (tf.keras), a pickled/``__lambda__`` code
object (Keras 3) or a module path to import: loading it would run code from a file, so ``from_config``
and ``layers.deserialize`` always refuse with a ``ValueError`` and nothing in the config is executed.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

import torch

from ..._registry import LAYERS, describe
from ..layer import Layer


def _takes(fn: Callable[..., Any], arg: str) -> bool:
    try:
        return arg in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False


@LAYERS.register()
class Lambda(Layer):
    """``Lambda(function, output_shape=None, mask=None, arguments=None)``; ``mask`` must be ``None``."""

    def __init__(
        self,
        function: Callable[..., Any],
        output_shape: Any = None,
        mask: Any = None,
        arguments: dict[str, Any] | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(f'Lambda layer "{self.name}": `function` must be a Python callable. Received: {function!r}')
        if mask is not None:
            raise ValueError(f'Lambda layer "{self.name}": `mask` is not supported (kerastorch has no Keras masks).')
        if arguments is not None and not isinstance(arguments, dict):
            raise ValueError(f'Lambda layer "{self.name}": `arguments` must be a dict. Received: {arguments!r}')
        if output_shape is not None and not callable(output_shape):
            output_shape = tuple(output_shape)
        self.function = function
        self.arguments = dict(arguments or {})
        self._output_shape = output_shape
        self._fn_takes_training = _takes(function, "training")
        self._finish_init()

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        kwargs = dict(self.arguments)
        if self._fn_takes_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """``output_shape`` as tf.keras reads it; without one, the function runs on meta tensors."""
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        multi = isinstance(input_shape, list) and input_shape and isinstance(input_shape[0], (list, tuple))
        batch = (input_shape[0] if multi else input_shape)[0]
        if self._output_shape is not None:
            return (batch, *self._output_shape)

        def meta(shape: Any) -> torch.Tensor:  # None dims become 1 (the batch dim is restored below)
            return torch.empty([1 if d is None else int(d) for d in shape], device="meta")

        y = self.call([meta(s) for s in input_shape] if multi else meta(input_shape), training=False)
        return (batch, *tuple(y.shape)[1:])

    def get_config(self) -> dict[str, Any]:
        """tf.keras's keys; the function is named (``module``, qualified name), never serialized as code."""
        fn = self.function
        is_lambda = getattr(fn, "__name__", None) == "<lambda>"
        config = {
            **super().get_config(),
            "function": describe(fn) if is_lambda else getattr(fn, "__qualname__", describe(fn)),
            "function_type": "lambda" if is_lambda else "function",
            "module": getattr(fn, "__module__", None),
            "output_shape": None if callable(self._output_shape) else self._output_shape,
            "output_shape_type": "raw",
            "output_shape_module": None,
            "arguments": self.arguments,
        }
        if callable(self._output_shape):
            config["output_shape"] = describe(self._output_shape)
            config["output_shape_type"] = "function"
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Lambda":
        """Always refused: a Lambda config's function is code (bytecode, pickle or an import path)."""
        name = config.get("name", "lambda") if isinstance(config, dict) else "lambda"
        raise ValueError(
            f'Lambda layer "{name}": cannot be loaded from a config. A Lambda config stores its function as '
            "marshalled bytecode, a pickled function or a module path, and loading it would execute code from "
            "the file; kerastorch never does. Construct `Lambda(function)` in Python instead (or write a "
            "custom Layer)."
        )

    def extra_repr(self) -> str:
        parts = [f"name={self.name!r}", f"function={describe(self.function)}"]
        if self.arguments:
            parts.append(f"arguments={sorted(self.arguments)}")
        return ", ".join(parts + self._repr_common())
