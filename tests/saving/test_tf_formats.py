"""Issue 28: tf.keras SavedModel directories and TF 2 checkpoints, read without TensorFlow.

Fixtures: real tf.keras 2.21 (``compat_fixtures/gen/tf_formats.py``): each model's SavedModel directory
as TensorFlow wrote it, the ``.h5`` of the same network, tf.keras's outputs, and (models fitted one step)
a ``save_weights('ckpt')`` checkpoint with Adam's slots.
"""
from __future__ import annotations

import json
import os
import shutil

import pytest
import torch
from safetensors.torch import load_file

import kerastorch as kt
from kerastorch.cli import main as cli_main
from kerastorch.saving import LoadLimits
from kerastorch.saving.tf import bundle as tf_bundle
from kerastorch.saving.tf.crc32c import crc32c, unmask

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "compat_fixtures", "tf_formats")
RECORD = json.load(open(os.path.join(ROOT, "tf_formats.json")))
TENSORS = load_file(os.path.join(ROOT, "tf_formats.safetensors"))
MODELS = sorted(RECORD["models"])
FITTED = sorted(n for n, info in RECORD["models"].items() if "checkpoint" in info["files"])


def fixture(name: str, kind: str) -> str:
    return os.path.join(ROOT, RECORD["models"][name]["files"][kind])


def run(model: torch.nn.Module, name: str) -> list[torch.Tensor]:
    inputs = [TENSORS[f"{name}.input.{i}"] for i in range(len(RECORD["models"][name]["inputs"]))]
    with torch.no_grad():
        out = model.eval()(inputs if len(inputs) > 1 else inputs[0])
    return list(out) if isinstance(out, (list, tuple)) else [out]


def assert_state_equal(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


@pytest.mark.parametrize("name", MODELS)
def test_saved_model_loads_as_its_h5_does(name):
    """Config from keras_metadata.pb, weights through the object graph: tf.keras's outputs, and the very
    model (names, state_dict) the .h5 of the same network gives."""
    model = kt.models.load_model(fixture(name, "savedmodel"))
    outputs = run(model, name)
    assert len(outputs) == len(RECORD["models"][name]["output_names"])
    for k, out in enumerate(outputs):
        torch.testing.assert_close(out, TENSORS[f"{name}.output.{k}"], rtol=1e-5, atol=1e-5)
    h5 = kt.models.load_model(fixture(name, "h5"))
    assert model.name == h5.name and type(model) is type(h5)
    assert [m.name for m in model.layers] == [m.name for m in h5.layers]
    if hasattr(h5, "output_names"):
        assert model.output_names == h5.output_names == RECORD["models"][name]["output_names"]
    assert_state_equal(model, h5)


def test_mobilenet_v2_was_proven_at_generation():
    """MobileNetV2 (2.6 MB as a SavedModel) is not committed; the generator loaded it with kerastorch."""
    proof = RECORD["proof"]["mobilenet_v2"]
    assert proof["state_dict_equals_h5"] is True and proof["max_abs_diff"] < 1e-5 and proof["weights"] == 262


@pytest.mark.parametrize("name", FITTED)
def test_checkpoint_loads_into_the_model_by_prefix_or_folder(name):
    """``save_weights('ckpt')``: the prefix, or its folder (the ``checkpoint`` file names the latest);
    Adam's slots and the optimizer in the object graph are ignored."""
    bundle = tf_bundle.Bundle(os.path.join(fixture(name, "checkpoint"), "ckpt"), LoadLimits())
    # tf.keras 2.11+'s optimizers keep Adam's moments under optimizer/_variables/N (not OPTIMIZER_SLOT keys)
    slots = [k for k in bundle.entries if k.startswith("optimizer/_variables/")]
    assert len(slots) == 2 * RECORD["models"][name]["n_trainable_weights"]  # Adam's m and v
    reference = kt.models.load_model(fixture(name, "savedmodel"))
    for source in (fixture(name, "checkpoint"), os.path.join(fixture(name, "checkpoint"), "ckpt")):
        model = kt.models.load_model(fixture(name, "h5"))
        with torch.no_grad():
            for p in model.parameters():
                p.zero_()
        kt.saving.load_keras_weights(model, source)
        assert_state_equal(model, reference)


def test_checkpoint_by_name_pairs_layers_by_their_variable_names():
    """``by_name=True``: the checkpoint's layer names are its variables' (``probs/kernel``): a module holding
    only some of its layers, in another order, takes theirs and leaves the rest alone."""
    reference = kt.models.load_model(fixture("sequential", "savedmodel"))
    probs, hidden = kt.layers.Dense(3, name="probs"), kt.layers.Dense(6, name="hidden")
    module = torch.nn.ModuleList([probs, hidden])
    kt.saving.load_keras_weights(module, fixture("sequential", "checkpoint"), by_name=True)
    assert torch.equal(probs.state_dict()["kernel"], reference.state_dict()["probs.kernel"])
    assert torch.equal(hidden.state_dict()["bias"], reference.state_dict()["hidden.bias"])


def test_saved_model_variables_load_as_weights():
    """A SavedModel's variables folder is a checkpoint too (its object graph lists each layer's variables)."""
    model = kt.models.load_model(fixture("functional", "h5"))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    kt.saving.load_keras_weights(model, fixture("functional", "savedmodel"))
    assert_state_equal(model, kt.models.load_model(fixture("functional", "savedmodel")))


def test_checkpoint_into_another_network_is_refused():
    model = kt.models.load_model(fixture("conv1d", "h5"))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match="sequential.ckpt.*Keras layers with weights"):
        kt.saving.load_keras_weights(model, fixture("sequential", "checkpoint"))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_saved_model_without_keras_metadata_says_what_to_do():
    with pytest.raises(ValueError, match="no keras_metadata.pb and its saved_model.pb holds no Keras metadata.*"
                                         "the Keras config is absent.*load_keras_weights"):
        kt.models.load_model(os.path.join(ROOT, "no_metadata.savedmodel"))


