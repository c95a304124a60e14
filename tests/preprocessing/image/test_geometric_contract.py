"""The layer contract (tests/layer_contract.py) on one case per geometric image layer.

The random layers run with a collapsed factor range (one fixed draw) so that eager and compiled calls compute
the same transform; RandomFlip has no such range: test_random_flip_compiles checks it instead. The compile check
(seconds each) runs on Resizing, RandomCrop and RandomRotation: RandomTranslation, RandomZoom and RandomShear
differ from RandomRotation only in the 8 numbers of their matrix (base_affine.py), CenterCrop is a slice.
"""
from __future__ import annotations

import pytest
import torch
from layer_contract import CHECKS, LayerCase, contract_params, run_check

from kerastorch.layers import (
    CenterCrop, MaxNumBoundingBoxes, Pipeline, RandomCrop, RandomElasticTransform, RandomFlip, RandomPerspective, RandomRotation, RandomShear,
    RandomTranslation, RandomZoom, Resizing,
)
from kt_testing import DEVICE, assert_close

SHAPE = (2, 6, 7, 3)
COMMON = dict(expected_num_weights=0, float_only=False)
SAME_SAMPLER = dict(supports_compile=False)  # compiled through RandomRotation (module docstring)
# F.grid_sample writes NCHW whatever the input's memory format: NHWC images come back as one contiguous NHWC copy
# (the layer's own output layout); RandomElasticTransform's map_coordinates turns float positions into int64 gather
# indices (an aten::to per tap). Both are the op itself, not a hidden copy between layers.
SAMPLER = dict(zero_copy=False)
# a random layer without a fixed range draws anew at every call: the checks that compare two calls of two copies
# (config/serialize/weights/state_dict round trips, float64 recomputation) run in eval() in test_random_flip_copies
DRAWS_TWICE = {"config_round_trip", "serialize_round_trip", "weights_round_trip", "state_dict_round_trip", "to_float64_built"}
CASES = [
    LayerCase(Resizing, dict(height=4, width=5), SHAPE, id="Resizing", expected_output_shape=(2, 4, 5, 3), **COMMON),
    # a crop's backward writes the gradient into a zero image (slice_backward): the op itself, not a hidden copy
    LayerCase(CenterCrop, dict(height=4, width=5), SHAPE, id="CenterCrop", expected_output_shape=(2, 4, 5, 3), zero_copy=False,
              supports_compile=False, **COMMON),
    # RandomCrop in training draws its window: inference (tf.keras: smart_resize) is the compared path
    LayerCase(RandomCrop, dict(height=6, width=7), SHAPE, id="RandomCrop", expected_output_shape=SHAPE, **COMMON),
    LayerCase(RandomRotation, dict(factor=(0.1, 0.1)), SHAPE, id="RandomRotation", training_invariant=False, **SAMPLER, **COMMON),
    LayerCase(RandomTranslation, dict(height_factor=(0.2, 0.2), width_factor=(-0.1, -0.1), fill_mode="constant"), SHAPE,
              id="RandomTranslation", training_invariant=False, **SAME_SAMPLER, **SAMPLER, **COMMON),
    LayerCase(RandomZoom, dict(height_factor=(0.2, 0.2), fill_mode="wrap", interpolation="nearest"), SHAPE, id="RandomZoom",
              training_invariant=False, **SAME_SAMPLER, **SAMPLER, **COMMON),
    LayerCase(RandomShear, dict(x_factor=(0.0, 0.0), y_factor=(0.0, 0.0)), SHAPE, id="RandomShear", **SAME_SAMPLER, **SAMPLER, **COMMON),
    LayerCase(RandomPerspective, dict(factor=(0.0, 0.0)), SHAPE, id="RandomPerspective", **SAME_SAMPLER, **SAMPLER, **COMMON),
    # factor 0: no image drawn for the transform, so eager and compiled agree; the gathers' int64 indices: SAMPLER
    LayerCase(RandomElasticTransform, dict(factor=(0.0, 0.0)), SHAPE, id="RandomElasticTransform", **SAMPLER, **COMMON),
    LayerCase(MaxNumBoundingBoxes, dict(max_number=2), SHAPE, id="MaxNumBoundingBoxes", expected_output_shape=SHAPE,
              supports_compile=False, **COMMON),
    LayerCase(Pipeline, dict(layers=[dict(class_name="Resizing", config=dict(height=4, width=5)), dict(class_name="CenterCrop",
              config=dict(height=3, width=3))]), SHAPE, id="Pipeline", expected_output_shape=(2, 3, 3, 3), zero_copy=False,
              supports_compile=False, **COMMON),
]


FLIP = LayerCase(RandomFlip, dict(mode="horizontal", seed=1), SHAPE, id="RandomFlip", training_invariant=False,
                 supports_compile=False, **COMMON)


@pytest.mark.parametrize("case,check", contract_params(CASES) + contract_params([FLIP], only=set(CHECKS) - DRAWS_TWICE))
def test_layer_contract(case, check):
    run_check(case, check)


def test_random_flip_compiles():
    torch._dynamo.reset()
    layer = RandomFlip(mode="horizontal", seed=3).to(DEVICE)
    x = torch.randn(SHAPE, device=DEVICE)
    compiled = torch.compile(layer, fullgraph=True, backend="aot_eager")
    y = compiled(x)  # training: torch's global generator under compile
    flipped = x.flip(2)
    for i in range(SHAPE[0]):
        assert torch.equal(y[i], x[i]) or torch.equal(y[i], flipped[i])
    layer.eval()
    assert_close(compiled(x), x)
    torch._dynamo.reset()


def test_random_flip_copies():
    """The round trips the contract cannot check on a drawing layer, in eval() (the identity) and in training
    for two layers with one seed (the same flips)."""
    from kerastorch import layers as L

    x = torch.randn(SHAPE, device=DEVICE)
    layer = RandomFlip(mode="horizontal", seed=5).to(DEVICE)
    clone = L.deserialize(L.serialize(layer)).to(DEVICE)
    assert clone.get_config() == layer.get_config()
    assert_close(clone(x), layer(x))  # same seed, same first draw
    assert_close(clone(x.double()), layer(x.double()))  # float32 draws whatever the dtype
    layer.eval()
    assert_close(layer(x.double()), x.double())
