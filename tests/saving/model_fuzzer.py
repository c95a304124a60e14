"""A structure-aware mutation fuzzer for model files (``load_model`` and the weight readers).

Seeds are small valid files written by real Keras (tf.keras ``.h5``, Keras 3 ``.keras``, from
``compat_fixtures``) and kerastorch ``.safetensors`` written by ``save_model``. Each mutant changes
one thing the way a damaged download, a hand-edited config or an attacker would: config values
deleted, retyped or pushed to extremes; op-node and inbound-node arguments edited; weight datasets
dropped, reshaped, retyped or declared huge without data; archives re-packed (other members, other
compression, a weights member inflating to GiBs of zeros); HDF5 and safetensors bytes flipped or
truncated; safetensors headers that lie.

Each mutant is loaded in a child process under a memory limit (``RLIMIT_AS``: what the worker uses
after importing kerastorch plus ``MEMORY_HEADROOM``) and a timeout, and the returned model is called on
inputs of its declared shapes. Outcomes:

* ``OK``: it loads and runs;
* ``REFUSED``: ``ValueError``/``OSError`` at load, naming the file;
* ``BAD``: anything else: another exception type, a refusal not naming the file, a crash, a hang,
  running out of memory, an error at the first call, the input file modified, or (for a refused file)
  the CLI not exiting with status 2 and one line.

Run ``python benchmarks/fuzz_model_files.py --count 3000`` for a long run;
``tests/saving/test_fuzz_model_files.py`` runs a fixed-seed few hundred in CI.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import math
import multiprocessing
import multiprocessing.connection
import os
import random
import struct
import tempfile
import time
import zipfile
import zlib
from typing import Any, Callable

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
MODELS = os.path.join(ROOT, "compat_fixtures", "models")
H5_SEEDS = ["tf_ops.tf.h5", "cnn_nchw.tf.h5", "nested.tf.h5"]
KERAS_SEEDS = ["k3_ops.k3.keras", "cnn_seq.k3.keras", "shared.k3.keras"]
SAFETENSORS_FROM = ["tf_ops.tf.h5", "cnn_seq.k3.keras"]  # loaded, then written by save_model
# The recurrent, attention, lookup (vocabulary assets, string inputs) and structured families and a tf_formats file (real tf.keras / Keras 3 files, paths under
# compat_fixtures/): seeds of the long run with ``families=True`` (benchmarks/fuzz_model_files.py --families).
FAMILY_H5_SEEDS = ["rnn/models/mixed.tf.h5", "rnn/models/seq2seq.tf.h5", "attention_small/masked_attention.tf.h5",
                   "attention/text_classifier.tf.h5", "tf_formats/conv1d.h5"]
FAMILY_KERAS_SEEDS = ["rnn/models/stacked_lstm_masked.k3.keras", "rnn/models/conv_lstm.k3.keras",
                      "attention/gqa_lm.k3.keras", "attention_small/spectral_dense.k3.keras",
                      "lookups/text.k3.keras", "lookups/structured.k3.keras", "structured/models/structured.k3.keras"]
FAMILY_SAFETENSORS_FROM = ["rnn/models/mixed.tf.h5", "attention/text_classifier.k3.keras"]
MEMORY_HEADROOM = 2 * 2**30
TIMEOUT_S = 60.0
CALL_ELEMENTS = 2**24  # a declared input larger than this is not made (the model is loaded, not called)
TASKS_PER_WORKER = 100
INFLATE_BYTES = 3 * 2**30  # zeros appended to a weights member (a bomb whose header does not lie)


@dataclasses.dataclass
class Seed:
    name: str
    kind: str  # "h5", "keras", "safetensors"
    data: bytes


@dataclasses.dataclass
class Mutant:
    index: int
    seed: str
    kind: str
    mutation: str  # mutator name: what was done, in words
    data: bytes


# ----------------------------------------------------------------------------- seeds
def load_seeds(workdir: str | None, safetensors: bool = True, families: bool = False) -> list[Seed]:
    """The valid files every mutant starts from (safetensors written into ``workdir`` by ``save_model``);
    with ``families``, also the recurrent / attention / tf_formats seeds (``FAMILY_*``)."""
    fixtures = os.path.dirname(MODELS)
    h5 = [os.path.join(MODELS, n) for n in H5_SEEDS] + [os.path.join(fixtures, n) for n in FAMILY_H5_SEEDS if families]
    keras = [os.path.join(MODELS, n) for n in KERAS_SEEDS] + [
        os.path.join(fixtures, n) for n in FAMILY_KERAS_SEEDS if families]
    seeds = [Seed(os.path.basename(p), "h5", open(p, "rb").read()) for p in h5]
    seeds += [Seed(os.path.basename(p), "keras", open(p, "rb").read()) for p in keras]
    import kerastorch as kt

    sources = [os.path.join(MODELS, n) for n in SAFETENSORS_FROM] + [
        os.path.join(fixtures, n) for n in FAMILY_SAFETENSORS_FROM if families]
    for path in sources if safetensors else ():
        out = os.path.join(workdir, os.path.basename(path).split(".")[0] + ".seed.safetensors")
        kt.models.save_model(kt.models.load_model(path), out)
        seeds.append(Seed(os.path.basename(out), "safetensors", open(out, "rb").read()))
    return seeds


# ----------------------------------------------------------------------------- config mutators
EXTREME_INTS = [0, -1, -7, 2**31, 2**63, 2**64, 10**12, -(2**63), 10**9]
OTHER_TYPES: list[Any] = ["x", 3, -1, 2.5, None, [], {}, [1, 2], True, {"a": 1}, "float32", [None, None]]
SIZE_KEYS = [
    "units", "filters", "kernel_size", "strides", "dilation_rate", "pool_size", "axis", "target_shape", "size",
    "padding", "cropping", "dims", "n", "rate", "depth_multiplier", "groups", "batch_input_shape", "batch_shape",
    "momentum", "epsilon", "newshape", "output_padding", "shape", "keepdims",
]
OP_CLASSES = ("TFOpLambda", "SlicingOpLambda")


def layer_entries(config: Any) -> list[dict]:
    """Every layer entry (``{'class_name', 'config', 'inbound_nodes', ...}``), nested models included."""
    out = []
    layers = (config.get("config") or {}).get("layers") if isinstance(config, dict) else None
    if isinstance(layers, list):
        for entry in layers:
            if isinstance(entry, dict):
                out.append(entry)
                out += layer_entries(entry)
    return out


def _slots(obj: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) pair under obj."""
    out = []
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else []
    for k, v in items:
        out.append((obj, k))
        out += _slots(v)
    return out


