"""The random paths of the colour and mixing layers: kerastorch's draws against Keras 3's distributions (summaries
of Keras's own ``get_random_transformation`` over 4000 images, ``gen/image_color.py``), tf.keras's per-batch
RandomContrast, seeds, and the structure of the mixing layers (MixUp / CutMix labels mixed as their images,
RandAugment = ``num_ops`` chosen augmentations, AugMix = a convex mix of chains)."""
from __future__ import annotations

import pytest
import torch

from kerastorch import layers as L
from kerastorch._registry import LAYERS
from kerastorch.layers.preprocessing.image_preprocessing.color_ops import sample_beta, sample_gamma
from kt_testing import DEVICE, assert_close, load_json

STATS = load_json("image_preprocessing/color_cases.json")["stats"]


def _field(transformation, name):
    return transformation if name == "should_apply" and not isinstance(transformation, dict) else transformation[name]


@pytest.mark.parametrize("stat", STATS, ids=lambda s: f"{s['class_name']}-{s['args']}")
def test_draws_follow_keras_distributions(stat):
    layer = LAYERS.lookup(stat["class_name"])(**stat["args"], seed=11)
    if stat["class_name"] == "RandomContrast":
        layer = L.RandomContrast(**stat["args"], value_range=(0, 255), seed=11)  # Keras 3's RandomContrast
    n = stat["batch"]
    images = torch.rand(n, 6, 6, 3, device=DEVICE) * 255
    transformation = layer.get_random_transformation(images, training=True)
    for name, keras in stat["fields"].items():
        ours = _field(transformation, name)
        assert list(ours.shape)[:1] == keras["shape"][:1], (name, tuple(ours.shape), keras["shape"])
        v = ours.double().reshape(n, -1).mean(1) if name == "batch_masks" else ours.double().reshape(-1)
        spread = max(keras["std"], 1e-6)
        assert abs(v.mean().item() - keras["mean"]) < 5 * spread / n ** 0.5 + 1e-9, (name, v.mean().item(), keras)
        assert abs(v.std().item() - keras["std"]) < 0.06 * spread + 1e-9, (name, v.std().item(), keras)
        width = keras["max"] - keras["min"]
        assert v.min().item() >= keras["min"] - 0.02 * width - 1e-6 and v.max().item() <= keras["max"] + 0.02 * width + 1e-6, name
        assert abs((v < 0).double().mean().item() - keras["frac_negative"]) < 0.05, name


def test_tf_keras_contrast_draws_one_factor_per_batch():
    layer = L.RandomContrast(factor=(0.1, 0.4), seed=3)  # tf.keras: [1 - 0.1, 1 + 0.4]
    images = torch.rand(8, 4, 4, 3, device=DEVICE) * 255
    draws = torch.cat([layer.get_random_transformation(images)["contrast_factor"].reshape(-1) for _ in range(500)])
    assert draws.numel() == 500  # one per call
    assert 0.9 <= draws.min().item() and draws.max().item() <= 1.4 and abs(draws.mean().item() - 1.15) < 0.03
    y = layer(images, training=True)
    assert y.min() >= 0 and y.max() <= 255


def test_seeded_layers_repeat_their_draws():
    x = torch.rand(4, 8, 8, 3, device=DEVICE) * 255
    for make in (lambda s: L.RandomColorJitter(brightness_factor=0.3, contrast_factor=0.5, saturation_factor=0.5, hue_factor=0.3, seed=s),
                 lambda s: L.RandAugment(seed=s), lambda s: L.AugMix(seed=s), lambda s: L.MixUp(seed=s),
                 lambda s: L.RandomErasing(seed=s)):
        a, b, c = make(5).to(DEVICE), make(5).to(DEVICE), make(6).to(DEVICE)
        torch.manual_seed(0)
        ya = a(x, training=True)
        torch.manual_seed(1)  # the global generator does not matter to a seeded layer
        assert torch.equal(ya, b(x, training=True))
        assert not torch.equal(ya, c(x, training=True))


@pytest.mark.parametrize("alpha", [0.2, 3.0])
def test_gamma_and_beta_samplers(alpha):
    layer = L.MixUp(seed=1)
    like = torch.empty(0, device=DEVICE)
    g = sample_gamma(layer, (10000,), alpha, like).double()
    assert abs(g.mean().item() - alpha) < 5 * alpha ** 0.5 / 10000 ** 0.5 and abs(g.var().item() / alpha - 1) < 0.2
    b = sample_beta(layer, (10000,), alpha, alpha, like).double()
    assert abs(b.mean().item() - 0.5) < 0.02 and abs(b.var().item() - 1 / (4 * (2 * alpha + 1))) < 0.01
    assert torch.isfinite(sample_beta(layer, (1000,), 1e-6, 1e-6, like)).all()  # CutMix's smallest alpha


def _labelled_batch(n=6):
    images = torch.arange(n, dtype=torch.float32, device=DEVICE).view(n, 1, 1, 1).expand(n, 8, 10, 3).contiguous()
    return images, torch.eye(n, device=DEVICE)


