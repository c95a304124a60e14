"""The layer contract (tests/layer_contract.py) on one case per colour / mixing image layer.

The random layers run with a collapsed factor range (one fixed draw), so that two calls (eager and compiled,
original and reloaded) compute the same transform; MixUp and CutMix run on a batch of one (an image mixed with
itself); RandAugment with ``num_ops=0``; AugMix has no deterministic setting and skips the checks that compare two
calls (its statistics are in test_color_random.py). The compile check (seconds each) runs on the two layers whose
ops are the least ordinary for a compiler: Equalization (scatter_add histograms, cumsum, gathers) and CutMix (the
gamma/beta sampler, randperm, box masks); the others are elementwise ops, reductions and a depthwise conv.
RandomPosterization and CLAHE quantize through integers: no gradient, as in Keras, so the checks that compare
input gradients (pickle, deepcopy, float64) are not generated for them; their outputs are compared in
test_color_parity.py."""
from __future__ import annotations

from layer_contract import LayerCase, contract_params, run_check
import pytest

from kerastorch.layers import (
    AugMix, AutoContrast, ContrastLimitedAdaptiveHistogramEqualization, CutMix, Equalization, MixUp, RandAugment,
    RandomBrightness, RandomColorDegeneration, RandomColorJitter, RandomContrast, RandomErasing, RandomGaussianBlur,
    RandomGrayscale, RandomHue, RandomInvert, RandomPosterization, RandomSaturation, RandomSharpness, Solarization,
)

SHAPE = (2, 5, 6, 3)
VR = dict(value_range=(-3, 3))  # the contract's inputs are N(0, 1)
COMMON = dict(expected_num_weights=0, float_only=False, training_invariant=False)
NO_COMPILE = dict(supports_compile=False)  # compiled through the layers named in the module docstring
# values quantized through integer bins / uint8 (no gradient): Keras's ops have none either
NO_GRAD = dict(supports_compile=False, zero_copy=False)
GRAD_CHECKS = {"pickle_built", "pickle_unbuilt", "deepcopy_built", "deepcopy_unbuilt", "to_float64_built", "to_float64_unbuilt"}
CASES = [
    LayerCase(RandomContrast, dict(factor=0.0, **VR), SHAPE, id="RandomContrast", **NO_COMPILE, **COMMON),
    LayerCase(RandomBrightness, dict(factor=(0.2, 0.2), **VR), SHAPE, id="RandomBrightness", **NO_COMPILE, **COMMON),
    LayerCase(RandomColorDegeneration, dict(factor=(0.5, 0.5), **VR), SHAPE, id="RandomColorDegeneration", **NO_COMPILE, **COMMON),
    LayerCase(RandomHue, dict(factor=(0.2, 0.2), **VR), (1, 5, 6, 3), id="RandomHue", **NO_COMPILE, **COMMON),
    LayerCase(RandomSaturation, dict(factor=(0.3, 0.3), **VR), SHAPE, id="RandomSaturation", **NO_COMPILE, **COMMON),
    LayerCase(RandomGrayscale, dict(factor=1.0, data_format="channels_first"), (2, 3, 5, 6), id="RandomGrayscale", **NO_COMPILE, **COMMON),
    LayerCase(RandomInvert, dict(factor=(1.0, 1.0), **VR), SHAPE, id="RandomInvert", **NO_COMPILE, **COMMON),
    LayerCase(RandomPosterization, dict(factor=(4, 4), **VR), SHAPE, id="RandomPosterization", **NO_GRAD, **COMMON),
    LayerCase(RandomSharpness, dict(factor=(0.3, 0.3), **VR), SHAPE, id="RandomSharpness", **NO_COMPILE, **COMMON),
    LayerCase(Solarization, dict(**VR), SHAPE, id="Solarization", **NO_COMPILE, **COMMON),
    LayerCase(RandomGaussianBlur, dict(factor=(1.0, 1.0), sigma=(0.5, 0.5), kernel_size=(3, 5), **VR), SHAPE,
              id="RandomGaussianBlur", **NO_COMPILE, **COMMON),
    LayerCase(Equalization, dict(**VR), SHAPE, id="Equalization", zero_copy=False, **COMMON),
    # amin/amax's own backward casts its tie mask (torch's kernel, not the layer's code)
    LayerCase(AutoContrast, dict(**VR), SHAPE, id="AutoContrast", zero_copy=False, **NO_COMPILE, **COMMON),
    LayerCase(ContrastLimitedAdaptiveHistogramEqualization, dict(tile_grid_size=(2, 2), **VR), SHAPE, id="CLAHE", **NO_GRAD, **COMMON),
    LayerCase(RandomColorJitter, dict(brightness_factor=(0.1, 0.1), saturation_factor=(0.3, 0.3), **VR), SHAPE,
              id="RandomColorJitter", **NO_COMPILE, **COMMON),
    LayerCase(RandomErasing, dict(factor=0.0, **VR), SHAPE, id="RandomErasing", **NO_COMPILE, **COMMON),
    LayerCase(MixUp, dict(alpha=0.5), (1, 5, 6, 3), id="MixUp", **NO_COMPILE, **COMMON),
    LayerCase(CutMix, dict(), (1, 5, 6, 3), id="CutMix", **COMMON),
    LayerCase(RandAugment, dict(num_ops=0, **VR), SHAPE, id="RandAugment", **NO_COMPILE, **COMMON),
]
# AugMix: a random mix at every call (see the module docstring)
DRAWS = {"config_round_trip", "serialize_round_trip", "weights_round_trip", "state_dict_round_trip", "compile", "zero_copy",
         "pickle_built", "deepcopy_built", "to_float64_built", "to_float64_unbuilt"}
QUANTIZED = {"RandomPosterization", "CLAHE"}
AUGMIX = LayerCase(AugMix, dict(num_chains=2, chain_depth=2, **VR), SHAPE, id="AugMix", **NO_COMPILE, **COMMON)


PARAMS = [p for p in contract_params(CASES) if not (p.values[0].id in QUANTIZED and p.values[1] in GRAD_CHECKS)]
PARAMS += [p for p in contract_params([AUGMIX]) if p.values[1] not in DRAWS]


@pytest.mark.parametrize("case,check", PARAMS)
def test_layer_contract(case, check):
    run_check(case, check)