def _is_op(entry: dict) -> bool:
    return entry.get("class_name") in OP_CLASSES or str(entry.get("module", "")).startswith("keras.src.ops")


def _tensor_refs(node: Any) -> list[Any]:
    """The tensor references of an inbound node: tf.keras ``[name, node, tensor, kwargs]`` items or Keras 3
    ``__keras_tensor__`` dicts."""
    if isinstance(node, dict):
        return [a for a in node.get("args", []) if isinstance(a, dict) and a.get("class_name") == "__keras_tensor__"]
    if isinstance(node, list):
        return [a for a in node if isinstance(a, list) and a and isinstance(a[0], str)]
    return []


def _node_kwargs(node: Any) -> dict | None:
    if isinstance(node, dict):
        return node.setdefault("kwargs", {}) if isinstance(node.get("kwargs", {}), dict) else None
    refs = _tensor_refs(node)
    if refs:
        if len(refs[0]) < 4 or not isinstance(refs[0][3], dict):
            return None
        return refs[0][3]
    return None


def _single_ref(node: Any) -> bool:
    """tf.keras nodes of op layers are a bare ``[name, node, tensor, kwargs]`` instead of a list of them."""
    return isinstance(node, list) and len(node) >= 3 and isinstance(node[0], str)


def mutate_config(config: dict, rng: random.Random) -> str:
    """One edit of a model config, in place; returns what was done."""
    entries = [e for e in layer_entries(config)]
    if not entries:
        return "nothing to edit"
    which = rng.choice(["delete", "retype", "extreme", "named", "named", "op", "op", "inbound", "inbound", "model"])
    entry = rng.choice(entries)
    name = (entry.get("config") or {}).get("name") if isinstance(entry.get("config"), dict) else None
    if which == "delete":
        target = entry["config"] if isinstance(entry.get("config"), dict) and rng.random() < 0.8 else entry
        if not target:
            return "nothing to delete"
        key = rng.choice(sorted(target))
        del target[key]
        return f"delete {key!r} of {name!r}"
    if which in ("retype", "extreme"):
        slots = _slots(entry.get("config"))
        if which == "extreme":
            slots = [(c, k) for c, k in slots if isinstance(c[k], int) and not isinstance(c[k], bool)]
        if not slots:
            return "nothing to retype"
        container, key = rng.choice(slots)
        value = rng.choice(EXTREME_INTS if which == "extreme" else OTHER_TYPES)
        container[key] = value
        return f"{which} {key!r} of {name!r} = {value!r}"
    if which == "named":
        candidates = [(e, k) for e in entries if isinstance(e.get("config"), dict) for k in SIZE_KEYS if k in e["config"]]
        if not candidates:
            return "no size field"
        e, key = rng.choice(candidates)
        old = e["config"][key]
        extreme = rng.choice(EXTREME_INTS + [2**63 - 1, -(2**31)])
        if isinstance(old, list) and old and rng.random() < 0.7:
            new = list(old)
            new[rng.randrange(len(new))] = extreme
        elif isinstance(old, list) and rng.random() < 0.5:
            new = old + [rng.choice([1, 3, 0])]
        else:
            new = extreme
        e["config"][key] = new
        return f"size {key!r} of {e['config'].get('name')!r} = {new!r}"
    if which == "op":
        ops = [e for e in entries if _is_op(e)] or entries
        entry = rng.choice(ops)
        return "op " + _mutate_node(entry, rng, op=True)
    if which == "inbound":
        return "inbound " + _mutate_node(entry, rng, op=_is_op(entry))
    # model-level: input/output layer references, the input shape
    body = config.get("config")
    key = rng.choice(["input_layers", "output_layers"])
    value = body.get(key)
    choice = rng.random()
    if choice < 0.3:
        body[key] = [["no_such_layer", 0, 0]]
    elif choice < 0.6 and isinstance(value, list) and value:
        ref = value[0] if isinstance(value[0], list) else value
        if len(ref) >= 3:
            ref[rng.choice([1, 2])] = rng.choice([5, -1, 2**63, "0"])
    else:
        body[key] = rng.choice([[], None, 3, "x", [[]]])
    return f"model {key}"


