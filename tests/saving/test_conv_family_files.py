"""Keras weight files of the convolution family: Conv*DTranspose, DepthwiseConv*D, SeparableConv*D and the
weight-free UpSampling*D / ZeroPadding*D / Cropping*D, against real Keras files.

The fixtures (compat_fixtures/keras_files/conv_family_files.json + .safetensors and the ``.h5`` files
it names) were written by tf.keras 2.21 (``save_weights('x.h5')``) and Keras 3.15.1
(``save_weights('x.weights.h5')``, ``save('x.h5')``) by compat_fixtures/gen_conv_family_files.py;
compat_fixtures/prove_h5_weights.py proves the other direction (real Keras loads what kerastorch writes).
"""
from __future__ import annotations

import functools
import json

import numpy as np
import pytest
import torch

h5py = pytest.importorskip("h5py")

import kerastorch as kt  # noqa: E402
from kerastorch import load_keras_weights, save_keras_weights  # noqa: E402
from kerastorch.layers import Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D  # noqa: E402
from kerastorch.saving.keras import read_keras_weights  # noqa: E402
from kerastorch.saving.keras.names import class_from_stem, classes_from_weights, keras3_snake  # noqa: E402

from kt_testing import assert_close  # noqa: E402
from saving.keras_helpers import DIR, assert_fails_unchanged  # noqa: E402

NEW_CLASSES = [
    "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D",
    "SeparableConv1D", "SeparableConv2D", "UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D",
    "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D", "Cropping3D",
]


@functools.lru_cache(maxsize=None)
def record() -> dict:
    with open(DIR / "conv_family_files.json") as f:
        return json.load(f)


@functools.lru_cache(maxsize=None)
def tensors() -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(DIR / record()["tensors"]))


MODELS = sorted(record()["models"])
KINDS = ["tf_weights", "k3_weights"]


def path(model: str, kind: str) -> str:
    return str(DIR / record()["models"][model]["files"][kind])


def build(model: str, built: bool = False, named: bool = True, layers=None) -> torch.nn.Sequential:
    """The fixture model in kerastorch (``layers``: only the layers with these names, in this order)."""
    specs = {args["name"]: (cls, args) for cls, args in record()["models"][model]["layers"]}
    order = layers if layers is not None else list(specs)
    modules = []
    for name in order:
        cls, args = specs[name]
        args = dict(args)
        if not named:
            del args["name"]
        modules.append(getattr(kt.layers, cls)(**args))
    module = torch.nn.Sequential(*modules)
    if built:
        module(tensors()[f"{model}.input"])
    return module


def keras_weights(module: torch.nn.Module) -> list[np.ndarray]:
    return [w for m in module for w in m.get_weights()]


def recorded_weights(model: str) -> list[np.ndarray]:
    return [tensors()[f"{model}.weight{i}"].numpy() for i in range(record()["models"][model]["weight_count"])]


def weighted_names(model: str) -> list[str]:
    return [args["name"] for cls, args in record()["models"][model]["layers"] if build(model, layers=[args["name"]])[0].weight_names]


# ----------------------------------------------------------------------------- real Keras files -> kerastorch
@pytest.mark.parametrize("named", [True, False], ids=["named", "unnamed"])
@pytest.mark.parametrize("built", [True, False], ids=["built", "unbuilt"])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("model", MODELS)
def test_load_reproduces_keras_outputs(model, kind, built, named):
    module = build(model, built=built, named=named)
    load_keras_weights(module, path(model, kind))
    assert all(m.built for m in module if m.weight_names)
    for got, want in zip(keras_weights(module), recorded_weights(model), strict=True):
        np.testing.assert_array_equal(got, want)
    with torch.no_grad():
        out = module(tensors()[f"{model}.input"])
    assert_close(out, tensors()[f"{model}.output"], msg=f"{model} {kind}")


def test_keras3_full_h5_names_the_depthwise_kernel_kernel():
    model = "b_depthwise_separable2d_nhwc"
    entries, ordered = read_keras_weights(path(model, "k3_full"))
    assert ordered
    by_name = {e.name: e for e in entries}
    assert by_name["b_dw"].class_name == "DepthwiseConv2D" and by_name["b_dw"].weight_names == ["kernel", "bias"]
    assert by_name["b_sep"].weight_names == ["depthwise_kernel", "pointwise_kernel", "bias"]
    module = build(model)
    load_keras_weights(module, path(model, "k3_full"))
    with torch.no_grad():
        assert_close(module(tensors()[f"{model}.input"]), tensors()[f"{model}.output"])


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("model", MODELS)
def test_weight_free_layers_are_not_in_the_file_entries(model, kind):
    entries, ordered = read_keras_weights(path(model, kind))
    names = [e.name for e in entries]
    # a bare Keras 3 file records paths (layers/<class>[_<n>]), not the model's order
    assert (names if ordered else sorted(names)) == (weighted_names(model) if ordered else sorted(weighted_names(model)))


