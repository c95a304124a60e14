"""Reading model files as untrusted input: limits checked before anything big is read or allocated.

A model file can be hostile. Everything here is checked before the bytes it guards are read or the
memory it guards is allocated:

* the file's size (``max_file_bytes``), read whole into memory only after that check;
* zip archives (``.keras``): the entry count from the end-of-central-directory record before the
  directory is parsed, every entry name (absolute paths, ``..``, drive letters, backslashes, NUL
  and duplicates refuse the archive: nothing is ever extracted, but such an archive is not a Keras
  one), each member's uncompressed size from its header, then a bounded read (a header that lies
  about a decompression bomb cannot make it read more than the limit);
* JSON (``config.json``, ``model_config``): its size, then its bracket nesting depth, scanned
  before ``json.loads`` (which would raise ``RecursionError`` on very deep input);
* HDF5 (``model.weights.h5``, tf.keras ``.h5``): the object count, external links, soft links,
  external storage and virtual datasets (which would read other files), dataset dtypes, and the
  element count of every dataset and of all of them together, before any dataset is read;
* building the model: :func:`allocation_guard` refuses any tensor allocation larger than
  ``max_weight_elements`` (and more than ``max_total_elements`` in all) before torch allocates it,
  so a config asking for a ``Dense`` with ``10**12`` units fails at once.
"""
from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math
import os
import re
import struct
import tempfile
import zipfile
import zlib
from typing import Any, Iterable, Iterator

import numpy as np
import torch
from torch.overrides import TorchFunctionMode, _get_current_function_mode_stack


@dataclasses.dataclass(frozen=True)
class LoadLimits:
    """Bounds applied to a model file before reading it (pass your own to ``load_model(limits=...)``)."""

    max_file_bytes: int = 16 * 2**30  # the model file (.keras archive, .h5, .safetensors)
    max_config_bytes: int = 64 * 2**20  # config.json, a tf.keras model_config, safetensors metadata
    max_metadata_bytes: int = 2**20  # metadata.json
    max_weights_bytes: int = 16 * 2**30  # model.weights.h5 inside an archive (uncompressed)
    max_entries: int = 4096  # zip entries; HDF5 objects
    max_json_depth: int = 256  # nesting of [ and {
    max_weight_elements: int = 2**31  # one weight (or any one tensor allocated while building)
    max_total_elements: int = 2**33  # all weights of the file / all tensors allocated while building
    max_compression_ratio: int = 200  # an archive member may inflate to this many times its stored size ...
    min_ratio_checked_bytes: int = 64 * 2**20  # ... once it is larger than this (small members may be all zeros)


DEFAULT_LIMITS = LoadLimits()


# ----------------------------------------------------------------------------- files
def read_file(path: str, limits: LoadLimits) -> bytes:
    """The whole file, refused before reading when it is larger than ``max_file_bytes``."""
    size = os.stat(path).st_size
    if size > limits.max_file_bytes:
        raise ValueError(f"{path!r} is {size} bytes, more than the limit of {limits.max_file_bytes} (LoadLimits.max_file_bytes)")
    with open(path, "rb") as f:
        data = f.read(size + 1)  # read(n) reserves n bytes up front: never pass it the limit
    if len(data) != size:
        raise ValueError(f"{path!r} changed size while being read")
    return data


# ----------------------------------------------------------------------------- JSON
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)


def json_depth(data: bytes) -> int:
    """The deepest nesting of ``[``/``{`` in JSON text (brackets inside strings do not count), in
    C-speed passes: strings are blanked by a regex, the rest is a cumulative sum over brackets."""
    stripped = np.frombuffer(_JSON_STRING.sub(b'""', data), dtype=np.uint8)
    opens = (stripped == ord("[")) | (stripped == ord("{"))
    closes = (stripped == ord("]")) | (stripped == ord("}"))
    where = np.flatnonzero(opens | closes)
    if where.size == 0:
        return 0
    steps = np.where(opens[where], 1, -1).astype(np.int64)
    return int(np.cumsum(steps).max())


