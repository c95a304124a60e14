"""Every kind of defect the model-file fuzzer (``model_fuzzer.py``) found, as a named regression test.

Each file here is a valid fixture written by real Keras with one thing changed, the way the fuzzer
changed it; the expected outcome is a ``ValueError``/``OSError`` at load naming the file and the part
at fault (or a model that runs), never another exception, a MemoryError or an error at the first call.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import zipfile

import h5py
import numpy as np
import pytest
import torch

import kerastorch as kt
from kerastorch.cli import main as cli_main

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "..", "compat_fixtures", "models")


def copy(tmp_path, name: str) -> str:
    out = str(tmp_path / name)
    shutil.copy(os.path.join(MODELS, name), out)
    return out


def refused(path: str, *fragments: str) -> str:
    """load_model refuses the file with a ValueError naming it and every fragment."""
    with pytest.raises((ValueError, OSError)) as info:
        kt.models.load_model(path)
    message = str(info.value)
    assert os.path.basename(path) in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


def edit_keras(path: str, config_edit=None, weights_edit=None) -> None:
    """Rewrite a .keras archive with its config and/or weights member edited."""
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    if config_edit:
        config = json.loads(members["config.json"])
        config_edit(config)
        members["config.json"] = json.dumps(config).encode()
    if weights_edit:
        buf = io.BytesIO(members["model.weights.h5"])
        with h5py.File(buf, "r+") as f:
            weights_edit(f)
        members["model.weights.h5"] = buf.getvalue()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in members.items():
            z.writestr(n, d)


def sparse_huge(f, name: str) -> None:
    """Replace a dataset by a (32768, 32768) float32 one that stores nothing (a 4 GiB declaration)."""
    parent, key = f[name].parent, name.rsplit("/", 1)[-1]
    del parent[key]
    parent.create_dataset(key, shape=(32768, 32768), dtype="f4")


# ----------------------------------------------------------------------------- item 3: declared shapes
def test_h5_dataset_declared_huge_without_data_is_refused_not_allocated(tmp_path):
    path = copy(tmp_path, "cnn_nchw.tf.h5")
    with h5py.File(path, "r+") as f:
        sparse_huge(f, "model_weights/c2/c2/bias:0")
    assert os.path.getsize(path) < 100_000
    refused(path, "c2", "bias", "(32768, 32768)")


def test_keras_weights_dataset_declared_huge_is_refused(tmp_path):
    path = copy(tmp_path, "cnn_seq.k3.keras")
    edit_keras(path, weights_edit=lambda f: sparse_huge(f, "layers/batch_normalization/vars/3"))
    refused(path, "(32768, 32768)")


def test_load_keras_weights_compares_declared_shapes_before_reading(tmp_path, monkeypatch):
    from kerastorch.saving.keras import reader

    path = copy(tmp_path, "cnn_nchw.tf.h5")
    with h5py.File(path, "r+") as f:
        sparse_huge(f, "model_weights/c2/c2/kernel:0")
    model = kt.models.load_model(os.path.join(MODELS, "cnn_nchw.tf.h5"))
    reads = []
    real, real_into = reader._array, reader.read_into
    monkeypatch.setattr(reader, "_array", lambda ds: reads.append(ds.name) or real(ds))
    monkeypatch.setattr(reader, "read_into", lambda w, *a: reads.append(w.name) or real_into(w, *a))
    with pytest.raises(ValueError, match=r"'c2'.*expected shape .* found shape \(32768, 32768\)"):
        kt.load_keras_weights(model, path)
    assert reads == []  # refused on the declared shapes alone


# ----------------------------------------------------------------------------- item 5: library errors
def test_flipped_h5_metadata_byte_is_an_oserror_not_a_systemerror(tmp_path):
    path = copy(tmp_path, "nested.tf.h5")
    data = bytearray(open(path, "rb").read())
    data[11626] ^= 16  # h5py raised SystemError (FastRLock.__exit__ returned a result with an exception set)
    open(path, "wb").write(bytes(data))
    refused(path, "HDF5 structure cannot be read")
    with pytest.raises(ValueError, match="nested.tf.h5"):
        kt.load_keras_weights(kt.models.load_model(os.path.join(MODELS, "nested.tf.h5")), path)


def test_renamed_weight_dataset_names_the_missing_dataset(tmp_path):
    path = copy(tmp_path, "nested.tf.h5")
    with h5py.File(path, "r+") as f:
        f["model_weights/inner_seq/s1"].move("bias:0", "bias:0_x")
    refused(path, "bias:0")


# ----------------------------------------------------------------------------- the CLI
def test_cli_refuses_a_broken_file_with_status_2_and_one_line(tmp_path):
    path = copy(tmp_path, "cnn_nchw.tf.h5")
    with h5py.File(path, "r+") as f:
        sparse_huge(f, "model_weights/c2/c2/bias:0")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert cli_main(["summary", path]) == 2
    text = err.getvalue()
    assert text.count("\n") == 1 and "Traceback" not in text and "cnn_nchw.tf.h5" in text


# ----------------------------------------------------------------------------- item 2: inbound-node arguments
def _entry(config: dict, name: str) -> dict:
    return next(e for e in config["config"]["layers"] if e["config"].get("name") == name)


def test_inbound_unknown_keyword_is_refused_at_load(tmp_path):
    path = copy(tmp_path, "shared.k3.keras")
    edit_keras(path, config_edit=lambda c: _entry(c, "head")["inbound_nodes"][0]["kwargs"].update(foo=1))
    refused(path, 'Layer "head" (Dense) cannot be called with these arguments', "foo")


def test_inbound_extra_tensor_to_a_one_tensor_layer_is_refused_at_load(tmp_path):
    path = copy(tmp_path, "cnn_nchw.tf.h5")
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        node = _entry(config, "pool")["inbound_nodes"][0]
        node.append(json.loads(json.dumps(node[0])))  # the same tensor passed twice
        f.attrs["model_config"] = json.dumps(config).encode()
    refused(path, 'Layer "pool" expects 1 input(s), but it received 2 input tensors')


def test_inbound_extra_tensor_to_a_nested_model_is_refused_at_load(tmp_path):
    path = copy(tmp_path, "nested.tf.h5")
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        node = _entry(config, "inner_seq")["inbound_nodes"][0]
        node.append(json.loads(json.dumps(node[0])))
        f.attrs["model_config"] = json.dumps(config).encode()
    refused(path, 'Layer "inner_seq" expects 1 input(s), but it received 2 input tensors')


# ----------------------------------------------------------------------------- item 6: sizes without bounds
@pytest.mark.parametrize("make", [
    lambda: kt.layers.Conv2D(4, 3, strides=2**63),
    lambda: kt.layers.MaxPooling2D(pool_size=(2, 2), strides=[2**31, 2]),
    lambda: kt.layers.Conv2D(4, 3, dilation_rate=(1, 2**63 - 1)),
    lambda: kt.layers.Dense(2**64),
    lambda: kt.layers.InputLayer(batch_input_shape=[None, 2**64, 6]),
    lambda: kt.layers.Hashing(num_bins=2**62),
    lambda: kt.layers.HashedCrossing(num_bins=2**62, output_mode="one_hot"),
    lambda: kt.layers.CategoryEncoding(num_tokens=2**62),
    lambda: kt.layers.Discretization(num_bins=2**40),
    lambda: kt.layers.TextVectorization(output_sequence_length=10**12),
])
def test_huge_sizes_are_refused_when_the_layer_is_made(make):
    with pytest.raises(ValueError, match="2147483647"):
        make()


def test_huge_strides_in_a_file_are_refused_at_load_with_the_layers_message(tmp_path):
    path = copy(tmp_path, "cnn_seq.k3.keras")
    edit_keras(path, config_edit=lambda c: _entry(c, "conv")["config"].update(strides=2**64))
    refused(path, "conv", "`strides`", "<= 2147483647")


# ----------------------------------------------------------------------------- item 1: op nodes
def test_op_node_reshape_that_cannot_apply_is_refused_at_load_in_one_line(tmp_path):
    path = copy(tmp_path, "k3_ops.k3.keras")
    edit_keras(path, config_edit=lambda c: _entry(c, "reshape")["config"].update(newshape=[-1, 2**63, 4]))
    message = refused(path, 'Op layer "reshape" (keras.ops.Reshape) cannot be applied')
    assert "\n" not in message


def test_op_node_with_an_unknown_keyword_is_refused_at_load(tmp_path):
    path = copy(tmp_path, "tf_ops.tf.h5")
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        _entry(config, "tf.nn.relu6")["inbound_nodes"][0][3]["extra"] = 1
        f.attrs["model_config"] = json.dumps(config).encode()
    refused(path, 'Op layer "tf.nn.relu6"', "extra")


def test_negative_batch_normalization_epsilon_is_refused_at_load(tmp_path):
    path = copy(tmp_path, "cnn_nchw.tf.h5")
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        _entry(config, "bn")["config"]["epsilon"] = -7
        f.attrs["model_config"] = json.dumps(config).encode()
    refused(path, "bn", "`epsilon` must be a non-negative number")


# ----------------------------------------------------------------------------- item 4: inflating archive members
def test_weights_member_inflating_by_a_gib_of_zeros_is_refused_while_streaming(tmp_path):
    import tracemalloc

    from saving.model_fuzzer import inflating_archive, read_archive

    members = read_archive(open(os.path.join(MODELS, "cnn_seq.k3.keras"), "rb").read())
    path = str(tmp_path / "inflating.keras")
    with open(path, "wb") as f:  # honest headers: 1 GiB + the real weights, about 1 MB on disk
        f.write(inflating_archive(members, "model.weights.h5", 2**30))
    assert os.path.getsize(path) < 2 * 2**20
    kt.models.load_model(os.path.join(MODELS, "cnn_seq.k3.keras"))  # imports done before measuring
    tracemalloc.start()
    try:
        message = refused(path, "model.weights.h5 is", "more than the limit of")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "1073" in message and peak < 64 * 2**20  # refused by its size against what the config needs


def test_weights_member_inflating_past_what_its_header_says_is_refused(tmp_path):
    import struct

    from saving.model_fuzzer import inflating_archive, read_archive

    members = read_archive(open(os.path.join(MODELS, "cnn_seq.k3.keras"), "rb").read())
    data = bytearray(inflating_archive(members, "model.weights.h5", 2**30))
    # the header lies: it claims the real member's size (local header and central directory)
    size = len(members["model.weights.h5"])
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        at = 0
        while (at := data.find(sig, at)) >= 0:
            name_len = struct.unpack_from("<H", data, at + (26 if sig == b"PK\x03\x04" else 28))[0]
            start = at + (30 if sig == b"PK\x03\x04" else 46)
            if bytes(data[start : start + name_len]) == b"model.weights.h5":
                struct.pack_into("<I", data, at + off, size)
            at += 4
    path = str(tmp_path / "lying.keras")
    open(path, "wb").write(bytes(data))
    refused(path, "model.weights.h5")


# ----------------------------------------------------------------------------- safetensors headers that lie
def _safetensors_seed(tmp_path) -> tuple[dict, bytes]:
    out = str(tmp_path / "seed.safetensors")
    kt.models.save_model(kt.models.load_model(os.path.join(MODELS, "cnn_seq.k3.keras")), out)
    data = open(out, "rb").read()
    n = int.from_bytes(data[:8], "little")
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def _write_safetensors(tmp_path, name: str, header: dict, body: bytes) -> str:
    raw = json.dumps(header).encode()
    path = str(tmp_path / name)
    open(path, "wb").write(len(raw).to_bytes(8, "little") + raw + body)
    return path


@pytest.mark.parametrize("lie, fragment", [
    (lambda h, b: h["conv.kernel"].update(data_offsets=[0, len(b) + 4096]), "outside the"),
    (lambda h, b: h["conv.bias"].update(data_offsets=list(h["conv.kernel"]["data_offsets"])), "conv"),
    (lambda h, b: h["conv.bias"].update(dtype="Q8"), "dtype 'Q8'"),
    (lambda h, b: h["conv.bias"].update(shape=[32768, 32768]), "conv.bias"),
    (lambda h, b: h["conv.bias"].update(dtype="F64"), "conv.bias"),
])
def test_safetensors_headers_that_lie_are_refused_before_reading(tmp_path, lie, fragment):
    header, body = _safetensors_seed(tmp_path)
    lie(header, body)
    refused(_write_safetensors(tmp_path, "lying.safetensors", header, body), fragment)


# ----------------------------------------------------------------------------- Sequential shapes at load
def test_sequential_layer_built_for_another_shape_is_refused_at_load(tmp_path):
    # pool strides of 10**9 leave Flatten 4 features; the Dense was built (build_config) for 64
    path = copy(tmp_path, "cnn_seq.k3.keras")
    edit_keras(path, config_edit=lambda c: _entry(c, "pool")["config"].update(strides=10**9))
    refused(path, 'layer "logits"', "expected axis -1 of input shape to have value 64")


# ----------------------------------------------------------------------------- a pooling window larger than its input
def test_pooling_window_larger_than_its_input_is_refused_at_load(tmp_path):
    """tf.keras and Keras 3 refuse such a model at construction (their shape inference runs on the symbolic
    input); it loaded here and failed at the first call (fuzzer: stride 10**9 before a pooling layer)."""
    x = kt.models.Input((1, 3, 1))
    model = kt.models.Model(x, kt.layers.AveragePooling2D(2, name="pool")(kt.layers.Conv2D(1, 1)(x)))
    kt.models.save_model(model, tmp_path / "m.keras")
    with pytest.raises(ValueError, match=r'AveragePooling2D layer "pool": the pooling window \(2, 2\) is larger'):
        kt.models.load_model(tmp_path / "m.keras")
    seq = kt.models.Sequential([kt.layers.InputLayer(input_shape=(5, 1)), kt.layers.Conv1D(1, 1, strides=10**9),
                                kt.layers.MaxPooling1D(2, name="seq_pool")])
    kt.models.save_model(seq, tmp_path / "s.safetensors")
    with pytest.raises(ValueError, match=r'MaxPooling1D layer "seq_pool".*zero size'):
        kt.models.load_model(tmp_path / "s.safetensors")


# ----------------------------------------------------------------------------- a libhdf5 segfault
def test_flipped_attribute_type_is_refused_not_a_segfault(tmp_path):
    """Two flipped bytes (fuzzer seed 10, mutant 1425) make c2's ``weight_names`` a variable-length sequence
    whose heap references are garbage: libhdf5 crashed the process reading it. Loaded in a forked child, so
    that a regression fails this test instead of killing the suite."""
    path = copy(tmp_path, "cnn_nchw.tf.h5")
    data = bytearray(open(path, "rb").read())
    assert (data[20713], data[28819]) == (1, 0)  # the fixture the offsets were found in
    data[20713], data[28819] = 124, 202
    open(path, "wb").write(bytes(data))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            kt.models.load_model(path)
            message = "loaded"
        except BaseException as e:  # noqa: BLE001 - reported to the parent
            message = f"{type(e).__name__}: {e}"
        os.write(write, message.encode()[:4000])
        os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    message = os.read(read, 4096).decode()
    os.close(read)
    assert not os.WIFSIGNALED(status), f"the load crashed the process (signal {os.WTERMSIG(status)})"
    assert message.startswith("ValueError") and "cnn_nchw.tf.h5" in message, message
    assert "'weight_names' of '/model_weights/c2'" in message, message


# ----------------------------------------------------------------------------- wrapped and nested layers' input checks
def test_seed11_71_wrapped_layer_fed_a_shape_it_refuses_is_refused_at_load(tmp_path):
    """Fuzzer seed 11 #71: the input's batch_shape edited to [None, 5, 3]; the Dense wrapped by
    SpectralNormalization (built for a last axis of 5) checked it at the first call only: the wrapper's
    symbolic call now checks its inner layer on the shape it will receive, as Keras's symbolic call does."""
    path = str(tmp_path / "spectral_dense.k3.keras")
    shutil.copy(os.path.join(MODELS, "..", "attention_small", "spectral_dense.k3.keras"), path)
    edit_keras(path, config_edit=lambda c: _entry(c, "x")["config"].update(batch_shape=[None, 5, 3]))
    refused(path, 'layer "sn"', 'Input 0 of layer "inner" is incompatible', "expected axis -1 of input shape to have value 5")


