"""save_keras_weights: the layout follows the name as Keras's own ``load_weights`` reads it (issue 5):
``x.h5`` is tf.keras 2.21's legacy HDF5 weights layout, ``x.weights.h5`` Keras 3's; and every
convolution rank (Conv1D, Conv2D, Conv3D) round-trips.

That real tf.keras 2.21 and Keras 3.15.1 ``model.load_weights('x.h5')`` (and Keras 3 ``x.weights.h5``)
load these files with the same weights and outputs is proven by
``.venv-keras/bin/python compat_fixtures/prove_h5_weights.py`` (not a test dependency); here the
files are compared with the ones real tf.keras wrote.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

h5py = pytest.importorskip("h5py")

import kerastorch  # noqa: E402
from kerastorch import load_keras_weights, save_keras_weights  # noqa: E402
from kerastorch.layers import Conv1D, Conv2D, Conv3D  # noqa: E402
from kerastorch.saving.keras import read_keras_weights  # noqa: E402

from saving.keras_helpers import build, fixture, snapshot  # noqa: E402


def _attr(obj, key):
    value = obj.attrs[key]
    return (obj.attrs.get_id(key).dtype.kind, obj.attrs.get_id(key).shape, np.asarray(value).tolist())


def h5_content(path, skip=()) -> dict:
    """Every attribute (value, dtype kind, shape) and dataset (shape, dtype, bytes), groups in ``skip`` left out."""
    out = {}
    with h5py.File(path, "r") as f:
        out["/"] = {k: _attr(f, k) for k in f.attrs}

        def visit(name, obj):
            if name.split("/")[0] in skip:
                return
            if isinstance(obj, h5py.Dataset):
                out[name] = (obj.shape, str(obj.dtype), obj[()].tobytes())
            else:
                out[name] = {k: _attr(obj, k) for k in obj.attrs}

        f.visititems(visit)
    return out


# ----------------------------------------------------------------------------- the legacy tf.keras layout
@pytest.mark.parametrize("model", ["fitted", "cnn_nhwc"])
def test_h5_name_writes_what_tf_keras_writes(model, tmp_path):
    """Same weights as a file real tf.keras 2.21 ``save_weights('x.h5')`` wrote: same attributes, groups,
    weight names and bytes. The only difference: tf.keras's functional model also lists its weight-free
    InputLayer ('input', an empty group), which both Keras loaders skip."""
    real = fixture(model, "tf_weights")
    module = build(model, built=False)
    load_keras_weights(module, real)
    path = tmp_path / "x.h5"
    save_keras_weights(module, path)
    ours, theirs = h5_content(path), h5_content(real, skip=("input",))
    kind, shape, names = theirs["/"]["layer_names"]
    assert names[0] == "input"
    theirs["/"]["layer_names"] = (kind, (shape[0] - 1,), names[1:])
    assert ours == theirs
    assert os.listdir(tmp_path) == ["x.h5"]


@pytest.mark.parametrize("name", ["x.h5", "x.hdf5"])
def test_h5_round_trip_and_reader_sees_legacy_layout(tmp_path, name):
    module = build("cnn_nhwc")
    path = tmp_path / name
    save_keras_weights(module, path)
    with h5py.File(path, "r") as f:
        assert "layers" not in f and list(f.attrs["layer_names"]) == ["conv_a", "conv_b", "conv_c"]
    entries, ordered = read_keras_weights(path)
    assert ordered and [e.weight_names for e in entries] == [["kernel", "bias"], ["kernel"], ["kernel", "bias"]]
    fresh = build("cnn_nhwc", built=False)
    load_keras_weights(fresh, path)
    assert snapshot(fresh) == snapshot(module)


def test_h5_splits_long_layer_name_lists_as_tf_keras(tmp_path):
    """tf.keras splits an attribute over 64512 bytes into ``layer_names0``, ``layer_names1``, ..."""
    module = torch.nn.Sequential(*[Conv2D(1, 1, name=f"layer_{i:03d}_" + "x" * 240) for i in range(300)])
    module(torch.zeros(1, 2, 2, 1))
    path = tmp_path / "many.h5"
    save_keras_weights(module, path)
    with h5py.File(path, "r") as f:
        assert "layer_names" not in f.attrs and "layer_names0" in f.attrs and "layer_names1" in f.attrs
    fresh = torch.nn.Sequential(*[Conv2D(1, 1, name=f"layer_{i:03d}_" + "x" * 240) for i in range(300)])
    load_keras_weights(fresh, path)
    assert snapshot(fresh) == snapshot(module)


def test_h5_refuses_names_that_cannot_be_groups(tmp_path):
    module = torch.nn.Sequential(Conv2D(2, 1, name="same"), Conv2D(2, 1, name="same"))
    module(torch.zeros(1, 2, 2, 2))
    with pytest.raises(ValueError, match=r"repeated or not usable as group names: \['same'\]"):
        save_keras_weights(module, tmp_path / "x.h5")
    save_keras_weights(module, tmp_path / "x.weights.h5")  # Keras 3 groups are named by class, not name
    assert os.listdir(tmp_path) == ["x.weights.h5"]


@pytest.mark.parametrize("name", ["x.keras", "x.safetensors", "x", "x.h5.tmp", "x.weights"])
def test_other_names_are_refused(tmp_path, name):
    with pytest.raises(ValueError, match=r"must end in '\.weights\.h5' .* or '\.h5'"):
        save_keras_weights(build("cnn_nhwc"), tmp_path / name)
    assert os.listdir(tmp_path) == []


def test_weights_h5_name_keeps_the_keras3_layout(tmp_path):
    save_keras_weights(build("cnn_nhwc"), tmp_path / "x.weights.h5")
    with h5py.File(tmp_path / "x.weights.h5", "r") as f:
        assert sorted(f["layers"]) == ["conv2d", "conv2d_1", "conv2d_2"] and "layer_names" not in f.attrs


# ----------------------------------------------------------------------------- every convolution rank
RANKS = {
    Conv1D: [((11, 4), dict(filters=6, kernel_size=3, padding="causal", name="a")),
             (None, dict(filters=4, kernel_size=2, strides=2, groups=2, use_bias=False, name="b"))],
    Conv2D: [((3, 9, 9), dict(filters=6, kernel_size=(3, 2), data_format="channels_first", name="a")),
             (None, dict(filters=4, kernel_size=1, groups=2, data_format="channels_first", name="b"))],
    Conv3D: [((5, 6, 7, 2), dict(filters=4, kernel_size=(2, 3, 3), padding="same", name="a")),
             (None, dict(filters=3, kernel_size=1, use_bias=False, dilation_rate=1, name="b"))],
}


def conv_model(cls, named: bool = True) -> torch.nn.Sequential:
    return torch.nn.Sequential(*[cls(**{k: v for k, v in args.items() if named or k != "name"}) for _, args in RANKS[cls]])


@pytest.mark.parametrize("named", [True, False], ids=["named", "generated_names"])
@pytest.mark.parametrize("suffix", [".weights.h5", ".h5"])
@pytest.mark.parametrize("cls", list(RANKS), ids=lambda c: c.__name__)
def test_conv_ranks_round_trip(tmp_path, cls, suffix, named):
    kerastorch.clear_session()
    module = conv_model(cls, named)
    x = torch.randn(2, *RANKS[cls][0][0])
    module(x)
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    path = tmp_path / f"m{suffix}"
    save_keras_weights(module, path)
    entries, _ = read_keras_weights(path)
    stem = cls.__name__.lower()
    if suffix == ".weights.h5":
        assert [e.path for e in entries] == [f"/layers/{stem}/vars", f"/layers/{stem}_1/vars"]
    kernel = entries[0].arrays[0]
    assert kernel.shape == tuple(module[0].keras_weight("kernel").shape)  # (*kernel_size, in // groups, filters)
    np.testing.assert_array_equal(kernel, module[0].get_weights()[0])
    kerastorch.clear_session()
    fresh = conv_model(cls, named)  # unbuilt: built from the file's shapes
    load_keras_weights(fresh, path)
    assert snapshot(fresh) == snapshot(module)
    assert torch.equal(fresh(x), module(x))


@pytest.mark.parametrize("cls", list(RANKS), ids=lambda c: c.__name__)
def test_conv_rank_mismatch_is_refused(tmp_path, cls):
    module = conv_model(cls)
    module(torch.randn(2, *RANKS[cls][0][0]))
    path = tmp_path / "m.weights.h5"
    save_keras_weights(module, path)
    other = Conv2D if cls is not Conv2D else Conv3D
    wrong = torch.nn.Sequential(other(4, 1, name="a"), other(4, 1, name="b"))
    with pytest.raises(ValueError, match=f"the Keras layer is a {cls.__name__}, the kerastorch layer a {other.__name__}"):
        load_keras_weights(wrong, path)
    assert all(not m.built for m in wrong)
