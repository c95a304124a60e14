"""Emitters of the structured-data, text and audio preprocessing layers (lookups, encodings, hashing, spectrograms).

Numeric layers become tensor code: ``Discretization`` a ``torch.bucketize`` on a boundaries buffer,
``IntegerLookup`` a ``searchsorted`` on its sorted vocabulary, ``CategoryEncoding`` and the output modes comparisons
and a ``scatter_add``, ``Hashing``/``HashedCrossing`` of integers TensorFlow's FarmHash/SipHash as int64 tensor
arithmetic, the spectrograms ``F.conv1d`` (Keras's DFT kernels) and ``torch.stft`` (Keras's window and mel matrix as
buffers).

String layers (``StringLookup``, ``TextVectorization``): torch has no string tensors, so the ejected model takes what
the kerastorch model takes (a list of ``str``, nested as Keras's ``(batch, 1)``, or a NumPy string array) and a
``StringVocabulary`` module maps it to int64 indices in one ``dict`` pass, after TextVectorization's standardize /
split / ngrams written as plain Python. The vocabulary is kept in ``model.safetensors`` beside the weights, as
two buffers of the ``StringVocabulary`` (its terms' UTF-8 bytes and their byte lengths), and the dict is rebuilt
from them when the weights are loaded: ``model.py`` stays readable whatever the vocabulary's size, and needs torch
only. Everything after the string step is ordinary torch.

String ``Hashing``, string columns of ``HashedCrossing`` and a string lookup's OOV buckets hash the UTF-8 bytes in
Python (FarmHash Fingerprint64 / SipHash-2-4 on ints, as TensorFlow computes them).

``StringLookup(invert=True)`` returns nested lists of ``str`` (the kerastorch layer: a NumPy string array).

What has no ejected form yet is refused with an :class:`EjectError` naming the layer: a
``TextVectorization`` with a Python callable ``standardize``/``split``, a lookup without a vocabulary.
"""
from __future__ import annotations

from typing import Any

import torch

from .. import config as kt_config
from ..layers.preprocessing import fingerprint
from .emitters import EMITTERS, Call, Emitted, ctor, fmt, keras_weight
from .helpers import register_helpers


# ----------------------------------------------------------------------------- helper sources
_ENCODING = {
    "one_hot_keras": '''
def one_hot_keras(x: torch.Tensor, depth: int, dtype: torch.dtype) -> torch.Tensor:
    """Keras's one_hot output mode: each index becomes a `depth` vector (a trailing axis of size 1 is replaced by
    it); an index outside [0, depth) (a lookup's mask value) gives zeros."""
    if x.dim() == 0:
        x = x.reshape(1)
    if x.dim() > 1 and x.shape[-1] == 1:
        x = x.squeeze(-1)
    return (x.unsqueeze(-1) == torch.arange(depth, device=x.device, dtype=x.dtype)).to(dtype)
''',
    "bincount_keras": '''
def bincount_keras(x: torch.Tensor, depth: int, dtype: torch.dtype, binary: bool = False,
                   idf: torch.Tensor | None = None, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Keras's multi_hot (`binary`) / count / tf_idf (`idf`) output modes: the last axis is one sample (a rank-1
    input is ONE sample; rank > 2 reduces axis 1, as Keras 3), each index in [0, depth) is counted (its `weights`
    entry summed instead of 1: CategoryEncoding's count_weights), others dropped."""
    if weights is None:
        weights = torch.ones(x.shape, dtype=dtype, device=x.device)
    if x.dim() == 0:
        x, weights = x.reshape(1), weights.reshape(1)
    if x.dim() > 2:
        x, weights = x.movedim(1, -1), weights.movedim(1, -1)
    rows = x.reshape(-1, x.shape[-1])
    index = torch.where((rows >= 0) & (rows < depth), rows, depth).long()  # out of range: a column cut off below
    out = torch.zeros(rows.shape[0], depth + 1, dtype=dtype, device=x.device)
    out = out.scatter_add(1, index, weights.reshape(rows.shape).to(dtype))[:, :depth]
    out = out.reshape(*x.shape[:-1], depth)
    if binary:
        out = out.clamp(max=1)
    if idf is not None:
        out = out * idf
    return out
''',
    "check_indices": '''
def check_indices(x: torch.Tensor, depth: int, layer: str) -> torch.Tensor:
    """Keras CategoryEncoding's check that every index is in [0, depth), without a host sync: index_select from a
    (depth, 0) tensor bounds-checks inside the kernel. Skipped while compiling."""
    if not torch.compiler.is_compiling():
        try:
            torch.empty((depth, 0), device=x.device).index_select(0, x.reshape(-1).long())
        except (IndexError, RuntimeError):
            raise ValueError(f'CategoryEncoding layer "{layer}": input values must be in the range '
                             f"0 <= values < num_tokens with num_tokens={depth}.") from None
    return x
''',
}