def parse_json(data: bytes | str, what: str, limit_bytes: int, limits: LoadLimits) -> Any:
    """``json.loads`` after the size and depth checks; a ValueError naming ``what`` otherwise."""
    if isinstance(data, str):
        data = data.encode("utf8")
    if len(data) > limit_bytes:
        raise ValueError(f"{what} is {len(data)} bytes, more than the limit of {limit_bytes}")
    depth = json_depth(data)
    if depth > limits.max_json_depth:
        raise ValueError(f"{what} nests {depth} levels deep, more than the limit of {limits.max_json_depth} (LoadLimits.max_json_depth)")
    try:
        return json.loads(data.decode("utf8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as e:
        raise ValueError(f"{what} is not valid JSON: {e}") from None


# ----------------------------------------------------------------------------- zip archives
def _zip_directory(data: bytes) -> tuple[int, int]:
    """(entry count, central directory size) from the end-of-central-directory record (zip64 too)."""
    pos = data.rfind(b"PK\x05\x06", max(0, len(data) - 65557))
    if pos < 0 or pos + 22 > len(data):
        raise ValueError("it is a truncated or corrupt zip archive (no end of central directory record)")
    total, size_cd = struct.unpack_from("<HI", data, pos + 10)
    if total == 0xFFFF or size_cd == 0xFFFFFFFF:
        loc = data.rfind(b"PK\x06\x07", max(0, pos - 20), pos)
        if loc >= 0:
            (offset,) = struct.unpack_from("<Q", data, loc + 8)
            if offset + 56 <= len(data) and data[offset : offset + 4] == b"PK\x06\x06":
                total, size_cd = struct.unpack_from("<QQ", data, offset + 32)
    return total, size_cd


def unsafe_member_name(name: str) -> str | None:
    """Why a zip entry name could point outside an extraction folder (``None``: it could not)."""
    if not name or "\x00" in name:
        return "an empty name or a NUL byte"
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return "an absolute path"
    if "\\" in name:
        return "a backslash"
    if ".." in name.split("/"):
        return "a parent directory reference ('..')"
    return None


_CHUNK = 1 << 20


def _zip_directory_of(source: bytes | str) -> tuple[int, int]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _zip_directory(bytes(source))
    size = os.stat(source).st_size
    with open(source, "rb") as f:
        f.seek(max(0, size - 65557 - 20))
        tail = f.read()
        total, size_cd = _zip_directory(tail) if tail.rfind(b"PK\x05\x06") >= 0 else (None, None)
        if total is None:
            raise ValueError("it is a truncated or corrupt zip archive (no end of central directory record)")
        pos = tail.rfind(b"PK\x05\x06")
        loc = tail.rfind(b"PK\x06\x07", max(0, pos - 20), pos)
        if (total == 0xFFFF or size_cd == 0xFFFFFFFF) and loc >= 0:  # zip64: the record may be far before the tail
            (offset,) = struct.unpack_from("<Q", tail, loc + 8)
            if offset + 56 <= size:
                f.seek(offset)
                record = f.read(56)
                if record[:4] == b"PK\x06\x06":
                    total, size_cd = struct.unpack_from("<QQ", record, 32)
    return total, size_cd


def read_zip(
    data: bytes | str,
    members: dict[str, int],
    limits: LoadLimits,
    spill: Iterable[str] = (),
    header_only: Iterable[str] = (),
) -> tuple[dict[str, Any], list[str]]:
    """Read ``members`` (name -> byte limit) of a zip (its bytes, or its path: read lazily), after the
    checks above.

    Returns the members found and every entry name. Members named in ``spill`` are returned as open
    file objects (the caller closes them), never held in memory: a stored member (Keras writes them so)
    as a :class:`MemberWindow` over its bytes in the archive when ``data`` is a path, anything else
    streamed into a private anonymous temporary file (positioned at 0): a multi-GB weights member costs
    disk, not memory. Every member's decompression stops at
    its limit and at ``max_compression_ratio`` times its stored size (past ``min_ratio_checked_bytes``),
    whatever its header says. Members named in ``header_only`` have their header's size checked against
    their limit, and are not read. Nothing touches the filesystem but those temporary files.
    """
    spill = set(spill)
    header_only = set(header_only)
    total, size_cd = _zip_directory_of(data)
    if total > limits.max_entries or size_cd > limits.max_entries * 1024:
        raise ValueError(
            f"the archive has {total} entries ({size_cd} bytes of directory), more than the limit of "
            f"{limits.max_entries} (LoadLimits.max_entries)"
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, (bytes, bytearray, memoryview)) else data)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, struct.error, ValueError, NotImplementedError, OSError) as e:
        raise ValueError(f"it is a truncated or corrupt zip archive ({e})") from None
    out: dict[str, Any] = {}
    try:
        with archive:
            infos = archive.infolist()
            if len(infos) > limits.max_entries:
                raise ValueError(f"the archive has {len(infos)} entries, more than the limit of {limits.max_entries}")
            names = [i.filename for i in infos]
            for name in names:
                why = unsafe_member_name(name)
                if why:
                    raise ValueError(f"the archive has an entry named {name!r} ({why}); a Keras archive never has one")
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"the archive has several entries named {dupes}: which one is meant is ambiguous")
            for info in infos:
                limit = members.get(info.filename)
                if limit is None:
                    continue
                if info.file_size > limit:
                    raise ValueError(f"{info.filename} is {info.file_size} bytes uncompressed, more than the limit of {limit}")
                if info.flag_bits & 0x1:
                    raise ValueError(f"{info.filename} is encrypted")
                if info.filename in header_only:
                    continue
                window = _stored_window(data, info) if info.filename in spill else None
                if window is not None:
                    out[info.filename] = window
                    continue
                ratio_limit = max(info.compress_size * limits.max_compression_ratio, limits.min_ratio_checked_bytes)
                out[info.filename] = _read_member(archive, info, min(limit, ratio_limit), info.filename in spill, limit)
    except BaseException:
        for value in out.values():
            if not isinstance(value, bytes):
                value.close()
        raise
    return out, names


