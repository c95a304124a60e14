"""TensorFlow tensor bundles (``ckpt.index`` + ``ckpt.data-00000-of-00001``), read without TensorFlow.

The index is a LevelDB-style table (``tensorflow/core/lib/io/table``): a 48-byte footer (metaindex
and index block handles, magic ``0xdb4775248b80fb57``), an index block mapping the last key of each
data block to its handle, and data blocks of prefix-compressed entries (shared / unshared key
lengths, restart points), each block followed by a type byte and a masked CRC-32C. TensorFlow's
``BundleWriter`` writes its tables uncompressed (``table::kNoCompression``); a Snappy-compressed
block (type 1) is refused. Keys map to ``BundleEntryProto`` (dtype, shape, shard, offset, size,
masked CRC-32C of the bytes); the empty key holds the ``BundleHeaderProto``.

Untrusted input: every size is checked against the file before reading, a tensor's byte count must
equal its shape times its dtype's width (and stay under :class:`~kerastorch.saving.untrusted.LoadLimits`),
every block's and tensor's checksum is verified, and errors are ``ValueError`` naming the file and part.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from ..untrusted import LoadLimits
from . import wire
from .crc32c import crc32c, unmask

_MAGIC = 0xDB4775248B80FB57
_FOOTER = 48
_TRAILER = 5  # block type byte + masked crc32c
_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
DT_STRING = 7
# TensorFlow DataType enum -> numpy (bfloat16, 14, is read as its 16 bits and widened by torch)
_DTYPES: dict[int, Any] = {
    1: np.float32, 2: np.float64, 3: np.int32, 4: np.uint8, 5: np.int16, 6: np.int8, 9: np.int64,
    10: np.bool_, 14: "bfloat16", 17: np.uint16, 19: np.float16, 22: np.uint32, 23: np.uint64,
}


def _block(index: bytes, offset: int, size: int, what: str) -> bytes:
    """A table block's contents, after checking its place in the file, its type and its checksum."""
    if offset < 0 or size < 0 or offset + size + _TRAILER > len(index) - _FOOTER:
        raise ValueError(f"{what}: block at {offset} of {size} bytes lies outside the table ({len(index)} bytes)")
    contents = index[offset : offset + size]
    kind = index[offset + size]
    stored = wire.fixed32(index, offset + size + 1)
    if unmask(stored) != crc32c(index[offset : offset + size + 1]):
        raise ValueError(f"{what}: block at {offset} fails its CRC-32C check (the file is damaged)")
    if kind == 1:
        raise ValueError(f"{what}: block at {offset} is Snappy-compressed; TensorFlow's bundles are not, and kerastorch reads only uncompressed tables")
    if kind != 0:
        raise ValueError(f"{what}: block at {offset} has unknown compression type {kind}")
    return contents


def _block_entries(block: bytes, what: str) -> list[tuple[bytes, bytes]]:
    """The ``(key, value)`` entries of a block (prefix-compressed keys, restart array at the end)."""
    if len(block) < 4:
        raise ValueError(f"{what}: block of {len(block)} bytes has no restart count")
    restarts = wire.fixed32(block, len(block) - 4)
    end = len(block) - 4 - 4 * restarts
    if restarts < 1 or end < 0:
        raise ValueError(f"{what}: block declares {restarts} restart points, which do not fit its {len(block)} bytes")
    points = {wire.fixed32(block, end + 4 * i) for i in range(restarts)}
    out: list[tuple[bytes, bytes]] = []
    pos, key = 0, b""
    while pos < end:
        start = pos
        shared, pos = wire.varint(block, pos, what)
        unshared, pos = wire.varint(block, pos, what)
        length, pos = wire.varint(block, pos, what)
        if shared > len(key) or (start in points and shared):
            raise ValueError(f"{what}: entry at {start} shares {shared} bytes of a {len(key)}-byte previous key")
        if unshared + length > end - pos:
            raise ValueError(f"{what}: entry at {start} claims {unshared + length} bytes, {end - pos} remain")
        new = key[:shared] + block[pos : pos + unshared]
        if out and new <= key:
            raise ValueError(f"{what}: keys are not in increasing order at entry {len(out)}")
        key = new
        pos += unshared
        out.append((key, block[pos : pos + length]))
        pos += length
    return out


def _handle(data: bytes, pos: int, what: str) -> tuple[int, int, int]:
    offset, pos = wire.varint(data, pos, what)
    size, pos = wire.varint(data, pos, what)
    return offset, size, pos


