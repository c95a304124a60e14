"""The layer contract (tests/layer_contract.py) on the merging layers, each called on a list of inputs
(same shapes, broadcasting, different ranks, three inputs, Concatenate's axes, Dot's axes and normalize)."""
from __future__ import annotations

from layer_contract import LayerCase, parametrize_contract, run_check

from kerastorch.layers import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract

# tf.keras merges integer tensors too: not float-only
OPEN = dict(expected_num_weights=0, float_only=False)

CASES = [
    LayerCase(Add, {}, [(2, 3, 4), (2, 3, 4)], id="Add", expected_output_shape=(2, 3, 4), **OPEN),
    LayerCase(Add, {}, [(2, 3, 4), (2, 1, 4), (2, 4)], id="Add-three-broadcast", expected_output_shape=(2, 3, 4), **OPEN),
    LayerCase(Subtract, {}, [(2, 3, 1), (2, 1, 4)], id="Subtract-broadcast", expected_output_shape=(2, 3, 4), **OPEN),
    LayerCase(Multiply, {}, [(2, 4), (2, 3, 4)], id="Multiply-ranks", expected_output_shape=(2, 3, 4), **OPEN),
    LayerCase(Average, {}, [(2, 5), (2, 5), (2, 5)], id="Average-three", expected_output_shape=(2, 5), **OPEN),
    LayerCase(Maximum, {}, [(2, 3, 4), (2, 3, 4)], id="Maximum", expected_output_shape=(2, 3, 4), **OPEN),
    LayerCase(Minimum, {}, [(2, 3), (2, 3), (2, 1)], id="Minimum-three", expected_output_shape=(2, 3), **OPEN),
    # torch.cat's backward hands each input a slice of the output gradient (a strided view, as hand-written
    # torch.cat does; making it contiguous would be the copy): no zero-copy claim here, the forward's is
    # tested in test_merging_ported.py
    LayerCase(Concatenate, {}, [(2, 3, 3, 2), (2, 3, 3, 4)], id="Concatenate-channels",
              expected_output_shape=(2, 3, 3, 6), zero_copy=False, **OPEN),
    LayerCase(Concatenate, dict(axis=1), [(2, 3, 4), (2, 2, 4)], id="Concatenate-axis1",
              expected_output_shape=(2, 5, 4), zero_copy=False, **OPEN),
    LayerCase(Dot, dict(axes=(2, 2)), [(2, 3, 4), (2, 5, 4)], id="Dot-rank3", expected_output_shape=(2, 3, 5), **OPEN),
    LayerCase(Dot, dict(axes=(1, 2)), [(2, 4, 3), (2, 5, 4)], id="Dot-transposed", expected_output_shape=(2, 3, 5),
              **OPEN),
    LayerCase(Dot, dict(axes=1, normalize=True), [(2, 4), (2, 4)], id="Dot-normalize", expected_output_shape=(2, 1),
              expected_num_weights=0),
]


@parametrize_contract(CASES)
def test_layer_contract(case, check):
    run_check(case, check)