def test_nested_model_fed_a_shape_its_input_layer_refuses_is_refused_at_load(tmp_path):
    """A nested Sequential (input (None, 6)) fed (None, 3, 6) by the outer graph: refused when the graph is built,
    with its input layer's message (the real call's), not by the weights or at the first call."""
    path = copy(tmp_path, "nested.tf.h5")
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        _entry(config, "x")["config"]["batch_input_shape"] = [None, 3, 3]
        f.attrs["model_config"] = json.dumps(config).encode()
    refused(path, 'Input 0 of layer "input_1" is incompatible with the layer: expected ndim=2, found ndim=3')
    x = kt.models.Input((5, 3))
    for inner in (kt.models.Sequential([kt.layers.InputLayer(input_shape=(5,)), kt.layers.ReLU()], name="s"),
                  kt.models.Model(y := kt.models.Input((5,), name="fi"), kt.layers.ReLU()(y))):
        with pytest.raises(ValueError, match="expected ndim=2, found ndim=3") as info:
            inner(x)
        with pytest.raises(ValueError, match="expected ndim=2, found ndim=3") as real:
            inner(torch.zeros(2, 5, 3))
        assert str(info.value).split(":")[0] == str(real.value).split(":")[0]  # the same layer named


def _family_copy(tmp_path, relative: str) -> str:
    out = str(tmp_path / os.path.basename(relative))
    shutil.copy(os.path.join(MODELS, "..", relative), out)
    return out


