"""Shared helpers of the Keras-file tests: the real-Keras fixtures (compat_fixtures/keras_files/),
the kerastorch module equivalent to a fixture model, and "a failed load changes nothing"."""
from __future__ import annotations

import functools
import json

import numpy as np
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
        if spec["class"] not in ("Conv1D", "Conv2D", "Conv3D"):  # the convolutions only (pooling, Flatten, Dense left out)
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


def embedding_head(kind: str, directory) -> str:
    """``cnn_nested_dense``'s real-Keras file of ``kind`` with its ``Dense`` head (kernel (54, 3), bias)
    replaced by a user's registered layer ``my_package>TiedEmbedding`` ('embeddings' (54, 3)), laid out as each
    writer stores one: tf.keras ``head/head/embeddings:0`` + ``weight_names``, Keras 3
    ``layers/tied_embedding/vars/0``, class ``TiedEmbedding`` in the configs: a Keras layer with no kerastorch
    counterpart (kerastorch has Dense and Embedding now)."""
    import io
    import os
    import shutil
    import zipfile

    import h5py

    src = fixture("cnn_nested_dense", kind)
    dst = os.path.join(str(directory), f"embedding_head.{kind}{'.keras' if kind == 'k3_keras' else '.h5'}")

    def edit_h5(f) -> None:
        if "model_config" in f.attrs:
            f.attrs["model_config"] = _embedding_config(f.attrs["model_config"])
        root = f["model_weights"] if "model_weights" in f else f
        if "layer_names" in root.attrs:  # tf.keras
            head = root["head"]
            head["head"].move("kernel:0", "embeddings:0")
            del head["head"]["bias:0"]
            head.attrs["weight_names"] = np.array([b"head/embeddings:0"], dtype=object)
        else:  # Keras 3
            f["layers"].move("dense", "tied_embedding")
            del f["layers/tied_embedding/vars/1"]

    if kind == "k3_keras":
        with zipfile.ZipFile(src) as z:
            members = {n: z.read(n) for n in z.namelist()}
        weights = io.BytesIO(members["model.weights.h5"])
        with h5py.File(weights, "r+") as f:
            edit_h5(f)
        members["model.weights.h5"] = weights.getvalue()
        members["config.json"] = _embedding_config(members["config.json"]).encode()
        with zipfile.ZipFile(dst, "w") as z:
            for name, data in members.items():
                z.writestr(name, data)
    else:
        shutil.copyfile(src, dst)
        with h5py.File(dst, "r+") as f:
            edit_h5(f)
    return dst


def _embedding_config(raw) -> str:
    """A Keras model config (JSON text) with the layer ``head`` made a registered custom ``TiedEmbedding(54, 3)``."""
    config = json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))

    def walk(node):
        if isinstance(node, dict):
            if node.get("class_name") == "Dense" and (node.get("config") or {}).get("name") == "head":
                node["class_name"] = "TiedEmbedding"
                node["registered_name"] = "my_package>TiedEmbedding"
                node.pop("module", None)
                node["config"] = {"name": "head", "input_dim": 54, "output_dim": 3}
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(config)
    return json.dumps(config)
