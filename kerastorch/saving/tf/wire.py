"""A small protobuf wire-format reader for the few TensorFlow / tf.keras messages kerastorch reads.

No ``protobuf`` package: the messages are decoded field by field from their ``.proto`` numbers
(written next to each reader below), every length checked against the bytes that remain and every
nesting bounded, so a malformed message is a ``ValueError`` naming it, never a crash or a huge
allocation. Unknown fields are skipped, as protobuf does.
"""
from __future__ import annotations

import dataclasses
import struct
from typing import Iterator

_MAX_DEPTH = 32  # the messages read here nest 3 deep at most

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


def varint(data: bytes, pos: int, what: str) -> tuple[int, int]:
    """The unsigned varint at ``pos`` and the position after it."""
    result = shift = 0
    end = min(len(data), pos + 10)
    while pos < end:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result & 0xFFFFFFFFFFFFFFFF, pos
        shift += 7
    raise ValueError(f"{what}: truncated or overlong varint")


def fields(data: bytes, what: str) -> Iterator[tuple[int, int, int | bytes]]:
    """``(field number, wire type, value)`` of each field of a message: an int for varints and
    fixed-width fields, the bytes of a length-delimited one."""
    pos, n = 0, len(data)
    while pos < n:
        key, pos = varint(data, pos, what)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError(f"{what}: field number 0 at byte {pos}")
        if wire == VARINT:
            value, pos = varint(data, pos, what)
            yield number, wire, value
        elif wire == LENGTH:
            size, pos = varint(data, pos, what)
            if size > n - pos:
                raise ValueError(f"{what}: field {number} claims {size} bytes, {n - pos} remain")
            yield number, wire, data[pos : pos + size]
            pos += size
        elif wire in (FIXED64, FIXED32):
            width = 8 if wire == FIXED64 else 4
            if width > n - pos:
                raise ValueError(f"{what}: field {number} is truncated")
            yield number, wire, int.from_bytes(data[pos : pos + width], "little")
            pos += width
        else:  # groups (3, 4) are not used by these messages; 6, 7 do not exist
            raise ValueError(f"{what}: unsupported wire type {wire} for field {number}")


def _int64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _expect(wire: int, want: int, number: int, what: str) -> None:
    if wire != want:
        raise ValueError(f"{what}: field {number} has wire type {wire}, expected {want}")


def _text(raw: bytes, what: str) -> str:
    try:
        return bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{what}: a string field is not UTF-8") from None


# ----------------------------------------------------------------------------- keras_metadata.pb
@dataclasses.dataclass
class SavedObject:
    """tf_keras/protobuf/saved_metadata.proto ``SavedObject``: node_id 2, node_path 3, identifier 4, metadata 5."""

    node_id: int = 0
    node_path: str = ""
    identifier: str = ""
    metadata: bytes = b""


def saved_metadata(data: bytes, what: str) -> list[SavedObject]:
    """``SavedMetadata`` (``repeated SavedObject nodes = 1``)."""
    out = []
    for number, wire, value in fields(data, what):
        if number != 1:
            continue
        _expect(wire, LENGTH, number, what)
        node = SavedObject()
        for n2, w2, v2 in fields(value, f"{what} node {len(out)}"):  # type: ignore[arg-type]
            if n2 == 2 and w2 == VARINT:
                node.node_id = int(v2)  # type: ignore[arg-type]
            elif n2 in (3, 4, 5):
                _expect(w2, LENGTH, n2, what)
                if n2 == 3:
                    node.node_path = _text(v2, what)  # type: ignore[arg-type]
                elif n2 == 4:
                    node.identifier = _text(v2, what)  # type: ignore[arg-type]
                else:
                    node.metadata = bytes(v2)  # type: ignore[arg-type]
        out.append(node)
    return out


def legacy_saved_metadata(data: bytes | memoryview, what: str) -> list[SavedObject]:
    """The Keras objects of a ``saved_model.pb`` as TensorFlow before ``keras_metadata.pb`` kept them:
    ``SavedModel.meta_graphs`` (2) [0] ``.object_graph_def`` (7) ``.nodes`` (1), each ``SavedObject`` with
    ``children`` (1: node_id 1, local_name 2) and ``user_object`` (4: ``SavedUserObject`` identifier 1,
    metadata 3). Node paths are made as tf_keras's ``_generate_object_paths`` makes them (depth first from
    the root, a node named by the first path that reaches it). ``data`` may be a memoryview (no copies of
    the graphs skipped)."""
    graph = None
    for number, wire, value in fields(data, what):
        if number == 2 and wire == LENGTH:
            for n2, w2, v2 in fields(value, f"{what} meta graph"):  # type: ignore[arg-type]
                if n2 == 7 and w2 == LENGTH:
                    graph = v2
            break  # the first meta graph, as tf_keras reads
    if graph is None:
        raise ValueError(f"{what}: no object graph (a TF1 SavedModel, not a TF 2 Keras one)")
    children: list[list[tuple[int, str]]] = []
    objects: list[tuple[str, bytes] | None] = []
    for number, wire, value in fields(graph, f"{what} object graph"):  # type: ignore[arg-type]
        if number != 1 or wire != LENGTH:
            continue
        refs: list[tuple[int, str]] = []
        user = None
        for n2, w2, v2 in fields(value, f"{what} node {len(objects)}"):  # type: ignore[arg-type]
            if n2 == 1 and w2 == LENGTH:
                ref, name = 0, ""
                for n3, w3, v3 in fields(v2, what):  # type: ignore[arg-type]
                    if n3 == 1 and w3 == VARINT:
                        ref = _int64(v3)  # type: ignore[arg-type]
                    elif n3 == 2 and w3 == LENGTH:
                        name = _text(v3, what)  # type: ignore[arg-type]
                refs.append((ref, name))
            elif n2 == 4 and w2 == LENGTH:
                identifier, metadata = "", b""
                for n3, w3, v3 in fields(v2, what):  # type: ignore[arg-type]
                    if n3 == 1 and w3 == LENGTH:
                        identifier = _text(v3, what)  # type: ignore[arg-type]
                    elif n3 == 3 and w3 == LENGTH:
                        metadata = bytes(v3)  # type: ignore[arg-type]
                user = (identifier, metadata)
        children.append(refs)
        objects.append(user)
    n = len(objects)
    paths = {0: "root"} if n else {}
    stack = [0] if n else []
    while stack:
        current = stack.pop()
        for ref, name in children[current]:
            if not 0 <= ref < n:
                raise ValueError(f"{what}: node {current} child {name!r} refers to node {ref} of {n}")
            if ref not in paths:
                paths[ref] = f"{paths[current]}.{name}"
                stack.append(ref)
    out = []
    for node_id, user in enumerate(objects):
        if user is not None and user[0].startswith("_tf_keras") and node_id in paths:
            out.append(SavedObject(node_id, paths[node_id], user[0], user[1]))
    return out