def _mutate_node(entry: dict, rng: random.Random, op: bool) -> str:
    nodes = entry.get("inbound_nodes")
    name = (entry.get("config") or {}).get("name")
    if not isinstance(nodes, list) or not nodes:
        entry["inbound_nodes"] = rng.choice([[[["x", 0, 0, {}]]], [{"args": [], "kwargs": {}}], "x", [[]]])
        return f"{name!r}: inbound nodes made up"
    node = rng.choice(nodes)
    refs = _tensor_refs([node] if _single_ref(node) else node)
    kwargs = _node_kwargs([node] if _single_ref(node) else node)
    choice = rng.choice(["extra_arg", "unknown_kw", "bad_axis", "shape", "drop_kw", "bad_ref", "bad_index", "retype_kw"])
    if choice == "extra_arg" and refs:
        extra = json.loads(json.dumps(refs[0]))
        if isinstance(node, dict):
            node.setdefault("args", []).append(rng.choice([extra, 7, [1, 2]]))
        elif _single_ref(node):
            node.append(rng.choice([1.5, "extra", 3]))  # tf.keras op nodes: positional extras after kwargs
        else:
            node.append(extra)
        return f"{name!r}: extra argument"
    if choice in ("unknown_kw", "bad_axis", "shape", "retype_kw") and kwargs is not None:
        if choice == "unknown_kw":
            kwargs[rng.choice(["foo", "extra", "mask_zero"])] = 1
        elif choice == "bad_axis":
            kwargs["axis"] = rng.choice([10, -10, 2**63, [0, 0], "1"])
        elif choice == "shape":
            key = "shape" if "shape" in kwargs or not op else "shape"
            kwargs[key] = rng.choice([[-1, 10**12], [7, 5], [-1, -1], [0], [2**63], [-1, 7]])
        else:
            if kwargs:
                k = rng.choice(sorted(kwargs))
                kwargs[k] = rng.choice(OTHER_TYPES)
            else:
                kwargs["y"] = rng.choice(OTHER_TYPES)
        if op and isinstance(entry.get("config"), dict) and rng.random() < 0.3:
            # Keras 3 ops keep their static arguments in the config
            for k in ("axis", "newshape", "axes", "keepdims"):
                if k in entry["config"]:
                    entry["config"][k] = rng.choice([10, [-1, 10**12], [7, 5], "x", None, -10])
        return f"{name!r}: {choice} {kwargs}"
    if choice == "drop_kw" and kwargs:
        k = rng.choice(sorted(kwargs))
        del kwargs[k]
        return f"{name!r}: dropped keyword {k!r}"
    if choice == "bad_ref" and refs:
        ref = refs[0]
        if isinstance(ref, dict):
            hist = ref.get("config", {}).get("keras_history")
            if isinstance(hist, list) and hist:
                hist[0] = rng.choice(["no_such_layer", name])
        else:
            ref[0] = rng.choice(["no_such_layer", name])
        return f"{name!r}: reference to another layer"
    if choice == "bad_index" and refs:
        ref = refs[0]
        target = ref.get("config", {}).get("keras_history") if isinstance(ref, dict) else ref
        if isinstance(target, list) and len(target) >= 3:
            target[rng.choice([1, 2])] = rng.choice([3, -1, 2**63, "0", None])
        return f"{name!r}: node/tensor index"
    # fallback: drop the tensors
    if isinstance(node, dict):
        node["args"] = []
    else:
        nodes[nodes.index(node)] = []
    return f"{name!r}: no tensors"


