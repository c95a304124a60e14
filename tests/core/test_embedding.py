"""Embedding, Masking, ReversibleEmbedding and TimeDistributed against real tf.keras 2.21 / Keras 3.15.1.

Fixtures: ``compat_fixtures/embedding_*`` (layer_cases format) and ``compat_fixtures/masks/masks.json``
(``gen/masks.py``): outputs, masks, weight gradients, configs, LoRA, out-of-range ids, and the shared layer
contract battery.
"""
from __future__ import annotations

import pytest
import torch

import kerastorch as kt
from kerastorch.layers import Dense, Embedding, Masking, ReversibleEmbedding, TimeDistributed
from kt_testing import assert_close, load_json, load_tensors
from layer_contract import LayerCase, parametrize_contract, run_check
from layer_parity import Family

FAMILY = Family(["Embedding"])
MASKS = load_json("masks/masks.json")
T = load_tensors("masks/masks.safetensors")


def _t(key: str) -> torch.Tensor:
    return T[key]


# ----------------------------------------------------------------------------- Embedding parity
@pytest.mark.parametrize("case", FAMILY.cases, ids=FAMILY.id)
def test_embedding_matches_tf_keras(case):
    """Output, config, losses, weights; the embeddings' gradient (ids carry none: tf.keras records zeros)."""
    FAMILY.check_case({**case, "grads": False})
    if case["grads"] and case["config"]["trainable"]:
        tensors, cid = FAMILY.tensors(case), case["id"]
        layer = FAMILY.built(case)
        (FAMILY.call(layer, case, FAMILY.inputs(case)) * tensors[f"{cid}.upstream"]).sum().backward()
        assert_close(layer.embeddings.grad, tensors[f"{cid}.grad.embeddings"])
        assert not tensors[f"{cid}.grad_input.0"].any()


@pytest.mark.parametrize("case", FAMILY.keras3_cases, ids=FAMILY.id)
def test_embedding_keras3_config_loads(case):
    FAMILY.check_keras3_config(case)


@pytest.mark.parametrize("case", FAMILY.errors, ids=FAMILY.id)
def test_embedding_error_parity(case):
    if case["keras_error_type"] is None:
        FAMILY.check_accepted(case)
    else:
        FAMILY.check_error(case)


@pytest.mark.parametrize("rec", MASKS["embedding_grads"], ids=lambda r: r["id"])
def test_embedding_weight_gradient(rec):
    """Repeated ids accumulate into one row, as TF's IndexedSlices gradient does; the mask is ids != 0."""
    cid = rec["id"]
    layer = Embedding(**rec["args"])
    layer.set_weights([_t(f"{cid}.embeddings")])
    ids = _t(f"{cid}.input")
    y = layer(ids)
    assert_close(y, _t(f"{cid}.output"))
    (y * _t(f"{cid}.upstream")).sum().backward()
    assert_close(layer.embeddings.grad, _t(f"{cid}.grad"))
    if f"{cid}.mask" in T:
        assert torch.equal(layer.compute_mask(ids), _t(f"{cid}.mask"))
    else:
        assert layer.compute_mask(ids) is None


@pytest.mark.parametrize("rec", MASKS["out_of_range"], ids=lambda r: f"{r['id']}-{r['lib']}")
def test_out_of_range_ids_are_a_value_error(rec):
    """tf.keras refuses ids outside [0, input_dim) (InvalidArgumentError); kerastorch raises a ValueError naming
    the layer and the id, for negative ids too (Keras 3 on TensorFlow wraps -1 to the last row silently)."""
    layer = Embedding(rec["input_dim"], 2, name="tokens")
    layer.build((None, 3))
    ids = torch.tensor(rec["ids"])
    with pytest.raises(ValueError, match=r'Embedding layer "tokens": ids must be in \[0, 5\)') as err:
        layer(ids)
    bad = [v for v in rec["ids"][0] if not 0 <= v < 5][0]
    assert f"Received id {bad}" in str(err.value)
    if rec["lib"] == "tf_keras":
        assert rec["error"].startswith("InvalidArgumentError") and "is not in [0, 5)" in rec["error"]