def read_table(index: bytes, what: str) -> dict[str, bytes]:
    """Every ``key -> value`` of a LevelDB-style table held in ``index``."""
    if len(index) < _FOOTER:
        raise ValueError(f"{what}: {len(index)} bytes, shorter than a table footer ({_FOOTER}); the file is truncated")
    footer = index[-_FOOTER:]
    if int.from_bytes(footer[-8:], "little") != _MAGIC:
        raise ValueError(f"{what}: no table magic number at the end; it is not a TensorFlow checkpoint index (or is truncated)")
    _, _, pos = _handle(footer, 0, f"{what} footer")  # metaindex: empty in bundles
    offset, size, _ = _handle(footer, pos, f"{what} footer")
    entries: dict[str, bytes] = {}
    for last_key, handle in _block_entries(_block(index, offset, size, f"{what} index block"), f"{what} index block"):
        b_offset, b_size, _ = _handle(handle, 0, f"{what} index entry")
        for key, value in _block_entries(_block(index, b_offset, b_size, f"{what} data block"), f"{what} data block"):
            if key > last_key:
                raise ValueError(f"{what}: key {key[:80]!r} lies beyond its block's index key")
            try:
                name = key.decode("utf-8")
            except UnicodeDecodeError:
                raise ValueError(f"{what}: a key is not UTF-8") from None
            if name in entries:
                raise ValueError(f"{what}: key {name!r} appears twice")
            entries[name] = value
    return entries


class BundleTensor:
    """One tensor of a bundle, not read yet (``shape`` and ``dtype`` come from the index, so they are
    compared with the variable they are meant for before a byte is read). ``np.asarray`` reads it."""

    def __init__(self, bundle: "Bundle", key: str, entry: wire.BundleEntry, dtype: Any):
        self.bundle, self.key, self.entry = bundle, key, entry
        self.shape = tuple(entry.shape or ())
        self.bfloat16 = dtype == "bfloat16"
        self.dtype = np.dtype(np.float32) if self.bfloat16 else np.dtype(dtype)

    def __repr__(self) -> str:
        return f"BundleTensor({self.key!r}, shape={self.shape}, dtype={self.dtype})"

    def read(self) -> np.ndarray:
        raw = self.bundle.read_bytes(self.key, self.entry)
        if self.bfloat16:
            bits = np.frombuffer(raw, dtype="<i2").reshape(self.shape)
            return torch.from_numpy(bits.copy()).view(torch.bfloat16).float().numpy()
        return np.frombuffer(raw, dtype=self.dtype.newbyteorder("<")).astype(self.dtype).reshape(self.shape)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        value = self.read()
        return value if dtype is None else value.astype(dtype)


