"""Models built from real Keras configs are ordinary torch modules: ``torch.compile(fullgraph=True)`` with
no graph break, ``torch.export``, optimizer steps (SGD, LBFGS) with a finite gradient for every parameter,
``state_dict`` keys = the Keras weights, train/eval, ``regularization_loss`` and constraints.

The models are the ``.keras`` fixtures of ``compat_fixtures/models`` (tf.keras 2.21 and Keras 3.15 files):
their ``config.json`` is rebuilt with ``model_from_config`` and filled with ``load_keras_weights``.
Compiled/exported outputs are compared with eager ones with the suite's "graph" tolerance (fused kernels
sum in other orders)."""
from __future__ import annotations

import json
import zipfile

import pytest
import torch

import kerastorch as kt
from kerastorch.layers import BatchNormalization, Dense, Dropout
from kerastorch.models import Input, Model, Sequential, model_from_config
from kt_testing import FIXTURES, assert_close, load_json, load_tensors

ENTRIES = [e for e in load_json("models/MANIFEST.json")["fixtures"] if e["kind"] == "file" and "keras" in e["files"]]


def _build(entry: dict) -> torch.nn.Module:
    path = FIXTURES / "models" / entry["files"]["keras"]
    with zipfile.ZipFile(path) as z:
        config = json.loads(z.read("config.json"))
    model = model_from_config(config)
    kt.load_keras_weights(model, str(path))
    return model


def _inputs(entry: dict) -> list[torch.Tensor]:
    tensors = load_tensors(f"models/{entry['tensors']}")
    return [tensors[i["key"]] for i in entry["inputs"]]


def _arg(xs: list[torch.Tensor]):
    return xs[0] if len(xs) == 1 else list(xs)


def _flat(out) -> list[torch.Tensor]:
    if isinstance(out, dict):
        return [out[k] for k in sorted(out)]
    if isinstance(out, (list, tuple)):
        return list(out)
    return [out]


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["name"] for e in ENTRIES])
def test_state_dict_is_exactly_the_keras_weights(entry: dict) -> None:
    model = _build(entry)
    sd = model.state_dict()
    assert len(sd) == len(entry["weights"])  # no extra buffers (counters, caches)
    assert [tuple(p.shape) for p in model.get_weights()] == [tuple(s) for _, s, _ in entry["weights"]]
    # stable: a second build (another "process" as far as naming goes) gives the same keys
    assert list(_build(entry).state_dict()) == list(sd)
    if entry["model"] != "slash_names":  # (layer, weight) of each key = of each Keras weight name
        ours = sorted(tuple(k.split(".")[-2:]) for k in sd)
        keras = sorted(tuple(n.split(":")[0].split("/")[-2:]) for n, _, _ in entry["weights"])
        assert ours == keras


def test_state_dict_keys_name_layers_and_weights() -> None:
    by_name = {e["name"]: e for e in ENTRIES}
    assert list(_build(by_name["cnn_seq.tf_keras"]).state_dict()) == [
        "conv.kernel", "conv.bias", "bn.gamma", "bn.beta", "bn.moving_mean", "bn.moving_variance",
        "logits.kernel", "logits.bias"]
    nested = list(_build(by_name["nested.tf_keras"]).state_dict())
    assert nested[:2] == ["pre.kernel", "pre.bias"] and "inner_seq.s1.kernel" in nested and "inner_fn.f1.bias" in nested
    slash = list(_build(by_name["slash_names.tf_keras"]).state_dict())
    assert slash[:2] == ["block1/dense.kernel", "block1/dense.bias"] and "block1/bn.moving_mean" in slash


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["name"] for e in ENTRIES])
def test_compile_fullgraph_without_graph_breaks_and_export(entry: dict) -> None:
    model = _build(entry).eval()
    xs = _inputs(entry)
    with torch.no_grad():
        ref = _flat(model(_arg(xs)))
        torch._dynamo.reset()
        # fullgraph=True: any graph break raises; the "eager" backend runs dynamo's one captured graph
        # (export below covers the AOT/functionalized path)
        compiled = torch.compile(model, fullgraph=True, backend="eager")
        for got, want in zip(_flat(compiled(_arg(xs))), ref):
            assert_close(got, want, kind="graph")
        exported = torch.export.export(model, (_arg(xs),))
        for got, want in zip(_flat(exported.module()(_arg(xs))), ref):
            assert_close(got, want, kind="graph")


@pytest.mark.parametrize("name", ["cnn_seq.tf_keras", "two_io_dict.keras3", "shared.tf_keras", "nested.keras3",
                                  "unet.tf_keras", "tf_ops.tf_keras", "k3_ops.keras3", "cnn_nchw.keras3"])