def test_out_of_range_after_a_good_call_and_in_float_ids():
    layer = Embedding(4, 2)
    layer(torch.tensor([[0, 3]]))
    with pytest.raises(ValueError, match="ids must be in"):
        layer(torch.tensor([[0, 4]]))
    assert layer(torch.tensor([[1.7, 3.2]])).shape == (1, 2, 2)  # floats truncate (tf.cast)
    with pytest.raises(ValueError, match="ids must be in"):
        layer(torch.tensor([[4.5]]))


def test_input_length_and_batch_input_shape_config():
    layer = Embedding(10, 3, input_length=5)
    assert not layer.built
    config = layer.get_config()
    assert config["batch_input_shape"] == (None, 5) and config["input_length"] == 5
    assert Embedding.from_config(config).get_config() == config
    assert layer.compute_output_shape((None, None)) == (None, 5, 3)


# ----------------------------------------------------------------------------- Keras 3 LoRA / ReversibleEmbedding
@pytest.mark.parametrize("rec", MASKS["lora"], ids=lambda r: r["id"])
def test_lora_matches_keras3(rec):
    """Keras 3.15 ``lora_rank``: frozen embeddings + scaled a @ b (the build resets lora_alpha to the rank)."""
    cid = rec["id"]
    layer = Embedding.from_config(rec["config"])
    layer.build((None, 4))
    assert sorted(layer.weight_names) == sorted(rec["weight_names"])
    for n in rec["weight_names"]:
        with torch.no_grad():
            getattr(layer, n).copy_(_t(f"{cid}.weight.{n}"))
    trainable = dict(zip(rec["weight_names"], rec["weight_trainable"]))
    assert {n: layer.weight_spec(n).trainable for n in layer.weight_names} == trainable
    ids = _t(f"{cid}.input")
    y = layer(ids)
    assert_close(y, _t(f"{cid}.output"))
    (y * _t(f"{cid}.upstream")).sum().backward()
    for n, tr in trainable.items():
        if tr:
            assert_close(getattr(layer, n).grad, _t(f"{cid}.grad.{n}"), msg=n)
    assert layer.get_config()["lora_alpha"] == rec["config"]["lora_alpha"]


def test_lora_with_a_constraint_is_refused():
    with pytest.raises(ValueError, match='Embedding layer "e".*incompatible with embedding constraints'):
        Embedding(5, 2, lora_rank=2, embeddings_constraint="non_neg", name="e")


@pytest.mark.parametrize("rec", MASKS["reversible"], ids=lambda r: r["id"])
def test_reversible_embedding_matches_keras3(rec):
    cid = rec["id"]
    layer = ReversibleEmbedding.from_config(rec["config"])
    layer.set_weights([_t(f"{cid}.weight.{n}") for n in rec["weight_names"]])
    assert layer.weight_names == rec["weight_names"]
    ids = _t(f"{cid}.input")
    assert_close(layer(ids), _t(f"{cid}.output"))
    mask = layer.compute_mask(ids)
    if f"{cid}.mask" in T:
        assert torch.equal(mask, _t(f"{cid}.mask"))
    else:
        assert mask is None
    hidden = _t(f"{cid}.hidden")
    logits = layer(hidden, reverse=True)
    assert_close(logits, _t(f"{cid}.logits"))
    assert layer.compute_mask(hidden) is None
    (logits * _t(f"{cid}.upstream")).sum().backward()
    for n in rec["weight_names"]:
        grad = getattr(layer, n).grad  # None: unused by the reverse call (Keras 3 records zeros)
        assert_close(torch.zeros_like(_t(f"{cid}.grad.{n}")) if grad is None else grad, _t(f"{cid}.grad.{n}"), msg=n)
    ours = layer.get_config()
    assert ours.pop("dtype") == "float32"
    assert ours == {k: v for k, v in rec["config"].items() if k != "dtype"}