_STRINGS = {
    "string_column": '''
def string_column(x) -> tuple[list[str], tuple[int, ...]]:
    """A string input as a flat list of str and its shape. torch has no string tensors: a string column is a str,
    a (nested) list of str/bytes (Keras's (batch,) or (batch, 1)), or a NumPy string array."""
    kind = getattr(getattr(x, "dtype", None), "kind", None)
    if kind is not None and hasattr(x, "reshape"):  # a NumPy array: its shape, its items as Python objects
        shape, flat = tuple(x.shape), x.reshape(-1).tolist()
        if kind == "U":
            return flat, shape
    else:
        shape, level = [], x
        while isinstance(level, (list, tuple)):
            shape.append(len(level))
            level = level[0] if level else None
        flat = [x]
        for size in shape:
            if any(not isinstance(row, (list, tuple)) or len(row) != size for row in flat):
                raise ValueError("expected strings of a regular shape (a list of str or a NumPy string array); "
                                 "received a ragged nesting")
            flat = [item for row in flat for item in row]
        shape = tuple(shape)
    if all(type(s) is str for s in flat):
        return flat, shape
    out = [s.decode("utf-8") if isinstance(s, bytes) else s for s in flat]
    bad = next((s for s in out if not isinstance(s, str)), None)
    if bad is not None:
        raise ValueError(f"expected strings (a list of str or a NumPy string array); received an element {bad!r} "
                         f"of type {type(bad).__name__}")
    return out, shape
''',
    "StringVocabulary": '''
class StringVocabulary(nn.Module):
    """A Keras string vocabulary (StringLookup, TextVectorization): term i maps to `start + i`, `mask_token` to
    `mask_value`, any other string to `oov` (None: unknown strings are an error, Keras's num_oov_indices=0), or,
    with `buckets` > 1 OOV indices, to `oov + oov_hash(its UTF-8 bytes) % buckets` (Keras's FarmHash buckets).
    The terms are buffers of model.safetensors (their UTF-8 bytes, `terms`, and byte lengths, `lengths`); the dict
    is rebuilt from them whenever they are loaded. `idf`: TF-IDF weights, when the layer has them."""

    def __init__(self, size: int, nbytes: int, start: int, oov: int | None, mask_token: str | None = None,
                 mask_value: int = 0, idf_size: int = 0, buckets: int = 1, oov_hash=None) -> None:
        super().__init__()
        self.buckets, self.oov_hash = buckets, oov_hash
        self.register_buffer("terms", torch.zeros(nbytes, dtype=torch.uint8))
        self.register_buffer("lengths", torch.zeros(size, dtype=torch.int64))
        if idf_size:
            self.register_buffer("idf", torch.zeros(idf_size))
        self.start, self.oov, self.mask_token, self.mask_value = start, oov, mask_token, mask_value
        self.words: list[str] = []
        self.table: dict[str, int] = {}
        self.register_load_state_dict_post_hook(StringVocabulary._rebuild)

    @staticmethod
    def _rebuild(module: "StringVocabulary", incompatible_keys: object) -> None:
        data = bytes(module.terms.tolist())
        ends = torch.cumsum(module.lengths, 0).tolist()
        starts = [0] + ends[:-1]
        module.words = [data[a:b].decode("utf-8") for a, b in zip(starts, ends)]
        module.table = {word: module.start + i for i, word in enumerate(module.words)}
        if module.mask_token is not None:
            module.table[module.mask_token] = module.mask_value

    def indices(self, strings: list[str]) -> list[int]:
        """The index of each string (one dict pass)."""
        if self.oov is None:
            unknown = [s for s in strings if s not in self.table]
            if unknown:
                raise ValueError(f"When `num_oov_indices=0` all inputs should be in vocabulary, found OOV values "
                                 f"{unknown[:10]}, consider setting `num_oov_indices=1`.")
        table, oov = self.table, self.oov
        if self.buckets > 1:
            return [table[s] if s in table else oov + self.oov_hash(s.encode("utf-8")) % self.buckets for s in strings]
        return list(map(table.get, strings, [oov] * len(strings)))

    def forward(self, x) -> torch.Tensor:
        """The int64 indices of a string column (see string_column), in its shape, on the vocabulary's device."""
        strings, shape = string_column(x)
        return torch.tensor(self.indices(strings), dtype=torch.int64, device=self.lengths.device).reshape(shape)
''',
    "invert_strings": '''
def invert_strings(x: torch.Tensor, vocabulary: StringVocabulary, oov_token: str) -> list:
    """Keras StringLookup(invert=True): each index as its term (nested lists of str: torch has no string tensors),
    an index outside the vocabulary as `oov_token`."""
    words, n = vocabulary.words, len(vocabulary.words)

    def term(v):
        return [term(u) for u in v] if isinstance(v, list) else (words[v] if 0 <= v < n else oov_token)

    return term(x.long().tolist())
''',
    "text_vectorize": '''
_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}
_PUNCTUATION = {ord(c): None for c in '!"#$%&\\'()*+,-./:;<=>?@[\\\\]^_`{|}~'}  # Keras's DEFAULT_STRIP_REGEX class
_NOT_TF_SPACE = ("\\x1c", "\\x1d", "\\x1e", "\\x1f")  # ASCII characters Python's str.split() splits on, TF's not


def split_whitespace(s: str) -> list[str]:
    """TensorFlow's whitespace split: runs of " \\t\\n\\v\\f\\r", no empty tokens."""
    return [t for t in s.translate({9: 32, 10: 32, 11: 32, 12: 32, 13: 32}).split(" ") if t]


def text_vectorize(x, vocabulary: StringVocabulary, standardize: str | None, split: str | None,
                   ngrams: tuple | None, length: int | None, pad: int) -> torch.Tensor:
    """Keras TextVectorization's string step, as TensorFlow's string ops do it: standardize ("lower" is
    tf.strings.lower, ASCII letters only; "strip_punctuation" removes ASCII punctuation), split ("whitespace":
    runs of ASCII whitespace, no empty tokens; "character": code points; None: the whole string), n-grams joined
    by " " (all of the first width, then the next), the vocabulary lookup, then each row padded with `pad` to
    `length` (cut beyond it) or, without it, to the batch's longest row. int64 indices (batch, width)."""
    strings, shape = string_column(x)
    if split is not None and len(shape) > 1:
        if shape[-1] != 1:
            raise ValueError(f"When using `TextVectorization` to tokenize strings, the input rank must be 1 or the "
                             f"last shape dimension must be 1. Received: inputs.shape={shape}")
        shape = shape[:-1]
    joined = "".join(strings)
    ascii_only = joined.isascii()  # then Python's str.lower/str.split are TF's (but for 4 separators, checked)
    if standardize in ("lower", "lower_and_strip_punctuation"):
        strings = [s.lower() for s in strings] if ascii_only else [s.translate(_ASCII_LOWER) for s in strings]
    if standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
        strings = [s.translate(_PUNCTUATION) for s in strings]
    device = vocabulary.lengths.device
    if split is None:
        ids = torch.tensor(vocabulary.indices(strings), dtype=torch.int64, device=device).reshape(shape)
        if length is not None:
            ids = F.pad(ids[..., :length], (0, max(0, length - min(ids.shape[-1], length))))
        return ids
    if split == "whitespace":
        if ascii_only and not any(c in joined for c in _NOT_TF_SPACE):
            rows = [s.split() for s in strings]
        else:
            rows = [split_whitespace(s) for s in strings]
    else:
        rows = [list(s) for s in strings]
    if ngrams is not None:
        rows = [[" ".join(r[i:i + n]) for n in ngrams for i in range(len(r) - n + 1)] for r in rows]
    flat = torch.tensor(vocabulary.indices([t for r in rows for t in r]), dtype=torch.int64)
    lengths = torch.tensor([len(r) for r in rows], dtype=torch.int64)
    width = length if length is not None else int(lengths.max()) if len(rows) else 0
    row = torch.repeat_interleave(torch.arange(len(rows)), lengths)
    column = torch.arange(len(flat)) - torch.repeat_interleave(torch.cumsum(lengths, 0) - lengths, lengths)
    kept = column < width  # each row's first `width` tokens
    ids = torch.full((len(rows), width), pad, dtype=torch.int64)
    ids[row[kept], column[kept]] = flat[kept]
    ids = ids.to(device)
    return ids[0] if len(shape) == 0 else ids
''',
}


def _u64(value: int) -> str:
    """A uint64 constant as the int64 literal with the same bits (torch computes in int64, which wraps alike)."""
    value &= (1 << 64) - 1
    return str(value - (1 << 64) if value >= 1 << 63 else value)


