"""Global Keras settings: ``image_data_format`` (honouring ``keras.json``), ``epsilon``, ``floatx``.

Like Keras, the defaults are read once from ``$KERAS_HOME/keras.json`` or ``~/.keras/keras.json``
when that file exists; ``set_image_data_format`` and friends change them for this process.
"""
from __future__ import annotations

import json
import os
from typing import Any

_DATA_FORMATS = ("channels_last", "channels_first")
_FLOATX = ("float16", "bfloat16", "float32", "float64")
# The largest size, stride, dilation, unit count or shape dimension a layer accepts (kerastorch's bound,
# see layers/utils/bounds.py): Keras takes any int and fails later; torch's pooling takes 32-bit sizes.
MAX_DIM = 2**31 - 1


def _keras_json() -> dict[str, Any]:
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    path = os.path.join(home, "keras.json")
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _load() -> dict[str, Any]:
    settings: dict[str, Any] = {"image_data_format": "channels_last", "epsilon": 1e-7, "floatx": "float32"}
    user = _keras_json()
    if user.get("image_data_format") in _DATA_FORMATS:
        settings["image_data_format"] = user["image_data_format"]
    if isinstance(user.get("epsilon"), (int, float)):
        settings["epsilon"] = float(user["epsilon"])
    if user.get("floatx") in _FLOATX:
        settings["floatx"] = user["floatx"]
    return settings


_SETTINGS = _load()


def image_data_format() -> str:
    """The default data format: ``'channels_last'`` unless keras.json or a setter says otherwise."""
    return _SETTINGS["image_data_format"]


def set_image_data_format(data_format: str) -> None:
    value = str(data_format).lower()
    if value not in _DATA_FORMATS:
        raise ValueError(
            f"The `data_format` argument must be one of {{'channels_first', 'channels_last'}}. "
            f"Received: data_format={data_format}"
        )
    _SETTINGS["image_data_format"] = value


def epsilon() -> float:
    """The fuzz factor used by constraints (Keras default 1e-7)."""
    return _SETTINGS["epsilon"]


def set_epsilon(value: float) -> None:
    _SETTINGS["epsilon"] = float(value)


def floatx() -> str:
    """The default float type name for layer weights (``'float32'``)."""
    return _SETTINGS["floatx"]


def set_floatx(value: str) -> None:
    if value not in _FLOATX:
        raise ValueError(f"Unknown `floatx` value: {value}. Expected one of {set(_FLOATX)}")
    _SETTINGS["floatx"] = value


def reload() -> None:
    """Re-read keras.json (for tests that point ``KERAS_HOME`` somewhere)."""
    _SETTINGS.clear()
    _SETTINGS.update(_load())