@pytest.mark.parametrize("name", MODELS)
def test_legacy_metadata_paths_are_tf_keras_paths(name, tmp_path):
    """TensorFlow before keras_metadata.pb kept each Keras object's metadata in saved_model.pb; the reader
    names those objects as tf_keras's legacy loader does. TF 2.21 writes the objects (metadata empty), so
    the node ids, paths and identifiers are checked against its keras_metadata.pb; a copy without that file
    is refused (no metadata anywhere) as TensorFlow's own loader refuses it."""
    from kerastorch.saving.tf import wire

    d = fixture(name, "savedmodel")
    legacy = wire.legacy_saved_metadata(memoryview(open(os.path.join(d, "saved_model.pb"), "rb").read()), "x")
    current = wire.saved_metadata(open(os.path.join(d, "keras_metadata.pb"), "rb").read(), "y")
    assert {(n.node_id, n.node_path, n.identifier) for n in legacy} == {
        (n.node_id, n.node_path, n.identifier) for n in current}
    assert not any(n.metadata for n in legacy)
    if name == "text":
        shutil.copytree(d, tmp_path / "m")
        os.remove(tmp_path / "m" / "keras_metadata.pb")
        with pytest.raises(ValueError, match="saved_model.pb holds no Keras metadata"):
            kt.models.load_model(tmp_path / "m")


def test_subclassed_saved_model_is_refused_with_the_way_out():
    path = os.path.join(ROOT, "subclassed.savedmodel")
    with pytest.raises(ValueError, match="subclassed tf.keras model .class 'Subclassed'.*Python code"):
        kt.models.load_model(path)
    with pytest.raises(ValueError, match="no layer_with_weights-N children.*subclassed"):
        kt.saving.load_keras_weights(kt.layers.Dense(2), path)


def test_a_plain_directory_is_refused(tmp_path):
    with pytest.raises(IsADirectoryError, match="without saved_model.pb"):
        kt.models.load_model(tmp_path)