_HASHES = {
    "uint64_ops": f'''
# TensorFlow's hashes on int64 tensors holding uint64 bit patterns: int64 arithmetic wraps as uint64 does, right
# shifts are made logical with a mask.
K0, K1, K2 = {_u64(0xC3A5C85C97CB3127)}, {_u64(0xB492B66FBE98F273)}, {_u64(0x9AE16A3B2F90404F)}


def shr64(x: torch.Tensor, s: int) -> torch.Tensor:
    return (x >> s) & ((1 << (64 - s)) - 1)


def rot64(x: torch.Tensor, s: int) -> torch.Tensor:
    return shr64(x, s).bitwise_or_(x << (64 - s))


def unsigned_mod(h: torch.Tensor, bins: int) -> torch.Tensor:
    """uint64 h % bins, for the int64 bit patterns."""
    low = h % bins
    return torch.where(h < 0, (low + (1 << 64) % bins) % bins, low)
''',
    "decimal_words": f'''
def by_chunks(hash_values, x: torch.Tensor, *args) -> torch.Tensor:
    """`hash_values` (elementwise) of x's values, in x's shape; an eager CPU tensor goes in chunks of 16384 values,
    whose few hundred int64 temporaries stay in the cache (~1.5x faster); on other devices and compiled, one pass."""
    flat = x.reshape(-1).long()
    if flat.device.type != "cpu" or len(flat) <= 16384 or torch.compiler.is_compiling():
        return hash_values(flat, *args).reshape(x.shape)
    return torch.cat([hash_values(part, *args) for part in flat.split(16384)]).reshape(x.shape)


def eight_digits(chunk: torch.Tensor) -> torch.Tensor:
    """0 <= chunk < 10**8 as its eight zero-padded ASCII digits in one little-endian word (SWAR division)."""
    high = torch.div(chunk, 10000, rounding_mode="floor")
    lanes = high | ((chunk - high * 10000) << 32)
    quotient = ((lanes * 5243) >> 19) & 0x0000007F0000007F
    lanes = quotient | ((lanes - quotient * 100) << 16)
    quotient = ((lanes * 103) >> 10) & 0x000F000F000F000F
    return (quotient | ((lanes - quotient * 10) << 8)) + 0x3030303030303030


def select(columns: list, index: torch.Tensor) -> torch.Tensor:
    """Per row, columns[index] (0 <= index < len(columns)): whole-column selects, no gather across a row's words."""
    out = columns[0]
    for k in range(1, len(columns)):
        out = torch.where(index == k, columns[k], out)
    return out


def decimal_words(v: torch.Tensor) -> tuple[list, torch.Tensor, list]:
    """tf.as_string of int64 values, as the hashes read it: the bytes of str(v) as three columns of little-endian
    words (zeros after the string), their lengths, and their last 16 bytes as two such columns (zeros in front);
    built from -|v|: no overflow at the int64 minimum."""
    neg = v < 0
    sign = neg.long()
    m = torch.where(neg, v, -v)
    q1 = torch.div(m, 10**8, rounding_mode="trunc")
    q2 = torch.div(q1, 10**8, rounding_mode="trunc")
    right = [eight_digits(-q2), eight_digits(q2 * 10**8 - q1), eight_digits(q1 * 10**8 - m)]  # 24 bytes, zero-padded
    powers = torch.tensor({[-(10 ** k) for k in range(18, 0, -1)]}, device=v.device)
    lengths = 19 - torch.searchsorted(powers, m) + sign  # digits: 1 + how many of -10 ... -10**18 are >= m
    start = 24 - lengths
    q, r = start >> 3, (start & 7) << 3
    at0, at1 = q == 0, q == 1
    dash = (sign * 3) << r  # '0' - '-' == 3, taken from the zero before the digits
    right = [w - torch.where(at, dash, 0) for w, at in zip(right, (at0, at1, q == 2))]
    # left-aligned: bytes start + 8j ... of `right`, a per-row logical right shift by r bits, then by q words
    mask, up = ~(({-(1 << 63)} >> r) << 1), 63 - r  # no shift by 64 when r == 0
    s0 = ((right[0] >> r) & mask) | ((right[1] << 1) << up)
    s1 = ((right[1] >> r) & mask) | ((right[2] << 1) << up)
    s2 = (right[2] >> r) & mask
    words = [torch.where(at0, s0, torch.where(at1, s1, s2)), torch.where(at0, s1, torch.where(at1, s2, 0)),
             torch.where(at0, s2, 0)]
    return words, lengths, right[1:]
''',
    "fingerprint64": '''
def shift_mix(x: torch.Tensor) -> torch.Tensor:
    return x ^ shr64(x, 47)


def hash_len16(u: torch.Tensor, v: torch.Tensor, mul: torch.Tensor) -> torch.Tensor:
    a = (u ^ v) * mul
    a = a ^ shr64(a, 47)
    b = (v ^ a) * mul
    b = b ^ shr64(b, 47)
    return b * mul


def fingerprint64(words: list, n: torch.Tensor, ends: list) -> torch.Tensor:
    """TensorFlow's Fingerprint64 (FarmHash farmhashna::Hash64) of rows of 1 to 32 bytes (`words`: columns of each
    row's bytes as little-endian words, zero after its length `n`, at least 2 and more than n >> 4; `ends`: each
    row's last 16 bytes as two columns, zeros in front), every length's branch computed and selected."""
    mul = K2 + n * 2
    tail16, tail8 = ends  # read only by the branches of n >= 17 and n >= 8
    last4, last = shr64(tail8, 32), shr64(tail8, 56)  # the last 4 bytes (n >= 4) and the last byte
    middle = n >> 1
    mid = (select(words, middle >> 3) >> ((middle & 7) << 3)) & 0xFF
    y = (words[0] & 0xFF) + (mid << 8)
    z = n + (last << 2)
    h1 = shift_mix((y * K2) ^ (z * K0)) * K2
    h4 = hash_len16(n + ((words[0] & 0xFFFFFFFF) << 3), last4, mul)
    a = words[0] + K2
    h8 = hash_len16(rot64(tail8, 37) * mul + a, (rot64(a, 25) + tail8) * mul, mul)
    a, b, c, d = words[0] * K1, words[1], tail8 * mul, tail16 * K2
    h17 = hash_len16(rot64(a + b, 43) + rot64(c, 30) + d, a + rot64(b + K2, 18) + c, mul)
    out = torch.where(n >= 17, h17, torch.where(n >= 8, h8, torch.where(n >= 4, h4, h1)))
    return torch.where(n == 0, K2, out)
''',
    "siphash": f'''
def sip_round(v0, v1, v2, v3):  # in place only on its own temporaries
    v0 = v0 + v1
    v1 = rot64(v1, 51).bitwise_xor_(v0)
    v0 = rot64(v0, 32)
    v2 = v2 + v3
    v3 = rot64(v3, 48).bitwise_xor_(v2)
    v0 += v3
    v3 = rot64(v3, 43).bitwise_xor_(v0)
    v2 += v1
    v1 = rot64(v1, 47).bitwise_xor_(v2)
    v2 = rot64(v2, 32)
    return v0, v1, v2, v3


def siphash(words: list, n: torch.Tensor, key: tuple, max_len: int | None = None) -> torch.Tensor:
    """SipHash-2-4 keyed (k0, k1) of each row (TensorFlow's to_hash_bucket_strong; `words`: columns of each row's
    bytes as little-endian words, zeros after its length `n`; `key`: the salt as int64 bits; `max_len`: the longest
    a row can be, if less than `words` holds)."""
    k0, k1 = key
    full = n >> 3
    steps = (8 * len(words) if max_len is None else max_len) // 8  # the blocks a row can have in full
    words = words[:steps] + [torch.zeros_like(n)] if steps >= len(words) else words[:steps + 1]
    zeros = n * 0
    v0, v1 = zeros + (k0 ^ {_u64(0x736F6D6570736575)}), zeros + (k1 ^ {_u64(0x646F72616E646F6D)})
    v2, v3 = zeros + (k0 ^ {_u64(0x6C7967656E657261)}), zeros + (k1 ^ {_u64(0x7465646279746573)})
    for i in range(steps):
        m = words[i]
        active = i < full
        n0, n1, n2, n3 = sip_round(*sip_round(v0, v1, v2, v3 ^ m))
        v0, v1, v2, v3 = (torch.where(active, new, old) for new, old in ((n0 ^ m, v0), (n1, v1), (n2, v2), (n3, v3)))
    last = ((n & 0xFF) << 56) | select(words, full)  # zeros after n
    v0, v1, v2, v3 = sip_round(*sip_round(v0, v1, v2, v3 ^ last))
    v0, v2 = v0 ^ last, v2 ^ 0xFF
    for _ in range(4):
        v0, v1, v2, v3 = sip_round(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3
''',
    "hash_integers": '''
def hash_integers(x: torch.Tensor, bins: int) -> torch.Tensor:
    """Keras Hashing of integers (floats truncated): FarmHash Fingerprint64 of each value's decimal string, as an
    unsigned 64-bit number, modulo `bins`."""
    return by_chunks(lambda v: unsigned_mod(fingerprint64(*decimal_words(v)), bins), x)
''',
    "hash_integers_salted": '''
def hash_integers_salted(x: torch.Tensor, bins: int, key: tuple) -> torch.Tensor:
    """Keras Hashing(salt=...) of integers (floats truncated): SipHash-2-4 of each value's decimal string, keyed by
    the salt, as an unsigned 64-bit number, modulo `bins`."""
    return by_chunks(lambda v: unsigned_mod(siphash(*decimal_words(v)[:2], key, max_len=20), bins), x)
''',
    "hashed_cross": f'''
def fingerprint_cat64(fp1: torch.Tensor, fp2: torch.Tensor) -> torch.Tensor:
    mul = {_u64(0xC6A4A7935BD1E995)}
    result = (fp1 ^ mul) ^ (shift_mix(fp2 * mul) * mul)
    return shift_mix(shift_mix(result * mul) * mul)


def hashed_cross(columns: list, bins: int) -> torch.Tensor:
    """Keras HashedCrossing of integer columns (tf.sparse.cross_hashed): from the key 0xDECAFCAFFE, each column's
    value folded in with FingerprintCat64, the result modulo `bins` (unsigned)."""
    hashed = torch.full(columns[0].shape, {fingerprint.CROSS_HASH_KEY}, dtype=torch.int64, device=columns[0].device)
    for column in columns:  # a string column's fingerprints are made on the CPU: moved to the first column's device
        hashed = fingerprint_cat64(hashed, column.long().to(hashed.device))
    return unsigned_mod(hashed, bins)
''',
}

