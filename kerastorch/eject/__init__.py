"""``eject``: a Keras model becomes standalone PyTorch source (``model.py``) and its weights (``model.safetensors``).

``model.py`` holds one ``torch.nn.Module`` class written as by hand: ``torch.nn`` modules in ``__init__``
named after the Keras layers, a ``forward`` of plain torch calls, channels-first inside (the channels_last
input's ``permute`` is a view with channels_last memory, so convolutions run on torch's NHWC kernels), and
the few Keras semantics torch lacks as small commented helper functions at the top. It imports torch only
(safetensors to load). ``model.safetensors``' keys are that module's ``state_dict`` keys, weights in torch
layout. A layer it cannot express raises :class:`EjectError` naming the layer and its class, and nothing is
written.
"""
from __future__ import annotations

import os
import zipfile
from typing import Any

import torch
from safetensors.torch import save as _safetensors_bytes

from .._dialect import is_keras3_version
from .._version import __version__
from ..saving.atomic import atomic_write
from ..saving.model_files import load_model
from .codegen import Ejected, generate
from .emitters import EMITTERS, EjectError

__all__ = ["EjectError", "Ejected", "eject", "eject_file", "EMITTERS"]


def _header(source: str | None, keras_version: Any) -> str:
    if isinstance(keras_version, bytes):
        keras_version = keras_version.decode("utf-8", "replace")
    if keras_version:
        dialect = "Keras" if is_keras3_version(keras_version) else "tf.keras"
        written = f"written by {dialect} {keras_version}"
    else:
        written = "Keras version not recorded"
    origin = f"{os.path.basename(source)} ({written})" if source else f"an in-memory kerastorch model ({written})"
    return (f'"""Ejected from {origin} by kerastorch {__version__} (`kerastorch eject`).\n\n'
            "Plain PyTorch: needs torch only (and safetensors for `load`). Edit freely.\n"
            '"""')


def eject(model: torch.nn.Module, out_dir: str | os.PathLike, *, source: str | None = None,
          keras_version: Any = None) -> Ejected:
    """Write ``out_dir/model.py`` and ``out_dir/model.safetensors`` for a kerastorch ``Sequential`` /
    ``Functional`` model (loaded or built by hand). ``source``/``keras_version`` go into the file's header.
    Raises :class:`EjectError` (a ``ValueError``) naming a layer it cannot express; then nothing is written."""
    ejected = generate(model, _header(source, keras_version))
    payload = _safetensors_bytes(ejected.state_dict, metadata={"format": "pt"})  # one key: the same bytes every time
    os.makedirs(out_dir, exist_ok=True)
    # Each file replaces its target atomically: a failure leaves any earlier ejection as it was.
    with atomic_write(os.path.join(out_dir, "model.safetensors")) as f:
        f.write(payload)
    with atomic_write(os.path.join(out_dir, "model.py")) as f:
        f.write(ejected.source.encode("utf-8"))
    return ejected


def file_keras_version(path: str) -> Any:
    """The Keras version a model file records (``.keras`` metadata.json, ``.h5`` attribute); None if none."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                info = z.getinfo("metadata.json")
                if info.file_size > 1 << 20:
                    return None
                import json

                return json.loads(z.read(info)).get("keras_version")
        import h5py  # optional dependency (kerastorch[keras]): only .h5 files need it

        with h5py.File(path, "r") as f:
            return f.attrs.get("keras_version")
    except (OSError, KeyError, ValueError, ImportError):
        return None


def eject_file(path: str, out_dir: str | os.PathLike) -> Ejected:
    """``kerastorch eject``: load the model file at ``path`` (untrusted, as ``load_model``) and eject it."""
    model = load_model(path)
    version = None if str(path).endswith(".safetensors") else file_keras_version(path)
    return eject(model, out_dir, source=str(path), keras_version=version)