# ----------------------------------------------------------------------------- HDF5 mutators
def _h5_edit(data: bytes, edit: Callable[[Any], str]) -> tuple[bytes, str]:
    import h5py

    buf = io.BytesIO(data)
    with h5py.File(buf, "r+") as f:
        what = edit(f)
    return buf.getvalue(), what


def _datasets(f: Any) -> list[str]:
    import h5py

    names: list[str] = []
    f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    return names


def mutate_weights(f: Any, rng: random.Random) -> str:
    """One edit of the weight datasets (or their tf.keras ``weight_names``) of an open HDF5 file."""
    import numpy as np

    names = _datasets(f)
    if not names:
        return "no dataset"
    name = rng.choice(names)
    ds = f[name]
    shape, dtype = ds.shape, ds.dtype
    parent = ds.parent
    key = name.rsplit("/", 1)[-1]
    which = rng.choice(["delete", "reshape", "retype", "huge", "huge", "scalar", "weight_names", "rename"])
    if which == "weight_names" and "weight_names" not in parent.attrs:
        which = "delete"
    if which == "delete":
        del parent[key]
        return f"deleted dataset {name!r}"
    if which == "rename":
        parent.move(key, key + "_x")
        return f"renamed dataset {name!r}"
    if which == "weight_names":
        wn = list(parent.attrs["weight_names"])
        choice = rng.random()
        if choice < 0.3 and wn:
            wn.pop(rng.randrange(len(wn)))
        elif choice < 0.6:
            wn.append(b"ghost/kernel:0")
        elif wn:
            wn.append(wn[0])
        parent.attrs["weight_names"] = np.array(wn, dtype="S") if wn else np.array([], dtype="S1")
        return f"weight_names of {parent.name!r} edited"
    del parent[key]
    if which == "reshape":
        new = list(shape) or [1]
        op = rng.random()
        if op < 0.4:
            i = rng.randrange(len(new))
            new[i] = max(0, new[i] + rng.choice([-1, 1, 5]))
        elif op < 0.7:
            new.append(rng.choice([1, 2]))
        else:
            new = new[1:] or [3]
        parent.create_dataset(key, data=np.ones(new, dtype=dtype))
        return f"dataset {name!r} reshaped {shape} -> {tuple(new)}"
    if which == "retype":
        new_dtype = rng.choice(["int32", "float16", "float64", "bool", "complex64", "uint8", "S4", "int64"])
        if new_dtype == "S4":
            parent.create_dataset(key, data=np.full(shape, b"abcd", dtype="S4"))
        else:
            parent.create_dataset(key, data=np.ones(shape, dtype=new_dtype))
        return f"dataset {name!r} retyped {dtype} -> {new_dtype}"
    if which == "huge":
        new_shape = rng.choice([(32768, 32768), (46341, 46341), (2**20, 2**11), (8, 2**28)])
        parent.create_dataset(key, shape=new_shape, dtype="f4")  # declared, nothing stored
        return f"dataset {name!r} declared {new_shape} float32 without data"
    parent.create_dataset(key, data=np.float32(1.5))
    return f"dataset {name!r} made a scalar"


def mutate_h5_config(f: Any, rng: random.Random) -> str:
    config = json.loads(f.attrs["model_config"])
    what = mutate_config(config, rng)
    f.attrs["model_config"] = json.dumps(config).encode("utf8")
    return what


def flip_bytes(data: bytes, rng: random.Random, metadata_bias: bool) -> tuple[bytes, str]:
    b = bytearray(data)
    n = rng.choice([1, 1, 2, 4, 8, 32])
    hi = min(len(b), 4096) if metadata_bias and rng.random() < 0.6 else len(b)
    where = sorted(rng.randrange(hi) for _ in range(n))
    for i in where:
        b[i] ^= 1 << rng.randrange(8) if rng.random() < 0.7 else rng.randrange(1, 256)
    return bytes(b), f"{n} bytes flipped at {where[:4]}"