@pytest.mark.parametrize("optim", ["sgd", "lbfgs"])
def test_optimizer_step_has_finite_grads_for_every_parameter(name: str, optim: str) -> None:
    entry = next(e for e in ENTRIES if e["name"] == name)
    model = _build(entry).train()
    xs = _inputs(entry)
    params = [p for p in model.parameters() if p.requires_grad]
    assert params
    before = [p.detach().clone() for p in params]
    opt = torch.optim.SGD(params, lr=0.01) if optim == "sgd" else torch.optim.LBFGS(params, lr=0.1, max_iter=3)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = sum(o.float().pow(2).mean() for o in _flat(model(_arg(xs)))) + kt.regularization_loss(model)
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert torch.isfinite(loss)
    for (name_, p) in ((n, p) for n, p in model.named_parameters() if p.requires_grad):
        assert p.grad is not None and torch.isfinite(p.grad).all(), name_
    assert any(not torch.equal(a, p.detach()) for a, p in zip(before, params))


def _bn_dropout_model() -> Model:
    x = Input((6,), name="x")
    h = Dense(8, name="d", kernel_regularizer="l2", kernel_constraint="non_neg")(x)
    h = BatchNormalization(name="bn")(h)
    h = Dropout(0.5, name="drop")(h)
    return Model(x, Dense(2, name="o", bias_regularizer={"class_name": "L1", "config": {"l1": 0.1}})(h))


def test_train_eval_semantics() -> None:
    torch.manual_seed(0)
    m = _bn_dropout_model()
    x = torch.randn(16, 6)
    m.eval()
    assert not any(mod.training for mod in m.modules())
    torch.testing.assert_close(m(x), m(x))  # eval: deterministic, BN uses moving stats
    bn = m.get_layer("bn")
    stats = bn.moving_mean.clone()
    m(x)
    assert torch.equal(bn.moving_mean, stats)
    m.train()
    assert all(mod.training for mod in m.modules())
    m(x)
    assert not torch.equal(bn.moving_mean, stats)  # train: BN updates its moving stats
    # training= overrides the mode for every layer, as in Keras
    stats = bn.moving_mean.clone()
    torch.testing.assert_close(m(x, training=False), m.eval()(x))
    m.train()
    m(x, training=False)
    assert torch.equal(bn.moving_mean, stats)
    m.eval()
    y1, y2 = m(x, training=True), m(x, training=True)
    assert not torch.equal(y1, y2)  # dropout active


def test_sequential_train_eval_and_training_override() -> None:
    torch.manual_seed(0)
    m = Sequential([Input((6,)), Dense(8, name="d"), Dropout(0.5, name="drop")])
    x = torch.randn(4, 6)
    m.eval()
    torch.testing.assert_close(m(x), m(x))
    assert not torch.equal(m(x, training=True), m(x, training=True))


def test_regularization_loss_counts_each_layer_once_and_constraints_apply() -> None:
    torch.manual_seed(0)
    m = _bn_dropout_model()
    d, o = m.get_layer("d"), m.get_layer("o")
    want = 0.01 * d.kernel.pow(2).sum() + 0.1 * o.bias.abs().sum()
    torch.testing.assert_close(kt.regularization_loss(m), want)
    torch.testing.assert_close(sum(m.losses), want)
    outer = Model(m.inputs[0], m(m.inputs[0]))  # the same model nested: still counted once
    torch.testing.assert_close(kt.regularization_loss(outer), want)
    opt = torch.optim.SGD(m.parameters(), lr=1.0)
    handle = kt.attach_constraints(opt, m)
    loss = m(torch.randn(8, 6)).sum() * 100
    loss.backward()
    opt.step()
    assert float(d.kernel.detach().min()) >= 0.0  # NonNeg applied after the step
    handle.remove()


def test_state_dict_keys_are_stable_across_processes() -> None:
    """Keys come from the Keras names in the config, not from a process's naming counters."""
    import subprocess
    import sys

    entry = next(e for e in ENTRIES if e["name"] == "nested.keras3")
    code = (
        "import json, sys, zipfile; sys.path.insert(0, sys.argv[2])\n"
        "from kerastorch.layers import Dense; [Dense(1) for _ in range(7)]  # move the auto-name counters\n"
        "from kerastorch.models import model_from_config\n"
        "m = model_from_config(json.loads(zipfile.ZipFile(sys.argv[1]).read('config.json')))\n"
        "print(json.dumps(list(m.state_dict())))\n"
    )
    path = str(FIXTURES / "models" / entry["files"]["keras"])
    out = subprocess.run([sys.executable, "-c", code, path, str(FIXTURES.parent)], capture_output=True, text=True,
                         check=True, timeout=300)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == list(_build(entry).state_dict())


@pytest.mark.parametrize("name", ["nested.tf_keras", "two_io_dict.tf_keras", "unet.keras3"])
def test_whole_model_deepcopy_and_torch_save(name: str) -> None:
    """The execution plan is plain objects: a whole model deep-copies and pickles (op-node models: not yet,
    ``ops.OpLayer`` holds its function as a lambda)."""
    import copy
    import io

    entry = next(e for e in ENTRIES if e["name"] == name)
    model = _build(entry).eval()
    xs = _inputs(entry)
    buf = io.BytesIO()
    torch.save(model, buf)
    buf.seek(0)
    for other in (copy.deepcopy(model), torch.load(buf, weights_only=False)):
        for a, b in zip(_flat(model(_arg(xs))), _flat(other(_arg(xs)))):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
        assert list(other.state_dict()) == list(model.state_dict())