def test_seed12_151_positional_argument_in_place_of_training_is_refused_at_load(tmp_path):
    """Seed 12 #151: a Dropout node with an extra positional argument, which binds to `training` (the call
    pipeline passes `training` by name: `got multiple values` at the first call)."""
    path = _family_copy(tmp_path, "attention/text_classifier.k3.keras")
    edit_keras(path, config_edit=lambda c: _entry(c, "drop3")["inbound_nodes"][0]["args"].append(7))
    refused(path, 'Layer "drop3" (Dropout) cannot be called with these arguments', "training")


def test_seed12_410_rnn_mask_of_the_wrong_shape_is_refused_at_load(tmp_path):
    """Seed 12 #410: the `any` op computing the LSTM's mask given keepdims=10**12 makes the mask (None, 6, 1):
    the recurrent layer's mask check now also runs on the graph's mask tensor."""
    path = _family_copy(tmp_path, "rnn/models/stacked_lstm_masked.k3.keras")
    edit_keras(path, config_edit=lambda c: _entry(c, "any")["config"].update(keepdims=10**12))
    refused(path, 'Layer "lstm": the mask must have shape (batch, timesteps) = (None, 6), received (None, 6, 1)')


def test_seed12_469_attention_called_on_a_constant_is_refused_at_load(tmp_path):
    """Seed 12 #469: a GroupQueryAttention node with a constant as a third positional argument (`key`)."""
    path = _family_copy(tmp_path, "attention/gqa_lm.k3.keras")
    edit_keras(path, config_edit=lambda c: _entry(c, "gqa")["inbound_nodes"][0]["args"].append(7))
    refused(path, 'layer "gqa": `key` must be a tensor; received int')
    path = _family_copy(tmp_path, "attention/gqa_lm.k3.keras")
    edit_keras(path, config_edit=lambda c: _entry(c, "gqa")["inbound_nodes"][0]["kwargs"].update(foo=1))
    refused(path, 'Layer "gqa" (GroupQueryAttention) cannot be called with these arguments', "foo")