def truncate(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    at = rng.choice([rng.randrange(len(data)), len(data) - rng.randrange(1, 64), rng.randrange(2048)])
    return data[:at], f"truncated to {at} of {len(data)} bytes"


# ----------------------------------------------------------------------------- archives
def read_archive(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist()}


def write_archive(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for n, d in members.items():
            z.writestr(n, d)
    return buf.getvalue()


def inflating_archive(members: dict[str, bytes], member: str, extra_zeros: int, fill: bytes = b"\x00") -> bytes:
    """The archive with ``member`` followed by ``extra_zeros`` bytes of ``fill`` repeated (zeros by default; a
    ``fill`` whose length divides 1 MiB, e.g. ``b"tok\\n"`` for a vocabulary of that many lines), deflated
    (honest headers: a few MB on disk). Built streaming: the filler is never held (a full flush makes each
    1 MiB block compress to the same bytes, which repeat)."""
    head = members[member]
    co = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = co.compress(head) + co.flush(zlib.Z_FULL_FLUSH)
    assert (1 << 20) % len(fill) == 0 and extra_zeros % (1 << 20) == 0
    raw_block = fill * ((1 << 20) // len(fill))
    block_co = zlib.compressobj(6, zlib.DEFLATED, -15)
    block = block_co.compress(raw_block) + block_co.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(6, zlib.DEFLATED, -15).flush()
    payload = body + block * (extra_zeros >> 20) + end
    crc = zlib.crc32(head)
    chunk = raw_block * 64
    left = extra_zeros
    while left:
        step = min(left, len(chunk))
        crc = zlib.crc32(chunk[:step] if step < len(chunk) else chunk, crc)
        left -= step
    size = len(head) + extra_zeros
    # hand-written zip: stored entries for the others, this one deflated with the given stream
    local, central, offset = b"", b"", 0
    entries = [(n, d, 0, zlib.crc32(d), len(d)) for n, d in members.items() if n != member]
    entries.append((member, payload, 8, crc, size))
    for name, stored, method, c, usize in entries:
        nm = name.encode()
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, c, len(stored), usize, len(nm), 0) + nm
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, c, len(stored), usize, len(nm), 0, 0, 0, 0, 0, offset
        ) + nm
        local += header + stored
        offset += len(header) + len(stored)
    return local + central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), offset, 0)


def mutate_archive(data: bytes, rng: random.Random, allow_inflate: bool) -> tuple[bytes, str]:
    members = read_archive(data)
    which = rng.choice(["config", "config", "config", "weights", "weights", "weights_bytes", "repack", "member",
                        "drop", "metadata", "inflate"])
    if which == "inflate" and not allow_inflate:
        which = "config"
    if which == "config":
        config = json.loads(members["config.json"])
        what = mutate_config(config, rng)
        members["config.json"] = json.dumps(config).encode()
        return write_archive(members), "config.json: " + what
    if which == "weights":
        members["model.weights.h5"], what = _h5_edit(members["model.weights.h5"], lambda f: mutate_weights(f, rng))
        return write_archive(members), "model.weights.h5: " + what
    if which == "weights_bytes":
        if rng.random() < 0.5:
            members["model.weights.h5"], what = flip_bytes(members["model.weights.h5"], rng, True)
        else:
            members["model.weights.h5"], what = truncate(members["model.weights.h5"], rng)
        return write_archive(members), "model.weights.h5: " + what
    if which == "repack":
        method = rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
        return write_archive(members, method), f"re-packed with compression {method}"
    if which == "member":
        name = rng.choice(["assets/vocab.txt", "model.weights.npz", "x/../config.json", "config.json.bak", "variables/v"])
        members[name] = rng.choice([b"", b"\x00" * 1000, b'{"a": 1}'])
        return write_archive(members), f"extra member {name!r}"
    if which == "drop":
        name = rng.choice(sorted(members))
        del members[name]
        return write_archive(members), f"dropped member {name!r}"
    if which == "metadata":
        members["metadata.json"] = rng.choice([b"[", b"null", b'{"keras_version": 3}', b"\xff\xfe"])
        return write_archive(members), "metadata.json replaced"
    return inflating_archive(members, "model.weights.h5", INFLATE_BYTES), f"model.weights.h5 + {INFLATE_BYTES} zero bytes"