_STRING_HASHES = {
    "farmhash_bytes": '''
M64 = (1 << 64) - 1
UK0, UK1, UK2 = 0xC3A5C85C97CB3127, 0xB492B66FBE98F273, 0x9AE16A3B2F90404F


def fetch_bytes(s: bytes, i: int, size: int = 8) -> int:
    return int.from_bytes(s[i:i + size], "little")


def rotr(x: int, r: int) -> int:
    return ((x >> r) | (x << (64 - r))) & M64


def len16(u: int, v: int, mul: int) -> int:
    a = ((u ^ v) * mul) & M64
    a ^= a >> 47
    b = ((v ^ a) * mul) & M64
    b ^= b >> 47
    return (b * mul) & M64


def weak32(s: bytes, i: int, a: int, b: int) -> tuple[int, int]:
    w, x, y, z = (fetch_bytes(s, i + k) for k in (0, 8, 16, 24))
    a = (a + w) & M64
    b = rotr((b + a + z) & M64, 21)
    c = a
    a = (a + x + y) & M64
    b = (b + rotr(a, 44)) & M64
    return (a + z) & M64, (b + c) & M64


def farmhash_bytes(s: bytes) -> int:
    """TensorFlow's Fingerprint64 (FarmHash farmhashna::Hash64) of a byte string, as an unsigned 64-bit int."""
    n = len(s)
    mul = (UK2 + n * 2) & M64
    if n == 0:
        return UK2
    if n < 4:
        y, z = s[0] + (s[n >> 1] << 8), n + (s[n - 1] << 2)
        h = ((y * UK2) ^ (z * UK0)) & M64
        return ((h ^ (h >> 47)) * UK2) & M64
    if n < 8:
        return len16(n + (fetch_bytes(s, 0, 4) << 3), fetch_bytes(s, n - 4, 4), mul)
    if n <= 16:
        a, b = (fetch_bytes(s, 0) + UK2) & M64, fetch_bytes(s, n - 8)
        return len16((rotr(b, 37) * mul + a) & M64, ((rotr(a, 25) + b) * mul) & M64, mul)
    a, b = (fetch_bytes(s, 0) * (UK1 if n <= 32 else UK2)) & M64, fetch_bytes(s, 8)
    c, d = (fetch_bytes(s, n - 8) * mul) & M64, (fetch_bytes(s, n - 16) * UK2) & M64
    y = (rotr((a + b) & M64, 43) + rotr(c, 30) + d) & M64
    if n <= 32:
        return len16(y, (a + rotr((b + UK2) & M64, 18) + c) & M64, mul)
    if n <= 64:
        z = len16(y, (a + rotr((b + UK2) & M64, 18) + c) & M64, mul)
        e, f = (fetch_bytes(s, 16) * mul) & M64, fetch_bytes(s, 24)
        g, h = ((y + fetch_bytes(s, n - 32)) * mul) & M64, ((z + fetch_bytes(s, n - 24)) * mul) & M64
        return len16((rotr((e + f) & M64, 43) + rotr(g, 30) + h) & M64, (e + rotr((f + a) & M64, 18) + g) & M64, mul)
    x = (81 * UK2 + fetch_bytes(s, 0)) & M64
    y = (81 * UK1 + 113) & M64
    z = (y * UK2 + 113) & M64
    z = ((z ^ (z >> 47)) * UK2) & M64
    v, w = (0, 0), (0, 0)
    for i in range(0, ((n - 1) // 64) * 64, 64):
        x = (rotr((x + y + v[0] + fetch_bytes(s, i + 8)) & M64, 37) * UK1) & M64
        y = (rotr((y + v[1] + fetch_bytes(s, i + 48)) & M64, 42) * UK1) & M64
        x ^= w[1]
        y = (y + v[0] + fetch_bytes(s, i + 40)) & M64
        z = (rotr((z + w[0]) & M64, 33) * UK1) & M64
        v = weak32(s, i, (v[1] * UK1) & M64, (x + w[0]) & M64)
        w = weak32(s, i + 32, (z + w[1]) & M64, (y + fetch_bytes(s, i + 16)) & M64)
        x, z = z, x
    mul = (UK1 + ((z & 0xFF) << 1)) & M64
    i = n - 64
    w = ((w[0] + ((n - 1) & 63)) & M64, w[1])
    v = ((v[0] + w[0]) & M64, v[1])
    w = ((w[0] + v[0]) & M64, w[1])
    x = (rotr((x + y + v[0] + fetch_bytes(s, i + 8)) & M64, 37) * mul) & M64
    y = (rotr((y + v[1] + fetch_bytes(s, i + 48)) & M64, 42) * mul) & M64
    x ^= (w[1] * 9) & M64
    y = (y + v[0] * 9 + fetch_bytes(s, i + 40)) & M64
    z = (rotr((z + w[0]) & M64, 33) * mul) & M64
    v = weak32(s, i, (v[1] * mul) & M64, (x + w[0]) & M64)
    w = weak32(s, i + 32, (z + w[1]) & M64, (y + fetch_bytes(s, i + 16)) & M64)
    x, z = z, x
    first = (len16(v[0], w[0], mul) + (y ^ (y >> 47)) * UK0 + z) & M64
    return len16(first, (len16(v[1], w[1], mul) + x) & M64, mul)
''',
    "siphash_bytes": '''
def siphash_bytes(s: bytes, key: tuple) -> int:
    """SipHash-2-4 keyed (k0, k1) of a byte string (TensorFlow's to_hash_bucket_strong), unsigned 64-bit."""
    def rounds(v, count):
        v0, v1, v2, v3 = v
        for _ in range(count):
            v0 = (v0 + v1) & M64
            v1 = rotr(v1, 51) ^ v0
            v0 = rotr(v0, 32)
            v2 = (v2 + v3) & M64
            v3 = rotr(v3, 48) ^ v2
            v0 = (v0 + v3) & M64
            v3 = rotr(v3, 43) ^ v0
            v2 = (v2 + v1) & M64
            v1 = rotr(v1, 47) ^ v2
            v2 = rotr(v2, 32)
        return [v0, v1, v2, v3]

    k0, k1 = (k & M64 for k in key)
    v = [k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D, k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573]
    n = len(s)
    for i in range(0, n - n % 8, 8):
        m = fetch_bytes(s, i)
        v[3] ^= m
        v = rounds(v, 2)
        v[0] ^= m
    last = ((n & 0xFF) << 56) | fetch_bytes(s, n - n % 8, n % 8)
    v[3] ^= last
    v = rounds(v, 2)
    v[0] ^= last
    v[2] ^= 0xFF
    v = rounds(v, 4)
    return v[0] ^ v[1] ^ v[2] ^ v[3]
''',
    "hash_strings": '''
def hash_strings(x, bins: int, key: tuple | None = None, mask: str | None = None) -> torch.Tensor:
    """Keras Hashing of a string column: FarmHash Fingerprint64 (SipHash-2-4 keyed by the salt) of each string's
    UTF-8 bytes modulo `bins`; with `mask`, that string goes to bin 0 and the others to 1 + the hash's bin. int64
    on the CPU (strings are host data)."""
    strings, shape = string_column(x)
    out = []
    for s in strings:
        data = s.encode("utf-8")
        h = (farmhash_bytes(data) if key is None else siphash_bytes(data, key)) % bins
        out.append(h if mask is None else (0 if s == mask else h + 1))
    return torch.tensor(out, dtype=torch.int64).reshape(shape)
''',
    "string_fingerprints": '''
def string_fingerprints(x) -> torch.Tensor:
    """Fingerprint64 of each string of a column, as int64 tensors hold uint64 bits (HashedCrossing's string
    feature), on the CPU."""
    strings, shape = string_column(x)
    values = [farmhash_bytes(s.encode("utf-8")) for s in strings]
    return torch.tensor([v - (1 << 64) if v >> 63 else v for v in values], dtype=torch.int64).reshape(shape)
''',
}

