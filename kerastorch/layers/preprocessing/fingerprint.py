"""TensorFlow's string hashes in torch, without TensorFlow: the values Keras's ``Hashing`` and ``HashedCrossing`` compute.

* ``Fingerprint64`` (``tf.strings.to_hash_bucket_fast``, TF's ``platform/fingerprint.h``) is FarmHash's
  ``farmhashna::Hash64`` of the UTF-8 bytes;
* ``tf.strings.to_hash_bucket_strong(key=[k0, k1])`` is SipHash-2-4 keyed with ``(k0, k1)`` (highwayhash's
  ``SipHash``, TF's ``StrongKeyedHash``);
* ``FingerprintCat64`` combines fingerprints in ``tf.sparse.cross_hashed`` (``HashCrosser``: start from the hash key
  ``0xDECAFCAFFE``, fold in each feature: ``Fingerprint64`` of a string, the value itself of an integer).

Every function works on int64 tensors holding the uint64 bit patterns (torch's int64 arithmetic wraps like uint64;
right shifts are made logical with a mask), vectorized over rows: strings enter as a word matrix ``(N, W)``, each
row its zero-padded bytes read as little-endian 64-bit words (an unaligned ``Fetch64`` combines two words), with
their byte lengths; :func:`word_matrix` builds it from byte strings in one pass and :func:`hash_strings` from a list
of ``str``/``bytes`` or a numpy string array. Integers are hashed as their decimal string (``tf.as_string``), built in
torch by :func:`decimal_bytes`, so an integer column hashes on any device and under ``torch.compile``.
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

Array = Any  # a torch int64 tensor or a numpy int64 array: every hash runs on both (numpy: faster on the CPU)


class _Torch:
    where = staticmethod(torch.where)
    stack = staticmethod(torch.stack)

    @staticmethod
    def take(words: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        return torch.gather(words, 1, index.unsqueeze(-1)).squeeze(-1)

    @staticmethod
    def full(like: torch.Tensor, value: int) -> torch.Tensor:
        return torch.full_like(like, value)

    @staticmethod
    def clip(x: torch.Tensor, low: int | None = None, high: int | None = None) -> torch.Tensor:
        return x.clamp(min=low, max=high)

    @staticmethod
    def floordiv(x: torch.Tensor, d: Any) -> torch.Tensor:
        return torch.div(x, d, rounding_mode="floor")

    @staticmethod
    def pad(words: torch.Tensor, width: int) -> torch.Tensor:
        return torch.nn.functional.pad(words, (0, width - words.shape[1]))

    @staticmethod
    def const(values: list[int], like: torch.Tensor) -> torch.Tensor:
        return torch.tensor(values, dtype=torch.int64, device=like.device)

    @staticmethod
    def rows(mask: torch.Tensor) -> torch.Tensor:
        return mask.nonzero().squeeze(-1)


class _Numpy:
    where = staticmethod(np.where)

    @staticmethod
    def stack(arrays: list[np.ndarray], dim: int) -> np.ndarray:
        return np.stack(arrays, axis=dim)

    @staticmethod
    def take(words: np.ndarray, index: np.ndarray) -> np.ndarray:
        rows, width = words.shape
        return words.reshape(-1).take(np.arange(0, rows * width, width) + index)

    @staticmethod
    def full(like: np.ndarray, value: int) -> np.ndarray:
        return np.full_like(like, value)

    @staticmethod
    def clip(x: np.ndarray, low: int | None = None, high: int | None = None) -> np.ndarray:
        return np.clip(x, low, high)

    @staticmethod
    def floordiv(x: np.ndarray, d: Any) -> np.ndarray:
        return x // d

    @staticmethod
    def pad(words: np.ndarray, width: int) -> np.ndarray:
        return np.pad(words, ((0, 0), (0, width - words.shape[1])))

    @staticmethod
    def const(values: list[int], like: np.ndarray) -> np.ndarray:
        return np.array(values, dtype=np.int64)

    @staticmethod
    def rows(mask: np.ndarray) -> np.ndarray:
        return np.nonzero(mask)[0]


def _xp(x: Array) -> Any:
    return _Numpy if isinstance(x, np.ndarray) else _Torch


def _shr(x: Array, s: int) -> Array:
    """Logical right shift of uint64 bit patterns (torch's ``>>`` on int64 is arithmetic)."""
    return (x >> s) & ((1 << (64 - s)) - 1)


def _rot(x: Array, s: int) -> Array:
    """FarmHash's ``Rotate64``: rotate right by ``s`` (1..63)."""
    return _shr(x, s) | (x << (64 - s))


def _shift_mix(x: Array) -> Array:
    return x ^ _shr(x, 47)


def _hash_len16(u: Array, v: Array, mul: Any) -> Array:
    a = (u ^ v) * mul
    a = a ^ _shr(a, 47)
    b = (v ^ a) * mul
    b = b ^ _shr(b, 47)
    return b * mul


def _fetch(words: Array, offset: Any, size: int = 8) -> Array:
    """Little-endian ``Fetch64``/``Fetch32`` of each row at byte ``offset`` (an int, or per-row offsets): the word
    holding it, or two neighbouring words shifted together."""
    if isinstance(offset, int):
        q, r = divmod(offset, 8)
        value = words[:, q]
        if r:
            value = _shr(value, 8 * r) | (words[:, q + 1] << (64 - 8 * r))
    else:
        xp = _xp(words)
        offset = xp.clip(offset, 0)
        q = xp.clip(offset >> 3, None, words.shape[1] - 2)  # past the end: a discarded branch
        r = (offset & 7) * 8
        low, high = xp.take(words, q), xp.take(words, q + 1)
        shift = xp.where(r == 0, 8, r)  # a shift of 64 is undefined; r == 0 takes `low`
        mixed = ((low >> shift) & ((1 << (64 - shift)) - 1)) | (high << (64 - shift))
        value = xp.where(r == 0, low, mixed)
    return value & 0xFFFFFFFF if size == 4 else value


def _weak_hash_len32(data: Array, offset: Any, a: Array, b: Array) -> tuple[Array, Array]:
    w, x, y, z = (_fetch(data, offset + k) for k in (0, 8, 16, 24))
    a = a + w
    b = _rot(b + a + z, 21)
    c = a
    a = a + x + y
    b = b + _rot(a, 44)
    return a + z, b + c


def _branches(pairs: list[tuple[Any, Any, tuple[int, int]]], n: Array, span: tuple[int, int]) -> Array:
    """Each row's value from the first ``(condition, compute, lengths)`` entry whose condition holds (the last is the
    default), computing only the entries whose ``lengths`` meet ``span``, the rows' known length range."""
    xp = _xp(n)
    out = None
    for condition, compute, (first, last) in reversed(pairs):
        if last < span[0] or first > span[1]:
            continue
        value = compute()
        out = value if out is None else xp.where(condition(n), value, out)
    return out


def _hash_len0to16(data: Array, n: Array, tail8: Array, span: tuple[int, int]) -> Array:
    mul = K2 + n * 2

    def h8() -> Array:
        a = data[:, 0] + K2
        return _hash_len16(_rot(tail8, 37) * mul + a, (_rot(a, 25) + tail8) * mul, mul)

    def h4() -> Array:
        return _hash_len16(n + (_fetch(data, 0, 4) << 3), _fetch(data, n - 4, 4), mul)

    def h1() -> Array:
        y = (data[:, 0] & 0xFF) + ((_fetch(data, n >> 1) & 0xFF) << 8)
        z = n + ((_fetch(data, n - 1) & 0xFF) << 2)
        return _shift_mix((y * K2) ^ (z * K0)) * K2

    return _branches([(lambda m: m == 0, lambda: n * 0 + K2, (0, 0)), (lambda m: m >= 8, h8, (8, 16)),
                      (lambda m: m >= 4, h4, (4, 7)), (None, h1, (1, 3))], n, span)


def _hash_len17to32(data: Array, n: Array, tail8: Array, tail16: Array) -> Array:
    mul = K2 + n * 2
    a = data[:, 0] * K1
    b = data[:, 1]
    c = tail8 * mul
    d = tail16 * K2
    return _hash_len16(_rot(a + b, 43) + _rot(c, 30) + d, a + _rot(b + K2, 18) + c, mul)


def _hash_len33to64(data: Array, n: Array, tail8: Array, tail16: Array) -> Array:
    mul = K2 + n * 2
    a = data[:, 0] * K2
    b = data[:, 1]
    c = tail8 * mul
    d = tail16 * K2
    y = _rot(a + b, 43) + _rot(c, 30) + d
    z = _hash_len16(y, a + _rot(b + K2, 18) + c, mul)
    e = _fetch(data, 16) * mul
    f = _fetch(data, 24)
    g = (y + _fetch(data, n - 32)) * mul
    h = (z + _fetch(data, n - 24)) * mul
    return _hash_len16(_rot(e + f, 43) + _rot(g, 30) + h, e + _rot(f + a, 18) + g, mul)


def _hash_long(data: Array, n: Array) -> Array:
    """``farmhashna::Hash64`` for rows longer than 64 bytes: the 64-byte block loop, masked per row."""
    seed = 81
    k1u, k2u = K1 & _M64, K2 & _M64
    y0 = (seed * k1u + 113) & _M64
    t = (y0 * k2u + 113) & _M64
    z0 = ((t ^ (t >> 47)) * k2u) & _M64
    xp = _xp(n)
    zeros = n * 0
    x = _fetch(data, 0) + _signed(seed * k2u)
    y, z = zeros + _signed(y0), zeros + _signed(z0)
    v1 = v2 = w1 = w2 = zeros
    blocks = (n - 1) // 64
    steps = int(blocks.max()) if len(n) else 0
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
        x, y, z = (xp.where(active, new, old) for new, old in ((nx, x), (ny, y), (nz, z)))
        v1, v2, w1, w2 = (xp.where(active, new, old) for new, old in ((nv1, v1), (nv2, v2), (nw1, w1), (nw2, w2)))
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


def _padded(words: Array, width: int) -> Array:
    """At least ``width`` words (zeros), so that every fetch (and its neighbouring word) stays inside the matrix."""
    return words if words.shape[1] >= width else _xp(words).pad(words, width)


def fingerprint64(words: Array, lengths: Array) -> Array:
    """TF's ``Fingerprint64`` (FarmHash ``farmhashna::Hash64``) of each row's first ``lengths`` bytes.

    ``words``: ``(N, W)`` int64, each row's bytes (zero after its length) as little-endian words; returns ``(N,)``
    int64 (uint64 bits). Rows up to 64 bytes (every integer's decimal string) take masked branch-free paths; rows
    longer than 64 bytes run the block loop, which reads the longest row's block count on the host once.
    """
    xp = _xp(words)
    width = words.shape[1] * 8
    words = _padded(words, 9)
    n = lengths
    # the rows' length range: read from a numpy array (skipping the branches no row takes); a tensor's would be a
    # host sync, so there only the matrix width bounds it
    span = (int(n.min()), int(n.max())) if xp is _Numpy and len(n) else (0, width)
    tail8, tail16 = _fetch(words, n - 8), _fetch(words, n - 16)
    out = _branches([(lambda m: m <= 16, lambda: _hash_len0to16(words, n, tail8, span), (0, 16)),
                     (lambda m: m <= 32, lambda: _hash_len17to32(words, n, tail8, tail16), (17, 32)),
                     (None, lambda: _hash_len33to64(words, n, tail8, tail16), (33, 1 << 62))], n, span)
    if width > 64:
        long_rows = xp.rows(n > 64)
        if len(long_rows):
            rows = _padded(words[long_rows], int(n.max()) // 8 + 2)
            out[long_rows] = _hash_long(rows, n[long_rows])
    return out


def _sip_round(v0: Array, v1: Array, v2: Array, v3: Array) -> tuple[Array, ...]:
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


def siphash(data: Array, lengths: Array, key: Sequence[int]) -> Array:
    """SipHash-2-4 keyed ``(key[0], key[1])`` of each row (TF's ``StrongKeyedHash``, ``to_hash_bucket_strong``)."""
    k0, k1 = (_signed(int(k)) for k in key)
    xp = _xp(data)
    n = lengths
    full = n // 8
    steps = data.shape[1]
    data = _padded(data, steps + 2)
    zeros = n * 0
    v0 = zeros + (k0 ^ _signed(0x736F6D6570736575))
    v1 = zeros + (k1 ^ _signed(0x646F72616E646F6D))
    v2 = zeros + (k0 ^ _signed(0x6C7967656E657261))
    v3 = zeros + (k1 ^ _signed(0x7465646279746573))
    for i in range(steps):
        m = data[:, i]
        active = i < full
        n0, n1, n2, n3 = _sip_round(*_sip_round(v0, v1, v2, v3 ^ m))
        v0, v1, v2, v3 = (xp.where(active, new, old) for new, old in ((n0 ^ m, v0), (n1, v1), (n2, v2), (n3, v3)))
    last = ((n & 0xFF) << 56) | _fetch(data, full * 8)  # the tail bytes (zeros after the length) and the length
    v0, v1, v2, v3 = _sip_round(*_sip_round(v0, v1, v2, v3 ^ last))
    v0, v2 = v0 ^ last, v2 ^ 0xFF
    for _ in range(4):
        v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


def fingerprint_cat64(fp1: Array, fp2: Array) -> Array:
    """TF's ``FingerprintCat64(fp1, fp2)`` (``tf.sparse.cross_hashed``'s combination step)."""
    result = fp1 ^ _CAT_MUL
    result = result ^ (_shift_mix(fp2 * _CAT_MUL) * _CAT_MUL)
    result = result * _CAT_MUL
    result = _shift_mix(result) * _CAT_MUL
    return _shift_mix(result)


def unsigned_mod(hashes: Array, bins: int) -> Array:
    """``uint64 % bins`` of int64 bit patterns (C++'s ``Fingerprint64(s) % num_buckets``), in ``[0, bins)``."""
    # u = h + 2**64 for a negative h: u % bins = (h mod bins + 2**64 mod bins) mod bins (all terms < 2 * bins)
    low = hashes % bins  # floor modulo (torch and numpy): in [0, bins)
    return _xp(hashes).where(hashes < 0, (low + (1 << 64) % bins) % bins, low)


_NEG_POW10 = [-(10 ** k) for k in range(1, 19)]
_ZEROS = 0x3030303030303030  # eight '0' characters


def _eight_digits(chunk: Array) -> Array:
    """``0 <= chunk < 10**8`` as its eight zero-padded ASCII digits in one little-endian word (most significant
    digit in the lowest byte), by SWAR: two 32-bit lanes divided by 100, four 16-bit lanes by 10, with exact
    multiply-shift divisions (``x // 100 = x * 5243 >> 19`` for ``x < 43699``, ``x // 10 = x * 103 >> 10`` for
    ``x < 179``)."""
    high = _xp(chunk).floordiv(chunk, 10000)
    low = chunk - high * 10000
    lanes = high | (low << 32)
    quotient = ((lanes * 5243) >> 19) & 0x0000007F0000007F
    lanes = quotient | ((lanes - quotient * 100) << 16)
    quotient = ((lanes * 103) >> 10) & 0x000F000F000F000F
    return (quotient | ((lanes - quotient * 10) << 8)) + _ZEROS


def decimal_bytes(values: Array) -> tuple[Array, Array]:
    """``tf.as_string`` of integers, in the form the hashes take: the ASCII bytes of ``str(v)`` (at most 20) packed as
    little-endian words, ``(N, 3)`` int64, and the lengths.

    The 24-character zero-padded form of ``|v|`` is built right-aligned from three 8-digit chunks (taken from the
    non-positive ``-|v|``: no overflow at the int64 minimum), the ``'-'`` written over the zero before the digits,
    then the string is moved to byte 0 by one multi-word shift."""
    xp = _xp(values)
    v = values.reshape(-1)
    neg = v < 0
    m = xp.where(neg, v, -v)  # <= 0
    q1, q2 = _trunc_div(m, 10 ** 8), _trunc_div(_trunc_div(m, 10 ** 8), 10 ** 8)
    words = [_eight_digits(-q2), _eight_digits(q2 * 10 ** 8 - q1), _eight_digits(q1 * 10 ** 8 - m)]
    ndigits = 1 + (m[:, None] <= xp.const(_NEG_POW10, m)).sum(-1)
    lengths = ndigits + neg * 1
    start = 24 - lengths
    dash = xp.where(neg, 3 << (8 * (start & 7)), 0)  # '0' - '-' == 3, at byte `start`
    words = [w - xp.where((start >> 3) == k, dash, 0) for k, w in enumerate(words)]
    zero = v * 0
    padded = xp.stack([*words, zero, zero, zero], 1)  # a fetch at byte 24 + 15 reads words 4 and 5
    return xp.stack([_fetch(padded, start + 8 * j) for j in range(3)], 1), lengths


def _trunc_div(m: Array, d: int) -> Array:
    """``m / d`` truncated, for ``m <= 0`` (floor division, then one up where a remainder is left)."""
    q = _xp(m).floordiv(m, d)
    return q + ((m - q * d) != 0) * 1


def word_matrix(encoded: Any) -> tuple[np.ndarray, np.ndarray]:
    """Byte strings (a list, or a numpy bytes/object array) as the ``(N, W)`` int64 word matrix the hashes take
    (zero-padded, little-endian), and their byte lengths ``(N,)``: numpy's fixed-width bytes array is that matrix."""
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    width = 8 * ((int(lengths.max()) if len(encoded) else 0) // 8 + 1)
    matrix = np.array(encoded, dtype=f"S{width}").view("<i8").reshape(len(encoded), width // 8)
    return matrix.astype(np.int64), lengths


def _ascii_words(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """A numpy ``str`` array that is all ASCII as the word matrix and lengths, straight from its UCS-4 code units
    (one byte each); ``None`` when some character is not ASCII."""
    chars = flat.dtype.itemsize // 4
    codes = flat.view(np.uint32).reshape(len(flat), chars)
    if codes.size and codes.max() >= 128:
        return None
    width = 8 * (chars // 8 + 1)
    matrix = np.zeros((len(flat), width), dtype=np.uint8)
    matrix[:, :chars] = codes
    return matrix.view("<i8").astype(np.int64), np.strings.str_len(flat).astype(np.int64)


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
    the CPU) and the column's shape. Hashed in numpy, in cache-sized chunks; an ASCII numpy ``str`` array is read
    without a Python loop, anything else is encoded string by string (exact bytes: a list keeps trailing NULs that a
    numpy array drops). Strings longer than 64 bytes are hashed one by one."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "U":
        flat = values.reshape(-1)
        ascii_ = _ascii_words(flat)
        if ascii_ is not None:
            out = np.empty(len(flat), dtype=np.int64)
            data, n = ascii_
            for start in range(0, len(flat), CHUNK):
                part = slice(start, start + CHUNK)
                out[part] = fingerprint64(data[part], n[part]) if key is None else siphash(data[part], n[part], key)
            return torch.from_numpy(out), tuple(values.shape)
    encoded, shape = _utf8(values)
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    out = np.empty(len(encoded), dtype=np.int64)
    groups = [np.nonzero(lengths <= 64)[0]] + [np.array([i]) for i in np.nonzero(lengths > 64)[0]]
    for rows in groups:
        for part in np.array_split(rows, max(1, len(rows) // CHUNK)):  # cache-sized pieces
            if part.size:
                data, n = word_matrix([encoded[i] for i in part])
                out[part] = fingerprint64(data, n) if key is None else siphash(data, n, key)
    return torch.from_numpy(out), shape


#: rows hashed together on the CPU: every intermediate array of the ~300 integer operations stays in the cache
CHUNK = 1 << 14


def hash_integers(values: torch.Tensor, key: Sequence[int] | None = None) -> torch.Tensor:
    """``Fingerprint64`` (or keyed SipHash-2-4) of each integer's decimal string, flat int64 (uint64 bits): in
    numpy, in cache-sized chunks, for an eager CPU tensor (2-4x faster than torch's int64 kernels there); in torch
    elsewhere (any device, ``torch.compile``, the meta device)."""
    flat = values.reshape(-1).to(torch.int64)
    if flat.device.type != "cpu" or torch.compiler.is_compiling() or torch.jit.is_tracing():
        data, lengths = decimal_bytes(flat)
        return fingerprint64(data, lengths) if key is None else siphash(data, lengths, key)
    array = flat.numpy()
    out = np.empty_like(array)
    for start in range(0, len(array), CHUNK):
        data, lengths = decimal_bytes(array[start:start + CHUNK])
        out[start:start + CHUNK] = fingerprint64(data, lengths) if key is None else siphash(data, lengths, key)
    return torch.from_numpy(out)