# ----------------------------------------------------------------------------- safetensors
def split_safetensors(data: bytes) -> tuple[dict, bytes]:
    n = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def join_safetensors(header: dict, body: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + body


def mutate_safetensors(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    header, body = split_safetensors(data)
    tensors = [k for k in header if k != "__metadata__"]
    which = rng.choice(["config", "config", "offsets", "overlap", "dtype", "shape", "drop", "flip", "truncate", "length"])
    if which == "config":
        config = json.loads(header["__metadata__"]["keras_config"])
        what = mutate_config(config, rng)
        header["__metadata__"]["keras_config"] = json.dumps(config)
        return join_safetensors(header, body), "keras_config: " + what
    if which == "flip":
        return flip_bytes(data, rng, False)
    if which == "truncate":
        return truncate(data, rng)
    if which == "length":
        raw = data[8:]
        n = rng.choice([0, 1, len(raw) + 10, 2**62, int.from_bytes(data[:8], "little") - 3])
        return n.to_bytes(8, "little") + raw, f"header length says {n}"
    if not tensors:
        return data, "no tensors"
    key = rng.choice(tensors)
    info = header[key]
    if which == "offsets":
        info["data_offsets"] = rng.choice([[0, len(body) + 4096], [len(body) + 8, len(body) + 16], [8, 4], [0, 2**63]])
        what = f"{key!r} offsets {info['data_offsets']}"
    elif which == "overlap":
        other = header[rng.choice(tensors)]
        info["data_offsets"] = list(other["data_offsets"])
        what = f"{key!r} overlaps"
    elif which == "dtype":
        info["dtype"] = rng.choice(["Q8", "F64", "I8", "BOOL", "F16", "", "U64", "C64", 3])
        what = f"{key!r} dtype {info['dtype']}"
    elif which == "shape":
        info["shape"] = rng.choice([[32768, 32768], [2**40], [-1, 4], [0], [], [2**63, 2], ["4"], [3, 3, 3, 3, 3]])
        what = f"{key!r} shape {info['shape']}"
    else:
        del header[key]
        what = f"{key!r} dropped"
    return join_safetensors(header, body), what


# ----------------------------------------------------------------------------- generating
def make_mutant(seed: Seed, index: int, rng: random.Random, allow_inflate: bool) -> Mutant:
    data = seed.data
    if seed.kind == "h5":
        which = rng.choice(["config", "config", "config", "weights", "weights", "flip", "truncate"])
        if which == "config":
            data, what = _h5_edit(data, lambda f: mutate_h5_config(f, rng))
        elif which == "weights":
            data, what = _h5_edit(data, lambda f: mutate_weights(f, rng))
        elif which == "flip":
            data, what = flip_bytes(data, rng, True)
        else:
            data, what = truncate(data, rng)
    elif seed.kind == "keras":
        if rng.random() < 0.1:
            data, what = (flip_bytes(data, rng, False) if rng.random() < 0.5 else truncate(data, rng))
        else:
            data, what = mutate_archive(data, rng, allow_inflate)
    else:
        data, what = mutate_safetensors(data, rng)
    return Mutant(index, seed.name, seed.kind, what, data)


def mutants(seeds: list[Seed], count: int, seed: int, inflate_every: int = 0) -> Any:
    """``count`` mutants, deterministic for a ``seed``: seed files in turn; one archive in
    ``inflate_every`` (0: never) may inflate to GiBs."""
    for i in range(count):
        rng = random.Random(seed * 1_000_003 + i)
        base = seeds[i % len(seeds)]
        allow = bool(inflate_every) and i % inflate_every == inflate_every - 1
        if allow and base.kind == "keras":
            members = read_archive(base.data)
            data = inflating_archive(members, "model.weights.h5", INFLATE_BYTES)
            yield Mutant(i, base.name, base.kind, f"model.weights.h5 + {INFLATE_BYTES} zero bytes", data)
            continue
        yield make_mutant(base, i, rng, False)


# ----------------------------------------------------------------------------- the child process
_SUFFIX = {"h5": ".h5", "keras": ".keras", "safetensors": ".safetensors"}


def _worker_setup() -> None:
    import resource

    import torch

    import kerastorch  # noqa: F401
    import h5py  # noqa: F401

    torch.set_num_threads(1)
    vm = 0
    for line in open("/proc/self/status"):
        if line.startswith("VmSize:"):
            vm = int(line.split()[1]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (vm + MEMORY_HEADROOM, resource.RLIM_INFINITY))


def _example_inputs(model: Any) -> Any:
    """Inputs of the model's declared shapes: floats in [0, 1) (a float input that holds ids, e.g. a file whose
    Input lost its dtype, gets id 0 after the model's cast, valid for any lookup), zeros for integer inputs,
    NumPy strings for string inputs (text and lookup models)."""
    import numpy as np
    import torch

    def tensor(shape: Any, dtype: Any, string: bool = False) -> Any:
        if shape is None:
            return None  # an input of unknown rank (tf.keras allows it): nothing to make
        dims = [2 if d is None else int(d) for d in shape]
        if math.prod(dims) > CALL_ELEMENTS:
            return None
        if string:
            return np.full(dims, "the cat sat", dtype="<U11")
        if dtype is not None and not dtype.is_floating_point:
            return torch.zeros(dims, dtype=dtype)
        return torch.rand(dims, dtype=dtype or torch.float32)

    def is_string(t: Any) -> bool:
        layer = getattr(getattr(t, "node", None), "layer", None)
        return getattr(layer, "dtype", None) == "string"

    if hasattr(model, "inputs") and not hasattr(model, "input_shape"):
        return [tensor(t.shape, getattr(t, "dtype", None), is_string(t)) for t in model.inputs]
    shape = getattr(model, "input_shape", None)
    if shape is None:
        return None
    return tensor(shape, None, getattr(model.__dict__.get("_input_layer"), "dtype", None) == "string")


def _declares_huge_tensor(model: Any) -> bool:
    """Whether a tensor the model's graph declares (an output of a node, ``None`` dims counted as 2) holds more than
    ``CALL_ELEMENTS``: a file may legitimately declare one (``output_sequence_length=10**9``, a one-hot depth of
    ``10**9``); the model is then loaded, not called, as for a huge declared input."""
    from kerastorch.engine.shapes import out_shape

    def big(shape: Any) -> bool:
        if isinstance(shape, (list, tuple)) and shape and all(isinstance(s, (list, tuple)) or s is None for s in shape):
            return any(big(s) for s in shape)
        if not isinstance(shape, tuple) or not all(d is None or isinstance(d, int) for d in shape):
            return False
        return math.prod(2 if d is None else d for d in shape) > CALL_ELEMENTS

    for module in model.modules():
        for node in getattr(module, "_nodes", None) or ():
            if any(big(getattr(t, "shape", None)) for t in node.flat_outputs):
                return True
        if getattr(module, "_kt_model_kind", None) == "sequential" and getattr(module, "input_shape", None) is not None:
            shape = tuple(module.input_shape)
            for layer in module.layers:
                try:
                    shape = out_shape(layer, shape)
                except Exception:  # noqa: BLE001 - a shape it cannot say: the call decides
                    break
                if big(shape):
                    return True
    return False


def classify(path: str) -> dict[str, Any]:
    """Load the file, call the model, and say what happened (run in the child)."""
    import torch

    import kerastorch as kt

    before = hashlib.sha256(open(path, "rb").read()).hexdigest()
    result: dict[str, Any] = {}
    kt.clear_session()  # layer names a config leaves out are counted from scratch, as in a fresh process
    try:
        model = kt.models.load_model(path)
    except (ValueError, OSError) as e:
        message = str(e)
        if os.path.basename(path) not in message:
            result = {"outcome": "BAD", "why": "refusal does not name the file", "error": f"{type(e).__name__}: {message}"}
        elif "\n" in message.strip():
            result = {"outcome": "BAD", "why": "refusal is several lines", "error": f"{type(e).__name__}: {message}"}
        else:
            result = {"outcome": "REFUSED", "error": f"{type(e).__name__}: {message[:300]}"}
    except MemoryError as e:
        result = {"outcome": "BAD", "why": "MemoryError at load", "error": str(e)[:300]}
    except BaseException as e:  # noqa: BLE001 - classifying is the point
        result = {"outcome": "BAD", "why": f"{type(e).__name__} at load", "error": str(e)[:300]}
    else:
        try:
            inputs = _example_inputs(model)
            model.eval()
            flat = inputs if isinstance(inputs, list) else [inputs]
            if any(x is None for x in flat) or _declares_huge_tensor(model):
                inputs = None  # the file declares a tensor far too large to make here: load checked only
            if inputs is not None:
                with torch.no_grad():
                    model(inputs)
            result = {"outcome": "OK"}
        except MemoryError as e:
            result = {"outcome": "BAD", "why": "MemoryError at first call", "error": str(e)[:300]}
        except BaseException as e:  # noqa: BLE001
            result = {"outcome": "BAD", "why": f"{type(e).__name__} at first call", "error": str(e)[:300]}
    if result["outcome"] == "REFUSED":
        cli = _cli_check(path)
        if cli:
            result = {"outcome": "BAD", "why": cli, "error": result["error"]}
    if hashlib.sha256(open(path, "rb").read()).hexdigest() != before:
        result = {"outcome": "BAD", "why": "input file modified", "error": ""}
    return result


def _cli_check(path: str) -> str | None:
    """The CLI on a refused file: exit status 2, one line on stderr, no traceback."""
    from kerastorch import cli

    import kerastorch as kt

    kt.clear_session()
    err, out = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            status = cli.main(["summary", path])
    except BaseException as e:  # noqa: BLE001
        return f"CLI raised {type(e).__name__}"
    text = err.getvalue().strip()
    if status != 2:
        return f"CLI exit status {status}, not 2"
    if "\n" in text or "Traceback" in text:
        return "CLI printed more than one line"
    return None


def _worker_main(conn: Any, tasks: int) -> None:
    _worker_setup()
    for _ in range(tasks):
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            result = classify(job)
        except BaseException as e:  # noqa: BLE001 - e.g. MemoryError while hashing
            result = {"outcome": "BAD", "why": f"{type(e).__name__} in the harness", "error": str(e)[:300]}
        conn.send(result)


class _Worker:
    def __init__(self, ctx: Any, tasks: int):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, tasks), daemon=True)
        self.proc.start()
        child.close()
        self.left = tasks
        self.job: tuple[Mutant, str, float] | None = None

    def stop(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join()
        self.conn.close()


# ----------------------------------------------------------------------------- the driver
def run(
    count: int,
    seed: int = 0,
    workers: int = 2,
    timeout_s: float = TIMEOUT_S,
    inflate_every: int = 0,
    progress: Callable[[int, Mutant, dict], None] | None = None,
    families: bool = False,
) -> list[tuple[Mutant, dict]]:
    """Generate and classify ``count`` mutants in up to ``workers`` child processes (at most 2 here)."""
    ctx = multiprocessing.get_context("forkserver")
    with contextlib.suppress(Exception):
        ctx.set_forkserver_preload(["torch", "kerastorch", "h5py"])
    results: list[tuple[Mutant, dict]] = []
    with tempfile.TemporaryDirectory(prefix="kt_fuzz_") as workdir:
        seeds = load_seeds(workdir, families=families)
        source = mutants(seeds, count, seed, inflate_every)
        pool = [_Worker(ctx, TASKS_PER_WORKER) for _ in range(max(1, min(workers, 2)))]
        pending = True
        try:
            while pending or any(w.job for w in pool):
                for i, w in enumerate(pool):
                    if w.job is None and pending:
                        if w.left == 0 or not w.proc.is_alive():
                            w.stop()
                            pool[i] = w = _Worker(ctx, TASKS_PER_WORKER)
                        m = next(source, None)
                        if m is None:
                            pending = False
                            continue
                        path = os.path.join(workdir, f"mutant_{m.index}{_SUFFIX[m.kind]}")
                        with open(path, "wb") as f:
                            f.write(m.data)
                        w.conn.send(path)
                        w.left -= 1
                        w.job = (m, path, time.monotonic())
                busy = [w for w in pool if w.job]
                if not busy:
                    continue
                ready = multiprocessing.connection.wait([w.conn for w in busy], timeout=1.0)
                now = time.monotonic()
                for i, w in enumerate(pool):
                    if not w.job:
                        continue
                    m, path, started = w.job
                    result = None
                    if w.conn in ready:
                        try:
                            result = w.conn.recv()
                        except (EOFError, OSError):
                            w.proc.join(5)
                            result = {"outcome": "BAD", "why": f"child died (exit {w.proc.exitcode})", "error": ""}
                    elif now - started > timeout_s:
                        result = {"outcome": "BAD", "why": f"hang (> {timeout_s:.0f} s)", "error": ""}
                    if result is None:
                        continue
                    if result["outcome"] == "BAD" and result["why"].startswith(("child died", "hang")):
                        w.stop()
                        pool[i] = _Worker(ctx, TASKS_PER_WORKER)
                    else:
                        pool[i].job = None
                    pool[i].job = None
                    with contextlib.suppress(OSError):
                        os.unlink(path)
                    results.append((m, result))
                    if progress:
                        progress(len(results), m, result)
        finally:
            for w in pool:
                with contextlib.suppress(Exception):
                    w.conn.send(None)
                w.stop()
    return results


def summarize(results: list[tuple[Mutant, dict]]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    bad_kinds: dict[str, list[str]] = {}
    for m, r in results:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
        if r["outcome"] == "BAD":
            key = r["why"]
            bad_kinds.setdefault(key, []).append(f"#{m.index} {m.seed}: {m.mutation} -> {r.get('error', '')[:200]}")
    return {"counts": counts, "bad": bad_kinds}
