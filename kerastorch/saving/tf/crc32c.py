"""CRC-32C (Castagnoli), as TensorFlow's tensor bundles and tables record it (``crc32c::Mask``-ed).

Pure Python, table-driven (about 10 MB/s); ``google_crc32c`` (a C extension) is used when it is
installed, since a large checkpoint's data is checked byte for byte.
"""
from __future__ import annotations

_POLY = 0x82F63B78
_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ _POLY if _c & 1 else _c >> 1
    _TABLE.append(_c)
_TABLE_T = tuple(_TABLE)

try:  # optional accelerator
    import google_crc32c as _fast  # type: ignore[import-not-found]

    if getattr(_fast, "implementation", "c") != "c":
        _fast = None
except ImportError:  # pragma: no cover - depends on the environment
    _fast = None


def crc32c(data: bytes | memoryview, crc: int = 0) -> int:
    """The CRC-32C of ``data``, continuing from ``crc``."""
    if _fast is not None:
        return int(_fast.extend(crc, bytes(data)))
    table = _TABLE_T
    c = crc ^ 0xFFFFFFFF
    for b in bytes(data):
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def unmask(masked: int) -> int:
    """The CRC a TensorFlow-masked one stands for (``crc32c::Unmask``)."""
    rot = (masked - 0xA282EAD8) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF
