"""Shared helpers of the Keras-file tests: the real-Keras fixtures (compat_fixtures/keras_files/),
the kerastorch module equivalent to a fixture model, and "a failed load changes nothing"."""
from __future__ import annotations

import functools
import json

import pytest
import torch
from torch.nn.parameter import is_lazy

import kerastorch
from kerastorch import load_keras_weights
from kt_testing import FIXTURES

DIR = FIXTURES / "keras_files"
NESTED = ("Sequential", "Functional")


@functools.lru_cache(maxsize=None)
def record() -> dict:
    with open(DIR / "keras_files.json") as f:
        return json.load(f)


@functools.lru_cache(maxsize=None)
def tensors() -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(DIR / "keras_files.safetensors"))


def fixture(model: str, kind: str) -> str:
    return str(DIR / record()["files"][model][kind])


def build(model: str, built: bool = True, named: bool = True, **overrides) -> torch.nn.Sequential:
    """The kerastorch equivalent of a fixture model: its Conv layers, nested Keras models as nested
    ``torch.nn.Sequential``s. ``named=False`` leaves the layers' names generated; ``overrides`` maps a
    layer name to constructor arguments that replace the recorded ones."""

    def make(spec):
        if spec["class"] in NESTED:
            return [torch.nn.Sequential(*[m for s in spec["layers"] for m in make(s)])]
        if spec["class"] not in ("Conv1D", "Conv2D", "Conv3D"):  # pooling, Flatten, Dense: not kerastorch layers
            return []
        args = dict(spec["args"])
        args.update(overrides.get(args["name"], {}))
        if not named:
            del args["name"]
        return [getattr(kerastorch.layers, spec["class"])(**args)]

    module = torch.nn.Sequential(*[m for s in record()["models"][model]["layers"] for m in make(s)])
    if built:
        module(tensors()[f"{model}.input"])
    return module


def snapshot(module: torch.nn.Module) -> dict:
    return {
        k: None if is_lazy(v) else (str(v.dtype), tuple(v.shape), v.detach().cpu().numpy().tobytes())
        for k, v in module.state_dict(keep_vars=True).items()
    }


def built_flags(module: torch.nn.Module) -> list[bool]:
    return [m.built for m in module.modules() if isinstance(m, kerastorch.layers.Layer)]


def assert_fails_unchanged(module: torch.nn.Module, path, *fragments: str, **kwargs) -> str:
    """``load_keras_weights`` raises a ValueError naming every fragment and leaves the module as it was."""
    before, flags = snapshot(module), built_flags(module)
    with pytest.raises(ValueError) as info:
        load_keras_weights(module, path, **kwargs)
    assert snapshot(module) == before
    assert built_flags(module) == flags
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message