def test_cli_converts_a_saved_model_directory(tmp_path, capsys):
    out = str(tmp_path / "m.safetensors")
    assert cli_main(["convert", fixture("text", "savedmodel"), out]) == 0
    assert "text_model" in capsys.readouterr().out
    assert_state_equal(kt.models.load_model(out), kt.models.load_model(fixture("text", "h5")))


# ----------------------------------------------------------------------------- malformed input
def _copy(tmp_path, name: str = "sequential") -> str:
    target = str(tmp_path / "m")
    shutil.copytree(fixture(name, "savedmodel"), target)
    return target


def _reseal(index: bytearray) -> None:
    """Recompute every block's CRC (so a mutation reaches the checks behind the checksum)."""
    footer = bytes(index[-48:])
    _, _, pos = tf_bundle._handle(footer, 0, "footer")
    offset, size, _ = tf_bundle._handle(footer, pos, "footer")
    handles = [(offset, size)]
    block = bytes(index[offset : offset + size])
    for _, value in tf_bundle._block_entries(block, "index"):
        handles.append(tf_bundle._handle(value, 0, "handle")[:2])
    for off, n in handles:
        crc = crc32c(bytes(index[off : off + n + 1]))
        masked = ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF
        index[off + n + 1 : off + n + 5] = masked.to_bytes(4, "little")


def _mutate_index(directory: str, change) -> None:
    path = os.path.join(directory, "variables", "variables.index")
    data = bytearray(open(path, "rb").read())
    change(data)
    open(path, "wb").write(bytes(data))


def _entry_position(data: bytearray, key: str) -> tuple[int, bytes]:
    """Where the BundleEntryProto of ``key`` lies in the index (the table stores values verbatim)."""
    value = tf_bundle.read_table(bytes(data), "index")[key]
    pos = bytes(data).find(value)
    assert pos > 0 and bytes(data).count(value) == 1
    return pos, value


