"""A model file is untrusted input: every limit of ``load_model`` with hostile files built here.

Zip bombs (a header claiming 3 GiB; a real 3 GiB deflate stream under a lying header), a 5000-deep
config, path-traversal entry names, too many entries, truncated archives, corrupt HDF5, HDF5 links and
external storage that would read other files, absurd weight shapes (refused before allocating),
weights that do not fit the config, and ``Lambda`` layers (code in a config).
"""
from __future__ import annotations

import io
import json
import os
import struct
import time
import tracemalloc
import zipfile
import zlib

import h5py
import numpy as np
import pytest
import torch

from kerastorch.saving import LoadLimits, load_model
from kerastorch.saving.untrusted import allocation_guard, json_depth, unsafe_member_name

HERE = os.path.dirname(os.path.abspath(__file__))
KERAS_FILES = os.path.join(HERE, "..", "..", "compat_fixtures", "keras_files")
VALID_KERAS = os.path.join(KERAS_FILES, "cnn_nhwc.k3.keras")  # a real Keras 3 archive
VALID_H5 = os.path.join(KERAS_FILES, "cnn_nhwc.tf_full.h5")  # a real tf.keras full-model file


# ----------------------------------------------------------------------------- hand-made zips
def raw_zip(entries: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A zip from ``(name, stored payload, method, crc32, claimed uncompressed size)``, headers as given:
    nothing is checked, so headers can lie."""
    local, central, offset = b"", b"", 0
    for name, payload, method, crc, size in entries:
        n = name.encode("utf8")
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(payload), size, len(n), 0) + n
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, len(payload), size, len(n), 0, 0, 0, 0, 0, offset
        ) + n
        local += header + payload
        offset += len(header) + len(payload)
    return local + central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), offset, 0)


def stored(name: str, data: bytes) -> tuple[str, bytes, int, int, int]:
    return (name, data, 0, zlib.crc32(data), len(data))


def zeros_deflate(gib: int) -> bytes:
    """A raw deflate stream of ``gib`` GiB of zeros, ~3 MB, made in milliseconds: a full flush makes
    each 1 MiB block self-contained, so one compressed block repeats."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = co.compress(bytes(1 << 20)) + co.flush(zlib.Z_FULL_FLUSH)
    return block * (gib << 10) + co.flush()


def keras_members() -> dict[str, bytes]:
    with zipfile.ZipFile(VALID_KERAS) as z:
        return {n: z.read(n) for n in z.namelist()}


def write(tmp_path, name: str, data: bytes) -> str:
    path = str(tmp_path / name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def refused(path: str, match: str, seconds: float = 5.0, limits: LoadLimits | None = None) -> None:
    """``load_model`` raises a ValueError naming the file and ``match``, promptly, without allocating much."""
    folder = os.path.dirname(os.path.abspath(path))
    before = {n: os.stat(os.path.join(folder, n)).st_mtime_ns for n in os.listdir(folder)}
    with open(path, "rb") as f:
        content = f.read()
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ValueError, match=match) as info:
            load_model(path, limits=limits)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < seconds
    assert repr(path) in str(info.value)
    assert peak < 256 * 2**20, f"peak Python allocation {peak} bytes"
    # A failed load changes nothing: no file written, removed or touched beside it (nothing extracted).
    assert {n: os.stat(os.path.join(folder, n)).st_mtime_ns for n in os.listdir(folder)} == before
    with open(path, "rb") as f:
        assert f.read() == content


# ----------------------------------------------------------------------------- zip bombs
def test_header_claiming_3gib_config_is_refused_before_reading(tmp_path):
    m = keras_members()
    bomb = ("config.json", zeros_deflate(3), 8, 0, 3 << 30)
    path = write(tmp_path, "bomb.keras", raw_zip([stored("metadata.json", m["metadata.json"]), bomb,
                                                  stored("model.weights.h5", m["model.weights.h5"])]))
    refused(path, r"config.json is 3221225472 bytes uncompressed, more than the limit of 67108864")


def test_lying_header_over_3gib_stream_reads_at_most_the_limit(tmp_path):
    """The header claims 1 KiB, the stream inflates to 3 GiB: the bounded read stops at the claim and
    the CRC check fails; with a claim just under the limit it stops at the limit."""
    m = keras_members()
    stream = zeros_deflate(3)
    for claim in (1024, (1 << 20) - 1):
        path = write(tmp_path, f"liar{claim}.keras", raw_zip([stored("metadata.json", m["metadata.json"]),
                                                          ("config.json", stream, 8, 0, claim),
                                                          stored("model.weights.h5", m["model.weights.h5"])]))
        refused(path, r"truncated or corrupt zip archive \(config.json: Bad CRC-32", limits=LoadLimits(max_config_bytes=1 << 20))


def test_weights_bomb_is_refused_by_its_header(tmp_path):
    m = keras_members()
    path = write(tmp_path, "wbomb.keras", raw_zip([stored("metadata.json", m["metadata.json"]),
                                                   stored("config.json", m["config.json"]),
                                                   ("model.weights.h5", zeros_deflate(3), 8, 0, 3 << 30)]))
    refused(path, r"model.weights.h5 is 3221225472 bytes uncompressed, more than the limit of 1073741824",
            limits=LoadLimits(max_weights_bytes=1 << 30))


def test_file_size_limit(tmp_path):
    refused(VALID_KERAS, r"more than the limit of 1000 \(LoadLimits.max_file_bytes\)", limits=LoadLimits(max_file_bytes=1000))


# ----------------------------------------------------------------------------- entries
@pytest.mark.parametrize("evil", ["../evil", "a/../../evil", "/etc/evil", "C:/evil", "..\\evil", "assets/.."])
def test_path_traversal_entry_names_are_refused_and_nothing_is_written(tmp_path, evil):
    m = keras_members()
    work = tmp_path / "work"
    work.mkdir()
    entries = [stored(n, d) for n, d in m.items()] + [stored(evil, b"pwned")]
    path = write(work, "evil.keras", raw_zip(entries))
    before = sorted(p.name for p in tmp_path.rglob("*"))
    refused(path, r"the archive has an entry named")
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert not os.path.exists("/etc/evil") and not (tmp_path / "evil").exists()


def test_unsafe_member_name():
    assert unsafe_member_name("config.json") is None
    assert unsafe_member_name("assets/vocab..txt") is None  # '..' inside a name is not a path part
    assert unsafe_member_name("../x") == "a parent directory reference ('..')"
    assert unsafe_member_name("/x") == "an absolute path"


def test_duplicate_entries_are_refused(tmp_path):
    m = keras_members()
    entries = [stored(n, d) for n, d in m.items()] + [stored("config.json", b"{}")]
    refused(write(tmp_path, "dupe.keras", raw_zip(entries)), r"several entries named \['config.json'\]")


def test_too_many_entries_refused_before_the_directory_is_parsed(tmp_path):
    m = keras_members()
    entries = [stored(n, d) for n, d in m.items()] + [stored(f"assets/{i}", b"") for i in range(5000)]
    path = write(tmp_path, "many.keras", raw_zip(entries))
    refused(path, r"the archive has 5003 entries .* more than the limit of 4096")
    refused(path, r"more than the limit of 10 \(LoadLimits.max_entries\)", limits=LoadLimits(max_entries=10))


def test_truncated_archive(tmp_path):
    with open(VALID_KERAS, "rb") as f:
        data = f.read()
    for cut in (len(data) // 2, len(data) - 10, 30):
        path = write(tmp_path, f"cut{cut}.keras", data[:cut])
        refused(path, r"truncated or corrupt zip archive")


def test_corrupt_member_crc(tmp_path):
    m = keras_members()
    config = m["config.json"]
    entries = [stored("metadata.json", m["metadata.json"]), ("config.json", config, 0, zlib.crc32(config) ^ 1, len(config)),
               stored("model.weights.h5", m["model.weights.h5"])]
    refused(write(tmp_path, "crc.keras", raw_zip(entries)), r"Bad CRC-32")


def test_missing_members(tmp_path):
    m = keras_members()
    no_config = raw_zip([stored("metadata.json", m["metadata.json"]), stored("model.weights.h5", m["model.weights.h5"])])
    refused(write(tmp_path, "noconf.keras", no_config), r"the archive has no config.json")
    no_weights = raw_zip([stored("metadata.json", m["metadata.json"]), stored("config.json", m["config.json"])])
    refused(write(tmp_path, "now.keras", no_weights), r"the archive has no model.weights.h5")


def test_not_a_model_file(tmp_path):
    with pytest.raises(ValueError, match="neither a .keras archive, an HDF5 file nor a safetensors file"):
        load_model(write(tmp_path, "x.bin", b"hello world, not a model"))
    with pytest.raises(FileNotFoundError):
        load_model(str(tmp_path / "missing.keras"))


# ----------------------------------------------------------------------------- JSON
def test_5000_deep_config_fails_promptly(tmp_path):
    m = keras_members()
    deep = b'{"class_name": "Sequential", "config": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    entries = [stored("metadata.json", m["metadata.json"]), stored("config.json", deep),
               stored("model.weights.h5", m["model.weights.h5"])]
    refused(write(tmp_path, "deep.keras", raw_zip(entries)), r"config.json nests 5001 levels deep, more than the limit of 256", seconds=1)


def test_json_depth_ignores_brackets_in_strings():
    assert json_depth(b'{"a": "[[[[{{{{", "b": [1, [2, "]]]]\\"[["]]}') == 3
    assert json_depth(b"[]") == 1
    assert json_depth(b"7") == 0
    # json.loads itself raises RecursionError (not a ValueError) at this depth: why we pre-scan.
    with pytest.raises(RecursionError):
        json.loads("[" * 200000 + "]" * 200000)


def test_invalid_json_config(tmp_path):
    m = keras_members()
    entries = [stored("metadata.json", m["metadata.json"]), stored("config.json", b'{"class_name": '),
               stored("model.weights.h5", m["model.weights.h5"])]
    refused(write(tmp_path, "badjson.keras", raw_zip(entries)), r"config.json is not valid JSON")


# ----------------------------------------------------------------------------- HDF5
def test_truncated_and_corrupt_h5(tmp_path):
    with open(VALID_H5, "rb") as f:
        data = f.read()
    refused(write(tmp_path, "cut.h5", data[: len(data) // 3]), r"Cannot load a model from")
    garbled = bytearray(data)
    garbled[8:64] = b"\xff" * 56  # the superblock
    refused(write(tmp_path, "garbled.h5", bytes(garbled)), r"Cannot load a model from")


def test_h5_without_model_config(tmp_path):
    path = str(tmp_path / "weights_only.h5")
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [b"d"]
    refused(path, r"no `model_config`: it is a weights-only file")


def _h5_with_config(path: str) -> h5py.File:
    f = h5py.File(path, "w")
    with h5py.File(VALID_H5, "r") as src:
        f.attrs["model_config"] = src.attrs["model_config"]
        src.copy("model_weights", f)
    return f


def test_h5_links_and_external_storage_that_would_read_other_files(tmp_path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(16, dtype=np.float32).tobytes())
    path = str(tmp_path / "ext_link.h5")
    with _h5_with_config(path) as f:
        f["model_weights/stolen"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "/x")
    refused(path, r"is an external link")
    path = str(tmp_path / "soft.h5")
    with _h5_with_config(path) as f:
        f["model_weights/alias"] = h5py.SoftLink("/model_weights")
    refused(path, r"is a soft link")
    path = str(tmp_path / "external.h5")
    with _h5_with_config(path) as f:
        f.create_dataset("model_weights/ext", shape=(16,), dtype="f4", external=[(str(secret), 0, 64)])
    refused(path, r"keeps its data in other files")


def test_absurd_dataset_shapes_refused_before_reading(tmp_path):
    """A chunked, never-written dataset of 10^12 elements costs bytes on disk, terabytes to read."""
    path = str(tmp_path / "huge.h5")
    with _h5_with_config(path) as f:
        f.create_dataset("model_weights/huge", shape=(10**6, 10**6), dtype="f4", chunks=(1, 1024))
    refused(path, r"has shape \(1000000, 1000000\) \(1000000000000 elements\), more than the limit of 2147483648")


def test_h5_object_limit(tmp_path):
    path = str(tmp_path / "groups.h5")
    with _h5_with_config(path) as f:
        for i in range(50):
            f.create_group(f"g{i}")
    refused(path, r"more than 20 objects", limits=LoadLimits(max_entries=20))


def test_non_numeric_dataset_refused(tmp_path):
    path = str(tmp_path / "strings.h5")
    with _h5_with_config(path) as f:
        f.create_dataset("model_weights/s", data=np.array([b"a", b"b"], dtype=object), dtype=h5py.string_dtype())
    refused(path, r"not a numeric weight")


# ----------------------------------------------------------------------------- allocations while building
def test_allocation_guard_refuses_before_allocating():
    from kerastorch.layers import Conv2D

    layer = Conv2D(10**6, 3)
    tracemalloc.start()
    try:
        with allocation_guard(LoadLimits(), "config.json"), pytest.raises(ValueError, match="refused before allocating"):
            layer.build((None, 8, 8, 10**6))  # a 9 * 10^12 element kernel
    finally:
        tracemalloc.stop()
    assert not layer.built
    with allocation_guard(LoadLimits(max_total_elements=1000), "x"), pytest.raises(ValueError, match="max_total_elements"):
        for _ in range(3):
            torch.zeros(400)
    with allocation_guard(LoadLimits(), "x"):
        assert torch.zeros(10).sum() == 0  # ordinary allocations pass


def test_allocation_guard_is_not_left_behind():
    with pytest.raises(ValueError):
        with allocation_guard(LoadLimits(max_weight_elements=10), "x"):
            torch.empty(100)
    assert torch.empty(100).numel() == 100


# ----------------------------------------------------------------------------- code in a file
def _edit_keras(tmp_path, name: str, edit) -> str:
    """A copy of the real Keras 3 archive with ``edit(config)`` applied to its config.json."""
    m = keras_members()
    config = json.loads(m["config.json"])
    edit(config)
    entries = [stored("metadata.json", m["metadata.json"]), stored("config.json", json.dumps(config).encode()),
               stored("model.weights.h5", m["model.weights.h5"])]
    return write(tmp_path, name, raw_zip(entries))


def _layer(config: dict, name: str) -> dict:
    return next(l for l in config["config"]["layers"] if l["config"].get("name") == name)


def _payload(canary) -> str:
    """Base64 of marshalled bytecode that would create ``canary``: what a Keras Lambda stores."""
    import base64
    import marshal

    code = compile(f"open({str(canary)!r}, 'w').write('ran')", "<payload>", "exec")
    return base64.b64encode(marshal.dumps(code)).decode()


def test_lambda_layers_are_refused_and_never_run(tmp_path):
    canary = tmp_path / "canary.txt"

    def to_lambda(config):  # Keras 3's Lambda config: {"function": {"class_name": "__lambda__", ...}}
        layer = _layer(config, "conv_b")
        layer["class_name"], layer["module"] = "Lambda", "keras.layers"
        layer["config"] = {"name": "conv_b", "trainable": True, "dtype": "float32", "arguments": {},
                           "function": {"class_name": "__lambda__", "config": {"code": _payload(canary),
                                                                               "defaults": None, "closure": None}}}

    work = tmp_path / "k3"
    work.mkdir()
    refused(_edit_keras(work, "lambda.keras", to_lambda), r'Layer "conv_b" is a Lambda layer')
    path = str(tmp_path / "lambda.h5")  # tf.keras's Lambda config: ["<base64 marshal>", null, null]
    with h5py.File(VALID_H5, "r") as src:
        config = json.loads(src.attrs["model_config"])
    layer = _layer(config, "conv_b")
    layer["class_name"] = "Lambda"
    layer["config"] = {"name": "conv_b", "trainable": True, "dtype": "float32", "function": [_payload(canary), None, None],
                       "function_type": "lambda", "module": "__main__", "output_shape": None, "arguments": {}}
    with _h5_with_config(path) as f:
        f.attrs["model_config"] = json.dumps(config)
    refused(path, r'Layer "conv_b" is a Lambda layer')
    assert not canary.exists()


@pytest.mark.parametrize("where", ["layer", "activation", "initializer"])
def test_module_names_in_a_file_are_never_imported(tmp_path, monkeypatch, where):
    """A config may name any module; kerastorch resolves class names in its own registry only."""
    import sys

    canary = tmp_path / "imported.txt"
    (tmp_path / "kt_evil_module.py").write_text(f"open({str(canary)!r}, 'w').write('imported')\nclass Payload: pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    evil = {"module": "kt_evil_module", "class_name": "Payload", "config": {}, "registered_name": "kt_evil_module>Payload"}

    def edit(config):
        layer = _layer(config, "conv_b")
        if where == "layer":
            layer.update({k: v for k, v in evil.items() if k != "config"})
        elif where == "activation":
            layer["config"]["activation"] = evil
        else:
            layer["config"]["kernel_initializer"] = evil

    work = tmp_path / "work"
    work.mkdir()
    refused(_edit_keras(work, "evil.keras", edit), r"Payload")
    assert not canary.exists() and "kt_evil_module" not in sys.modules


# ----------------------------------------------------------------------------- configs vs weights
@pytest.mark.parametrize("size", [10**12, 2**62])
def test_absurd_layer_sizes_in_a_config_are_refused_before_allocating(tmp_path, size):
    def edit(config):
        _layer(config, "conv_b")["config"]["filters"] = size

    refused(_edit_keras(tmp_path, "huge.keras", edit), r'"conv_b"')


def test_negative_sizes_in_a_config(tmp_path):
    def edit(config):
        _layer(config, "conv_b")["config"]["filters"] = -8

    refused(_edit_keras(tmp_path, "negative.keras", edit), r"conv_b")


def test_weights_that_do_not_fit_the_config_are_refused(tmp_path):
    def edit(config):
        _layer(config, "conv_c")["config"]["filters"] = 5  # the file's kernel has 4

    refused(_edit_keras(tmp_path, "mismatch.keras", edit), r"'conv_c'.*\(2, 3, 8, 4\)")
    path = str(tmp_path / "mismatch.h5")
    with h5py.File(VALID_H5, "r") as src:
        config = json.loads(src.attrs["model_config"])
    _layer(config, "conv_c")["config"]["filters"] = 5
    with _h5_with_config(path) as f:
        f.attrs["model_config"] = json.dumps(config)
    refused(path, r"'conv_c'.*\(2, 3, 8, 4\)")


def test_5000_deep_h5_model_config_fails_promptly(tmp_path):
    path = str(tmp_path / "deep.h5")
    with _h5_with_config(path) as f:
        f.attrs["model_config"] = '{"class_name": "Sequential", "config": ' + "[" * 5000 + "]" * 5000 + "}"
    refused(path, r"model_config nests 5001 levels deep, more than the limit of 256", seconds=1)


# ----------------------------------------------------------------------------- kerastorch .safetensors
def _safetensors_bytes(header: dict, data: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return len(raw).to_bytes(8, "little") + raw + data


def _valid_safetensors(tmp_path) -> tuple[dict, bytes]:
    """(header, data) of a save_model file of the real Keras 3 model."""
    from kerastorch.saving import save_model

    path = tmp_path / "valid.safetensors"
    save_model(load_model(VALID_KERAS), path)
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    path.unlink()
    return json.loads(raw[8 : 8 + n]), raw[8 + n :]


def test_safetensors_round_trip_and_corruptions(tmp_path):
    header, data = _valid_safetensors(tmp_path)
    ok = write(tmp_path, "ok.safetensors", _safetensors_bytes(header, data))
    assert sorted(load_model(ok).state_dict()) == sorted(k for k in header if k != "__metadata__")
    os.unlink(ok)
    refused(write(tmp_path, "cut.safetensors", _safetensors_bytes(header, data)[:-7]), r"not a valid safetensors file")
    refused(write(tmp_path, "tiny.safetensors", b"\x05\x00"), r"truncated safetensors file")
    lying = (10**9).to_bytes(8, "little") + b'{"a": 1}'
    refused(write(tmp_path, "lying.safetensors", lying), r"header claims 1000000000 bytes")


def test_safetensors_absurd_shapes_refused_before_allocating(tmp_path):
    header, data = _valid_safetensors(tmp_path)
    key = next(k for k in header if k != "__metadata__")
    header[key]["shape"] = [10**6, 10**6]
    refused(write(tmp_path, "huge.safetensors", _safetensors_bytes(header, data)), rf"{key}.*more than 2147483648 elements")


def test_safetensors_config_and_tensors_must_agree(tmp_path):
    header, data = _valid_safetensors(tmp_path)
    config = json.loads(header["__metadata__"]["keras_config"])
    _layer(config, "conv_c")["config"]["filters"] = 5
    header["__metadata__"]["keras_config"] = json.dumps(config)
    refused(write(tmp_path, "mismatch.safetensors", _safetensors_bytes(header, data)), r"conv_c")
    header, data = _valid_safetensors(tmp_path)
    header["__metadata__"]["keras_config"] = '{"class_name": "Sequential", "config": ' + "[" * 5000 + "]" * 5000 + "}"
    refused(write(tmp_path, "deep.safetensors", _safetensors_bytes(header, data)), r"nests 5001 levels deep")
    header, data = _valid_safetensors(tmp_path)
    del header["__metadata__"]["keras_config"]
    refused(write(tmp_path, "weights_only.safetensors", _safetensors_bytes(header, data)), r"holds no Keras config")