def test_tf_keras_weight_names_tell_the_family():
    entries, _ = read_keras_weights(path("b_depthwise_separable2d_nhwc", "tf_weights"))
    names = {e.name: e.weight_names for e in entries}
    assert names == {
        "b_dw": ["depthwise_kernel", "bias"],
        "b_sep": ["depthwise_kernel", "pointwise_kernel", "bias"],
        "b_sep2": ["depthwise_kernel", "pointwise_kernel"],
        "b_dw2": ["depthwise_kernel"],
    }
    entries, _ = read_keras_weights(path("c_conv1d_family_nwc", "k3_weights"))
    assert {e.path: e.name for e in entries} == {
        "/layers/conv1d/vars": "c_conv", "/layers/conv1d_transpose/vars": "c_t1", "/layers/conv1d_transpose_1/vars": "c_t2",
        "/layers/depthwise_conv1d/vars": "c_dw", "/layers/separable_conv1d/vars": "c_sep",
    }


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("model", ["a_transpose2d_nhwc", "b_depthwise_separable2d_nchw", "c_conv1d_family_nwc", "d_conv3d_family_ndhwc"])
def test_by_name_loads_named_layers_in_any_order(model, kind):
    names = weighted_names(model)
    module = build(model, layers=list(reversed(names)))  # never called: only by_name can pair these
    load_keras_weights(module, path(model, kind), by_name=True)
    weights = dict(zip(names, np.split(np.arange(record()["models"][model]["weight_count"]), np.cumsum([len(build(model, layers=[n])[0].weight_names) for n in names])[:-1])))
    expected = recorded_weights(model)
    for layer in module:
        for got, i in zip(layer.get_weights(), weights[layer.name], strict=True):
            np.testing.assert_array_equal(got, expected[i])


@pytest.mark.parametrize("kind", KINDS)
def test_by_name_leaves_unknown_layers_alone(kind):
    model = "b_depthwise_separable2d_nhwc"
    module = torch.nn.Sequential(SeparableConv2D(4, 3, padding="same", depth_multiplier=2, name="b_sep"), Conv2D(2, 1, name="other"))
    load_keras_weights(module, path(model, kind), by_name=True)
    assert module[0].built and not module[1].built
    np.testing.assert_array_equal(module[0].get_weights()[1], recorded_weights(model)[3])


# ----------------------------------------------------------------------------- class mismatches are refused
@pytest.mark.parametrize("built", [True, False], ids=["built", "unbuilt"])
@pytest.mark.parametrize(
    "kind, fragment",
    [("tf_weights", "looks like a DepthwiseConv2D"), ("k3_weights", "is a DepthwiseConv2D")],
)
def test_depthwise_file_into_conv2d_is_refused(kind, fragment, built):
    file = path("b_depthwise_separable2d_nhwc", kind)
    # by name: 'b_dw' (DepthwiseConv2D, kernel (3, 3, 3, 2), bias (6,)) into a Conv2D called 'b_dw'
    module = torch.nn.Sequential(Conv2D(6, 3, strides=2, padding="same", name="b_dw"))
    if built:
        module(torch.zeros(1, 7, 9, 3))
    assert_fails_unchanged(module, file, "'b_dw'", fragment, "the kerastorch layer a Conv2D", by_name=True)
    # by position: the whole file into as many Conv2D layers
    convs = torch.nn.Sequential(*[Conv2D(4, 3) for _ in range(4)])
    if built:
        convs(torch.zeros(1, 12, 12, 3))
    assert_fails_unchanged(convs, file, fragment, "the kerastorch layer a Conv2D")


@pytest.mark.parametrize("kind, fragment", [("tf_weights", "looks like a Conv2DTranspose"), ("k3_weights", "is a Conv2DTranspose")])
def test_transposed_file_into_conv2d_is_refused(kind, fragment):
    # a_t1: Keras kernel (3, 3, 5, 4) (filters 5, input 4), bias (5,): a Conv2D's bias would be (4,)
    module = torch.nn.Sequential(Conv2D(5, 3, padding="same", name="a_t1"))
    assert_fails_unchanged(module, path("a_transpose2d_nhwc", kind), fragment, "the kerastorch layer a Conv2D", by_name=True)


@pytest.mark.parametrize("kind", KINDS)
def test_conv2d_file_into_transposed_or_depthwise_is_refused(kind):
    for layer in (Conv2DTranspose(4, 3, padding="same", name="a_conv"), DepthwiseConv2D(3, name="a_conv")):
        message = assert_fails_unchanged(torch.nn.Sequential(layer), path("a_transpose2d_nhwc", kind), "'a_conv'", by_name=True)
        assert "Conv2D" in message and type(layer).__name__ in message