def test_seed13_164_283_extra_positional_argument_bound_to_an_rnn_mask_is_refused_at_load(tmp_path):
    """Seed 13 #164 / #283: an extra positional argument of a recurrent layer's node binds to `mask`: a tensor
    of the wrong shape (ConvLSTM2D given its input twice) or a constant (an LSTM given 7)."""
    path = _family_copy(tmp_path, "rnn/models/conv_lstm.k3.keras")
    node = lambda c: _entry(c, "conv_lstm2d")["inbound_nodes"][0]["args"]  # noqa: E731
    edit_keras(path, config_edit=lambda c: node(c).append(json.loads(json.dumps(node(c)[0]))))
    refused(path, 'Layer "conv_lstm2d": the mask must have shape (batch, timesteps) = (None, 3), received (None, 3, 6, 6, 2)')
    path = _family_copy(tmp_path, "rnn/models/mixed.k3.keras")

    def constant_mask(config):
        node = _entry(config, "lstm")["inbound_nodes"][0]
        node["args"].append(7)
        del node["kwargs"]["mask"]
    edit_keras(path, config_edit=constant_mask)
    refused(path, 'Layer "lstm" (LSTM): `mask` must be a tensor or None; received 7')


# ----------------------------------------------------------------------------- new families: sizes, vocabularies
@pytest.mark.parametrize("fixture, layer, update, fragment", [
    ("rnn/models/stacked_lstm_masked.k3.keras", "lstm", dict(units=10**9), "LoadLimits.max_weight_elements"),
    ("structured/models/structured.k3.keras", "hash_salted", dict(num_bins=2**62), "`num_bins` must be <= 2147483647"),
    ("structured/models/structured.k3.keras", "cross", dict(num_bins=2**62), "`num_bins` must be <= 2147483647"),
    ("structured/models/structured.k3.keras", "enc_fixed", dict(num_tokens=2**62), "`num_tokens` must be <= 2147483647"),
    ("lookups/text.k3.keras", "vectorize", dict(output_sequence_length=10**12), "`output_sequence_length` must be"),
])
def test_new_family_sizes_from_a_file_are_refused_at_load(tmp_path, fixture, layer, update, fragment):
    """An RNN with units 10**9, a Hashing/HashedCrossing with 2**62 bins, a CategoryEncoding of 2**62 tokens, a
    TextVectorization padding to 10**12 tokens: refused when the layer is made (the int-mode Hashing loaded and
    fed hash values up to 2**62 to a 16-token CategoryEncoding, failing at the first call)."""
    path = _family_copy(tmp_path, fixture)
    edit_keras(path, config_edit=lambda c: _entry(c, layer)["config"].update(update))
    refused(path, f'"{layer}"', fragment)


