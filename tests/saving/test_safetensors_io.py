"""save_weights / load_weights: self-describing safetensors, atomic writes, validate-then-copy."""
from __future__ import annotations

import json
import os

import pytest
import torch
from safetensors import safe_open

import kerastorch as kt
from kerastorch.layers import Conv2D


def make_model(built: bool = True) -> torch.nn.Module:
    shape = (9, 9, 3) if built else None
    return torch.nn.Sequential(
        Conv2D(6, 3, padding="same", activation="relu", kernel_regularizer="l2", input_shape=shape),
        Conv2D(6, 3, strides=2, padding="same", groups=3, use_bias=False),
        Conv2D(4, (2, 3), dilation_rate=2, data_format="channels_last"),
        torch.nn.Flatten(),
        torch.nn.LazyLinear(3),
        torch.nn.BatchNorm1d(3),
    )


def snapshot(model: torch.nn.Module) -> dict:
    from torch.nn.parameter import is_lazy

    return {k: (None if is_lazy(v) else v.detach().clone()) for k, v in model.state_dict().items()}


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        (x is None and y is None) or (x is not None and y is not None and x.dtype == y.dtype and torch.equal(x, y))
        for x, y in zip(a.values(), b.values())
    )


@pytest.fixture
def trained(tmp_path):
    torch.manual_seed(0)
    model = make_model()
    x = torch.randn(4, 9, 9, 3)
    model(x)
    model.train()
    model(x)  # moves BatchNorm running stats: buffers are saved too
    path = tmp_path / "m.safetensors"
    kt.save_weights(model, path)
    return model.eval(), x, path


def test_file_is_self_describing(trained):
    model, _, path = trained
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
        keys = set(f.keys())
    assert keys == set(model.state_dict())
    assert meta["format"] == "pt" and meta["kerastorch_version"] == kt.__version__
    layers = json.loads(meta["kerastorch_layers"])
    assert list(layers) == ["0", "1", "2"]
    assert layers["1"]["class_name"] == "Conv2D"
    assert layers["1"]["config"]["groups"] == 3 and layers["1"]["config"]["strides"] == [2, 2]


@pytest.mark.parametrize("built", [True, False])
def test_roundtrip_into_fresh_model(trained, built):
    model, x, path = trained
    fresh = make_model(built=built)
    kt.load_weights(fresh, path)
    fresh.eval()
    assert all(m.built for m in fresh.modules() if isinstance(m, kt.layers.Layer))
    torch.testing.assert_close(fresh(x), model(x), rtol=0, atol=0)


def test_load_onto_other_dtype(trained):
    model, x, path = trained
    fresh = make_model().double()
    fresh(x.double())
    kt.load_weights(fresh, path)
    assert fresh[0].kernel.dtype == torch.float64
    torch.testing.assert_close(fresh.eval()(x.double()).float(), model(x), rtol=1e-5, atol=1e-6)


def _fails_unchanged(model: torch.nn.Module, path, match: str) -> None:
    before = snapshot(model)
    built = [m.built for m in model.modules() if isinstance(m, kt.layers.Layer)]
    with pytest.raises(ValueError, match=match):
        kt.load_weights(model, path)
    assert same(before, snapshot(model))
    assert built == [m.built for m in model.modules() if isinstance(m, kt.layers.Layer)]


@pytest.mark.parametrize("built", [True, False])
def test_shape_mismatch_names_every_key_and_changes_nothing(tmp_path, trained, built):
    _, _, path = trained
    other = torch.nn.Sequential(
        Conv2D(6, 3, padding="same", input_shape=(9, 9, 3) if built else None),
        Conv2D(6, 5, strides=2, padding="same", groups=3, use_bias=False),  # kernel 5: mismatch
        Conv2D(4, (2, 3), dilation_rate=2),
        torch.nn.Flatten(),
        torch.nn.LazyLinear(3),
        torch.nn.BatchNorm1d(3),
    )
    if built:
        other(torch.randn(2, 9, 9, 3))
    _fails_unchanged(other, path, r"1\.kernel")


def test_missing_and_unexpected_keys(tmp_path, trained):
    model, _, path = trained
    bigger = torch.nn.Sequential(*make_model(), torch.nn.Linear(3, 2))
    bigger(torch.randn(2, 9, 9, 3))
    _fails_unchanged(bigger, path, r"missing key '6\.weight'")
    smaller = torch.nn.Sequential(*list(make_model())[:3])
    smaller(torch.randn(2, 9, 9, 3))
    _fails_unchanged(smaller, path, r"unexpected key '4\.weight'")
    kt.load_weights(smaller, path, strict=False)  # non-strict: loads what matches
    torch.testing.assert_close(smaller[0].kernel, model[0].kernel)


def test_dtype_kind_mismatch(tmp_path, trained):
    model, _, path = trained
    other = make_model()
    other(torch.randn(2, 9, 9, 3))
    other[5].num_batches_tracked = torch.tensor(0.0)  # float where the file holds int64
    _fails_unchanged(other, path, "num_batches_tracked")


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "header"])
def test_corrupt_files_fail_cleanly(tmp_path, trained, damage):
    _, _, path = trained
    data = path.read_bytes()
    bad = tmp_path / f"bad-{damage}.safetensors"
    if damage == "truncate":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        bad.write_bytes(os.urandom(len(data)))
    elif damage == "empty":
        bad.write_bytes(b"")
    else:
        bad.write_bytes(data[:8] + b"{not json" + data[17:])
    for built in (True, False):
        model = make_model(built)
        if built:
            model(torch.randn(2, 9, 9, 3))
        _fails_unchanged(model, bad, "not a readable safetensors file")


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        kt.load_weights(make_model(), tmp_path / "nope.safetensors")


def test_saving_unbuilt_model_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unbuilt"):
        kt.save_weights(make_model(built=False), tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


def test_interrupted_save_keeps_the_old_file(tmp_path, trained, monkeypatch):
    model, _, path = trained
    old = path.read_bytes()
    from kerastorch.saving import atomic

    real_fsync = os.fsync

    def crash(fd):
        raise OSError("disk died mid-write")

    monkeypatch.setattr(atomic.os, "fsync", crash)
    with torch.no_grad():
        model[0].kernel.add_(1.0)
    with pytest.raises(OSError, match="disk died"):
        kt.save_weights(model, path)
    monkeypatch.setattr(atomic.os, "fsync", real_fsync)
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind


def test_no_pickle_in_saving_code():
    import kerastorch.saving as saving

    folder = os.path.dirname(saving.__file__)
    for name in os.listdir(folder):
        if name.endswith(".py"):
            code = [line for line in open(os.path.join(folder, name)) if line.strip().startswith(("import", "from")) or "(" in line]
            assert not any("import pickle" in ln or "torch.load(" in ln or "pickle." in ln for ln in code), name
