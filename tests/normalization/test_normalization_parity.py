"""Normalization layers against the cases recorded from real tf.keras (compat_fixtures/gen/normalization.py)."""
from __future__ import annotations

import pytest

from layer_parity import Family


class NormFamily(Family):
    def make(self, case, config=None):
        layer = super().make(case, config)
        # tf.keras's default call is inference (learning phase 0); a torch module starts in train mode,
        # so a call recorded without `training=` is replayed in eval mode (torch's inference mode)
        return layer.eval() if case.get("training", False) is None else layer

    def check_keras3_config(self, case):
        if "keras3_error" in case:
            # Keras 3 itself refuses tf.keras's weights here (it sorts LayerNormalization's axes, so its weights
            # take another layout): its config is only required to load and build, with Keras 3's weight shapes
            layer = self.make(case, config=case["keras3_config"])
            layer.build(tuple(case["input_shapes"][0]))
            axes = case["keras3_config"]["axis"]
            shape = [case["input_shapes"][0][a] for a in ([axes] if isinstance(axes, int) else axes)]
            assert all(list(w.shape) == shape for w in layer.get_weights())
            return
        super().check_keras3_config(case)

    def rtol(self, case):
        # the recorded output's precision decides (a float32 layer computes float64 inputs in float32)
        return super().rtol({**case, "dtype": case["output_dtype"]})


FAMILY = NormFamily(["BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization"])


@pytest.mark.parametrize("case", FAMILY.cases, ids=FAMILY.id)
def test_matches_tf_keras(case):
    FAMILY.check_case(case)


@pytest.mark.parametrize("case", FAMILY.keras3_cases, ids=FAMILY.id)
def test_keras3_config_loads(case):
    FAMILY.check_keras3_config(case)


@pytest.mark.parametrize("case", FAMILY.errors, ids=FAMILY.id)
def test_error_parity(case):
    """tf.keras's errors (a ValueError naming the layer); what tf.keras accepts is accepted."""
    if case["keras_error_type"] is None:
        FAMILY.check_accepted(case)
    else:
        FAMILY.check_error(case)