# ----------------------------------------------------------------------------- Masking
@pytest.mark.parametrize("rec", MASKS["masking"], ids=lambda r: r["id"])
def test_masking_matches_tf_keras(rec):
    cid = rec["id"]
    for config in (rec["config"], rec["keras3_config"]):
        layer = Masking.from_config(config)
        x = _t(f"{cid}.input").clone().requires_grad_()
        y = layer(x)
        assert_close(y, _t(f"{cid}.output"))
        assert torch.equal(layer.compute_mask(x), _t(f"{cid}.mask"))
        assert torch.equal(layer.compute_mask(x), _t(f"{cid}.k3.mask"))
        (y * _t(f"{cid}.upstream")).sum().backward()
        assert_close(x.grad, _t(f"{cid}.grad_input"))


def test_masking_config_is_tf_keras():
    rec = MASKS["masking"][1]
    layer = Masking(**rec["args"], name="masking")
    assert layer.get_config() == rec["config"]


# ----------------------------------------------------------------------------- TimeDistributed
def _td(rec):
    config = rec["tf_config"] if rec.get("tf_error") is None else rec["k3_config"]
    return TimeDistributed.from_config(config)


@pytest.mark.parametrize("rec", [r for r in MASKS["time_distributed"] if r.get("k3_error") is None],
                         ids=lambda r: f"{r['id']}-{r['inner']}")
def test_time_distributed_matches_keras(rec):
    """Outputs (both libraries agree) and the output mask: tf.keras's where it computes one, Keras 3's where
    tf.keras raises (a Conv2D / Flatten inside, given a mask)."""
    cid = rec["id"]
    for tag in ("tf", "k3"):
        config = rec.get(f"{tag}_config")
        if config is None:
            continue
        layer = TimeDistributed.from_config(config)
        x = _t(f"{cid}.input")
        layer.build(tuple(x.shape))
        n = len(rec["weight_names"])
        if n:
            layer.set_weights([_t(f"{cid}.weight.{i}") for i in range(n)])
        mask = T.get(f"{cid}.mask")
        y = layer(x, mask=mask)
        assert_close(y, _t(f"{cid}.k3.output"))
        expected = f"{cid}.k3.mask" if tag == "k3" or rec.get("tf_error") is not None else f"{cid}.tf.mask"
        got = layer.compute_mask(x, mask)
        if expected in T:
            assert got is not None and torch.equal(got, _t(expected))
        else:
            assert got is None


def test_time_distributed_bad_input():
    layer = TimeDistributed(Dense(2), name="td")
    with pytest.raises(ValueError, match='"td"'):
        layer(torch.randn(2, 3))
    with pytest.raises(ValueError, match=r'TimeDistributed layer "td": the mask must start with'):
        layer(torch.randn(2, 3, 4), mask=torch.ones(3, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="Please initialize `TimeDistributed`"):
        TimeDistributed("dense")


# ----------------------------------------------------------------------------- the shared contract
CASES = [
    LayerCase(Embedding, dict(input_dim=7, output_dim=3), (2, 5), input_ids=7, float_only=False,
              expected_output_shape=(2, 5, 3), expected_num_weights=1),
    LayerCase(Embedding, dict(input_dim=7, output_dim=3, mask_zero=True, embeddings_regularizer="l2"), (2, 3, 4),
              id="Embedding-mask_zero-rank3", input_ids=7, float_only=False, expected_num_weights=1),
    LayerCase(ReversibleEmbedding, dict(input_dim=6, output_dim=2), (2, 4), input_ids=6, float_only=False,
              expected_num_weights=1),
    LayerCase(Masking, dict(mask_value=0.5), (2, 4, 3), float_only=False, expected_num_weights=0),
]


@parametrize_contract(CASES)
def test_layer_contract(case, check):
    run_check(case, check)


TD_CASES = [LayerCase(TimeDistributed, dict(layer=Dense(2)), (2, 4, 3), expected_output_shape=(2, 4, 2), float_only=False)]
TD_CHECKS = ["compute_output_shape", "pickle_built", "deepcopy_built", "compile", "zero_copy", "repr", "training_argument",
             "error_non_tensor", "jit_script_error"]


def _fresh_td(**kwargs):
    return TimeDistributed(Dense(2), **kwargs)


@parametrize_contract([LayerCase(_fresh_td, {}, (2, 4, 3), id="TimeDistributed(Dense)", float_only=False)], only=TD_CHECKS)
def test_time_distributed_contract(case, check):
    run_check(case, check)