_LOOKUP = {
    "IntegerVocabulary": '''
class IntegerVocabulary(nn.Module):
    """A Keras IntegerLookup vocabulary as tensors: `keys` the sorted terms, `values` their indices; a lookup is one
    searchsorted and a gather. An unknown term goes to `oov` (with `buckets` > 1 OOV indices: oov + term mod
    buckets, Keras's floormod, or oov + oov_hash(term, buckets), its FarmHash; with none, buckets=0, an unknown
    term is an error), `mask_token` to `mask_value`.
    `idf`: TF-IDF weights, when the layer has them."""

    def __init__(self, size: int, oov: int, buckets: int = 1, mask_token: int | None = None, mask_value: int = 0,
                 idf_size: int = 0, oov_hash=None) -> None:
        super().__init__()
        self.oov_hash = oov_hash
        self.register_buffer("keys", torch.zeros(size, dtype=torch.int64))
        self.register_buffer("values", torch.zeros(size, dtype=torch.int64))
        if idf_size:
            self.register_buffer("idf", torch.zeros(idf_size))
        self.oov, self.buckets, self.mask_token, self.mask_value = oov, buckets, mask_token, mask_value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.long()
        pos = torch.searchsorted(self.keys, x).clamp(max=self.keys.numel() - 1)
        missing = self.keys[pos] != x
        fallback = self.oov
        if self.buckets > 1:
            buckets = torch.remainder(x, self.buckets) if self.oov_hash is None else self.oov_hash(x, self.buckets)
            fallback = buckets + self.oov
        if self.buckets == 0:
            if self.mask_token is not None:
                missing = missing & (x != self.mask_token)
            if not torch.compiler.is_compiling() and bool(missing.any()):  # a host sync, as Keras's tf.Assert
                raise ValueError(f"When `num_oov_indices=0` all inputs should be in vocabulary, found OOV values "
                                 f"{x[missing][:10].tolist()}, consider setting `num_oov_indices=1`.")
            fallback = -1
        ids = torch.where(missing, fallback, self.values[pos])
        if self.mask_token is not None:
            ids = torch.where(x == self.mask_token, self.mask_value, ids)
        return ids
''',
}