class Bundle:
    """A tensor bundle: ``prefix.index`` read whole (bounded), shards read tensor by tensor."""

    def __init__(self, prefix: str, limits: LoadLimits):
        self.prefix = prefix
        self.limits = limits
        self.index_path = prefix + ".index"
        size = os.stat(self.index_path).st_size
        if size > limits.max_config_bytes:
            raise ValueError(f"{self.index_path!r} is {size} bytes, more than the limit of {limits.max_config_bytes} (LoadLimits.max_config_bytes)")
        with open(self.index_path, "rb") as f:
            index = f.read(size + 1)
        if len(index) != size:
            raise ValueError(f"{self.index_path!r} changed size while being read")
        what = repr(self.index_path)
        self.entries = read_table(index, what)
        if "" not in self.entries:
            raise ValueError(f"{what}: no bundle header (empty key); it is not a TensorFlow tensor bundle")
        self.num_shards, endianness = wire.bundle_header(self.entries.pop(""), f"{what} header")
        if endianness != 0:
            raise ValueError(f"{what}: the bundle is big-endian; kerastorch reads little-endian bundles")
        if not 1 <= self.num_shards <= 1 << 16:
            raise ValueError(f"{what}: the header declares {self.num_shards} shards")

    def entry(self, key: str) -> wire.BundleEntry:
        if key not in self.entries:
            raise ValueError(f"{self.index_path!r}: no tensor {key!r} in the bundle")
        entry = wire.bundle_entry(self.entries[key], f"{self.index_path!r} entry {key!r}")
        where = f"{self.index_path!r} entry {key!r}"
        if entry.sliced:
            raise ValueError(f"{where}: a partitioned (sliced) variable, which kerastorch does not read")
        if entry.shape is None or any(d < 0 for d in entry.shape):
            raise ValueError(f"{where}: shape {entry.shape} is not fully known")
        if not 0 <= entry.shard_id < self.num_shards:
            raise ValueError(f"{where}: shard {entry.shard_id} of {self.num_shards}")
        if entry.offset < 0 or entry.size < 0:
            raise ValueError(f"{where}: offset {entry.offset} / size {entry.size}")
        return entry

    def tensor(self, key: str) -> BundleTensor:
        """The numeric tensor stored under ``key``, its declared size checked against its shape and the limits."""
        entry = self.entry(key)
        where = f"{self.index_path!r} entry {key!r}"
        dtype = _DTYPES.get(entry.dtype)
        if dtype is None:
            raise ValueError(f"{where}: TensorFlow dtype {entry.dtype} is not a numeric weight type")
        count = 1
        for d in entry.shape or ():
            count *= d
        if count > self.limits.max_weight_elements:
            raise ValueError(f"{where}: shape {entry.shape} holds {count} elements, more than the limit of {self.limits.max_weight_elements}")
        width = 2 if dtype == "bfloat16" else np.dtype(dtype).itemsize
        if entry.size != count * width:
            raise ValueError(f"{where}: {entry.size} bytes stored for shape {entry.shape} ({count * width} expected)")
        return BundleTensor(self, key, entry, dtype)

    def shard_path(self, shard: int) -> str:
        return f"{self.prefix}.data-{shard:05d}-of-{self.num_shards:05d}"

    def read_bytes(self, key: str, entry: wire.BundleEntry) -> bytes:
        """A tensor's bytes, after checking that its shard holds them, then their CRC-32C."""
        path = self.shard_path(entry.shard_id)
        size = os.stat(path).st_size
        if entry.offset + entry.size > size:
            raise ValueError(f"{path!r}: tensor {key!r} claims bytes {entry.offset}..{entry.offset + entry.size}, the file has {size} (truncated?)")
        with open(path, "rb") as f:
            f.seek(entry.offset)
            raw = f.read(entry.size)
        if len(raw) != entry.size:
            raise ValueError(f"{path!r}: tensor {key!r} could not be read whole")
        if entry.crc32c is not None and unmask(entry.crc32c) != crc32c(raw):
            raise ValueError(f"{path!r}: tensor {key!r} fails its CRC-32C check (the file is damaged)")
        return raw

    def string_scalar(self, key: str) -> bytes:
        """A scalar ``DT_STRING`` tensor (the object graph): ``[varint64 length][masked crc of length][bytes]``."""
        entry = self.entry(key)
        where = f"{self.index_path!r} entry {key!r}"
        if entry.dtype != DT_STRING or entry.shape != ():
            raise ValueError(f"{where}: expected a scalar string, found dtype {entry.dtype} shape {entry.shape}")
        if entry.size > self.limits.max_config_bytes:
            raise ValueError(f"{where}: {entry.size} bytes, more than the limit of {self.limits.max_config_bytes}")
        path = self.shard_path(entry.shard_id)
        size = os.stat(path).st_size
        if entry.offset + entry.size > size:
            raise ValueError(f"{path!r}: {key!r} claims bytes {entry.offset}..{entry.offset + entry.size}, the file has {size} (truncated?)")
        with open(path, "rb") as f:
            f.seek(entry.offset)
            raw = f.read(entry.size)
        length, pos = wire.varint(raw, 0, where)
        if pos + 4 + length != len(raw):
            raise ValueError(f"{where}: string of {length} bytes does not fit the {len(raw)} stored")
        length_crc = crc32c(length.to_bytes(4, "little")) if length < 1 << 32 else crc32c(length.to_bytes(8, "little"))
        if unmask(wire.fixed32(raw, pos)) != length_crc:
            raise ValueError(f"{where}: the string length fails its CRC-32C check")
        if entry.crc32c is not None:
            whole = crc32c(raw[pos + 4 :], crc32c(raw[pos : pos + 4], length_crc))
            if unmask(entry.crc32c) != whole:
                raise ValueError(f"{path!r}: {key!r} fails its CRC-32C check (the file is damaged)")
        return raw[pos + 4 :]

    def object_graph(self) -> list[wire.TrackableObject]:
        if _GRAPH_KEY not in self.entries:
            raise ValueError(
                f"{self.index_path!r} has no {_GRAPH_KEY}: it is a TF1-style (name-based) checkpoint, which "
                "kerastorch does not read (it matches weights through the object graph of TF 2 checkpoints)"
            )
        nodes = wire.object_graph(self.string_scalar(_GRAPH_KEY), f"{self.index_path!r} object graph")
        n = len(nodes)
        for i, node in enumerate(nodes):
            for child, name in node.children:
                if not 0 <= child < n:
                    raise ValueError(f"{self.index_path!r} object graph: node {i} child {name!r} refers to node {child} of {n}")
        if not nodes:
            raise ValueError(f"{self.index_path!r} object graph is empty")
        return nodes
