"""Shared test helpers: the fixtures recorded from real Keras (compat_fixtures/) and the one tolerance helper."""
from __future__ import annotations

import functools
import json
import pathlib

import torch
from safetensors.torch import load_file

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "compat_fixtures"

# float32 parity: Keras (Eigen/XLA) and torch (oneDNN) sum in different orders.
RTOL, ATOL = 1e-5, 1e-6


@functools.lru_cache(maxsize=None)
def load_json(name: str):
    with open(FIXTURES / name) as f:
        return json.load(f)


@functools.lru_cache(maxsize=None)
def load_tensors(name: str) -> dict[str, torch.Tensor]:
    return load_file(str(FIXTURES / name))


def assert_close(actual: torch.Tensor, expected: torch.Tensor, rtol: float = RTOL, atol: float = ATOL, msg: str = "") -> None:
    torch.testing.assert_close(actual.detach().to(expected.dtype), expected, rtol=rtol, atol=atol, msg=lambda m: f"{msg}\n{m}")


def jsonable(value):
    """Tuples -> lists, recursively, to compare our configs with Keras's JSON."""
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def keras_grad(layer, name: str) -> torch.Tensor:
    """The gradient of weight ``name`` in Keras's layout (parameters are stored in the torch kernel's layout)."""
    return layer.weight_spec(name).to_keras(getattr(layer, name).grad)