_AUDIO = {
    "stft_spectrogram": '''
def stft_spectrogram(x: torch.Tensor, dft: nn.Conv1d, mode: str, same: bool, channels_last: bool,
                     expand_dims: bool, eps: float) -> torch.Tensor:
    """Keras 3 STFTSpectrogram: every channel framed by a strided convolution with the windowed DFT kernels (`dft`:
    the real kernels, then the imaginary ones, as Keras's weights), TF 'same' padding when `same`, then the mode:
    magnitude sqrt(max(power, eps)), log of it, psd, angle, or the raw parts. Output (batch, frames, channels *
    bins), (batch, frames, bins, channels) with `expand_dims`; channels_first moves the features first."""
    if channels_last:
        x = x.transpose(1, 2)
    batch, channels, time = x.shape
    signal = x.reshape(-1, 1, time)
    if same:
        k, s = dft.kernel_size[0], dft.stride[0]
        total = max((-(-time // s) - 1) * s + k - time, 0)
        signal = F.pad(signal, (total // 2, total - total // 2))
    out = dft(signal)  # (batch * channels, features, frames)
    if mode not in ("real", "imag", "stft"):
        real, imag = out.chunk(2, dim=1)
        if mode == "angle":
            out = torch.atan2(imag, real)
        else:
            power = real.square() + imag.square()
            if mode == "psd":
                out = power + F.pad(power[:, 1:-1], (0, 0, 1, 1))
            else:
                out = torch.sqrt(power.clamp(min=eps))
                if mode == "log":
                    out = torch.log(out.clamp(min=eps))
    out = out.reshape(batch, channels, out.shape[1], out.shape[2])
    if channels_last:
        if expand_dims:
            return out.permute(0, 3, 2, 1)
        return out.reshape(batch, -1, out.shape[3]).transpose(1, 2)
    return out.transpose(2, 3) if expand_dims else out.reshape(batch, -1, out.shape[3])
''',
    "mel_spectrogram": '''
def mel_spectrogram(x: torch.Tensor, window: torch.Tensor, mel: torch.Tensor, n_fft: int, hop: int, mag_exp: float,
                    db: tuple | None) -> torch.Tensor:
    """Keras 3 MelSpectrogram: |STFT|**mag_exp (reflect-padded by n_fft // 2, Keras's periodic window centred in
    n_fft) on the mel filterbank `mel`; with `db` = (min_power, reference in dB, top_db): 10 log10(max(S, min_power))
    minus the reference, clipped below at the call's maximum minus top_db. Output (..., mel bins, frames)."""
    y = x if x.dtype in (torch.float32, torch.float64) else x.float()
    lead, samples = y.shape[:-1], y.shape[-1]
    spec = torch.stft(y.reshape(-1, samples), n_fft=n_fft, hop_length=hop, win_length=window.shape[0],
                      window=window.to(y.dtype), center=True, pad_mode="reflect", return_complex=True)
    power = spec.abs().transpose(-1, -2)
    if mag_exp != 1:
        power = power.pow(mag_exp)
    out = power @ mel.to(y.dtype)
    if db is not None:
        min_power, reference, top_db = db
        out = 10.0 * torch.log10(out.clamp(min=min_power)) - reference
        out = torch.maximum(out, out.amax() - top_db)
    out = out.transpose(-1, -2).reshape(*lead, mel.shape[1], out.shape[-2])
    return out.to(x.dtype) if x.is_floating_point() else out
''',
}

register_helpers({**_ENCODING, **_STRINGS, **_HASHES, **_STRING_HASHES, **_LOOKUP, **_AUDIO}, requires={
    "siphash_bytes": ("farmhash_bytes",),
    "hash_strings": ("string_column", "farmhash_bytes", "siphash_bytes"),
    "string_fingerprints": ("string_column", "farmhash_bytes"),
    "StringVocabulary": ("string_column",),
    "text_vectorize": ("StringVocabulary",),
    "invert_strings": ("StringVocabulary",),
    "decimal_words": ("uint64_ops",),
    "fingerprint64": ("uint64_ops",),
    "siphash": ("uint64_ops",),
    "hash_integers": ("decimal_words", "fingerprint64"),
    "hash_integers_salted": ("decimal_words", "siphash"),
    "hashed_cross": ("fingerprint64",),
})


# ----------------------------------------------------------------------------- shared pieces
def _dtype(dtype: torch.dtype) -> str:
    return str(dtype)  # 'torch.float32'


def _encoded(call: Call, ids: str, mode: str, depth: int, dtype: torch.dtype, idf: str | None = None,
             weights: str | None = None) -> tuple[str, tuple]:
    """(expression, helpers) of Keras's output mode ``mode`` on the int64 index expression ``ids``."""
    if mode == "int":
        if dtype == torch.int64:
            return ids, ()
        return (f"({ids})" if " if " in ids else ids) + f".to({_dtype(dtype)})", ()
    if mode == "one_hot":
        return f"one_hot_keras({ids}, {depth}, {_dtype(dtype)})", ("one_hot_keras",)
    if mode in ("multi_hot", "count", "tf_idf"):
        extra = ", binary=True" if mode == "multi_hot" else (f", idf={idf}" if mode == "tf_idf" else "")
        extra += f", weights={weights}" if weights is not None else ""
        return f"bincount_keras({ids}, {depth}, {_dtype(dtype)}{extra})", ("bincount_keras",)
    raise call.fail(f"output_mode={mode!r} has no ejected form")


def _string_inputs(layer: Any) -> set[int]:
    """The positions of ``layer``'s inputs that a graph node feeds from a ``dtype="string"`` Input (symbolic dtypes
    do not say it; a Sequential's string input is not seen)."""
    found = set()
    for node in layer.__dict__.get("_kt_nodes", []):
        for i, t in enumerate(node.input_tensors):
            source = getattr(getattr(t, "node", None), "layer", None)
            if getattr(source, "_dtype_name", None) == "string":
                found.add(i)
    return found


def _lookup_dtype(layer: Any) -> torch.dtype:
    """The dtype of a vocabulary layer's encoded (non-int) output, as ``IndexLookup._encode`` makes it."""
    if layer._keras3:
        return layer._device_probe.dtype if layer.output_mode == "tf_idf" else torch.int64
    return layer.compute_dtype


def _lookup_encoded(call: Call, layer: Any, ids: str) -> tuple[str, tuple]:
    """A vocabulary layer's output mode on its indices (``IndexLookup._encode``)."""
    if layer.output_mode == "int":
        return ids, ()
    return _encoded(call, ids, layer.output_mode, layer._depth(), _lookup_dtype(layer), "{m}.idf")


def _check_vocabulary(layer: Any, call: Call) -> None:
    if layer._frozen_vocab_size is None:
        raise call.fail("the layer has no vocabulary (adapt it or give `vocabulary=`)")


def _idf_weights(layer: Any, call: Call) -> dict[str, torch.Tensor]:
    if layer.output_mode != "tf_idf":
        return {}
    if layer.idf_weights is None:
        raise call.fail("a tf_idf layer without idf_weights")
    return {".idf": layer.idf_weights.detach().to("cpu", torch.float32)}


