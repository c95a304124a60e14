"""The mask each layer class passes on, against real tf.keras 2.21 (and Keras 3.15.1 where tf.keras fails).

``compat_fixtures/masks/masks.json`` "propagation" (``gen/masks.py``): every layer class called eagerly on
input(s) carrying a Keras mask; recorded are the output and the mask Keras attached to it. kerastorch must
give the same output (a layer whose ``call`` takes ``mask`` consumes it, e.g. GlobalAveragePooling1D's masked
mean) and ``compute_mask(inputs, mask)`` must be that mask (``None`` where Keras drops it). Where tf.keras
itself raises (GroupNormalization with a (batch, steps) mask, Concatenate(axis=1) with an unmasked input),
Keras 3's result is the reference; where both raise (Softmax given a mask of another shape) the layer must
raise a ValueError naming itself.
"""
from __future__ import annotations

import inspect

import pytest
import torch

import kerastorch.layers as L
from kt_testing import assert_close, load_json, load_tensors

RECORDS = load_json("masks/masks.json")["propagation"]
T = load_tensors("masks/masks.safetensors")


K3_DTYPE = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}


def _layer(rec, keras3=False):
    layer = getattr(L, rec["class"])(**rec["args"], **({"dtype": K3_DTYPE} if keras3 else {}))
    shapes = [tuple(s) for s in rec["input_shapes"]]
    layer.build(shapes if rec["list_input"] else shapes[0])
    n = sum(1 for k in T if k.startswith(rec["id"] + ".weight."))
    if n:
        layer.set_weights([T[f"{rec['id']}.weight.{i}"] for i in range(n)])
    return layer.eval()


@pytest.mark.parametrize("rec", RECORDS, ids=lambda r: f"{r['id']}-{r['class']}")
def test_mask_propagation_matches_keras(rec):
    _check(rec, "tf" if rec["tf_mask"] != "error" else "k3")


K3_RECORDS = [r for r in RECORDS if r["k3_mask"] != "error"]


@pytest.mark.parametrize("rec", K3_RECORDS, ids=lambda r: f"{r['id']}-{r['class']}")
def test_keras3_config_follows_keras3_mask_rules(rec):
    """A layer from a Keras 3 config (dtype a DTypePolicy dict) passes on the mask Keras 3 does."""
    _check(rec, "k3", keras3=True)


def _check(rec, ref, keras3=False):
    cid = rec["id"]
    xs = [T[f"{cid}.input.{i}"] for i in range(len(rec["input_shapes"]))]
    masks = [T.get(f"{cid}.mask.{i}") for i in range(len(xs))]
    inputs, mask = (xs, masks) if rec["list_input"] else (xs[0], masks[0])
    layer = _layer(rec, keras3)
    takes_mask = "mask" in inspect.signature(layer.call).parameters
    kwargs = {"mask": mask} if takes_mask and mask is not None else {}
    if rec["tf_mask"] == "error" and rec["k3_mask"] == "error":
        with pytest.raises(ValueError, match=layer.name):
            layer(inputs, **kwargs)
        return
    y = layer(inputs, **kwargs)
    assert_close(y, T[f"{cid}.{ref}.output"])
    got = layer.compute_mask(inputs, mask)
    if f"{cid}.{ref}.mask" in T:
        assert got is not None, f"{rec['class']} dropped the mask; {ref} passes it on"
        assert got.dtype == torch.bool and torch.equal(got, T[f"{cid}.{ref}.mask"])
    else:
        assert got is None, f"{rec['class']} passes a mask on; {ref} drops it"