class MemberWindow(io.RawIOBase):
    """A stored (uncompressed) zip member read in place: a read-only, seekable file object over its bytes
    in the archive (``os.pread`` on a private descriptor), so HDF5 reads each weight from the archive itself,
    nothing inflated or copied first. Reads never leave the member's checked extent."""

    def __init__(self, path: str, start: int, size: int):
        super().__init__()
        self._fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        self._start, self._size, self._pos = start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        if base + offset < 0:
            raise OSError("seek before the start of the archive member")
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        n = max(0, min(len(view), self._size - self._pos))
        done = 0
        while done < n:
            got = os.preadv(self._fd, [view[done:n]], self._start + self._pos + done)
            if got <= 0:
                break
            done += got
        self._pos += done
        return done

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def _stored_window(source: Any, info: zipfile.ZipInfo) -> MemberWindow | None:
    """A :class:`MemberWindow` over a stored, unencrypted member of the archive at path ``source`` (None for
    other members: they are streamed), after checking its local header and that its extent lies in the file."""
    if not isinstance(source, str) or info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
        return None
    size = os.stat(source).st_size
    with open(source, "rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise ValueError(f"it is a truncated or corrupt zip archive ({info.filename}: bad local header)")
    method, = struct.unpack_from("<H", header, 8)
    name_len, extra_len = struct.unpack_from("<HH", header, 26)
    start = info.header_offset + 30 + name_len + extra_len
    if method != zipfile.ZIP_STORED or start + info.file_size > size:
        raise ValueError(f"it is a truncated or corrupt zip archive ({info.filename} lies past the end of the file)")
    return MemberWindow(source, start, info.file_size)


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, bound: int, spill: bool, limit: int) -> Any:
    """A member's content (bytes, or a temporary file when ``spill``), read in chunks up to ``bound``."""
    sink: Any = tempfile.TemporaryFile() if spill else io.BytesIO()
    written = 0
    try:
        with archive.open(info) as member:
            while True:
                chunk = member.read(min(_CHUNK, bound + 1 - written))
                if not chunk:
                    break
                written += len(chunk)
                if written > bound:
                    why = (f"the limit of {limit} bytes" if bound == limit else
                           f"{bound} bytes, {bound // max(info.compress_size, 1)} times its stored size of "
                           f"{info.compress_size} bytes (LoadLimits.max_compression_ratio)")
                    raise ValueError(f"{info.filename} decompresses to more than {why}")
                sink.write(chunk)
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError, OSError, struct.error,
            lzma_error(), ValueError) as e:
        sink.close()
        if isinstance(e, ValueError) and str(e).startswith(info.filename):
            raise
        raise ValueError(f"it is a truncated or corrupt zip archive ({info.filename}: {e})") from None
    if not spill:
        return sink.getvalue()
    sink.seek(0)
    return sink


def lzma_error() -> type:
    try:
        import lzma

        return lzma.LZMAError
    except ImportError:  # pragma: no cover - Python built without lzma
        return zlib.error


# What a weights member may hold beyond the model's weights: Keras 3 saves the optimizer's state with
# the model (Adam: two slots per weight, plus its iterations), HDF5 adds its own structure.
_WEIGHT_COPIES = 4
_WEIGHTS_SLACK = 64 * 2**20


