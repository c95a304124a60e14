"""Which Keras layer loads into which kerastorch layer: nested bare Keras 3 files (issue 3),
optimizer state in files saved after ``fit`` (issue 4), explicit names versus positions (issue 17),
and the wording of errors. Files are real Keras 3 / tf.keras fixtures or written by kerastorch."""
from __future__ import annotations

import pytest
import torch

h5py = pytest.importorskip("h5py")

import kerastorch  # noqa: E402
from kerastorch import load_keras_weights, save_keras_weights  # noqa: E402
from kerastorch.layers import Conv2D  # noqa: E402
from kerastorch.saving.keras import read_keras_weights  # noqa: E402

from kt_testing import assert_close  # noqa: E402
from saving.keras_helpers import assert_fails_unchanged, build, fixture, record, tensors  # noqa: E402

NESTED = ["nested_seq", "nested_functional"]
BUILT = pytest.mark.parametrize("built", [True, False], ids=["built", "unbuilt"])
NAMED = pytest.mark.parametrize("named", [True, False], ids=["named", "generated_names"])


def keras3_output(model: str, module: torch.nn.Module) -> None:
    assert_close(module(tensors()[f"{model}.input"]), tensors()[f"{model}.output_keras3"], msg=model)


# ----------------------------------------------------------------------------- issue 3: nested models
@pytest.mark.parametrize("kind", ["k3_weights", "k3_keras"])
@pytest.mark.parametrize("model", NESTED)
def test_read_paths_are_where_keras_put_each_layer(model, kind):
    """The reader's path of each layer is where real Keras 3 wrote it (recorded by value in the fixture)."""
    where = record()["h5_layout"][model][kind]["layers"]
    entries, ordered = read_keras_weights(fixture(model, kind))
    assert ordered == (kind == "k3_keras")
    assert sorted(e.name for e in entries) == sorted(where)
    for e in entries:
        assert [f"{e.path.lstrip('/')}/{i}" for i in range(len(e.arrays))] == where[e.name]


@NAMED
@BUILT
@pytest.mark.parametrize("kind", ["k3_weights", "k3_keras"])
@pytest.mark.parametrize("model", NESTED)
def test_nested_keras3_model_loads_as_keras_computes(model, kind, built, named):
    """pre -> nested Sequential/Functional(ic1, ic2) -> post: the bare .weights.h5 sorts its groups
    pre, post, ic1, ic2; loading used to put post's weights into ic1 (outputs off by ~4.8)."""
    module = build(model, built=built, named=named)
    load_keras_weights(module, fixture(model, kind))
    keras3_output(model, module)


@NAMED
@pytest.mark.parametrize("model", NESTED)
def test_nested_file_into_module_of_another_structure(model, named):
    """A flat module (or one nested otherwise) has no path that says which group is which: loaded by
    names when all are named after the file's layers, refused otherwise; never loaded by guess."""
    path = fixture(model, "k3_weights")

    def convs():  # pre, ic1, ic2, post
        return [m for m in build(model, built=False, named=named).modules() if isinstance(m, Conv2D)]

    flat = torch.nn.Sequential(*convs())
    pre, ic1, ic2, post = convs()
    split = torch.nn.Sequential(pre, torch.nn.Sequential(ic1), torch.nn.Sequential(ic2), post)
    for module in (flat, split):
        if named:
            load_keras_weights(module, path)
            keras3_output(model, module)
        else:
            assert_fails_unchanged(
                module, path, "bare Keras 3 .weights.h5 of a nested or subclassed Keras model (layers at /layers/", ".keras file", "by_name=True"
            )


class Wrapped(torch.nn.Module):
    """The nested model as a custom module: ``self.layers = ModuleList([pre, Sequential(ic1, ic2), post])``."""

    def __init__(self, inner: torch.nn.Sequential):
        super().__init__()
        self.layers = torch.nn.ModuleList(list(inner))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