def test_mixup_mixes_labels_as_images():
    images, labels = _labelled_batch()
    out = L.MixUp(alpha=0.5, seed=2)({"images": images, "labels": labels}, training=True)
    weight = out["labels"].max(1).values  # w of the own image (>= 0.5) or of the partner
    partner = (out["labels"] * torch.arange(6.0, device=DEVICE)).sum(1)  # w * i + (1 - w) * p
    assert_close(out["images"][:, 0, 0, 0], partner)
    assert torch.allclose(out["labels"].sum(1), torch.ones(6, device=DEVICE)) and (weight <= 1).all()


def test_cutmix_pastes_a_box_of_the_partner_and_weights_labels_by_area():
    images, labels = _labelled_batch()
    layer = L.CutMix(seed=4)
    out = layer({"images": images, "labels": labels}, training=True)
    for i in range(6):
        own = out["labels"][i, i].item()
        if own == 1.0:
            continue
        partner = int(torch.argmax(out["labels"][i] - torch.eye(6, device=DEVICE)[i] * own).item())
        pasted = out["images"][i, :, :, 0] != i
        assert set(out["images"][i].unique().tolist()) <= {float(i), float(partner)}
        rows, cols = pasted.any(1).nonzero().reshape(-1), pasted.any(0).nonzero().reshape(-1)
        if rows.numel():  # a rectangle
            assert pasted[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()
        # the label weight is Keras's continuous box area; the pasted pixels its rasterization
        assert abs((1 - pasted.float().mean().item()) - own) < 0.35
    x1 = images[0]
    assert torch.equal(layer(x1, training=True), x1)  # an unbatched image: nothing to mix with


def test_randaugment_applies_num_ops_chosen_augmentations():
    layer = L.RandAugment(num_ops=3, factor=(0.2, 0.5), seed=7).to(DEVICE)
    x = torch.rand(3, 8, 8, 3, device=DEVICE) * 255
    for _ in range(4):
        t = layer.get_random_transformation(x, training=True)
        assert t["layer_idxes"].shape == (3,) and 0 <= t["layer_idxes"].min() and t["layer_idxes"].max() < 11
        delta = t["transforms"]["random_brightness"]["rgb_delta"]
        assert (delta >= 0.2 * 255 - 1e-3).all() and (delta <= 0.5 * 255 + 1e-3).all()
        expected = x
        names = list(layer._augmenters)
        for i in t["layer_idxes"].tolist():
            expected = layer._augmenters[names[i]].transform_images(expected, t["transforms"][names[i]], training=True)
        assert_close(layer.transform_images(x, t, training=True), expected)


def test_augmix_is_a_convex_mix_of_its_chains():
    layer = L.AugMix(num_chains=3, chain_depth=2, seed=8).to(DEVICE)
    x = torch.rand(2, 8, 8, 3, device=DEVICE) * 255
    t = layer.get_random_transformation(x, training=True)
    assert_close(t["chain_mixing_weights"].sum(), torch.tensor(1.0))
    assert 0 <= t["weight_sample"].item() <= 1 and len(t["chain_transforms"]) == 3
    assert all(len(chain) <= 2 for chain in t["chain_transforms"])
    mixed = torch.zeros_like(x)
    for weight, chain in zip(t["chain_mixing_weights"], t["chain_transforms"]):
        out = x
        for name, sub in chain:
            out = layer._augmenters[name].transform_images(out, sub, training=True)
        mixed = mixed + out * weight
    w = t["weight_sample"]
    assert_close(layer.transform_images(x, t, training=True), (w * x + (1 - w) * mixed).clamp(0, 255))


def test_annotations_in_dict_inputs():
    """Keras 3's dict inputs: colour layers pass labels, boxes and masks through; MixUp mixes the masks with the
    images' weights; CutMix pastes the same box into the masks and refuses boxes (as Keras)."""
    images = torch.rand(4, 8, 10, 3, device=DEVICE) * 255
    masks = torch.randint(0, 3, (4, 8, 10, 1), device=DEVICE)
    boxes = {"boxes": torch.tensor([[[1.0, 1.0, 5.0, 6.0]]] * 4, device=DEVICE), "labels": torch.zeros(4, 1, dtype=torch.int64, device=DEVICE)}
    data = {"images": images, "labels": torch.eye(4, device=DEVICE), "segmentation_masks": masks, "bounding_boxes": boxes}
    out = L.RandomHue(0.3, bounding_box_format="xyxy", seed=1)(dict(data), training=True)
    assert torch.equal(out["segmentation_masks"], masks) and torch.equal(out["bounding_boxes"]["boxes"], boxes["boxes"])
    assert not torch.equal(out["images"], images)
    layer = L.MixUp(seed=3)
    t = layer.get_random_transformation(images)
    w = t["mix_weight"].view(-1, 1, 1, 1)
    mixed = layer.transform_segmentation_masks(masks, t)
    assert_close(mixed, w * masks + (1 - w) * masks[t["permutation_order"]])
    cut = L.CutMix(seed=3)
    t = cut.get_random_transformation(images)
    pasted = cut.transform_segmentation_masks(masks, t)
    assert torch.equal(pasted, torch.where(t["batch_masks"], masks[t["permutation_order"]], masks).float())
    with pytest.raises(ValueError, match="CutMix layer"):
        L.CutMix(bounding_box_format="xyxy")(dict(data), training=True)
