"""``keras.applications`` architectures (tf.keras and Keras 3) rebuilt by kerastorch from their configs.

Fixtures: ``compat_fixtures/applications/`` (``gen/applications.py``): each architecture built by real Keras with
``weights=None`` (nothing downloaded), its weights set by the seeded fill of the model fixtures, and Keras's
eval-mode outputs on a seeded batch of 2. Here: ``kerastorch.models.model_from_config(config)`` -> the same fill in
torch (``tests/model_fill.py``, in the source library's weight order, checked leaf by leaf against Keras's list)
-> outputs equal Keras's; then one training step gives a finite gradient for every trainable parameter.

Tolerance: each fixture's ``tolerance.rtol`` (relative to the output's largest magnitude), written by the
generator with its reason: max(1e-5, 10x the measured float32 noise floor of the architecture -- tf.keras vs
Keras 3 on the same weights). These nets have 16 to 242 weighted layers on their longest path; summation order
differs per layer between TF and torch (~1e-6 relative each), so the deepest reach ~2e-6, and the bound stays at
most 1.8e-5 (ResNet50V2), within 2x the layer tolerance.
"""
from __future__ import annotations

import copy
import gzip
import json

import numpy as np
import pytest
import torch

from kt_testing import FIXTURES, assert_close, load_json, load_tensors
from model_fill import fill_model, fill_values

APP_DIR = FIXTURES / "applications"
MANIFEST = load_json("applications/MANIFEST.json")
ENTRIES = MANIFEST["fixtures"]
IDS = [e["name"] for e in ENTRIES]

#: The architectures the issue asks for (keras.applications function names).
REQUESTED = ["ResNet50", "ResNet50V2", "VGG16", "MobileNet", "MobileNetV2", "MobileNetV3Small", "DenseNet121",
             "InceptionV3", "Xception", "EfficientNetB0", "EfficientNetV2B0", "ConvNeXtTiny", "NASNetMobile"]

_LOADED: dict[str, torch.nn.Module] = {}


def _params(entries: list) -> list:
    return [pytest.param(e, id=e["name"]) for e in entries]


def _kinds(entry: dict) -> frozenset:
    return frozenset(entry["layer_classes"]) | frozenset(entry["ops"])


# The training step runs once per architecture (tf.keras), plus the Keras 3 build where its graph holds other
# layer / op kinds (Keras 3 op classes instead of TFOpLambda): backward through every kind of node, at half the cost.
TRAIN = [e for e in ENTRIES if e["source"] == "tf_keras" or not any(
    o["model"] == e["model"] and o["source"] == "tf_keras" and _kinds(o) == _kinds(e) for o in ENTRIES)]


def _config(entry: dict) -> dict:
    with gzip.open(APP_DIR / entry["config"], "rt") as f:
        return json.load(f)


def _filled(entry: dict) -> torch.nn.Module:
    """The entry's model from its config, filled (cached: loading a deep net costs seconds)."""
    from kerastorch.models import model_from_config

    if entry["name"] not in _LOADED:
        model = model_from_config(_config(entry))
        fill_model(model, entry["weights"], entry["fill_seed"], entry["source"])
        _LOADED[entry["name"]] = model
    return _LOADED[entry["name"]]


def _io(entry: dict) -> tuple[torch.Tensor, torch.Tensor]:
    t = load_tensors(f"applications/{entry['tensors']}")
    return t[entry["input"]["key"]], t[entry["output"]["key"]]


def test_manifest_covers_the_requested_architectures():
    """Every requested architecture is recorded from both libraries (or Keras's own refusal is recorded)."""
    built = {(e["application"], e["source"]) for e in ENTRIES}
    for fn in REQUESTED:
        for src in ("tf_keras", "keras3"):
            assert (fn, src) in built or any(k.endswith("." + src) and fn.lower() in k for k in MANIFEST["skipped"]), \
                (fn, src)
    assert not MANIFEST["skipped"], MANIFEST["skipped"]  # today Keras builds all of them
    assert MANIFEST["fill"] == load_json("models/MANIFEST.json")["fill"]  # one fill rule for all model fixtures
    total = sum(p.stat().st_size for p in APP_DIR.iterdir())
    assert total < 5_000_000, total
    for e in ENTRIES:
        assert e["application_kwargs"]["weights"] is None
        assert (APP_DIR / e["config"]).is_file() and (APP_DIR / e["tensors"]).is_file()
        assert e["tolerance"]["rtol"] <= 2e-5, e["tolerance"]  # the bound the module docstring argues for


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_fill_reproduces_keras_weights(entry):
    """The torch-side fill (numpy only) gives exactly the weights Keras held (their recorded float64 sums)."""
    for (name, shape, _), v, s in zip(entry["weights"], fill_values(entry["weights"], entry["fill_seed"]),
                                      entry["weight_sums"]):
        if v is not None:
            assert list(v.shape) == shape
            np.testing.assert_allclose(v.astype(np.float64).sum(), s, rtol=1e-9, atol=1e-9 * v.size, err_msg=name)


@pytest.mark.slow  # deep nets: seconds each to build (weight initializers) and run
@pytest.mark.parametrize("entry", _params(ENTRIES))
def test_application_matches_keras(entry):
    model = _filled(entry)
    assert isinstance(model, torch.nn.Module)
    # the filled weights are Keras's: the model's get_weights (tf.keras order) sums to the recorded sums
    if entry["source"] == "tf_keras":
        got = [float(np.asarray(w, dtype=np.float64).sum()) for w in model.get_weights()]
        np.testing.assert_allclose(got, entry["weight_sums"], rtol=1e-6, atol=1e-6)
    x, want = _io(entry)
    model.eval()
    with torch.no_grad():
        out = model(x)
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == tuple(entry["output"]["shape"])
    rtol = entry["tolerance"]["rtol"]  # why: entry["tolerance"]["why"] (module docstring)
    assert_close(out, want, rtol=rtol, msg=f"{entry['name']}: {entry['tolerance']['why']}")