def _terms(words: list[str]) -> dict[str, torch.Tensor]:
    """A vocabulary as the ``StringVocabulary`` buffers: its terms' UTF-8 bytes, one after the other, and lengths."""
    encoded = [w.encode("utf-8") for w in words]
    data = bytearray(b"".join(encoded))
    terms = torch.frombuffer(data, dtype=torch.uint8).clone() if data else torch.zeros(0, dtype=torch.uint8)
    return {".terms": terms, ".lengths": torch.tensor([len(t) for t in encoded], dtype=torch.int64)}


def _string_vocabulary(layer: Any, call: Call) -> tuple[str, dict[str, torch.Tensor], tuple]:
    """(constructor, buffers, helpers) of the ``StringVocabulary`` of a StringLookup (or TextVectorization's inner one);
    an inverting lookup keeps the whole vocabulary, special tokens included, index -> term."""
    if layer.invert:
        weights = _terms([("" if t is None else str(t)) for t in layer.get_vocabulary()])
        module = ctor("StringVocabulary", len(weights[".lengths"]), len(weights[".terms"]), 0, None)
        return module + "  # index -> term", weights, ("invert_strings",)
    weights = _terms(layer._tokens)
    weights.update(_idf_weights(layer, call))
    oov = None if layer.num_oov_indices == 0 else layer._oov_start_index()
    mask = {} if layer.mask_token is None else {"mask_token": layer.mask_token, "mask_value": layer._mask_value()}
    module = ctor("StringVocabulary", len(weights[".lengths"]), len(weights[".terms"]), layer._token_start_index(), oov,
                  **mask, idf_size=len(weights[".idf"]) if ".idf" in weights else None)
    helpers: tuple = ("StringVocabulary",)
    if layer.num_oov_indices > 1:
        salt = None if layer.salt is None else tuple(int(k) for k in layer.salt)
        hashed = "farmhash_bytes" if salt is None else f"lambda b: siphash_bytes(b, {salt!r})"
        module = f"{module[:-1]}, buckets={layer.num_oov_indices}, oov_hash={hashed})"
        helpers += ("farmhash_bytes",) if salt is None else ("siphash_bytes",)
    comment = "  # terms and their byte lengths in model.safetensors"
    return module + comment, weights, helpers


# ----------------------------------------------------------------------------- lookups
@EMITTERS.register("StringLookup")
def string_lookup(layer: Any, call: Call) -> Emitted:
    """Strings -> indices through a ``StringVocabulary`` (its dict rebuilt from model.safetensors), then the mode."""
    _check_vocabulary(layer, call)
    module, weights, needs = _string_vocabulary(layer, call)
    if layer.invert:
        return Emitted(f"invert_strings({{x}}, {{m}}, {layer.oov_token!r})", module, weights, helpers=needs)
    forward, helpers = _lookup_encoded(call, layer, "{m}({x})")
    return Emitted(forward, module, weights, helpers=needs + helpers)


@EMITTERS.register("IntegerLookup")
def integer_lookup(layer: Any, call: Call) -> Emitted:
    """Integers -> indices by a searchsorted on the sorted vocabulary (``IntegerVocabulary``), then the mode."""
    _check_vocabulary(layer, call)
    if not layer._tokens:
        raise call.fail("an empty vocabulary has no ejected form")
    if layer.invert:  # index -> term by a gather; an index outside the vocabulary gives oov_token, as Keras
        table = torch.tensor([0 if t is None else t for t in layer.get_vocabulary()], dtype=torch.int64)
        init = (f'self.register_buffer("{{a}}", torch.zeros({len(table)}, dtype=torch.int64))  # index -> term',)
        n = len(table)
        forward = (f"torch.where(({{x}} >= 0) & ({{x}} < {n}), {{m}}[{{x}}.long().clamp(0, {n - 1})], "
                   f"{layer.oov_token})")
        return Emitted(forward, weights={"": table}, init=init)
    tokens = torch.tensor(layer._tokens, dtype=torch.int64)
    order = torch.argsort(tokens)
    weights = {".keys": tokens[order], ".values": order + layer._token_start_index()}
    weights.update(_idf_weights(layer, call))
    mask = {} if layer.mask_token is None else {"mask_token": layer.mask_token, "mask_value": layer._mask_value()}
    module = ctor("IntegerVocabulary", len(tokens), layer._oov_start_index(),
                  buckets=None if layer.num_oov_indices == 1 else layer.num_oov_indices, **mask,
                  idf_size=len(weights[".idf"]) if ".idf" in weights else None)
    needs: tuple = ("IntegerVocabulary",)
    if layer.num_oov_indices > 1 and layer.oov_method == "farmhash":  # the hash of the decimal string, as Hashing's
        if layer.salt is None:
            module, needs = module[:-1] + ", oov_hash=hash_integers)", needs + ("hash_integers",)
        else:
            key = tuple(int(_u64(int(k))) for k in layer.salt)
            module = module[:-1] + f", oov_hash=lambda x, n: hash_integers_salted(x, n, {key!r}))"
            needs += ("hash_integers_salted",)
    forward, helpers = _lookup_encoded(call, layer, "{m}({x})")
    return Emitted(forward, module, weights, helpers=needs + helpers)


@EMITTERS.register("TextVectorization")
def text_vectorization(layer: Any, call: Call) -> Emitted:
    """Keras's standardize / split / ngrams in Python, the vocabulary's dict, padding, then the output mode."""
    for key in ("_standardize", "_split"):
        if callable(getattr(layer, key)):
            raise call.fail(f"a Python callable `{key[1:]}` has no ejected form")
    lookup = layer._lookup_layer
    _check_vocabulary(lookup, call)
    module, weights, needs = _string_vocabulary(lookup, call)
    mode = layer._output_mode
    ngrams = None if layer._ngrams is None else tuple(layer._ngrams)
    length = layer._output_sequence_length if mode == "int" else None
    ids = (f"text_vectorize({{x}}, {{m}}, {fmt(layer._standardize)}, {fmt(layer._split)}, {fmt(ngrams)}, "
           f"{fmt(length)}, {0 if mode == 'int' else -1})")
    forward, helpers = _lookup_encoded(call, lookup, ids)
    return Emitted(forward, module, weights, helpers=("text_vectorize",) + needs + helpers)


# ----------------------------------------------------------------------------- encodings
@EMITTERS.register("CategoryEncoding")
def category_encoding(layer: Any, call: Call) -> Emitted:
    """Keras's range check (no host sync), then one_hot / multi_hot / count."""
    weights = None
    if len(call.shapes) > 1:  # count_weights=, summed instead of 1 (Keras allows it in count mode only)
        given = call.operands[1].get("count_weights", call.operands[0][1] if len(call.operands[0]) > 1 else None)
        if layer.output_mode != "count" or given is None:
            raise call.fail("`count_weights` is used only when `output_mode` is 'count'")
        weights = str(given)
    checked = f"check_indices({{x}}.long(), {layer.num_tokens}, {fmt(layer.name)})"
    forward, helpers = _encoded(call, checked, layer.output_mode, layer.num_tokens, layer.output_dtype, weights=weights)
    return Emitted(forward, helpers=("check_indices",) + helpers)