# ----------------------------------------------------------------------------- tensor bundle
@dataclasses.dataclass
class BundleEntry:
    """tensorflow/core/protobuf/tensor_bundle.proto ``BundleEntryProto``: dtype 1, shape 2, shard_id 3,
    offset 4, size 5, crc32c 6 (fixed32), slices 7 (partitioned variables)."""

    dtype: int = 0
    shape: tuple[int, ...] | None = ()  # None: unknown rank
    shard_id: int = 0
    offset: int = 0
    size: int = 0
    crc32c: int | None = None
    sliced: bool = False


def tensor_shape(data: bytes, what: str) -> tuple[int, ...] | None:
    """``TensorShapeProto``: repeated Dim dim = 2 (size 1, name 2), unknown_rank = 3; None for unknown rank."""
    dims: list[int] = []
    unknown = False
    for number, wire, value in fields(data, what):
        if number == 2:
            _expect(wire, LENGTH, number, what)
            size = 0
            for n2, w2, v2 in fields(value, what):  # type: ignore[arg-type]
                if n2 == 1:
                    _expect(w2, VARINT, n2, what)
                    size = _int64(v2)  # type: ignore[arg-type]
            dims.append(size)
        elif number == 3 and wire == VARINT:
            unknown = bool(value)
    return None if unknown else tuple(dims)


def bundle_entry(data: bytes, what: str) -> BundleEntry:
    entry = BundleEntry()
    for number, wire, value in fields(data, what):
        if number == 2:
            _expect(wire, LENGTH, number, what)
            entry.shape = tensor_shape(value, what)  # type: ignore[arg-type]
        elif number == 6:
            _expect(wire, FIXED32, number, what)
            entry.crc32c = int(value)  # type: ignore[arg-type]
        elif number == 7:
            entry.sliced = True
        elif number in (1, 3, 4, 5):
            _expect(wire, VARINT, number, what)
            v = _int64(value)  # type: ignore[arg-type]
            if number == 1:
                entry.dtype = v
            elif number == 3:
                entry.shard_id = v
            elif number == 4:
                entry.offset = v
            else:
                entry.size = v
    return entry


def bundle_header(data: bytes, what: str) -> tuple[int, int]:
    """``BundleHeaderProto``: ``(num_shards 1, endianness 2)`` (0: little-endian)."""
    shards, endianness = 1, 0
    for number, wire, value in fields(data, what):
        if number in (1, 2):
            _expect(wire, VARINT, number, what)
            if number == 1:
                shards = _int64(value)  # type: ignore[arg-type]
            else:
                endianness = int(value)  # type: ignore[arg-type]
    return shards, endianness


# ----------------------------------------------------------------------------- object graph
@dataclasses.dataclass
class TrackableObject:
    """tensorflow/core/protobuf/trackable_object_graph.proto ``TrackableObject``: children 1
    (ObjectReference: node_id 1, local_name 2), attributes 2 (SerializedTensor: name 1, full_name 2,
    checkpoint_key 3); slot variables (3) are an optimizer's and are not read."""

    children: list[tuple[int, str]] = dataclasses.field(default_factory=list)
    attributes: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)  # (name, full_name, key)


def object_graph(data: bytes, what: str) -> list[TrackableObject]:
    """``TrackableObjectGraph`` (``repeated TrackableObject nodes = 1``)."""
    nodes = []
    for number, wire, value in fields(data, what):
        if number != 1:
            continue
        _expect(wire, LENGTH, number, what)
        node = TrackableObject()
        where = f"{what} node {len(nodes)}"
        for n2, w2, v2 in fields(value, where):  # type: ignore[arg-type]
            if n2 not in (1, 2):
                continue
            _expect(w2, LENGTH, n2, where)
            parts = {1: 0 if n2 == 1 else "", 2: "", 3: ""}
            for n3, w3, v3 in fields(v2, where):  # type: ignore[arg-type]
                if n2 == 1 and n3 == 1:
                    _expect(w3, VARINT, n3, where)
                    parts[1] = _int64(v3)  # type: ignore[arg-type]
                elif n3 in (1, 2, 3) and w3 == LENGTH:
                    parts[n3] = _text(v3, where)  # type: ignore[arg-type]
            if n2 == 1:
                node.children.append((int(parts[1]), str(parts[2])))
            else:
                node.attributes.append((str(parts[1]), str(parts[2]), str(parts[3])))
        nodes.append(node)
    return nodes


def fixed32(data: bytes, pos: int) -> int:
    return struct.unpack_from("<I", data, pos)[0]