@pytest.mark.slow
@pytest.mark.parametrize("entry", _params(TRAIN))
def test_application_training_step(entry):
    """Train mode: a forward/backward pass gives a finite, non-zero gradient for EVERY trainable parameter, and
    an SGD step (global gradient norm clipped to 1) changes the output and keeps it finite.

    Batch 8 of the recorded kind of input (not the recorded batch of 2): BatchNormalization uses batch
    statistics in training, and at these nets' 1x1 last stages 2 samples give near-zero variances whose
    1/sqrt(var + eps) factors compound into ~1e8 gradients (Keras behaves the same; not what this checks).
    """
    model = copy.deepcopy(_filled(entry))
    g = torch.Generator().manual_seed(entry["fill_seed"])
    shape = [8] + entry["input"]["shape"][1:]
    x = torch.rand(shape, generator=g) * 255.0 if entry["input"]["kind"] == "pixels" else torch.randn(shape, generator=g)
    model.eval()
    with torch.no_grad():
        before = model(x)
    model.train()
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    assert params
    out = model(x)
    assert torch.isfinite(out).all()
    loss = torch.nn.functional.cross_entropy(out, torch.arange(8) % out.shape[-1])
    loss.backward()
    missing = [n for n, p in params if p.grad is None]
    assert not missing, f"no gradient for {missing[:5]} ({len(missing)} parameters)"
    bad = [n for n, p in params if not torch.isfinite(p.grad).all()]
    assert not bad, f"non-finite gradients: {bad[:5]}"
    norm = torch.sqrt(sum(p.grad.double().square().sum() for _, p in params)).item()
    assert norm > 0
    with torch.no_grad():
        for _, p in params:
            p -= 0.01 * p.grad / max(norm, 1.0)
    model.eval()
    with torch.no_grad():
        after = model(x)
    assert torch.isfinite(after).all()
    assert not torch.equal(after, before)


def test_recorded_op_nodes_are_mapped():
    """The op nodes these architectures hold (MobileNetV3's hard-sigmoid, ConvNeXt's residual adds) are mapped."""
    from kerastorch.layers.ops import OPS

    used = {op for e in ENTRIES for op in e["ops"]}
    assert used, "the fixtures record op nodes"
    keys = {"tf:" + op[3:] if op.startswith("tf.") else "k3:" + op.split(".")[-1] for op in used}
    assert not sorted(k for k in keys if k not in OPS)


# ----------------------------------------------------------------------------- ConvNeXt's own layers
def _recorded_layer_configs(class_name: str) -> list[tuple[str, dict]]:
    """(source, config) of every ``class_name`` layer in the recorded ConvNeXt configs (both libraries)."""
    out = []
    for e in ENTRIES:
        if e["model"].startswith("convnext"):  # ConvNeXtTiny and the small drop-path ConvNeXt
            out += [(e["source"], l["config"]) for l in _config(e)["config"]["layers"] if l["class_name"] == class_name]
    return out


def test_layer_scale_from_recorded_configs():
    from kerastorch.models import LayerScale

    configs = _recorded_layer_configs("LayerScale")
    assert {s for s, _ in configs} == {"tf_keras", "keras3"}
    for src, cfg in configs:
        layer = LayerScale.from_config(dict(cfg))
        got = layer.get_config()
        for k in ("name", "init_values", "projection_dim", "trainable"):
            assert got[k] == cfg[k], (src, k)
        x = torch.randn(2, 3, 3, cfg["projection_dim"])
        y = layer(x)
        assert layer.gamma.shape == (cfg["projection_dim"],)
        assert torch.equal(layer.gamma.detach(), torch.full((cfg["projection_dim"],), float(cfg["init_values"])))
        assert torch.equal(y, x * layer.gamma)
    bad = LayerScale.from_config(dict(configs[0][1]))
    with pytest.raises(ValueError, match=bad.name):  # the last axis must be projection_dim
        bad(torch.randn(2, 5))


def test_stochastic_depth_from_recorded_configs():
    """Identity in inference; in training each sample's branch is dropped (0) or kept and scaled by 1/keep
    (Keras's ``floor(keep + U[0, 1))`` mask), about ``keep`` of them kept."""
    from kerastorch.models import StochasticDepth

    configs = _recorded_layer_configs("StochasticDepth")
    assert {s for s, _ in configs} == {"tf_keras", "keras3"}
    rates = sorted({cfg["drop_path_rate"] for _, cfg in configs})
    assert rates[-1] > 0
    for src, cfg in configs:
        layer = StochasticDepth.from_config(dict(cfg))
        assert layer.get_config()["drop_path_rate"] == cfg["drop_path_rate"]
        assert layer.get_config()["name"] == cfg["name"]
    layer = StochasticDepth.from_config(dict(configs[-1][1]))
    rate = layer.drop_path_rate
    x = torch.randn(4000, 3, 5) + 3.0
    layer.eval()
    assert torch.equal(layer(x), x)
    assert torch.equal(layer(x, training=False), x)
    layer.train()
    torch.manual_seed(0)
    y = layer(x)
    kept = (y != 0).flatten(1).all(1)
    dropped = (y == 0).flatten(1).all(1)
    assert bool((kept | dropped).all())  # whole samples
    torch.testing.assert_close(y[kept], x[kept] / (1 - rate))
    assert abs(kept.float().mean().item() - (1 - rate)) < 0.03
    zero = StochasticDepth(0.0)
    zero.train()
    assert torch.equal(zero(x), x)