def test_masked_crc_round_trip():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    crc = crc32c(b"kerastorch")
    assert unmask((((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF) == crc


@pytest.mark.parametrize("mutation, message", [
    ("truncate_index", r"variables.index.*(truncated|magic)"),
    ("index_block_crc", r"variables.index.*CRC-32C"),
    ("snappy_block", r"variables.index.*Snappy"),
    ("lying_size", r"variables.index.*entry 'layer_with_weights-0/kernel.*bytes stored for shape"),
    ("tensor_crc", r"variables.data-00000-of-00001.*fails its CRC-32C"),
    ("truncate_data", r"variables.data-00000-of-00001.*(truncated|claims)"),
    ("truncate_metadata", r"keras_metadata.pb"),
])
def test_malformed_saved_model_is_refused_naming_the_part(tmp_path, mutation, message):
    d = _copy(tmp_path)
    data_path = os.path.join(d, "variables", "variables.data-00000-of-00001")
    if mutation == "truncate_index":
        _mutate_index(d, lambda b: b.__delitem__(slice(len(b) - 7, None)))
    elif mutation == "index_block_crc":
        _mutate_index(d, lambda b: b.__setitem__(20, b[20] ^ 0x40))
    elif mutation == "snappy_block":
        def snappy(b):
            _, _, pos = tf_bundle._handle(bytes(b[-48:]), 0, "footer")
            offset, size, _ = tf_bundle._handle(bytes(b[-48:]), pos, "footer")
            b[offset + size] = 1  # the index block's compression type
            _reseal(b)
        _mutate_index(d, snappy)
    elif mutation == "lying_size":
        def lie(b):
            pos, value = _entry_position(b, "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE")
            at = value.index(b"\x28")  # field 5 (size), varint: 30 floats = 120 bytes
            assert value[at + 1] == 120
            b[pos + at + 1] = 124
            _reseal(b)
        _mutate_index(d, lie)
    elif mutation == "tensor_crc":
        data = bytearray(open(data_path, "rb").read())
        data[-3] ^= 0x01
        open(data_path, "wb").write(bytes(data))
    elif mutation == "truncate_data":
        data = open(data_path, "rb").read()
        open(data_path, "wb").write(data[: len(data) // 2])
    elif mutation == "truncate_metadata":
        path = os.path.join(d, "keras_metadata.pb")
        data = open(path, "rb").read()
        open(path, "wb").write(data[: len(data) - 100])
    with pytest.raises(ValueError, match=message):
        kt.models.load_model(d)


def test_huge_declared_shapes_are_refused_before_reading(tmp_path):
    with pytest.raises(ValueError, match=r"holds 30 elements, more than the limit of 10"):
        kt.models.load_model(fixture("sequential", "savedmodel"), limits=LoadLimits(max_weight_elements=10))
    with pytest.raises(ValueError, match=r"keras_metadata.pb is \d+ bytes, more than the limit of 100"):
        kt.models.load_model(fixture("sequential", "savedmodel"), limits=LoadLimits(max_config_bytes=100))


def test_checkpoint_file_cannot_point_outside_its_folder(tmp_path):
    shutil.copytree(fixture("sequential", "checkpoint"), tmp_path / "c")
    (tmp_path / "c" / "checkpoint").write_text('model_checkpoint_path: "../../elsewhere/ckpt"\n')
    model = kt.models.load_model(fixture("sequential", "h5"))
    with pytest.raises(ValueError, match="outside its folder"):
        kt.saving.load_keras_weights(model, tmp_path / "c")


def test_crc32c_of_long_inputs_equals_the_bytewise_loop():
    """Long inputs (tensors) go through the chunked NumPy path; it must equal the plain table loop."""
    from kerastorch.saving.tf import crc32c as module

    data = bytes(range(256)) * 1200 + b"tail"  # 307204 bytes: 300 chunks of 1 KiB and a remainder
    plain = module._register(0xFFFFFFFF, data) ^ 0xFFFFFFFF
    assert module._vector(0xFFFFFFFF, data) ^ 0xFFFFFFFF == plain == crc32c(data)
    assert module._vector(12345 ^ 0xFFFFFFFF, data) == module._register(12345 ^ 0xFFFFFFFF, data)


class _FakeBundle:
    """An object graph without a file (to build graphs no writer would produce)."""

    nodes: list = []

    def __init__(self, prefix, limits):
        self.index_path = prefix + ".index"

    def object_graph(self):
        return self.nodes

    def tensor(self, key):
        return torch.zeros(2).numpy()


def _graph(monkeypatch, nodes):
    from kerastorch.saving.tf import savedmodel, wire

    _FakeBundle.nodes = [wire.TrackableObject(children=c, attributes=a) for c, a in nodes]
    monkeypatch.setattr(savedmodel, "Bundle", _FakeBundle)
    return savedmodel


def test_recursive_object_graph_is_refused(monkeypatch):
    var = ("VARIABLE_VALUE", "d/kernel", "k")
    savedmodel = _graph(monkeypatch, [([(1, "layer_with_weights-0")], []),
                                      ([(0, "layer_with_weights-0"), (2, "kernel")], []),  # points back at root
                                      ([], [var])])
    with pytest.raises(ValueError, match="fake.index.*reached twice"):
        savedmodel.read_checkpoint("fake", LoadLimits())


def test_cycles_inside_a_layer_are_visited_once(monkeypatch):
    var = ("VARIABLE_VALUE", "d/kernel", "k")
    savedmodel = _graph(monkeypatch, [([(1, "layer_with_weights-0")], []),
                                      ([(2, "kernel"), (1, "self"), (0, "root")], []),
                                      ([(1, "owner")], [var])])
    (entry,) = savedmodel.read_checkpoint("fake", LoadLimits())
    assert entry.name == "d" and entry.weight_names == ["kernel"]


def test_deeply_nested_object_graph_is_refused(monkeypatch):
    n = 400  # models nested 400 deep: refused at 256, no RecursionError
    nodes = [([(i + 1, "layer_with_weights-0")], []) for i in range(n)] + [([], [("VARIABLE_VALUE", "x/k", "k")])]
    savedmodel = _graph(monkeypatch, nodes)
    with pytest.raises(ValueError, match="fake.index.*nest deeper than 256"):
        savedmodel.read_checkpoint("fake", LoadLimits())
