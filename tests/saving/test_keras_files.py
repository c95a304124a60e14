"""Real Keras weight files: load_keras_weights / save_keras_weights against compat_fixtures/keras_files/.

The fixtures were written by real tf.keras 2.21 and Keras 3.15.1 (compat_fixtures/gen/keras_files.py),
including the proof that real Keras 3 loads a file written by save_keras_weights.
"""
from __future__ import annotations

import os
import sys
import zipfile

import numpy as np
import pytest
import torch

h5py = pytest.importorskip("h5py")

from kerastorch import load_keras_weights, save_keras_weights  # noqa: E402
from kerastorch.layers import Conv2D  # noqa: E402
from kerastorch.saving.keras import read_keras_weights  # noqa: E402

from kt_testing import assert_close  # noqa: E402
from saving.keras_helpers import (  # noqa: E402
    DIR, assert_fails_unchanged, build, built_flags, embedding_head, fixture, record, snapshot, tensors,
)

KINDS = ["tf_full", "tf_weights", "k3_weights", "k3_keras"]
FLAT = ["cnn_nhwc", "cnn_nchw"]


# ----------------------------------------------------------------------------- loading real files
@pytest.mark.parametrize("built", [True, False], ids=["built", "unbuilt"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("model", FLAT)
def test_load_reproduces_keras_outputs(model, kind, built):
    module = build(model, built=built)
    load_keras_weights(module, fixture(model, kind))
    assert all(built_flags(module))
    out = module(tensors()[f"{model}.input"])
    assert_close(out, tensors()[f"{model}.output"], msg=f"{model} {kind} vs tf.keras")
    assert_close(out, tensors()[f"{model}.output_keras3"], msg=f"{model} {kind} vs Keras 3")


@pytest.mark.parametrize("kind", KINDS)
def test_all_kinds_hold_the_same_weights(kind):
    entries, _ = read_keras_weights(fixture("cnn_nested_dense", kind))
    reference, _ = read_keras_weights(fixture("cnn_nested_dense", "tf_full"))
    by_name = {e.name: e for e in entries}
    assert sorted(by_name) == sorted(e.name for e in reference) == ["block_conv1", "block_conv2", "head", "stem"]
    for ref in reference:
        for a, b in zip(by_name[ref.name].arrays, ref.arrays, strict=True):
            np.testing.assert_array_equal(a, b)


def test_file_order_is_recorded_except_in_bare_keras3_files():
    assert read_keras_weights(fixture("cnn_nested_dense", "tf_weights"))[1]
    assert read_keras_weights(fixture("cnn_nested_dense", "tf_full"))[1]
    assert read_keras_weights(fixture("cnn_nested_dense", "k3_keras"))[1]
    assert not read_keras_weights(fixture("cnn_nested_dense", "k3_weights"))[1]


@pytest.mark.parametrize("built", [True, False], ids=["built", "unbuilt"])
@pytest.mark.parametrize("kind", KINDS)
def test_nested_model_with_unsupported_head_skip_unsupported(kind, built, tmp_path):
    # The real files with the Dense head turned into a user's custom layer, which kerastorch lacks.
    module = build("cnn_nested_dense", built=built)  # stem + nested Sequential(block_conv1, block_conv2)
    load_keras_weights(module, embedding_head(kind, tmp_path), skip_unsupported=True)
    out = module(tensors()["cnn_nested_dense.input"])
    assert_close(out, tensors()["cnn_nested_dense.block"], msg=kind)


@pytest.mark.parametrize("built", [True, False], ids=["built", "unbuilt"])
@pytest.mark.parametrize("kind", KINDS)
def test_keras_layer_without_counterpart_is_an_error(kind, built, tmp_path):
    module = build("cnn_nested_dense", built=built)
    message = assert_fails_unchanged(
        module, embedding_head(kind, tmp_path), "'head'", "no kerastorch counterpart", "skip_unsupported=True"
    )
    assert "(54, 3)" in message
    if kind != "tf_weights":  # a weights-only tf.keras file records no class
        assert "(TiedEmbedding, at" in message


@pytest.mark.parametrize("kind", KINDS)
def test_by_name(kind):
    class Reordered(torch.nn.Module):
        """Same layers, registered in the opposite order (modules() order != call order)."""

        def __init__(self, layers):
            super().__init__()
            self.convs = torch.nn.ModuleList(reversed(layers))

        def forward(self, x):
            for conv in reversed(self.convs):
                x = conv(x)
            return x

    # Every layer is explicitly named after a layer of the file: the names pair them, not the order
    # (issue 17; this load used to be refused as conv_c <- conv_a).
    module = Reordered(list(build("cnn_nhwc", built=False)))
    load_keras_weights(module, fixture("cnn_nhwc", kind))
    assert_close(module(tensors()["cnn_nhwc.input"]), tensors()["cnn_nhwc.output"], msg=kind)
    module = Reordered(list(build("cnn_nhwc", built=False)))
    load_keras_weights(module, fixture("cnn_nhwc", kind), by_name=True)
    assert_close(module(tensors()["cnn_nhwc.input"]), tensors()["cnn_nhwc.output"], msg=kind)
    # One name not in the file: pairing falls back to positions, which contradict the other names.
    module = Reordered(list(build("cnn_nhwc", built=False, conv_b={"name": "middle"})))
    assert_fails_unchanged(module, fixture("cnn_nhwc", kind), "would load into kerastorch layer 'conv_c'", "by_name=True")


def test_by_name_leaves_unnamed_layers_and_ignores_extra_file_layers():
    module = build("cnn_nhwc")
    extra = Conv2D(2, 1, name="not_in_file")
    module.append(extra)
    module(tensors()["cnn_nhwc.input"])
    before = extra.kernel.detach().clone()
    load_keras_weights(module, fixture("cnn_nhwc", "tf_full"), by_name=True)
    assert torch.equal(extra.kernel, before)
    assert_close(module[:3](tensors()["cnn_nhwc.input"]), tensors()["cnn_nhwc.output"])


def test_by_name_checks_the_keras_class():
    module = torch.nn.Sequential(Conv2D(3, 1, name="head"))
    assert_fails_unchanged(module, fixture("cnn_nested_dense", "tf_full"), "'head'", "is a Dense", "Conv2D", by_name=True)


def test_by_name_without_common_names():
    module = build("cnn_nchw")
    assert_fails_unchanged(module, fixture("cnn_nhwc", "k3_weights"), "no layer names in common", by_name=True)


def test_by_name_rejects_duplicate_module_names():
    module = torch.nn.Sequential(Conv2D(8, 3, padding="same", name="conv_a"), Conv2D(8, 3, padding="same", name="conv_a"))
    assert_fails_unchanged(module, fixture("cnn_nhwc", "tf_full"), "two kerastorch layers named 'conv_a'", by_name=True)


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize("built", [True, False], ids=["built", "unbuilt"])
@pytest.mark.parametrize("kind", KINDS)
def test_shape_mismatch_names_layer_and_shapes(kind, built):
    module = build("cnn_nhwc", built=built, conv_c={"kernel_size": 3}, conv_b={"filters": 6})
    message = assert_fails_unchanged(module, fixture("cnn_nhwc", kind), "'conv_c'", "(2, 3, 8, 4)", "'conv_b'")
    if built:
        assert "expected shape (3, 3, 6, 4), found shape (2, 3, 8, 4)" in message
        assert "expected shape (3, 3, 4, 6), found shape (3, 3, 4, 8)" in message
    else:
        assert "kernel shape (2, 3, 8, 4) does not match" in message and "(3, 3, None, 4)" in message


@pytest.mark.parametrize("kind", KINDS)
def test_bias_mismatch(kind):
    module = build("cnn_nhwc", conv_b={"use_bias": True}, conv_c={"use_bias": False})
    assert_fails_unchanged(module, fixture("cnn_nhwc", kind), "'conv_b'", "expected 2 weights ['kernel', 'bias'], found 1", "'conv_c'")


def test_groups_mismatch_on_built_layer():
    module = build("cnn_nhwc", conv_b={"groups": 1})
    assert_fails_unchanged(module, fixture("cnn_nhwc", "tf_full"), "'conv_b'", "expected shape (3, 3, 8, 8), found shape (3, 3, 4, 8)")


@pytest.mark.parametrize("built", [True, False], ids=["built", "unbuilt"])
@pytest.mark.parametrize("kind", KINDS)
def test_wrong_layer_count(kind, built):
    short = build("cnn_nhwc", built=built)[:2]
    assert_fails_unchanged(short, fixture("cnn_nhwc", kind), "the file has 3 Keras layers", "the module has 2 kerastorch layers")
    longer = build("cnn_nhwc", built=built)
    longer.append(Conv2D(4, 1, name="extra"))
    extra = "extra [(1, 1, 4, 4), (4,)]" if built else "extra [(1, 1, None, 4), (4,)]"
    if built:
        longer(tensors()["cnn_nhwc.input"])
    assert_fails_unchanged(longer, fixture("cnn_nhwc", kind), "the module has 4 kerastorch layers", extra)


def test_wrong_model_data_format():
    module = build("cnn_nchw", built=True)
    assert_fails_unchanged(module, fixture("cnn_nhwc", "k3_keras"), "'cf_a'", "expected shape (3, 3, 3, 6), found shape (3, 3, 3, 8)")


def _corrupt_files(tmp_path):
    src = fixture("cnn_nhwc", "k3_weights")
    data = open(src, "rb").read()
    files = {"garbage.weights.h5": b"this is not HDF5" * 100, "empty.weights.h5": b""}
    for kind in KINDS:
        raw = open(fixture("cnn_nhwc", kind), "rb").read()
        files[f"truncated_{kind}"] = raw[: len(raw) // 2]
    files["bad_superblock.weights.h5"] = data[:8] + b"\xff" * 64 + data[72:]
    paths = {}
    for name, blob in files.items():
        paths[name] = tmp_path / name
        paths[name].write_bytes(blob)
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    paths["other.h5"] = tmp_path / "other.h5"
    with zipfile.ZipFile(tmp_path / "noweights.keras", "w") as z:
        z.writestr("config.json", "{}")
    paths["noweights.keras"] = tmp_path / "noweights.keras"
    return paths


@pytest.mark.parametrize("built", [True, False], ids=["built", "unbuilt"])
def test_corrupt_or_truncated_files(tmp_path, built):
    for name, path in _corrupt_files(tmp_path).items():
        module = build("cnn_nhwc", built=built)
        try:
            assert_fails_unchanged(module, path)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}") from None
        except BaseException as e:
            raise AssertionError(f"{name}: raised {type(e).__name__}: {e}") from None


def test_garbled_metadata_anywhere_is_a_value_error_or_a_clean_load(tmp_path):
    # HDF5 has no checksums: damaged raw values load as stored. Whatever bytes are damaged, the
    # outcome is a ValueError with the module unchanged, or a complete load; never another error.
    data = open(fixture("cnn_nhwc", "tf_full"), "rb").read()
    for start in range(0, len(data), max(1, len(data) // 40)):
        path = tmp_path / "garbled.h5"
        path.write_bytes(data[:start] + b"\x5a" * 48 + data[start + 48 :])
        module = build("cnn_nhwc", built=False)
        before = snapshot(module)
        try:
            load_keras_weights(module, path)
        except ValueError:
            assert snapshot(module) == before, start
        else:
            assert all(built_flags(module)), start


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        load_keras_weights(build("cnn_nhwc"), DIR / "does_not_exist.weights.h5")


def test_float64_module_gets_cast_values():
    module = build("cnn_nhwc").double()
    load_keras_weights(module, fixture("cnn_nhwc", "tf_weights"))
    assert module[0].kernel.dtype == torch.float64
    out = module(tensors()["cnn_nhwc.input"].double())
    assert_close(out, tensors()["cnn_nhwc.output"])


def test_non_kerastorch_modules_are_not_matched():
    module = build("cnn_nhwc", built=False)
    module.insert(1, torch.nn.Identity())
    module.append(torch.nn.Flatten())
    load_keras_weights(module, fixture("cnn_nhwc", "k3_keras"))
    assert_close(module[:-1](tensors()["cnn_nhwc.input"]), tensors()["cnn_nhwc.output"])


# ----------------------------------------------------------------------------- saving
def _structure(path) -> dict:
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = (obj.shape, str(obj.dtype))
            elif name.endswith("/vars") and len(obj):
                out[name] = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in obj.attrs.items()}
        f.visititems(visit)
    return out


@pytest.mark.parametrize("model", FLAT)
def test_save_matches_real_keras_layout_and_round_trips(model, tmp_path):
    module = build(model)
    g = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    path = tmp_path / f"{model}.weights.h5"
    save_keras_weights(module, path)
    assert _structure(path) == _structure(fixture(model, "k3_weights"))
    assert os.listdir(tmp_path) == [path.name]

    fresh = build(model, built=False)
    load_keras_weights(fresh, path)
    assert snapshot(fresh) == snapshot(module)
    fresh_by_name = build(model, built=False)
    load_keras_weights(fresh_by_name, path, by_name=True)
    assert snapshot(fresh_by_name) == snapshot(module)


@pytest.mark.parametrize("model", FLAT)
def test_save_writes_what_real_keras_loads(model, tmp_path):
    """The proof recorded by gen_keras_files.py: real Keras 3 loaded save_keras_weights's file."""
    proof = record()["proof"][model]
    assert proof["ok"] and proof["keras3_loaded"] and proof["weights_equal"]
    assert proof["max_abs_diff"] < 1e-5
    # That file still loads here and gives the output Keras reproduced ...
    module = build(model, built=False)
    load_keras_weights(module, fixture(model, "kerastorch_weights"))
    assert_close(module(tensors()[f"{model}.input"]), tensors()[f"{model}.kerastorch_output"])
    # ... and today's save_keras_weights writes the same file content.
    path = tmp_path / "again.weights.h5"
    save_keras_weights(module, path)
    assert _structure(path) == _structure(fixture(model, "kerastorch_weights"))
    again, _ = read_keras_weights(path)
    proven, _ = read_keras_weights(fixture(model, "kerastorch_weights"))
    for a, b in zip(again, proven, strict=True):
        assert a.name == b.name and a.path == b.path
        for x, y in zip(a.arrays, b.arrays, strict=True):
            np.testing.assert_array_equal(x, y)


def test_save_nested_module_is_flat_and_loads_back(tmp_path):
    module = build("cnn_nested_dense")
    load_keras_weights(module, embedding_head("k3_keras", tmp_path), skip_unsupported=True)
    path = tmp_path / "nested.weights.h5"
    save_keras_weights(module, path)
    entries, _ = read_keras_weights(path)
    assert [(e.path, e.name) for e in entries] == [
        ("/layers/conv2d/vars", "stem"),
        ("/layers/conv2d_1/vars", "block_conv1"),
        ("/layers/conv2d_2/vars", "block_conv2"),
    ]
    fresh = build("cnn_nested_dense", built=False)
    load_keras_weights(fresh, path)
    assert snapshot(fresh) == snapshot(module)


def test_save_refuses_unbuilt_and_keeps_old_file(tmp_path):
    path = tmp_path / "w.weights.h5"
    save_keras_weights(build("cnn_nhwc"), path)
    old = path.read_bytes()
    with pytest.raises(ValueError, match="unbuilt"):
        save_keras_weights(build("cnn_nhwc", built=False), path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == [path.name]


def test_save_crash_midway_keeps_old_file(tmp_path, monkeypatch):
    from kerastorch.saving.keras import weights as keras_files

    path = tmp_path / "w.weights.h5"
    save_keras_weights(build("cnn_nhwc"), path)
    old = path.read_bytes()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(keras_files, "_keras_array", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        save_keras_weights(build("cnn_nhwc"), path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == [path.name]


def test_save_refuses_parameters_outside_kerastorch_layers(tmp_path):
    module = torch.nn.Sequential(Conv2D(4, 3, input_shape=(8, 8, 2)), torch.nn.Flatten(), torch.nn.Linear(144, 3))
    path = tmp_path / "w.weights.h5"
    with pytest.raises(ValueError, match=r"'2\.weight', '2\.bias'"):
        save_keras_weights(module, path)
    assert not path.exists()
    save_keras_weights(module, path, skip_unsupported=True)
    assert [e.name for e in read_keras_weights(path)[0]] == [module[0].name]


# ----------------------------------------------------------------------------- optional h5py
def test_missing_h5py_has_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "h5py", None)  # `import h5py` now raises ImportError
    module = build("cnn_nhwc")
    for call in (
        lambda: load_keras_weights(module, fixture("cnn_nhwc", "k3_weights")),
        lambda: save_keras_weights(module, tmp_path / "x.weights.h5"),
    ):
        with pytest.raises(ImportError, match=r"pip install kerastorch\[keras\]"):
            call()
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------- bfloat16
def test_keras3_bfloat16_weights():
    path = str(DIR / record()["files"]["bf16_conv"]["k3_weights"])
    kernel, bias = tensors()["bf16_conv.kernel"], tensors()["bf16_conv.bias"]
    bf = Conv2D(3, 1, dtype="bfloat16", name="bf")
    load_keras_weights(bf, path)
    assert bf.kernel.dtype == torch.bfloat16
    assert torch.equal(bf.keras_weight("kernel").float(), kernel) and torch.equal(bf.bias.float(), bias)
    f32 = Conv2D(3, 1)
    load_keras_weights(f32, path)
    assert torch.equal(f32.keras_weight("kernel"), kernel) and torch.equal(f32.bias, bias)
