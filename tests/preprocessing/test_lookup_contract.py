"""The layer contract (tests/layer_contract.py) on the vocabulary layers, one case per class.

``IntegerLookup`` takes tensors and runs the whole battery (``input_ids``: integer ids; no weights, so no optimizer
checks). ``StringLookup`` and ``TextVectorization`` take strings (lists of str / NumPy string arrays; torch has no
string tensors), so every check that makes a float or int tensor input cannot apply to them: they run the checks
that do not call the layer on ``case.input()`` (listed in ``STRING_CHECKS``), and the string side of the rest is
tested here by hand: calls on lists and arrays agree, deepcopy/pickle keep the vocabulary, ``.to(device)`` moves the
output, a tensor input is a ValueError naming the layer."""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch
from layer_contract import CHECKS, LayerCase, contract_params, run_check

import kerastorch as kt
from kt_testing import DEVICE, assert_close

CASES = [
    LayerCase(kt.layers.IntegerLookup, dict(vocabulary=list(range(0, 40, 3)), output_mode="multi_hot"), (4, 6),
              id="IntegerLookup-multi_hot", input_ids=40, float_only=False, expected_output_shape=(4, 15),
              expected_num_weights=0, zero_copy=False),
]
# An IntegerLookup output carries no gradient (no weights, integer input): the checks that end in a backward pass
# (pickle/deepcopy, compile, .to(float64)) cannot apply as written; test_integer_lookup_copies_and_compile below
# does their forward halves (and torch.compile(fullgraph=True) with no recompile on a new batch).
NO_GRAD_CHECKS = {"pickle_built", "pickle_unbuilt", "deepcopy_built", "deepcopy_unbuilt", "compile", "to_float64_built",
                  "to_float64_unbuilt"}
# Every contract check calls the layer on LayerCase.input(), a torch tensor: none applies to a string layer as
# written. test_string_layer_contract does the string side of them by hand.
STRING_CASES = [
    LayerCase(kt.layers.StringLookup, dict(vocabulary=["a", "b", "c"]), (2, 1), id="StringLookup"),
    LayerCase(kt.layers.TextVectorization, dict(vocabulary=["a", "b", "c"], output_sequence_length=4), (2, 1),
              id="TextVectorization"),
]


@pytest.mark.parametrize("case,check", contract_params(CASES, only=set(CHECKS) - NO_GRAD_CHECKS))
def test_layer_contract(case, check):
    run_check(case, check)


def test_integer_lookup_copies_and_compile():
    case = CASES[0]
    layer = case.built().to(DEVICE)
    x = case.input(device=DEVICE)
    y = layer(x)
    for clone in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer)), pickle.loads(pickle.dumps(case.new()))):
        assert_close(clone.to(DEVICE)(x), y, msg="copy")
    wide = copy.deepcopy(layer).to(torch.float64)
    assert wide(x).dtype == torch.float64 and wide.dtype == "float64"
    assert_close(wide(x), y.double(), msg=".to(float64)")
    torch._dynamo.reset()
    try:
        compiled = torch.compile(layer, fullgraph=True, backend="aot_eager")
        assert_close(compiled(x), y, msg="compiled")
        with torch.compiler.set_stance("fail_on_recompile"):
            x2 = case.input(seed=3, device=DEVICE)
            assert_close(compiled(x2), layer(x2), msg="compiled, second batch")
        invert = kt.layers.IntegerLookup(vocabulary=[5, 9, 2], invert=True).to(DEVICE)
        ids = torch.tensor([[0, 1, 3, 7]], device=DEVICE)
        assert_close(torch.compile(invert, fullgraph=True, backend="aot_eager")(ids), invert(ids), msg="invert")
    finally:
        torch._dynamo.reset()


@pytest.mark.parametrize("case", STRING_CASES, ids=lambda c: c.id)
def test_string_layer_contract(case):
    layer = case.new().to(DEVICE)
    rows = [["a"], ["c b q"]] if case.layer_cls is kt.layers.TextVectorization else [["a"], ["q"]]
    y = layer(np.array(rows))
    assert y.device.type == torch.device(DEVICE).type and y.dtype == torch.int64
    assert_close(layer(rows), y, msg="list of str vs NumPy array")
    assert_close(layer(np.array(rows, dtype=object)), y, msg="object array")
    assert_close(layer(np.array([[r[0].encode()] for r in rows])), y, msg="bytes array")
    assert tuple(y.shape) == layer.compute_output_shape((2, 1))[:1] + tuple(y.shape[1:])
    for clone in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        assert_close(clone(rows), y, msg="deepcopy/pickle")
    again = type(layer).from_config(layer.get_config()).to(DEVICE)
    assert_close(again(rows), y, msg="config round trip")
    assert kt.layers.deserialize(kt.layers.serialize(layer)).get_vocabulary() == layer.get_vocabulary()
    assert list(layer.state_dict()) == []  # the vocabulary is not a weight (Keras: config or assets)
    layer.train()
    assert_close(layer(rows), layer(rows, training=False), msg="training flag")
    assert type(layer).__name__ in repr(layer) and repr(layer.name) in repr(layer)
    with pytest.raises(ValueError, match=f'{type(layer).__name__} layer "{layer.name}"'):
        layer(torch.zeros(2, 1))
    with pytest.raises(ValueError, match=f'{type(layer).__name__} layer "{layer.name}"'):
        layer(np.array([[1.0], [2.0]]))
    with pytest.raises(Exception, match="torch.compile"):
        torch.jit.script(layer)


def test_integer_lookup_both_table_kinds_agree():
    """A vocabulary spread over a wide range is looked up by binary search, a compact one in a dense table:
    the same indices (OOV, mask, extremes of int64 included)."""
    vocab = [7, -3, 10**12, 42, 0]
    x = torch.tensor([[7, 10**12, 5, -3], [-2**63, 2**63 - 1, 42, 1]], device=DEVICE)
    sparse = kt.layers.IntegerLookup(vocabulary=vocab, mask_token=1).to(DEVICE)
    assert sparse._dense is None
    compact = kt.layers.IntegerLookup(vocabulary=[v if v != 10**12 else 99 for v in vocab], mask_token=1).to(DEVICE)
    assert compact._dense is not None
    expected = torch.tensor([[2, 4, 1, 3], [1, 1, 5, 0]])
    assert_close(sparse(x), expected, msg="binary search")
    assert_close(compact(torch.where(x == 10**12, 99, x)), expected, msg="dense table")
