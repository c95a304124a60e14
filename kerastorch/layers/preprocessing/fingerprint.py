"""TensorFlow's string hashes in torch, without TensorFlow: the values Keras's ``Hashing`` and ``HashedCrossing`` compute.

* ``Fingerprint64`` (``tf.strings.to_hash_bucket_fast``, TF's ``platform/fingerprint.h``) is FarmHash's
  ``farmhashna::Hash64`` of the UTF-8 bytes;
* ``tf.strings.to_hash_bucket_strong(key=[k0, k1])`` is SipHash-2-4 keyed with ``(k0, k1)`` (highwayhash's
  ``SipHash``, TF's ``StrongKeyedHash``);
* ``FingerprintCat64`` combines fingerprints in ``tf.sparse.cross_hashed`` (``HashCrosser``: start from the hash key
  ``0xDECAFCAFFE``, fold in each feature: ``Fingerprint64`` of a string, the value itself of an integer).

Every function works on int64 tensors holding the uint64 bit patterns (torch's int64 arithmetic wraps like uint64;
right shifts are made logical with a mask), vectorized over rows: strings enter as a zero-padded byte matrix ``(N, W)``
with their byte lengths, which :func:`encode_strings` builds from a list of ``str``/``bytes`` or a numpy string
array in one pass. Integers are hashed as their decimal string (``tf.as_string``), built in torch by
:func:`decimal_bytes`, so an integer column hashes on any device and under ``torch.compile``.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

_M64 = (1 << 64) - 1


def _signed(value: int) -> int:
    """A uint64 constant as the int64 with the same bits."""
    value &= _M64
    return value - (1 << 64) if value >= 1 << 63 else value


K0 = _signed(0xC3A5C85C97CB3127)
K1 = _signed(0xB492B66FBE98F273)
K2 = _signed(0x9AE16A3B2F90404F)
_CAT_MUL = _signed(0xC6A4A7935BD1E995)
CROSS_HASH_KEY = 0xDECAFCAFFE  # tf.sparse.cross_hashed's default hash_key (_DEFAULT_HASH_KEY)


def _shr(x: torch.Tensor, s: int) -> torch.Tensor:
    """Logical right shift of uint64 bit patterns (torch's ``>>`` on int64 is arithmetic)."""
    return (x >> s) & ((1 << (64 - s)) - 1)


def _rot(x: torch.Tensor, s: int) -> torch.Tensor:
    """FarmHash's ``Rotate64``: rotate right by ``s`` (1..63)."""
    return _shr(x, s) | (x << (64 - s))


def _shift_mix(x: torch.Tensor) -> torch.Tensor:
    return x ^ _shr(x, 47)


def _hash_len16(u: torch.Tensor, v: torch.Tensor, mul: Any) -> torch.Tensor:
    a = (u ^ v) * mul
    a = a ^ _shr(a, 47)
    b = (v ^ a) * mul
    b = b ^ _shr(b, 47)
    return b * mul


_BYTE_SHIFTS = torch.arange(0, 64, 8)


def _fetch(data: torch.Tensor, offset: Any, size: int = 8) -> torch.Tensor:
    """Little-endian ``Fetch64``/``Fetch32`` of each row at ``offset`` (an int, or a tensor of per-row offsets)."""
    shifts = _BYTE_SHIFTS[:size].to(data.device)
    if isinstance(offset, int):
        block = data[:, offset:offset + size]
    else:
        index = offset.clamp(min=0).unsqueeze(-1) + torch.arange(size, device=data.device)
        block = torch.gather(data, 1, index)
    return (block << shifts).sum(-1)  # disjoint bits: the sum is the OR


def _weak_hash_len32(data: torch.Tensor, offset: Any, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    w, x, y, z = (_fetch(data, offset + k) for k in (0, 8, 16, 24))
    a = a + w
    b = _rot(b + a + z, 21)
    c = a
    a = a + x + y
    b = b + _rot(a, 44)
    return a + z, b + c


def _hash_len0to16(data: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    mul = K2 + n * 2
    a = _fetch(data, 0) + K2
    b = _fetch(data, n - 8)
    h8 = _hash_len16(_rot(b, 37) * mul + a, (_rot(a, 25) + b) * mul, mul)
    h4 = _hash_len16(n + (_fetch(data, 0, 4) << 3), _fetch(data, n - 4, 4), mul)
    first = data[:, 0]
    middle = torch.gather(data, 1, (n >> 1).unsqueeze(-1)).squeeze(-1)
    last = torch.gather(data, 1, (n - 1).clamp(min=0).unsqueeze(-1)).squeeze(-1)
    y = first + (middle << 8)
    z = n + (last << 2)
    h1 = _shift_mix((y * K2) ^ (z * K0)) * K2
    out = torch.where(n >= 8, h8, torch.where(n >= 4, h4, h1))
    return torch.where(n == 0, torch.full_like(out, K2), out)


def _hash_len17to32(data: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    mul = K2 + n * 2
    a = _fetch(data, 0) * K1
    b = _fetch(data, 8)
    c = _fetch(data, n - 8) * mul
    d = _fetch(data, n - 16) * K2
    return _hash_len16(_rot(a + b, 43) + _rot(c, 30) + d, a + _rot(b + K2, 18) + c, mul)


def _hash_len33to64(data: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    mul = K2 + n * 2
    a = _fetch(data, 0) * K2
    b = _fetch(data, 8)
    c = _fetch(data, n - 8) * mul
    d = _fetch(data, n - 16) * K2
    y = _rot(a + b, 43) + _rot(c, 30) + d
    z = _hash_len16(y, a + _rot(b + K2, 18) + c, mul)
    e = _fetch(data, 16) * mul
    f = _fetch(data, 24)
    g = (y + _fetch(data, n - 32)) * mul
    h = (z + _fetch(data, n - 24)) * mul
    return _hash_len16(_rot(e + f, 43) + _rot(g, 30) + h, e + _rot(f + a, 18) + g, mul)


def _hash_long(data: torch.Tensor, n: torch.Tensor) -> torch.Tensor:
    """``farmhashna::Hash64`` for rows longer than 64 bytes: the 64-byte block loop, masked per row."""
    seed = 81
    k1u, k2u = K1 & _M64, K2 & _M64
    y0 = (seed * k1u + 113) & _M64
    t = (y0 * k2u + 113) & _M64
    z0 = ((t ^ (t >> 47)) * k2u) & _M64
    zeros = torch.zeros_like(n)
    x = _fetch(data, 0) + _signed(seed * k2u)
    y, z = zeros + _signed(y0), zeros + _signed(z0)
    v1 = v2 = w1 = w2 = zeros
    blocks = (n - 1) // 64
    steps = int(blocks.max()) if n.numel() else 0
    for i in range(steps):
        s = 64 * i
        active = i < blocks
        nx = _rot(x + y + v1 + _fetch(data, s + 8), 37) * K1
        ny = _rot(y + v2 + _fetch(data, s + 48), 42) * K1
        nx = nx ^ w2
        ny = ny + v1 + _fetch(data, s + 40)
        nz = _rot(z + w1, 33) * K1
        nv1, nv2 = _weak_hash_len32(data, s, v2 * K1, nx + w1)
        nw1, nw2 = _weak_hash_len32(data, s + 32, nz + w2, ny + _fetch(data, s + 16))
        nx, nz = nz, nx
        x, y, z = (torch.where(active, new, old) for new, old in ((nx, x), (ny, y), (nz, z)))
        v1, v2, w1, w2 = (torch.where(active, new, old) for new, old in ((nv1, v1), (nv2, v2), (nw1, w1), (nw2, w2)))
    mul = K1 + ((z & 0xFF) << 1)
    s = n - 64
    w1 = w1 + ((n - 1) & 63)
    v1 = v1 + w1
    w1 = w1 + v1
    x = _rot(x + y + v1 + _fetch(data, s + 8), 37) * mul
    y = _rot(y + v2 + _fetch(data, s + 48), 42) * mul
    x = x ^ (w2 * 9)
    y = y + v1 * 9 + _fetch(data, s + 40)
    z = _rot(z + w1, 33) * mul
    v1, v2 = _weak_hash_len32(data, s, v2 * mul, x + w1)
    w1, w2 = _weak_hash_len32(data, s + 32, z + w2, y + _fetch(data, s + 16))
    x, z = z, x
    return _hash_len16(_hash_len16(v1, w1, mul) + _shift_mix(y) * K0 + z, _hash_len16(v2, w2, mul) + x, mul)


def _padded(data: torch.Tensor, width: int) -> torch.Tensor:
    """At least ``width`` columns (zero bytes), so that fixed-offset fetches stay inside the matrix."""
    if data.shape[1] >= width:
        return data
    return torch.nn.functional.pad(data, (0, width - data.shape[1]))


def fingerprint64(data: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """TF's ``Fingerprint64`` (FarmHash ``farmhashna::Hash64``) of each row's first ``lengths`` bytes.

    ``data``: ``(N, W)`` int64 bytes (0..255), zero after each row's length; returns ``(N,)`` int64 (uint64 bits).
    Short rows (up to 64 bytes, every integer's decimal string) take masked branch-free paths; the rows longer than
    64 bytes run the block loop, which syncs with the host once for the longest row's block count.
    """
    width = data.shape[1]
    data = _padded(data, 72)
    n = lengths.to(torch.int64)
    out = torch.where(n <= 16, _hash_len0to16(data, n), _hash_len17to32(data, n))
    if width > 32:  # some row may be longer than 32 bytes
        out = torch.where(n <= 32, out, _hash_len33to64(data, n))
    if width > 64:
        long_rows = (n > 64).nonzero().squeeze(-1)
        if long_rows.numel():
            rows = _padded(data[long_rows], int(n.max()) + 8)
            out = out.index_put((long_rows,), _hash_long(rows, n[long_rows]))
    return out


def _sip_round(v0: torch.Tensor, v1: torch.Tensor, v2: torch.Tensor, v3: torch.Tensor) -> tuple[torch.Tensor, ...]:
    v0 = v0 + v1
    v1 = _rot(v1, 64 - 13) ^ v0
    v0 = _rot(v0, 32)
    v2 = v2 + v3
    v3 = _rot(v3, 64 - 16) ^ v2
    v0 = v0 + v3
    v3 = _rot(v3, 64 - 21) ^ v0
    v2 = v2 + v1
    v1 = _rot(v1, 64 - 17) ^ v2
    v2 = _rot(v2, 32)
    return v0, v1, v2, v3


def siphash(data: torch.Tensor, lengths: torch.Tensor, key: Sequence[int]) -> torch.Tensor:
    """SipHash-2-4 keyed ``(key[0], key[1])`` of each row (TF's ``StrongKeyedHash``, ``to_hash_bucket_strong``)."""
    k0, k1 = (_signed(int(k)) for k in key)
    n = lengths.to(torch.int64)
    full = n // 8
    steps = data.shape[1] // 8
    data = _padded(data, 8 * steps + 8)
    zeros = torch.zeros_like(n)
    v0 = zeros + (k0 ^ _signed(0x736F6D6570736575))
    v1 = zeros + (k1 ^ _signed(0x646F72616E646F6D))
    v2 = zeros + (k0 ^ _signed(0x6C7967656E657261))
    v3 = zeros + (k1 ^ _signed(0x7465646279746573))
    for i in range(steps):
        m = _fetch(data, 8 * i)
        active = i < full
        n0, n1, n2, n3 = _sip_round(*_sip_round(v0, v1, v2, v3 ^ m))
        v0, v1, v2, v3 = (torch.where(active, new, old) for new, old in ((n0 ^ m, v0), (n1, v1), (n2, v2), (n3, v3)))
    last = ((n & 0xFF) << 56) | _fetch(data, full * 8)  # the tail bytes (zeros after the length) and the length
    v0, v1, v2, v3 = _sip_round(*_sip_round(v0, v1, v2, v3 ^ last))
    v0, v2 = v0 ^ last, v2 ^ 0xFF
    for _ in range(4):
        v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


def fingerprint_cat64(fp1: torch.Tensor, fp2: torch.Tensor) -> torch.Tensor:
    """TF's ``FingerprintCat64(fp1, fp2)`` (``tf.sparse.cross_hashed``'s combination step)."""
    result = fp1 ^ _CAT_MUL
    result = result ^ (_shift_mix(fp2 * _CAT_MUL) * _CAT_MUL)
    result = result * _CAT_MUL
    result = _shift_mix(result) * _CAT_MUL
    return _shift_mix(result)


def unsigned_mod(hashes: torch.Tensor, bins: int) -> torch.Tensor:
    """``uint64 % bins`` of int64 bit patterns (C++'s ``Fingerprint64(s) % num_buckets``), in ``[0, bins)``."""
    # u = h + 2**64 for a negative h: u % bins = (h mod bins + 2**64 mod bins) mod bins (all terms < 2 * bins)
    low = torch.remainder(hashes, bins)
    return torch.where(hashes < 0, torch.remainder(low + (1 << 64) % bins, bins), low)


_POW10 = [10 ** k for k in range(19)]


def decimal_bytes(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``tf.as_string`` of integers as a byte matrix: ``(N, 24)`` int64 ASCII bytes of ``str(v)`` and the lengths.

    Digits come from the non-positive ``-|v|`` (no overflow at the int64 minimum), most significant first.
    """
    v = values.reshape(-1).to(torch.int64)
    neg = v < 0
    m = torch.where(neg, v, -v)  # <= 0
    digits = []
    q = m
    for _ in range(19):
        nq = torch.div(q, 10, rounding_mode="trunc")
        digits.append(nq * 10 - q)  # the digit, least significant first
        q = nq
    digits.append(-q)  # always 0: int64 magnitudes have at most 19 digits
    digit_tensor = torch.stack(digits[::-1], dim=1)  # most significant first, (N, 20)
    pow10 = torch.tensor(_POW10, device=v.device)
    ndigits = 1 + (m.unsqueeze(-1) <= -pow10[1:]).sum(-1)  # |v| >= 10**k for k = 1..18
    lengths = ndigits + neg.to(torch.int64)
    # byte j of the string: '-' at 0 for negatives, then digit (20 - ndigits + j - neg) of the 20-digit form
    pos = torch.arange(24, device=v.device).unsqueeze(0)
    src = (20 - ndigits).unsqueeze(-1) + pos - neg.to(torch.int64).unsqueeze(-1)
    chars = torch.gather(digit_tensor, 1, src.clamp(0, 19)) + 48
    chars = torch.where(neg.unsqueeze(-1) & (pos == 0), torch.full_like(chars, 45), chars)
    chars = torch.where(pos < lengths.unsqueeze(-1), chars, torch.zeros_like(chars))
    return chars, lengths


def byte_matrix(encoded: Sequence[bytes]) -> tuple[torch.Tensor, torch.Tensor]:
    """Byte strings as the zero-padded ``(N, W)`` int64 byte matrix the hashes take, and their lengths ``(N,)``."""
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    width = max(int(lengths.max()) if len(encoded) else 0, 1)
    buffer = np.frombuffer(b"".join(encoded) + b"\0" * width, dtype=np.uint8)
    starts = np.zeros(len(encoded), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    columns = np.arange(width)
    matrix = np.where(columns < lengths[:, None], buffer[starts[:, None] + columns], 0).astype(np.int64)
    return torch.from_numpy(matrix), torch.from_numpy(lengths)


def _utf8(values: Any) -> tuple[list[bytes], tuple[int, ...]]:
    array = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    flat = array.reshape(-1).tolist()
    encoded = [s.encode("utf-8") if isinstance(s, str) else s for s in flat]
    bad = next((s for s in encoded if not isinstance(s, bytes)), None)
    if bad is not None:
        raise ValueError(f"expected strings, received an element {bad!r} of type {type(bad).__name__}")
    return encoded, tuple(array.shape)


def hash_strings(values: Any, key: Sequence[int] | None = None) -> tuple[torch.Tensor, tuple[int, ...]]:
    """``Fingerprint64`` (or, with ``key``, keyed SipHash-2-4) of each string of a column: a ``str``/``bytes``, a
    (nested) list of them or a numpy ``str``/``bytes``/object array. Returns the flat int64 hashes (uint64 bits, on
    the CPU) and the column's shape. Strings up to 64 bytes are hashed together; longer ones one by one."""
    encoded, shape = _utf8(values)
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    out = torch.empty(len(encoded), dtype=torch.int64)
    groups = [np.nonzero(lengths <= 64)[0]] + [np.array([i]) for i in np.nonzero(lengths > 64)[0]]
    for rows in groups:
        if rows.size:
            data, n = byte_matrix([encoded[i] for i in rows])
            out[torch.from_numpy(rows)] = fingerprint64(data, n) if key is None else siphash(data, n, key)
    return out, shape
