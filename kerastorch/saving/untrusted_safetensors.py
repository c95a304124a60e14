"""Reading a safetensors file as untrusted input: the header checked entry by entry (dtype, shape, offsets,
overlaps, coverage) against :class:`~.untrusted.LoadLimits` before any tensor is read, then one tensor at a time."""
from __future__ import annotations

import dataclasses
import math
from typing import Any

import torch

from . import plan
from .untrusted import LoadLimits, parse_json


_SAFETENSORS_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64,
    "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool,
}


@dataclasses.dataclass(frozen=True)
class StoredTensor:
    """Where one tensor of a safetensors file lies, from its checked header."""

    dtype: torch.dtype
    shape: tuple[int, ...]
    begin: int  # absolute offset in the file
    end: int


def read_safetensors_header(f: Any, file_size: int, limits: LoadLimits) -> tuple[dict[str, StoredTensor], dict[str, str]]:
    """The tensors and metadata of an open safetensors file, from its header alone, every entry checked
    as the format requires (a known dtype, a shape of non-negative ints, offsets inside the data and
    covering it exactly, without overlaps, ``numel * itemsize`` bytes each) and against the limits; a
    ValueError naming the tensor otherwise. Nothing but the header is read."""
    head = f.read(8)
    if len(head) < 8:
        raise ValueError("it is a truncated safetensors file")
    n = int.from_bytes(head, "little")
    if n > limits.max_config_bytes or 8 + n > file_size:
        raise ValueError(f"its safetensors header claims {n} bytes (file: {file_size} bytes, limit {limits.max_config_bytes})")
    header = parse_json(f.read(n), "the safetensors header", limits.max_config_bytes, limits)
    if not isinstance(header, dict):
        raise ValueError("its safetensors header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError("its safetensors __metadata__ is not a map of strings")
    out: dict[str, StoredTensor] = {}
    total = 0
    data_size = file_size - 8 - n
    for key, info in header.items():
        if not isinstance(info, dict):
            raise ValueError(f"tensor {key!r} has no valid entry in the header")
        shape, dtype, offsets = info.get("shape"), info.get("dtype"), info.get("data_offsets")
        if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
            raise ValueError(f"tensor {key!r} has no valid shape in the header ({str(shape)[:80]})")
        if not isinstance(dtype, str) or dtype not in _SAFETENSORS_DTYPES:
            raise ValueError(f"it is not a valid safetensors file: tensor {key!r} has dtype {str(dtype)[:20]!r}, not one of {sorted(_SAFETENSORS_DTYPES)}")
        count = math.prod(shape)
        if count > limits.max_weight_elements:
            raise ValueError(f"tensor {key!r} has shape {tuple(shape)}, more than {limits.max_weight_elements} elements")
        total += count
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
                or not 0 <= offsets[0] <= offsets[1] <= data_size):
            raise ValueError(f"it is not a valid safetensors file: tensor {key!r} has data offsets {str(offsets)[:60]} outside the {data_size} bytes of data")
        t = _SAFETENSORS_DTYPES[dtype]
        if offsets[1] - offsets[0] != count * t.itemsize:
            raise ValueError(
                f"it is not a valid safetensors file: tensor {key!r} ({dtype} {tuple(shape)}) needs {count * t.itemsize} bytes, its offsets span "
                f"{offsets[1] - offsets[0]}"
            )
        out[key] = StoredTensor(t, tuple(shape), 8 + n + offsets[0], 8 + n + offsets[1])
    if total > limits.max_total_elements:
        raise ValueError(f"its tensors hold {total} elements, more than the limit of {limits.max_total_elements}")
    spans = sorted((t.begin, t.end, k) for k, t in out.items() if t.end > t.begin)
    for (_, end, a), (begin, _, b) in zip(spans, spans[1:]):
        if begin < end:
            raise ValueError(f"it is not a valid safetensors file: tensors {a!r} and {b!r} overlap in the file")
    if sum(t.end - t.begin for t in out.values()) != data_size:
        raise ValueError(f"it is not a valid safetensors file: its tensors do not cover its {data_size} bytes of data exactly (a truncated or padded file)")
    return out, metadata


def read_stored_into(f: Any, stored: StoredTensor, weight: torch.Tensor) -> torch.Tensor | None:
    """One tensor for ``plan.apply_each``: read from its checked place straight into ``weight``'s storage when
    the two agree (CPU, contiguous, same dtype: one pass over the bytes, no intermediate buffer), else
    returned for a copy. The file's little-endian bytes are the host's (torch supports no big-endian CPU)."""
    target = plan.direct_target(weight)
    if target is None or target.dtype != stored.dtype or tuple(target.shape) != stored.shape:
        return read_stored_tensor(f, stored)
    size = stored.end - stored.begin
    if size:
        f.seek(stored.begin)
        view = memoryview(target.view(torch.uint8).numpy()).cast("B") if target.dim() else memoryview(
            target.reshape(1).view(torch.uint8).numpy()).cast("B")
        if f.readinto(view) != size:
            raise ValueError("it is a truncated safetensors file")
    plan.written_in_place(weight)
    return None


def read_stored_tensor(f: Any, stored: StoredTensor) -> torch.Tensor:
    """One tensor, read from its checked place in an open safetensors file (little-endian, as stored)."""
    f.seek(stored.begin)
    buf = bytearray(stored.end - stored.begin)
    if f.readinto(buf) != len(buf):
        raise ValueError("it is a truncated safetensors file")
    if not buf:
        return torch.empty(stored.shape, dtype=stored.dtype)
    return torch.frombuffer(buf, dtype=stored.dtype).reshape(stored.shape)