@pytest.mark.parametrize("model", NESTED)
def test_nested_file_through_torch_wrappers(model):
    """Torch modules that only wrap the layers (an attribute holding a ModuleList, an outer module
    holding that) are looked through, as the layers' paths still say which group is which."""
    inner = Wrapped(build(model, built=False, named=False))
    load_keras_weights(inner, fixture(model, "k3_weights"))
    keras3_output(model, inner)
    outer = torch.nn.Sequential(Wrapped(build(model, built=False, named=False)))
    load_keras_weights(outer, fixture(model, "k3_weights"))
    keras3_output(model, outer)


@pytest.mark.parametrize("model", NESTED)
def test_nested_file_by_name(model):
    module = build(model, built=False)
    load_keras_weights(module, fixture(model, "k3_weights"), by_name=True)
    keras3_output(model, module)


def test_twelve_layers_of_one_class_keep_keras_order():
    """conv2d, conv2d_1, ..., conv2d_11: numeric, not alphabetical (conv2d_10 < conv2d_2) order."""
    for kind in ("k3_weights", "k3_keras"):
        for named in (True, False):
            module = build("conv12", built=False, named=named)
            load_keras_weights(module, fixture("conv12", kind))
            keras3_output("conv12", module)


# ----------------------------------------------------------------------------- issue 4: optimizer state
@NAMED
@BUILT
@pytest.mark.parametrize("kind", ["k3_weights", "k3_keras", "tf_weights"])
def test_file_saved_after_fit_loads_without_its_optimizer(kind, built, named):
    """Keras 3 writes ``optimizer/vars`` (Adam's iteration, learning rate, moments) after fit."""
    entries, ordered = read_keras_weights(fixture("fitted", kind))
    assert [e.name for e in entries] == ["c1", "c2"] and ordered == (kind != "k3_weights")
    module = build("fitted", built=built, named=named)
    load_keras_weights(module, fixture("fitted", kind))
    keras3_output("fitted", module)


@pytest.mark.parametrize("kind", ["k3_weights", "k3_keras"])
def test_file_saved_after_fit_still_refuses_unmatched_layers(kind):
    short = build("fitted", built=False)[:1]
    message = assert_fails_unchanged(short, fixture("fitted", kind), "the file has 2 Keras layers", "the module has 1")
    assert "adam" not in message and "optimizer" not in message
    longer = build("fitted", built=False)
    longer.append(Conv2D(2, 1, name="extra"))
    assert_fails_unchanged(longer, fixture("fitted", kind), "the module has 3 kerastorch layers", "extra")


# ----------------------------------------------------------------------------- issue 17: names
class Declared(torch.nn.Module):
    """Layers declared (``modules()`` order) in one order, called in another."""

    def __init__(self, declared: list[torch.nn.Module], call_order: list[int]):
        super().__init__()
        self.layers = torch.nn.ModuleList(declared)
        self.call_order = call_order

    def forward(self, x):
        for i in self.call_order:
            x = self.layers[i](x)
        return x


def conv(**kw) -> Conv2D:
    return Conv2D(4, 3, padding="same", **kw)


def randomized(module: torch.nn.Module, seed: int) -> torch.nn.Module:
    module(torch.zeros(1, 6, 6, 4))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    return module


SUFFIXES = pytest.mark.parametrize("suffix", [".weights.h5", ".h5"])


@SUFFIXES
def test_explicit_names_pair_layers_whatever_the_order(tmp_path, suffix):
    """Module declares b2 before b1 (same shapes): b1's weights used to go into b2 without a word."""
    saved = randomized(torch.nn.Sequential(conv(name="b1"), conv(name="b2")), 0)
    path = tmp_path / f"w{suffix}"
    save_keras_weights(saved, path)
    module = Declared([conv(name="b2"), conv(name="b1")], call_order=[1, 0])
    load_keras_weights(module, path)
    assert torch.equal(module.layers[1].kernel, saved[0].kernel) and torch.equal(module.layers[0].kernel, saved[1].kernel)
    x = torch.randn(2, 6, 6, 4)
    assert torch.equal(module(x), saved(x))


