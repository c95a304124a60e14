"""The issue-26 fixtures (compat_fixtures/user_files/, made by real tf.keras 2.21 and Keras 3.15.1 in
compat_fixtures/gen/user_files.py): paths, recorded inputs and Keras's predictions."""
from __future__ import annotations

import functools
import io
import json
import zipfile

import torch

import kerastorch as kt
from kt_testing import FIXTURES, assert_close

DIR = FIXTURES / "user_files"


@functools.lru_cache(maxsize=None)
def cases() -> dict:
    with open(DIR / "user_files.json") as f:
        return json.load(f)["cases"]


@functools.lru_cache(maxsize=None)
def tensors() -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(DIR / "user_files.safetensors"))


def path(case: str, kind: str) -> str:
    return str(DIR / cases()[case]["files"][kind])


def predict(model: torch.nn.Module, case: str) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return model(tensors()[cases()[case]["input"]])


def assert_predicts(model: torch.nn.Module, case: str, **tol) -> None:
    """The model's output on the case's input equals Keras's recorded prediction."""
    assert_close(predict(model, case).float(), tensors()[cases()[case]["output"]], **tol)


def archive(path_: str) -> tuple[dict, dict, bytes]:
    """``(config, metadata, model.weights.h5 bytes)`` of a ``.keras`` archive."""
    with zipfile.ZipFile(path_) as z:
        return json.loads(z.read("config.json")), json.loads(z.read("metadata.json")), z.read("model.weights.h5")


def h5_datasets(data: bytes | str) -> dict[str, tuple]:
    """``{dataset path: shape}`` of an HDF5 file (bytes or a path)."""
    import h5py

    out: dict[str, tuple] = {}
    with h5py.File(io.BytesIO(data) if isinstance(data, bytes) else data, "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj.shape) if isinstance(obj, h5py.Dataset) else None)
    return out


def load(case: str, kind: str) -> torch.nn.Module:
    return kt.models.load_model(path(case, kind))