@pytest.mark.parametrize("kind", KINDS)
def test_separable_file_into_depthwise_is_refused(kind):
    module = torch.nn.Sequential(DepthwiseConv2D(3, padding="same", depth_multiplier=2, name="b_sep"))
    assert_fails_unchanged(module, path("b_depthwise_separable2d_nhwc", kind), "SeparableConv2D", "DepthwiseConv2D", by_name=True)


# ----------------------------------------------------------------------------- names and classes
@pytest.mark.parametrize("cls", NEW_CLASSES)
def test_keras3_path_stems_resolve_to_the_class(cls):
    assert class_from_stem(keras3_snake(cls)) == cls


STEMS = {  # Keras 3.15.1's keras.src.utils.naming.to_snake_case of each class
    "Conv2DTranspose": "conv2d_transpose", "DepthwiseConv1D": "depthwise_conv1d", "SeparableConv2D": "separable_conv2d",
    "UpSampling3D": "up_sampling3d", "ZeroPadding2D": "zero_padding2d", "Cropping1D": "cropping1d",
}


@pytest.mark.parametrize("cls, stem", STEMS.items())
def test_keras3_snake_matches_keras(cls, stem):
    assert keras3_snake(cls) == stem


def _arrays(*shapes):
    return [np.zeros(s, np.float32) for s in shapes]


@pytest.mark.parametrize(
    "names, shapes, expected",
    [
        (["kernel", "bias"], [(3, 3, 4, 8), (8,)], ("Conv2D",)),
        (["kernel", "bias"], [(3, 3, 8, 4), (8,)], ("Conv2DTranspose",)),
        (["kernel", "bias"], [(3, 3, 4, 4), (4,)], ("Conv2D", "Conv2DTranspose")),
        (["kernel"], [(3, 3, 4, 8)], ("Conv2D", "Conv2DTranspose")),
        (["kernel", "bias"], [(3, 4, 8), (8,)], ("Conv1D",)),
        (["kernel", "bias"], [(2, 2, 2, 3, 5), (3,)], ("Conv3DTranspose",)),
        (["depthwise_kernel", "bias"], [(3, 3, 4, 2), (8,)], ("DepthwiseConv2D",)),
        (["depthwise_kernel"], [(3, 4, 1)], ("DepthwiseConv1D",)),
        (["depthwise_kernel", "pointwise_kernel", "bias"], [(3, 3, 4, 2), (1, 1, 8, 5), (5,)], ("SeparableConv2D",)),
        (["depthwise_kernel", "pointwise_kernel"], [(3, 4, 1), (1, 4, 5)], ("SeparableConv1D",)),
        (["depthwise_kernel", "bias"], [(3, 3, 3, 4, 2), (8,)], ()),  # no DepthwiseConv3D
        (["kernel", "bias"], [(4, 3), (3,)], ("Dense",)),
        (["gamma", "beta"], [(4,), (4,)], ()),
        # no names (attribute groups of subclassed Keras 3 models): shapes only
        (None, [(3, 3, 4, 8), (8,)], ("Conv2D",)),
        (None, [(3, 3, 1, 8), (8,)], ("Conv2D", "DepthwiseConv2D")),
        (None, [(3, 3, 8, 4), (8,)], ("Conv2DTranspose",)),
        (None, [(3, 3, 4, 2), (8,)], ("DepthwiseConv2D",)),
        (None, [(3, 3, 4, 8)], ("Conv2D", "Conv2DTranspose", "DepthwiseConv2D")),
        (None, [(3, 3, 4, 2), (1, 1, 8, 5), (5,)], ("SeparableConv2D",)),
        (None, [(3, 4, 1), (1, 4, 5)], ("SeparableConv1D",)),
        (None, [(3, 3, 4, 2), (3, 3, 8, 5)], ()),
    ],
)
def test_classes_from_weights(names, shapes, expected):
    assert classes_from_weights(names, _arrays(*shapes)) == tuple(expected)


# ----------------------------------------------------------------------------- kerastorch -> file -> kerastorch
def _every_class_model(data_format: str) -> list[torch.nn.Sequential]:
    """Models that hold every new class (with and without bias), in one data format."""
    L, df = kt.layers, {"data_format": data_format}
    one_d = [
        L.Conv1DTranspose(4, 3, strides=2, padding="same", **df), L.DepthwiseConv1D(3, depth_multiplier=2, **df),
        L.SeparableConv1D(3, 3, depth_multiplier=2, padding="same", **df), L.DepthwiseConv1D(1, use_bias=False, **df),
        L.SeparableConv1D(2, 2, use_bias=False, **df), L.Conv1DTranspose(2, 4, strides=2, output_padding=1, use_bias=False, **df),
        L.ZeroPadding1D((1, 2)), L.Cropping1D((2, 1)),
    ]
    if data_format == "channels_last":
        one_d.insert(2, L.UpSampling1D(2))
    two_d = [
        L.Conv2DTranspose(4, 3, strides=2, padding="same", **df), L.UpSampling2D((1, 2), **df), L.ZeroPadding2D(((1, 0), (0, 1)), **df),
        L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, **df), L.Cropping2D(((1, 0), (0, 1)), **df),
        L.SeparableConv2D(3, 3, padding="same", depth_multiplier=2, activation="relu", **df),
        L.DepthwiseConv2D(1, use_bias=False, **df), L.SeparableConv2D(2, 2, use_bias=False, **df),
        L.Conv2DTranspose(2, 4, strides=2, output_padding=1, use_bias=False, **df),
    ]
    three_d = [
        L.Conv3DTranspose(3, 2, strides=(2, 1, 2), padding="same", **df), L.UpSampling3D((1, 2, 1), **df),
        L.ZeroPadding3D(1, **df), L.Cropping3D(((1, 0), (0, 1), (1, 1)), **df),
        L.Conv3DTranspose(2, 3, strides=2, output_padding=1, use_bias=False, **df),
    ]
    return [torch.nn.Sequential(*one_d), torch.nn.Sequential(*two_d), torch.nn.Sequential(*three_d)]


def _inputs(data_format: str) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    shapes = [(7, 3), (5, 6, 3), (3, 4, 3, 2)]
    out = []
    for s in shapes:
        x = torch.randn((2, *s), generator=g)
        out.append(x.movedim(-1, 1).contiguous() if data_format == "channels_first" else x)
    return out


def _randomize(module: torch.nn.Module) -> None:
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.4)


def _configs(module: torch.nn.Module) -> list[torch.nn.Sequential]:
    """A fresh, unbuilt copy of ``module`` (same layer classes and configs, new weights)."""
    return torch.nn.Sequential(*[type(m).from_config(m.get_config()) for m in module])


def _covered(models) -> set[str]:
    return {type(m).__name__ for model in models for m in model}


def test_round_trip_models_cover_every_new_class():
    assert _covered(_every_class_model("channels_last")) == set(NEW_CLASSES)


@pytest.mark.parametrize("suffix", [".h5", ".weights.h5", ".safetensors"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_save_then_load_round_trip(tmp_path, data_format, suffix):
    for i, (module, x) in enumerate(zip(_every_class_model(data_format), _inputs(data_format))):
        with torch.no_grad():
            module(x)
            _randomize(module)
            expected = module(x)
        target = tmp_path / f"m{i}{suffix}"
        fresh = _configs(module)
        assert not any(m.built for m in fresh if m.weight_names)
        if suffix == ".safetensors":
            kt.save_weights(module, target)
            kt.load_weights(fresh, target)
        else:
            save_keras_weights(module, target)
            load_keras_weights(fresh, target)
        for a, b in zip(keras_weights(fresh), keras_weights(module), strict=True):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(fresh.state_dict().values(), module.state_dict().values(), strict=True):
            assert a.is_contiguous() and torch.equal(a, b)
        with torch.no_grad():
            assert_close(fresh(x), expected, msg=f"{data_format} {suffix} model {i}")


@pytest.mark.parametrize("kind, suffix", [("tf_weights", ".h5"), ("k3_weights", ".weights.h5")])
@pytest.mark.parametrize("model", MODELS)
def test_written_layout_is_the_real_keras_layout(tmp_path, model, kind, suffix):
    """What save_keras_weights writes for a fixture model has the same HDF5 datasets (paths, shapes,
    values) and tf.keras weight names as the file real Keras wrote."""
    module = build(model)
    load_keras_weights(module, path(model, kind))
    target = tmp_path / f"out{suffix}"
    save_keras_weights(module, target)

    def datasets(file):
        out = {}
        with h5py.File(file, "r") as f:
            f.visititems(lambda k, v: out.__setitem__(k, v[()]) if isinstance(v, h5py.Dataset) else None)
            names = {k: [n.decode() if isinstance(n, bytes) else n for n in f[k].attrs.get("weight_names", [])] for k in f.attrs.get("layer_names", [])}
        return out, names

    ours, our_names = datasets(target)
    theirs, their_names = datasets(path(model, kind))
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        assert ours[key].shape == theirs[key].shape and np.array_equal(ours[key], theirs[key]), key
    assert our_names == {k: v for k, v in their_names.items() if v}