@SUFFIXES
def test_generated_names_do_not_pair_by_name(tmp_path, suffix):
    """Generated names say nothing: a file whose layers are [conv2d_1, conv2d] loads by position into a
    fresh model named [conv2d, conv2d_1] (pairing by name would swap them)."""
    first, second = conv(), conv()  # conv2d, conv2d_1
    saved = randomized(torch.nn.Sequential(second, first), 1)
    path = tmp_path / f"w{suffix}"
    save_keras_weights(saved, path)
    assert [e.name for e in read_keras_weights(path)[0]] == ["conv2d_1", "conv2d"]
    kerastorch.clear_session()
    fresh = torch.nn.Sequential(conv(), conv())
    assert [m.name for m in fresh] == ["conv2d", "conv2d_1"]
    load_keras_weights(fresh, path)
    x = torch.randn(2, 6, 6, 4)
    assert torch.equal(fresh(x), saved(x))


@SUFFIXES
def test_names_not_in_the_file_load_by_position(tmp_path, suffix):
    saved = randomized(torch.nn.Sequential(conv(name="b1"), conv(name="b2")), 2)
    path = tmp_path / f"w{suffix}"
    save_keras_weights(saved, path)
    module = torch.nn.Sequential(conv(name="first"), conv())
    load_keras_weights(module, path)
    x = torch.randn(2, 6, 6, 4)
    assert torch.equal(module(x), saved(x))


@BUILT
@SUFFIXES
def test_positions_contradicting_names_are_refused(tmp_path, suffix, built):
    saved = randomized(torch.nn.Sequential(conv(name="b1"), conv(name="b2")), 3)
    path = tmp_path / f"w{suffix}"
    save_keras_weights(saved, path)
    module = torch.nn.Sequential(conv(name="b2"), conv())  # position 0 is b1 in the file
    if built:
        randomized(module, 4)
    assert_fails_unchanged(
        module, path, "Keras layer 'b1'", "would load into kerastorch layer 'b2'", "by_name=True"
    )
    dup = torch.nn.Sequential(conv(name="b1"), conv(name="b1"))  # names not unique: by position, b1 is fine
    assert_fails_unchanged(dup, path, "would load into kerastorch layer 'b1'")


# ----------------------------------------------------------------------------- messages
def test_truncated_keras_archive_is_named_so(tmp_path):
    data = open(fixture("cnn_nhwc", "k3_keras"), "rb").read()
    for name, blob in (("cut.keras", data[: len(data) // 2]), ("cut.bin", data[: len(data) // 3]), ("empty.keras", b"")):
        path = tmp_path / name
        path.write_bytes(blob)
        message = assert_fails_unchanged(build("cnn_nhwc", built=False), path, "truncated or corrupt .keras archive")
        assert "signature" not in message


@pytest.mark.parametrize("kind", ["tf_full", "tf_weights", "k3_weights", "k3_keras"])
def test_messages_name_keras_classes(kind):
    # A kerastorch Conv2D named after the file's Dense head pairs with it by name and is refused: the
    # message names the file layer's Keras class as Keras spells it (Dense), not its Keras 3 path stem.
    module = build("cnn_nested_dense", built=False)
    module.append(Conv2D(3, 1, name="head"))
    message = assert_fails_unchanged(module, fixture("cnn_nested_dense", kind), "'head'", "a Conv2D")
    assert "(Dense" in message and "(dense" not in message


def test_unknown_keras3_stem_is_camel_cased():
    from kerastorch.saving.keras.names import class_name_of_stem

    assert [class_name_of_stem(s) for s in ("dense", "conv2d", "batch_normalization", "lstm", "conv2d_transpose", "my_block")] == [
        "Dense", "Conv2D", "BatchNormalization", "LSTM", "Conv2DTranspose", "MyBlock"
    ]


def test_reading_is_unchanged_by_an_archive_named_otherwise(tmp_path):
    """A complete .keras archive is read by its content, whatever its name."""
    path = tmp_path / "model.bin"
    path.write_bytes(open(fixture("cnn_nhwc", "k3_keras"), "rb").read())
    module = build("cnn_nhwc", built=False)
    load_keras_weights(module, path)
    keras3_output("cnn_nhwc", module)