def test_an_einsum_equation_that_is_not_one_is_refused_at_load(tmp_path):
    x = kt.models.Input((3, 5))
    model = kt.models.Model(x, kt.layers.EinsumDense("abc,cd->abd", output_shape=(None, 4), bias_axes="d", name="ed")(x))
    path = str(tmp_path / "einsum.keras")
    kt.models.save_model(model, path)
    for equation, fragment in (("not an equation", "Invalid einsum equation"), ("abc,cd->abdd", "does not fit")):
        edit_keras(path, config_edit=lambda c: _entry(c, "ed")["config"].update(equation=equation))
        refused(path, 'EinsumDense layer "ed"', fragment)


def test_a_billion_token_vocabulary_or_boundary_list_is_refused_in_bounded_memory(tmp_path):
    """A vocabulary asset of 2**30 tokens and a Discretization whose config lists 2**28 boundaries (members that
    inflate to GiBs, a few MB on disk): refused by their sizes while streaming; a vocabulary of more terms than
    `max_tokens` is refused by counting its lines, before a term is parsed."""
    import tracemalloc

    from saving.model_fuzzer import inflating_archive, read_archive, write_archive

    text = os.path.join(MODELS, "..", "lookups", "text.k3.keras")
    asset = "assets/layers/text_vectorization/vocabulary.txt"
    members = read_archive(open(text, "rb").read())
    vocab = str(tmp_path / "vocab.keras")
    open(vocab, "wb").write(inflating_archive(members, asset, 2**31, fill=b"a\n"))
    structured = read_archive(open(os.path.join(MODELS, "..", "structured", "models", "structured.k3.keras"), "rb").read())
    config = json.loads(structured["config.json"])
    _entry(config, "disc_fixed")["config"]["bin_boundaries"] = "@"
    structured["config.json"] = json.dumps(config).encode().split(b'"@"')[0] + b"["
    bounds = str(tmp_path / "boundaries.keras")
    open(bounds, "wb").write(inflating_archive(structured, "config.json", 2**30, fill=b"0.5,0.5,"))
    many = str(tmp_path / "many_terms.keras")
    open(many, "wb").write(write_archive({**members, asset: b"".join(b"t%d\n" % i for i in range(200_000))}))
    kt.models.load_model(text)  # imports done before measuring
    tracemalloc.start()
    try:
        refused(vocab, asset, "more than the limit of")
        refused(bounds, "config.json is", "more than the limit of")
        refused(many, 'layer "vectorize_lookup"', "at least 200000 terms, more than `max_tokens` (20)")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, peak