@EMITTERS.register("Discretization")
def discretization(layer: Any, call: Call) -> Emitted:
    """``torch.bucketize(right=True)`` on the float32 boundaries (TF's Bucketize: bins ``[b[i-1], b[i])``, NaN in the
    last bin); integers are compared as float32."""
    layer._sync_summary()
    if layer.bin_boundaries is None:
        raise call.fail("the layer has no bin boundaries (adapt it or give `bin_boundaries=`)")
    boundaries = torch.tensor(layer.bin_boundaries, dtype=torch.float32)
    init = (f'self.register_buffer("{{a}}", torch.empty({len(boundaries)}))  # Keras\'s bin boundaries',)
    if call.dtypes[0] in (torch.float64, torch.float16, torch.bfloat16):
        ids = "torch.bucketize({x}, {m}.to({x}.dtype), right=True)"
    else:
        ids = "torch.bucketize({x}.float(), {m}, right=True)"
    forward, helpers = _encoded(call, ids, layer.output_mode, len(boundaries) + 1, layer.output_dtype)
    return Emitted(forward, weights={"": boundaries}, init=init, helpers=helpers)


# ----------------------------------------------------------------------------- hashing
@EMITTERS.register("Hashing")
def hashing(layer: Any, call: Call) -> Emitted:
    """TensorFlow's hash of each integer's decimal string (FarmHash, or SipHash keyed by the salt) modulo the bins;
    bin 0 for ``mask_value``."""
    bins, masked = layer._bins()
    if "_kt_nodes" not in layer.__dict__:  # a Sequential's layer: its input may be strings or integers
        (strings, h1), (integers, h2) = _hashing_strings(layer, bins, masked), _hashing_integers(layer, bins, masked)
        hashed, helpers = f"{strings} if not isinstance({{x}}, torch.Tensor) else {integers}", h1 + h2
    else:
        hashed, helpers = (_hashing_strings if _string_inputs(layer) else _hashing_integers)(layer, bins, masked)
    forward, more = _encoded(call, hashed, layer.output_mode, layer.num_bins, layer.output_dtype)
    return Emitted(forward, helpers=helpers + more)


def _hashing_strings(layer: Any, bins: int, masked: bool) -> tuple[str, tuple]:
    """(expression, helpers): FarmHash / SipHash of the UTF-8 bytes, in Python (strings are host data)."""
    key = None if layer.salt is None else tuple(int(k) for k in layer.salt)
    mask = layer.mask_value if masked and isinstance(layer.mask_value, str) else None
    hashed = f"hash_strings({{x}}, {bins}" + (f", {key!r}" if key else "")
    hashed += f", mask={mask!r})" if mask is not None else ")"
    if masked and mask is None:
        hashed += " + 1"  # a number as mask value never equals a string
    return hashed, ("hash_strings",)


def _hashing_integers(layer: Any, bins: int, masked: bool) -> tuple[str, tuple]:
    """(expression, helpers): the hash of each integer's decimal string, as tensor arithmetic."""
    if layer.salt is None:
        hashed, helpers = f"hash_integers({{x}}, {bins})", ("hash_integers",)
    else:
        key = tuple(int(_u64(int(k))) for k in layer.salt)
        hashed, helpers = f"hash_integers_salted({{x}}, {bins}, {key!r})", ("hash_integers_salted",)
    if masked:
        if isinstance(layer.mask_value, (str, bytes)):
            hashed = f"{hashed} + 1"  # a string mask value never equals a number
        else:
            hashed = f"torch.where({{x}} == {layer.mask_value!r}, 0, {hashed} + 1)"
    return hashed, helpers


@EMITTERS.register("HashedCrossing")
def hashed_crossing(layer: Any, call: Call) -> Emitted:
    """tf.sparse.cross_hashed of integer columns (FingerprintCat64 from 0xDECAFCAFFE) modulo the bins."""
    strings = _string_inputs(layer)
    columns = ", ".join(f"string_fingerprints({{x{i}}})" if i in strings else f"{{x{i}}}"
                        for i in range(len(call.shapes)))
    forward, more = _encoded(call, f"hashed_cross([{columns}], {layer.num_bins})", layer.output_mode, layer.num_bins,
                             layer.output_dtype)
    return Emitted(forward, helpers=("hashed_cross",) + (("string_fingerprints",) if strings else ()) + more)


# ----------------------------------------------------------------------------- audio
@EMITTERS.register("STFTSpectrogram")
def stft_spectrogram(layer: Any, call: Call) -> Emitted:
    """One ``nn.Conv1d`` holding Keras's DFT kernels (real then imaginary, trainable as in Keras), the mode after."""
    kernels = [keras_weight(layer, f"{side}_kernel") for side in ("real", "imag")
               if layer.mode != ("imag" if side == "real" else "real")]
    weight = torch.cat([k.permute(2, 1, 0) for k in kernels])  # (features, 1, frame_length)
    module = ctor("nn.Conv1d", 1, weight.shape[0], layer.frame_length, stride=layer._frame_step, bias=False)
    init = () if layer.trainable else ("{m}.requires_grad_(False)  # Keras: trainable=False",)
    forward = (f"stft_spectrogram({{x}}, {{m}}, {fmt(layer.mode)}, {layer.padding == 'same'}, "
               f"{layer.data_format == 'channels_last'}, {layer.expand_dims}, {fmt(float(kt_config.epsilon()))})")
    return Emitted(forward, module + "  # Keras's windowed DFT kernels: real, then imaginary",
                   {".weight": weight}, helpers=("stft_spectrogram",), init=init)


@EMITTERS.register("MelSpectrogram")
def mel_spectrogram(layer: Any, call: Call) -> Emitted:
    """``torch.stft`` with Keras's window and mel filterbank as buffers, and its decibel scaling."""
    import math

    window = layer._window.detach().to("cpu", torch.float32)
    matrix = layer._mel_matrix.detach().to("cpu", torch.float32)
    init = (f'self.register_buffer("{{a}}_window", torch.empty({window.shape[0]}))  # Keras\'s window',
            f'self.register_buffer("{{a}}_filters", torch.empty({matrix.shape[0]}, {matrix.shape[1]}))'
            "  # Keras's mel filterbank")
    db = None
    if layer.power_to_db:
        reference = 10.0 * math.log10(max(abs(layer.ref_power), layer.min_power))
        db = (float(layer.min_power), reference, float(layer.top_db))
    forward = (f"mel_spectrogram({{x}}, {{m}}_window, {{m}}_filters, {layer.fft_length}, {layer.sequence_stride}, "
               f"{fmt(float(layer.mag_exp))}, {'None' if db is None else '(' + ', '.join(repr(v) for v in db) + ')'})")
    return Emitted(forward, weights={"_window": window, "_filters": matrix}, init=init, helpers=("mel_spectrogram",))
