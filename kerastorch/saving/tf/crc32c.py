"""CRC-32C (Castagnoli), as TensorFlow's tensor bundles and tables record it (``crc32c::Mask``-ed).

No C extension needed: short inputs go through a table-driven loop; long ones (a checkpoint's tensors)
are cut into 1 KiB chunks whose CRC registers advance together, one NumPy step per byte column,
and are then chained: the register is linear over GF(2), so the state after chunk ``i`` is
``shift_L(state before) ^ R(chunk i)``, where ``shift_L`` (feeding ``L`` zero bytes) is a fixed linear
map applied through four 256-entry tables. ``google_crc32c`` is used instead when it is installed.
"""
from __future__ import annotations

import numpy as np

_POLY = 0x82F63B78
_TABLE_LIST = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ _POLY if _c & 1 else _c >> 1
    _TABLE_LIST.append(_c)
_TABLE_T = tuple(_TABLE_LIST)
_TABLE = np.array(_TABLE_LIST, dtype=np.uint32)
_VECTOR_FROM = 1 << 18  # bytes; below this the plain loop is as fast
_LENGTH = 1024  # bytes per stream: one NumPy step per byte column, over n / _LENGTH streams
_GROUP = 8192  # streams advanced together (an 8 MiB block)

try:  # optional accelerator
    import google_crc32c as _fast  # type: ignore[import-not-found]

    if getattr(_fast, "implementation", "c") != "c":
        _fast = None
except ImportError:  # pragma: no cover - depends on the environment
    _fast = None


def _register(state: int, data: bytes) -> int:
    """The raw CRC register after feeding ``data`` from ``state`` (no pre/post inversion)."""
    table = _TABLE_T
    for b in data:
        state = table[(state ^ b) & 0xFF] ^ (state >> 8)
    return state


def _registers(columns: np.ndarray, states: np.ndarray) -> np.ndarray:
    """Registers of many streams at once: ``columns`` is ``(L, K)`` bytes (row j: byte j of each stream)."""
    for row in columns:
        states = np.take(_TABLE, (states ^ row) & 0xFF) ^ (states >> 8)
    return states


def _vector(state: int, data: bytes) -> int:
    length = _LENGTH
    chunks = len(data) // length
    body = np.frombuffer(data, dtype=np.uint8, count=length * chunks).reshape(chunks, length)
    parts = np.concatenate([  # in groups: each transposed copy stays small
        _registers(np.ascontiguousarray(body[g : g + _GROUP].T), np.zeros(min(_GROUP, chunks - g), dtype=np.uint32))
        for g in range(0, chunks, _GROUP)
    ])
    # shift_L of the 32 basis vectors, then tables for each byte of a state
    basis = _registers(np.zeros((length, 32), dtype=np.uint32), (np.uint32(1) << np.arange(32, dtype=np.uint32)))
    bits = (np.arange(256, dtype=np.uint32)[:, None] >> np.arange(8, dtype=np.uint32)) & 1  # (256, 8)
    tables = []
    for k in range(4):
        images = basis[8 * k : 8 * k + 8]
        tables.append(np.bitwise_xor.reduce(np.where(bits.astype(bool), images, np.uint32(0)), axis=1).tolist())
    t0, t1, t2, t3 = tables
    for part in parts.tolist():
        state = t0[state & 0xFF] ^ t1[(state >> 8) & 0xFF] ^ t2[(state >> 16) & 0xFF] ^ t3[state >> 24] ^ part
    return _register(state, data[length * chunks :])


def crc32c(data: bytes | memoryview, crc: int = 0) -> int:
    """The CRC-32C of ``data``, continuing from ``crc``."""
    data = bytes(data)
    if _fast is not None:
        return int(_fast.extend(crc, data))
    state = crc ^ 0xFFFFFFFF
    state = _vector(state, data) if len(data) >= _VECTOR_FROM else _register(state, data)
    return state ^ 0xFFFFFFFF


def unmask(masked: int) -> int:
    """The CRC a TensorFlow-masked one stands for (``crc32c::Unmask``)."""
    rot = (masked - 0xA282EAD8) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF
