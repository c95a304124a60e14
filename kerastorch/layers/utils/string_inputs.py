"""How strings enter kerastorch: torch has no string tensors, so a string column is a list of ``str`` (any
nesting Keras takes: ``(batch,)`` or ``(batch, 1)``) or a NumPy ``str``/``bytes``/``object`` array. The string
layers (``StringLookup``, ``TextVectorization``) turn it into int64 tensors at the model's edge; the call
pipeline and the graph runner pass such data through untouched (:func:`is_string_data`)."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["is_string_data", "holds_string_data", "numpy_to_tensors", "as_string_array"]


def _first_leaf(x: Any, depth: int = 0) -> Any:
    while isinstance(x, (list, tuple)) and x and depth < 64:
        x = x[0]
        depth += 1
    return x


def is_string_data(x: Any) -> bool:
    """A NumPy array of ``str``/``bytes`` (or objects), a ``str``/``bytes`` scalar, or a (nested) list/tuple whose
    first leaf is one: the string columns a string layer takes."""
    if isinstance(x, (str, bytes)):
        return True
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "USO"
    if isinstance(x, (list, tuple)) and x:
        return isinstance(_first_leaf(x), (str, bytes, np.str_, np.bytes_))
    return False


def holds_string_data(x: Any) -> bool:
    """String data, or a list/tuple/dict of a model's inputs one of which is."""
    if is_string_data(x):
        return True
    if isinstance(x, dict):
        return any(is_string_data(v) for v in x.values())
    return isinstance(x, (list, tuple)) and any(is_string_data(v) for v in x)


def numpy_to_tensors(x: Any) -> Any:
    """A model's inputs with their numeric NumPy arrays as tensors (``torch.from_numpy``), string data as it is."""
    if is_string_data(x):
        return x
    if isinstance(x, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(x))
    if isinstance(x, dict):
        return {k: numpy_to_tensors(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(numpy_to_tensors(v) for v in x)
    return x


def as_string_array(x: Any, encoding: str = "utf-8") -> np.ndarray:
    """``x`` as a NumPy array whose ``tolist()`` is Python ``str`` (a ``U`` array as it is; bytes decoded with
    ``encoding``; objects checked). A ValueError
    for anything that is not strings (numbers, ragged nesting)."""
    arr = x if isinstance(x, np.ndarray) else np.asarray(x, dtype=object)
    if arr.dtype.kind == "S":
        return np.char.decode(arr, encoding).astype(object)
    if arr.dtype.kind == "U":
        return arr  # .tolist() gives Python str
    if arr.dtype.kind != "O":
        raise ValueError(f"expected strings, received an array of dtype {arr.dtype}")
    flat = arr.reshape(-1)
    if flat.size and not all(type(t) is str for t in flat.tolist()):
        items = [t.decode(encoding) if isinstance(t, (bytes, np.bytes_)) else t for t in flat.tolist()]
        bad = next((t for t in items if not isinstance(t, str)), None)
        if bad is not None:
            raise ValueError(
                f"expected strings (a list of str or a NumPy string array of a regular shape), received an element "
                f"{bad!r} of type {type(bad).__name__}"
            )
        out = np.empty(len(items), dtype=object)
        out[:] = [str(t) for t in items]
        return out.reshape(arr.shape)
    return arr