def test_seed15_1249_an_integer_batch_shape_and_unequal_crossed_columns_are_refused_at_load(tmp_path):
    """Seed 15 #1249: `batch_shape: 3` was taken as the shape (3,) (Keras 3: "Cannot convert '3' to a shape"), and
    HashedCrossing checked its columns' shapes only at the call (Keras checks them when the graph is built)."""
    path = _family_copy(tmp_path, "structured/models/structured.k3.keras")
    edit_keras(path, config_edit=lambda c: _entry(c, "ident")["config"].update(batch_shape=3))
    refused(path, 'InputLayer "ident": Cannot convert \'3\' to a shape.')
    a, b = kt.models.Input((1,), dtype="int64"), kt.models.Input((2,), dtype="int64")
    with pytest.raises(ValueError, match=r'"cross": All `HashedCrossing` inputs should have equal shape.*\(None, 2\)'):
        kt.layers.HashedCrossing(4, name="cross")([a, b])


def test_seed16_567_count_weights_outside_count_mode_is_refused_at_load(tmp_path):
    """Seed 16 #567: a CategoryEncoding node given an extra positional argument (`count_weights`) in one_hot mode:
    Keras checks `count_weights` in the symbolic call; here it failed at the first call."""
    path = _family_copy(tmp_path, "structured/models/structured.k3.keras")
    edit_keras(path, config_edit=lambda c: _entry(c, "enc_hash")["inbound_nodes"][0]["args"].append(7))
    refused(path, 'CategoryEncoding layer "enc_hash": `count_weights` is not used')


