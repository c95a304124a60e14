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

    def serialize_keras3(self) -> Any:
        """Keras 3 form: the plain name for a single dtype, a ``DTypePolicy`` dict for a mixed one (Keras 3
        cannot read tf.keras's ``Policy`` dict)."""
        if not self.is_mixed:
            return self.name
        return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": self.name}, "registered_name": None}


def to_keras3(identifier: Any) -> Any:
    """A serialized dtype (a layer config's ``dtype``) as a Keras 3 config writes it: tf.keras's
    ``Policy`` dict becomes a ``DTypePolicy``; a name, ``None`` or a Keras 3 dict is returned unchanged."""
    if isinstance(identifier, dict) and identifier.get("class_name") != "DTypePolicy":
        return get(identifier).serialize_keras3()
    return identifier


# Keras 3's quantized policies (``layer.quantize('int8')``, ``'float8'``, ``'int4'``): the layer holds
# integer weights and scales and computes in another way; kerastorch has no such layers.
_QUANTIZED = ("QuantizedDTypePolicy", "QuantizedFloat8DTypePolicy", "GPTQDTypePolicy", "AWQDTypePolicy")


def _refuse_quantized(identifier: Any) -> None:
    if isinstance(identifier, dict):
        cls, config = identifier.get("class_name"), identifier.get("config") or {}
        quantized = cls in _QUANTIZED or (isinstance(config, dict) and "mode" in config)
        mode = config.get("mode") if isinstance(config, dict) else None
        name = f"{cls} (mode {mode!r})"
    else:
        mode = identifier.split("_from_")[0] if "_from_" in identifier else None
        quantized, name = mode is not None, repr(identifier)
    if quantized:
        raise ValueError(
            f"Unsupported dtype policy {name}: a Keras 3 quantized layer (layer.quantize({mode!r})) holds quantized "
            "weights that kerastorch's layers cannot compute with. Save the model from Keras before quantizing it."
        )


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
        _refuse_quantized(identifier)
        name = (identifier.get("config") or {}).get("name")
        if not isinstance(name, str):
            raise ValueError(f"Could not interpret dtype policy config: {identifier}")
        return DTypePolicy(name)
    if isinstance(identifier, str):
        _refuse_quantized(identifier)
        return DTypePolicy(identifier)
    raise ValueError(f"Could not interpret dtype: {identifier!r}")


def name_of(dtype: torch.dtype) -> str:
    return _NAMES.get(dtype, str(dtype).replace("torch.", ""))


def autocast_enabled(device: torch.device) -> bool:
    """Whether ``torch.autocast`` is on for ``device``'s type (``False`` where torch has no autocast, e.g. meta):
    Keras's autocast of a layer's inputs to its compute dtype steps aside for torch's."""
    try:
        return torch.is_autocast_enabled(device.type)
    except RuntimeError:
        return False