def weights_member_bound(model: torch.nn.Module, limits: LoadLimits) -> int:
    """How many bytes a ``.keras`` archive's ``model.weights.h5`` may decompress to for ``model`` (built
    from its config): its weights at 8 bytes each, times the optimizer's copies, plus slack; at most
    ``max_weights_bytes``. A member inflating past it (a few MB of deflated zeros appended) is refused
    while it is being streamed, whatever its header says."""
    elements = 0
    for t in model.state_dict(keep_vars=True).values():
        if isinstance(t, torch.nn.parameter.UninitializedTensorMixin):
            return limits.max_weights_bytes  # unbuilt: the config does not say
        elements += t.numel()
    return min(limits.max_weights_bytes, elements * 8 * _WEIGHT_COPIES + _WEIGHTS_SLACK)


# ----------------------------------------------------------------------------- HDF5
_NUMERIC_KINDS = "fiub"


def check_h5(h5py: Any, f: Any, limits: LoadLimits) -> None:
    """Refuse an HDF5 file that would read other files or allocate too much, before reading a dataset.
    What h5py raises on damaged metadata (``KeyError``, ``RuntimeError``, even ``SystemError``) is an
    ``OSError`` saying which part could not be read."""
    with h5_errors("its HDF5 structure"):
        _check_h5(h5py, f, limits)


@contextlib.contextmanager
def h5_errors(part: str) -> Iterator[None]:
    """Turn whatever h5py raises on a damaged file into an ``OSError`` naming ``part``."""
    try:
        yield
    except (ValueError, OSError, MemoryError):
        raise
    except (KeyError, TypeError, AttributeError, IndexError, RuntimeError, SystemError, UnicodeError, OverflowError) as e:
        raise OSError(f"{part} cannot be read ({type(e).__name__}: {e})") from None


def _check_h5(h5py: Any, f: Any, limits: LoadLimits) -> None:
    problems: list[str] = []
    names: list[str] = []

    def visit(name: str, link: Any) -> Any:
        if isinstance(link, h5py.ExternalLink):
            problems.append(f"{name!r} is an external link (to {link.filename!r})")
        elif isinstance(link, h5py.SoftLink):
            problems.append(f"{name!r} is a soft link (to {link.path!r})")
        else:
            names.append(name)
        if len(names) > limits.max_entries:
            problems.append(f"more than {limits.max_entries} objects (LoadLimits.max_entries)")
        return True if problems else None

    f.visititems_links(visit)
    total = 0
    for name in names if not problems else []:
        # The low-level object: h5py's f.get(name) re-validates the path in Python (a third of a load's time).
        obj = h5py.h5o.open(f.id, name.encode("utf8"))
        if not isinstance(obj, h5py.h5d.DatasetID):
            continue
        plist = obj.get_create_plist()
        if plist.get_layout() == h5py.h5d.VIRTUAL or plist.get_external_count():
            problems.append(f"dataset {name!r} keeps its data in other files")
            continue
        dtype = obj.dtype
        if dtype.kind not in _NUMERIC_KINDS and not (dtype.kind == "V" and dtype.itemsize == 2):
            problems.append(f"dataset {name!r} has dtype {dtype}, not a numeric weight")
            continue
        shape = obj.shape
        count = math.prod(shape or ())
        if count > limits.max_weight_elements:
            problems.append(
                f"dataset {name!r} has shape {shape} ({count} elements), more than the limit of "
                f"{limits.max_weight_elements} (LoadLimits.max_weight_elements)"
            )
        total += count
    if total > limits.max_total_elements:
        problems.append(f"its datasets hold {total} elements, more than the limit of {limits.max_total_elements}")
    if problems:
        raise ValueError("; ".join(problems))


def understored(declared: int, stored: int, plist: Any) -> str | None:
    """Why a dataset's stored bytes cannot hold the ``declared`` bytes of its header (a sparse or truncated
    dataset: reading it would allocate the declared size and fill it with the fill value), or None."""
    if declared == 0:
        return None
    filtered = plist.get_layout() == 2 and plist.get_nfilters() > 0  # chunked and compressed
    limit = stored * 1100 + 4096 if filtered else stored  # deflate cannot inflate more than ~1032x
    return f"{declared} bytes but stores {stored} bytes" if declared > limit else None


_ATTRIBUTE_CLASSES = (0, 1, 3)  # H5T_INTEGER, H5T_FLOAT, H5T_STRING: what Keras writes as attributes