def test_bidirectional_given_a_constant_mask_positionally_is_refused_at_load(tmp_path):
    """As seed 13 #283 for the Bidirectional wrapper: its forward layer's mask checks run on the graph's arguments."""
    path = _family_copy(tmp_path, "rnn/models/text_classifier.k3.keras")

    def constant_mask(config):
        node = _entry(config, "bidirectional")["inbound_nodes"][0]
        node["args"].append(7)
        del node["kwargs"]["mask"]
    edit_keras(path, config_edit=constant_mask)
    refused(path, '"bidirectional" (Bidirectional): `mask` must be a tensor or None; received 7')


def test_seed16_1753_string_layer_fed_a_float_model_input_is_refused_at_load(tmp_path):
    """Seed 16 #1753: the text input's dtype deleted (float32): TextVectorization can never receive strings there."""
    path = _family_copy(tmp_path, "lookups/text.k3.keras")
    edit_keras(path, config_edit=lambda c: _entry(c, "text")["config"].pop("dtype"))
    refused(path, 'TextVectorization layer "vectorize": expected strings', 'model input "text" of dtype float32')


def test_seed16_1587_2083_bidirectional_state_count_and_a_mask_that_is_not_a_tensor_are_refused_at_load(tmp_path):
    """Seed 16 #1587: a tf.keras Bidirectional node given an extra tensor (one initial state for two layers);
    #2083: a node whose `mask` keyword is `{}` (torch's raw "Could not infer dtype of dict" at the first call)."""
    path = str(tmp_path / "mixed.tf.h5")
    shutil.copy(os.path.join(MODELS, "..", "rnn", "models", "mixed.tf.h5"), path)
    with h5py.File(path, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        node = _entry(config, "bidirectional")["inbound_nodes"][0]
        node.append(json.loads(json.dumps(node[0])))
        f.attrs["model_config"] = json.dumps(config).encode()
    refused(path, '"bidirectional" (Bidirectional): `initial_state` expects 2 tensors', "received 1")
    path = _family_copy(tmp_path, "lookups/text.k3.keras")
    edit_keras(path, config_edit=lambda c: _entry(c, "global_average_pooling1d")["inbound_nodes"][0]["kwargs"].update(mask={}))
    refused(path, '"global_average_pooling1d" (GlobalAveragePooling1D): `mask` must be a tensor or None')


def test_seed17_1815_rank_2_input_to_a_masked_lstm_is_refused_at_load(tmp_path):
    """Seed 17 #1815: the input's batch_shape edited to [None, None]: the `any` op's mask is then (None,), which the
    LSTM's graph-time mask check refuses (a symbolic shape of unknown dims was taken as a list of shapes: e3eb89d)."""
    path = _family_copy(tmp_path, "rnn/models/stacked_lstm_masked.k3.keras")
    edit_keras(path, config_edit=lambda c: _entry(c, "input_layer")["config"].update(batch_shape=[None, None]))
    refused(path, 'Layer "lstm": the mask must have shape (batch, timesteps) = (None, None), received (None,)')


def test_seed18_785_text_input_of_a_shape_textvectorization_cannot_split_is_refused_at_load(tmp_path):
    """Seed 18 #785: the text input's batch_shape edited to [None, 1, 3]: tf.keras refuses it when the graph is built."""
    path = _family_copy(tmp_path, "lookups/text.k3.keras")
    edit_keras(path, config_edit=lambda c: _entry(c, "text")["config"].update(batch_shape=[None, 1, 3]))
    refused(path, 'TextVectorization layer "vectorize": When using `TextVectorization` to tokenize strings, the input '
                  "rank must be 1 or the last shape dimension must be 1. Received: inputs.shape=(None, 1, 3)")


def test_seed19_1511_1996_list_mask_for_one_input_and_a_built_merge_fed_other_ranks_are_refused_at_load(tmp_path):
    """Seed 19 #1511: `mask: [None, None]` for a one-input layer (torch failed at the first call); #1996: an input
    edited to rank 3 reaches a Concatenate built from its build_config, whose checks now also run on the graph."""
    path = _family_copy(tmp_path, "lookups/text.k3.keras")
    edit_keras(path, config_edit=lambda c: _entry(c, "global_average_pooling1d")["inbound_nodes"][0]["kwargs"].update(
        mask=[None, None]))
    refused(path, "`mask` must be a tensor or None; received [None, None]")
    path = _family_copy(tmp_path, "lookups/structured.k3.keras")
    edit_keras(path, config_edit=lambda c: _entry(c, "ca")["config"].update(batch_shape=[None, 1, 3]))
    refused(path, 'Concatenate layer "concatenate": A `Concatenate` layer requires inputs with matching shapes')
