"""Keras dtype policies: ``'float32'``, ``'float64'``, ``'bfloat16'``, ``'mixed_float16'``, ...

A policy has a variable dtype (the parameters) and a compute dtype (inputs are cast to it, as
Keras autocasts floating inputs). Accepts a name, a torch dtype, or a serialized ``DTypePolicy``
/ ``Policy`` config dict (Keras 3 and tf.keras forms).
"""
from __future__ import annotations

from typing import Any

import torch

from . import config

_DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
}
_NAMES = {v: k for k, v in _DTYPES.items()}


class DTypePolicy:
    def __init__(self, name: str):
        self.name = name
        if name.startswith("mixed_"):
            compute = name[len("mixed_"):]
            if compute not in ("float16", "bfloat16"):
                raise ValueError(f"Cannot convert '{name}' to a mixed precision DTypePolicy.")
            self.variable_dtype, self.compute_dtype = torch.float32, _DTYPES[compute]
        elif name in _DTYPES:
            self.variable_dtype = self.compute_dtype = _DTYPES[name]
        else:
            raise ValueError(
                f"Invalid dtype policy {name!r}: expected one of {sorted(_DTYPES)} or 'mixed_float16'/'mixed_bfloat16'."
            )

    @property
    def is_mixed(self) -> bool:
        return self.variable_dtype != self.compute_dtype

    def serialize(self) -> Any:
        """tf.keras form: the plain name for a single dtype, a ``Policy`` dict for a mixed one."""
        if not self.is_mixed:
            return self.name
        return {"module": "keras.mixed_precision", "class_name": "Policy", "config": {"name": self.name}, "registered_name": None}


def get(identifier: Any) -> DTypePolicy:
    """Resolve ``None`` (floatx), a name, a torch dtype, a policy, or a serialized policy dict."""
    if identifier is None:
        return DTypePolicy(config.floatx())
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, torch.dtype):
        if identifier not in _NAMES:
            raise ValueError(f"Unsupported layer dtype {identifier}: expected a floating dtype.")
        return DTypePolicy(_NAMES[identifier])
    if isinstance(identifier, dict):
        name = (identifier.get("config") or {}).get("name")
        if name is None:
            raise ValueError(f"Could not interpret dtype policy config: {identifier}")
        return DTypePolicy(name)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    raise ValueError(f"Could not interpret dtype: {identifier!r}")


def name_of(dtype: torch.dtype) -> str:
    return _NAMES.get(dtype, str(dtype).replace("torch.", ""))
