"""``save_weights`` / ``load_weights``: self-describing safetensors files for any module tree.

Keys are the module's ``state_dict`` names; ``__metadata__`` holds ``format: pt``, the kerastorch
version and each kerastorch layer's class and config as JSON. No pickle is involved.
"""
from __future__ import annotations

import json
import os
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as _safetensors_bytes
from torch.nn.parameter import is_lazy

from .._version import __version__
from ..layers.layer import Layer
from . import plan
from .atomic import atomic_write, resolve_target


def _layer_configs(module: torch.nn.Module) -> dict[str, Any]:
    """Each kerastorch layer's class and config, best-effort: a layer whose config cannot be written
    (a plain-callable activation, a lambda regularizer) is recorded with ``config: null`` and the reason,
    so the weights always save."""
    out: dict[str, Any] = {}
    for prefix, m in module.named_modules():
        if isinstance(m, Layer):
            try:
                out[prefix] = {"class_name": type(m).__name__, "config": json.loads(json.dumps(m.get_config()))}
            except (ValueError, TypeError) as e:
                out[prefix] = {"class_name": type(m).__name__, "config": None, "unserializable": str(e)}
    return out


def save_weights(module: torch.nn.Module, path: str | os.PathLike) -> None:
    """Write ``module.state_dict()`` to ``path`` atomically (a crash leaves any old file intact; an
    existing file keeps its permissions, a symlink is written through, a directory is refused)."""

    resolve_target(path)  # a directory: say so before serializing
    state = module.state_dict()
    lazy = [k for k, v in state.items() if is_lazy(v)]
    if lazy:
        raise ValueError(f"Cannot save weights of unbuilt layers (call the model once or build() first): {lazy}")
    tensors = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in state.items()}
    metadata = {
        "format": "pt",
        "kerastorch_version": __version__,
        "kerastorch_layers": json.dumps(_layer_configs(module)),
    }
    payload = _safetensors_bytes(tensors, metadata=metadata)
    with atomic_write(path) as f:
        f.write(payload)


def read_safetensors(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """All tensors and the metadata of a safetensors file; a ValueError if it is not a valid one."""
    path = os.fspath(path)
    try:
        with safe_open(path, framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, RuntimeError, ValueError) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise ValueError(f"{path!r} is not a readable safetensors file: {e}") from None
    return tensors, metadata


def load_weights(module: torch.nn.Module, path: str | os.PathLike, strict: bool = True) -> None:
    """Load a ``save_weights`` file into ``module``: validated whole before anything is copied.

    Unbuilt kerastorch layers are built from the file's shapes; values are copied onto the
    module's own device and dtype.
    """
    tensors, metadata = read_safetensors(path)
    if metadata.get("format", "pt") != "pt":
        raise ValueError(f"{os.fspath(path)!r} holds format {metadata.get('format')!r}, expected 'pt'.")
    plan.check(module, tensors, strict, repr(os.fspath(path)))
    plan.apply(module, tensors, strict)