def h5_attr(obj: Any, name: str, default: Any = None) -> Any:
    """An attribute of an HDF5 object (``default`` when absent), read only when its datatype is a number or a
    string: libhdf5 dereferences a variable-length sequence's heap pointers as stored, and a damaged one (two
    flipped bytes turning tf.keras's ``weight_names`` into a vlen of ints; fuzzer seed 10, mutant 1425)
    crashes the process inside the C library, where Python cannot catch it."""
    attrs = obj.attrs
    if name not in attrs:
        return default
    cls = attrs.get_id(name).get_type().get_class()
    if cls not in _ATTRIBUTE_CLASSES:
        raise ValueError(f"attribute {name!r} of {obj.name!r} has HDF5 type class {cls}, not a string or a number")
    return attrs[name]


def h5_string_attr(f: Any, name: str, limits: LoadLimits) -> bytes | None:
    """A string attribute (tf.keras ``model_config``), its stored size checked before reading it."""
    with h5_errors(f"attribute {name!r}"):
        return _h5_string_attr(f, name, limits)


def _h5_string_attr(f: Any, name: str, limits: LoadLimits) -> bytes | None:
    if name not in f.attrs:
        return None
    attr = f.attrs.get_id(name)
    if attr.get_storage_size() > limits.max_config_bytes:
        raise ValueError(f"attribute {name!r} is {attr.get_storage_size()} bytes, more than the limit of {limits.max_config_bytes}")
    value = h5_attr(f, name)
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, str):
        value = value.encode("utf8")
    if not isinstance(value, (bytes, np.bytes_)):
        raise ValueError(f"attribute {name!r} is not a string")
    return bytes(value)


# ----------------------------------------------------------------------------- allocations
# Factory functions and methods: the size of the tensor they allocate is their first list-of-ints argument
# (or their leading int arguments: ``torch.zeros(3, 4)``, ``t.new_empty(5)``, ``t.resize_(2, 3)``).
_FACTORIES = {
    "empty", "empty_strided", "empty_permuted", "zeros", "ones", "full", "rand", "randn", "randint", "normal",
    "new_empty", "new_empty_strided", "new_zeros", "new_ones", "new_full", "resize_",
}
_SIZE_ONLY_AS_SEQUENCE = {"full", "new_full", "randint", "normal", "empty_strided", "new_empty_strided"}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _AllocationGuard(TorchFunctionMode):
    """Refuses, before allocating, a tensor larger than ``max_weight_elements`` and a running total
    above ``max_total_elements`` (counted over every size-taking factory call while active).

    A torch *function* mode, not a dispatch mode: torch wraps every ``TorchDispatchMode.__torch_dispatch__``
    in ``torch._disable_dynamo``, whose first call imports ``torch._dynamo`` (about 2 s, on every load of a
    process that never compiles). Factory calls are seen as the Python API receives them."""

    def __init__(self, limits: LoadLimits, source: str):
        super().__init__()
        self.limits = limits
        self.source = source
        self.total = 0

    @staticmethod
    def _size(name: str, args: tuple, kwargs: dict) -> int | None:
        if name == "eye":
            return math.prod(a for a in args[:2] if _is_int(a))
        if name not in _FACTORIES:
            return None
        if name.startswith("new_") or name == "resize_":
            args = args[1:]  # the tensor the method is called on
        size = kwargs.get("size")
        if size is None:
            size = next((a for a in args if isinstance(a, (list, tuple, torch.Size))), None)
        if size is None and name not in _SIZE_ONLY_AS_SEQUENCE:
            size = [a for a in args if _is_int(a)]
        if isinstance(size, (list, tuple, torch.Size)) and all(_is_int(d) for d in size):
            return math.prod(size)
        return None

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        count = self._size(getattr(func, "__name__", ""), args, kwargs)
        if count is not None:
            if count > self.limits.max_weight_elements:
                raise ValueError(
                    f"{self.source}: the model asks for a tensor of {count} elements, more than the limit of "
                    f"{self.limits.max_weight_elements} (LoadLimits.max_weight_elements); refused before allocating"
                )
            self.total += count
            if self.total > self.limits.max_total_elements:
                raise ValueError(
                    f"{self.source}: building the model allocates more than {self.limits.max_total_elements} "
                    "elements (LoadLimits.max_total_elements); refused before allocating"
                )
        return func(*args, **kwargs)


@contextlib.contextmanager
def allocation_guard(limits: LoadLimits, source: str) -> Iterator[None]:
    """While active, tensors larger than the limits are refused with a ValueError before allocation."""
    with _AllocationGuard(limits, source):
        yield


def allocation_guard_active() -> bool:
    """Whether an :func:`allocation_guard` is active (``model_from_config`` inside ``load_model``)."""
    return any(isinstance(m, _AllocationGuard) for m in _get_current_function_mode_stack())
