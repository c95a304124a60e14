"""Every layer class reads the config real Keras 3.15 and tf.keras 2.21 write for it (issue 26, item 8).

``layer_configs.json`` (``compat_fixtures/gen/keras3_configs.py``): each class built with its defaults in
both Keras versions, ``get_config()`` recorded; plus non-default ``data_format`` variants with outputs.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from kerastorch import layers as L
from kerastorch._registry import LAYERS
from kt_testing import assert_close, jsonable, load_json

DOC = load_json("layer_configs.json")
# The fixture may record classes before kerastorch has them; every class kerastorch has must be recorded
# (test_every_registered_class_is_recorded).
DEFAULTS = [c for c in DOC["cases"] if "input" not in c and c["class_name"] in LAYERS]
VARIANTS = [c for c in DOC["cases"] if "input" in c]
# The classes of this audit (values compared); the fixture also records every other keras.layers /
# tf_keras.layers class it could build, for layers added later: those must load (their config values are
# their families' tests' business).
AUDITED = [c for c in DEFAULTS if c["audited"]]
LATER = [c for c in DEFAULTS if not c["audited"]]

# Keys kerastorch writes under another name (Keras 3 renamed them; kerastorch writes tf.keras's).
RENAMED = {("LeakyReLU", "negative_slope"): "alpha", ("InputLayer", "batch_shape"): "batch_input_shape"}
# Keras 3 keys with no tf.keras counterpart: read, and at their default left out of kerastorch's config
# (a non-default value is refused: test_keras3_only_options_are_refused_when_set).
KERAS3_ONLY = {("BatchNormalization", k) for k in ("synchronized", "renorm", "renorm_clipping", "renorm_momentum")}
KERAS3_ONLY |= {("LayerNormalization", "rms_scaling"), ("Dense", "quantization_config")}
# Keys tf.keras's config leaves out although its layer takes them (AlphaDropout's noise_shape: both
# versions drop it; Conv3DTranspose's dilation_rate: tf.keras ignores it, kerastorch follows tf.keras).
OMITTED = {("AlphaDropout", "noise_shape"), ("Conv3DTranspose", "dilation_rate")}
# Keys kerastorch writes only away from this value, so that tf.keras reads its config.
OMITTED_AT = {("ZeroPadding1D", "data_format"): "channels_last"}


def _normalize(value):
    """Keras 3's spellings of the same value: a DTypePolicy dict is its name; VarianceScaling-family
    initializers write ``input_axes``/``output_axes`` (None: the tf.keras default); a float is the same
    number in float32 (tf.keras's LeakyReLU keeps ``alpha`` as a float32)."""
    if isinstance(value, float):
        return float(np.float32(value))
    if isinstance(value, list):
        return [_normalize(v) for v in value]
    if isinstance(value, dict):
        if value.get("class_name") == "DTypePolicy":
            return value["config"]["name"]
        out = {k: _normalize(v) for k, v in value.items()}
        if isinstance(out.get("config"), dict):
            out["config"] = {k: v for k, v in out["config"].items()
                             if not (k in ("input_axes", "output_axes") and v is None)}
        return out
    return value


def _layer(case):
    """The layer from Keras's serialized form, through the registry (as a model file is read)."""
    layer = L.deserialize({**case["serialized"], "config": case["config"]})
    assert type(layer) is LAYERS.lookup(case["class_name"])
    return layer


@pytest.mark.parametrize("case", LATER, ids=lambda c: c["id"])
def test_recorded_config_of_later_layers_loads(case):
    layer = _layer(case)
    if "units" in case["config"]:
        assert layer.units == case["config"]["units"]


@pytest.mark.parametrize("case", AUDITED, ids=lambda c: c["id"])
def test_recorded_config_loads_and_says_the_same(case):
    ours = jsonable(_layer(case).get_config())
    cls = case["class_name"]
    for key, theirs in case["config"].items():
        if (cls, key) in KERAS3_ONLY | OMITTED or OMITTED_AT.get((cls, key), ...) == theirs:
            assert key not in ours
            continue
        mine = ours[RENAMED.get((cls, key), key)]
        assert _normalize(mine) == _normalize(theirs), (key, mine, theirs)
    if case["source"] == "tf_keras":  # what kerastorch writes, tf.keras reads: no key it doesn't know
        extra = set(ours) - set(case["config"])
        # SpatialDropout2D/3D take data_format; tf.keras's config forgets it (kept here, deliberately).
        assert extra <= ({"data_format"} if cls in ("SpatialDropout2D", "SpatialDropout3D") else set()), extra


def test_every_registered_class_is_recorded():
    recorded = {(c["source"], c["class_name"]) for c in DOC["cases"]}
    classes = {cls.__name__ for cls in {LAYERS.lookup(n) for n in LAYERS.names()}
               if cls.__module__.startswith("kerastorch.layers")  # not keras.layers classes: op nodes, ConvNeXt's
               and not cls.__module__.startswith(("kerastorch.layers.ops", "kerastorch.layers.applications"))}
    assert len(classes) > 60
    for source, names in DOC["namespace"].items():
        for name in sorted(classes & set(names) - {"Lambda"}):
            # a class no FALLBACK_ARGS could build: give it its arguments in gen/keras3_configs.py ARGS
            assert (source, name) in recorded, f"{source} {name}: not recorded ({DOC['unbuilt'][source]})"


def test_keras3_only_options_are_refused_when_set():
    def load(case_id, **change):
        case = next(c for c in DEFAULTS if c["id"] == case_id)
        return _layer({**case, "config": {**case["config"], **change}})

    with pytest.raises(ValueError, match='"batch_normalization".*renorm'):
        load("keras3/BatchNormalization", renorm=True)
    with pytest.raises(ValueError, match='"layer_normalization".*rms_scaling'):
        load("keras3/LayerNormalization", rms_scaling=True)
    with pytest.raises(ValueError, match='"dense".*quantization_config'):
        load("keras3/Dense", quantization_config={"mode": "int8"})
    assert load("keras3/BatchNormalization", synchronized=True).synchronized  # implemented


@pytest.mark.parametrize("case", VARIANTS, ids=lambda c: c["id"])
def test_keras3_data_format_variants_compute_what_keras_3_computes(case):
    layer = _layer(case)
    x = torch.tensor(case["input"])
    assert_close(layer(x), torch.tensor(case["output"]))
    again = type(layer).from_config(layer.get_config())  # kerastorch's own config keeps the layout
    assert_close(again(x), torch.tensor(case["output"]))


def test_zero_padding1d_data_format_is_checked():
    with pytest.raises(ValueError, match='ZeroPadding1D layer "zp".*data_format'):
        L.ZeroPadding1D(data_format="channels_middle", name="zp")
    assert "data_format" not in L.ZeroPadding1D().get_config()  # tf.keras reads kerastorch's 1-D config


def test_keras3_dilated_conv3d_transpose_is_refused_not_ignored():
    # Keras 3 dilates Conv3DTranspose (its output grows: 4 -> 6 for kernel 2, dilation 2, checked in real
    # Keras 3.15.1); tf.keras ignores dilation_rate, and so does kerastorch for a tf.keras config.
    case = next(c for c in DEFAULTS if c["id"] == "keras3/Conv3DTranspose")
    with pytest.raises(ValueError, match='"conv3d_transpose".*Keras 3.*dilation_rate'):
        _layer({**case, "config": {**case["config"], "dilation_rate": [2, 2, 2]}})
    assert _layer(case).dilation_rate == (1, 1, 1)
    tf_case = next(c for c in DEFAULTS if c["id"] == "tf_keras/Conv3DTranspose")
    assert L.Conv3DTranspose.from_config({**tf_case["config"], "dilation_rate": [2, 2, 2]}).dilation_rate == (1, 1, 1)
