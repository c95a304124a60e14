"""``kerastorch eject`` of the image preprocessing / augmentation layers (``kerastorch/eject/emit_image.py``).

- The keras.io classifiers with their augmentation blocks (``compat_fixtures/image_preprocessing``: geometric and
  colour, tf.keras ``.h5`` / ``.keras`` and Keras 3 ``.keras``: every colour and mixing layer, RandAugment, AugMix,
  AutoContrast, CLAHE) are ejected; the generated ``model.py`` files run in ONE fresh process where kerastorch
  cannot be imported: eval outputs equal the recorded Keras outputs and kerastorch's.
- Resizing over every interpolation (antialias, crop/pad to the aspect ratio, channels_first, uint8 images, an input
  of any size) and the crops' deterministic paths: equal to kerastorch's layers (themselves checked against Keras in
  ``tests/preprocessing/image``), input gradients too.
- Training mode at collapsed factors (the draw forced to one value: the transform is deterministic) through an
  explicit ``training=True`` call: the affine layers over fill modes and interpolations and the colour layers equal
  kerastorch's training outputs, input gradients too; torch.compile(fullgraph=True) and torch.export of an
  augmentation stack (with a Pipeline) reproduce kerastorch's outputs.
- Training mode at full factors: the helpers draw what kerastorch's unseeded layers draw, so after one
  ``torch.manual_seed`` the ejected outputs equal kerastorch's (30 layer configurations, the classifier files); the
  random structure (per image or per batch, joint or independent flips, random signs, mixing within the batch, the
  Beta sampler) checked on the generated modules themselves; every training path runs on the meta device.
"""
from __future__ import annotations

import importlib.util
import pathlib

import pytest
import torch

from eject_testing import assert_standalone_outputs, record, run_standalone
from kt_testing import DEVICE, FIXTURES, assert_close, load_tensors

from kerastorch.eject import EjectError, eject, eject_file

CLASSIFIERS = [(f"{family}_classifier.{kind}", family, tag) for family in ("geometric", "color")
               for kind, tag in (("tf.h5", "tf"), ("tf.keras", "tf"), ("k3.keras", "k3"))]


def _resize_zoo():
    """Every Resizing interpolation down (13x17 -> 8x6) and up, antialias, crop/pad to the aspect ratio, and the
    deterministic crops, tf.keras and Keras 3 layers (``data_format`` given: Keras 3), one channels_first branch."""
    from kerastorch import layers
    from kerastorch.models import Input, Model

    x = Input((13, 17, 3), name="image")
    outs = []
    for method in ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic"):
        outs.append(layers.Resizing(8, 6, interpolation=method, name=f"down_{method}")(x))
        up = layers.Resizing(19, 22, interpolation=method, crop_to_aspect_ratio=True, name=f"up_crop_{method}")
        outs.append(up(x))
    for method in ("bilinear", "bicubic", "lanczos3", "area"):
        outs.append(layers.Resizing(7, 9, interpolation=method, antialias=True, name=f"aa_{method}")(x))
    pad = layers.Resizing(10, 5, pad_to_aspect_ratio=True, fill_value=2.5, interpolation="bicubic", name="pad")
    outs.append(pad(x))
    outs.append(layers.Resizing(5, 10, crop_to_aspect_ratio=True, data_format="channels_last", name="crop_k3")(x))
    nchw = layers.Permute((3, 1, 2), name="to_nchw")(x)
    outs.append(layers.Resizing(6, 4, interpolation="area", data_format="channels_first", name="area_cf")(nchw))
    outs.append(layers.CenterCrop(9, 11, name="center")(x))
    outs.append(layers.CenterCrop(15, 11, name="center_smart")(x))
    outs.append(layers.CenterCrop(5, 5, data_format="channels_first", name="center_cf")(nchw))
    outs.append(layers.RandomCrop(8, 8, name="crop_tf")(x, training=False))  # tf.keras: smart_resize in inference
    outs.append(layers.RandomCrop(14, 20, data_format="channels_last", name="crop_k3_train")(x, training=True))
    outs.append(layers.RandomCrop(13, 17, name="crop_tf_train")(x, training=True))  # one window: offset 0
    g = torch.Generator().manual_seed(3)
    return Model(x, outs, name="resize_zoo"), [torch.rand(2, 13, 17, 3, generator=g) * 255]


def _dynamic_zoo():
    """A keras.io input of any size ((None, None, 3)): the helpers read the size from the images (crop / pad to the
    aspect ratio, CenterCrop's smart_resize fallback, RandomCrop's inference resize)."""
    from kerastorch import layers
    from kerastorch.models import Input, Model

    x = Input((None, None, 3), name="image")
    outs = [layers.Resizing(8, 6, interpolation="bicubic", crop_to_aspect_ratio=True, name="crop_resize")(x),
            layers.CenterCrop(5, 5, name="center")(x), layers.CenterCrop(30, 5, name="center_smart")(x),
            layers.Resizing(7, 9, pad_to_aspect_ratio=True, data_format="channels_last", name="pad_resize")(x),
            layers.RandomCrop(6, 7, name="crop")(x)]
    g = torch.Generator().manual_seed(7)
    return Model(x, outs, name="dynamic_zoo"), [torch.rand(2, 20, 9, 3, generator=g) * 255]


def _uint8_zoo():
    """uint8 images: Keras 3's Resizing rounds back to uint8 (nearest never leaves it), tf.keras's gives float32, the
    other layers cast to float32 first."""
    from kerastorch import layers
    from kerastorch.models import Input, Model

    x = Input((13, 17, 3), name="image", dtype="uint8")
    outs = [layers.Resizing(8, 6, data_format="channels_last", name="k3_bilinear")(x),
            layers.Resizing(8, 6, interpolation="nearest", data_format="channels_last", name="k3_nearest")(x),
            layers.Resizing(8, 6, interpolation="area", name="tf_area")(x),
            layers.CenterCrop(5, 5, name="center")(x),
            layers.RandomBrightness(0.1, name="brightness")(x)]
    g = torch.Generator().manual_seed(6)
    return Model(x, outs, name="uint8_zoo"), [torch.randint(0, 256, (2, 13, 17, 3), generator=g, dtype=torch.uint8)]


def _train_zoo():
    """Training-mode branches at collapsed factors (explicit training=True): each draw has one value."""
    from kerastorch import layers
    from kerastorch.models import Input, Model

    x = Input((9, 11, 3), name="image")
    k3 = {"data_format": "channels_last"}
    nchw = layers.Permute((3, 1, 2), name="to_nchw")(x)
    branches = [
        layers.RandomRotation((0.1, 0.1), name="rotate_reflect"),
        layers.RandomRotation((-0.05, -0.05), fill_mode="wrap", interpolation="nearest", name="rotate_wrap"),
        layers.RandomRotation((0.07, 0.07), fill_mode="constant", fill_value=3.0, name="rotate_constant"),
        layers.RandomZoom((0.2, 0.2), (-0.1, -0.1), fill_mode="nearest", name="zoom"),
        layers.RandomZoom((-0.3, -0.3), fill_mode="reflect", interpolation="nearest", name="zoom_same"),
        layers.RandomTranslation((0.1, 0.1), (-0.2, -0.2), fill_mode="constant", interpolation="nearest", name="shift"),
        layers.RandomTranslation((-0.3, -0.3), (0.25, 0.25), fill_mode="wrap", name="shift_wrap"),
        layers.RandomContrast((-0.2, 0.2), value_range=(0, 255), name="contrast_k3"),  # Keras 3: [1.2, 1.2]
        layers.RandomBrightness((0.1, 0.1), name="brightness_tf"),
        layers.RandomBrightness((-0.2, -0.2), value_range=(0, 1), name="brightness_k3", **k3),
        layers.RandomSaturation((0.3, 0.3), name="saturation"),
        layers.RandomGrayscale(1.0, name="grayscale"),
        layers.Solarization(value_range=(0, 510), name="solarize_range"),  # threshold 0: every pixel inverted
        layers.Solarization(addition_factor=(0.0, 0.0), threshold_factor=(0.0, 0.0), name="solarize_all"),
        layers.RandomColorJitter(brightness_factor=(0.1, 0.1), saturation_factor=(0.2, 0.2), name="jitter"),
        layers.RandomColorDegeneration((0.4, 0.4), name="degenerate"),
        layers.RandomInvert((1.0, 1.0), name="invert"),
        layers.RandomPosterization((3, 3), name="posterize"),
        layers.RandomSharpness((0.7, 0.7), name="sharpen"),
        layers.RandomGaussianBlur((1.0, 1.0), kernel_size=(3, 5), sigma=(0.8, 0.8), name="blur"),
        layers.RandomErasing((1.0, 1.0), scale=(1.0, 1.0), fill_value=(10.0, 20.0, 30.0), name="erase_all"),
        layers.Equalization(bins=64, name="equalize", **k3),
        layers.AutoContrast(value_range=(0, 510), name="autocontrast"),
    ]
    outs = [layer(x, training=True) for layer in branches]
    outs.append(layers.RandomRotation((0.2, 0.2), fill_mode="nearest", data_format="channels_first",
                                      name="rotate_cf")(nchw, training=True))
    outs.append(layers.RandomContrast((-0.3, 0.3), value_range=(0, 255), data_format="channels_first",
                                      name="contrast_cf")(nchw, training=True))
    clahe = layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 3), clip_limit=2.0,
                                                                data_format="channels_first", name="clahe_cf")
    outs.append(clahe(nchw))
    outs.append(layers.AutoContrast(data_format="channels_first", name="autocontrast_cf")(nchw))
    g = torch.Generator().manual_seed(4)
    return Model(x, outs, name="train_zoo"), [torch.rand(2, 9, 11, 3, generator=g) * 255]


def _compile_stack():
    """A keras.io-style stack for torch.compile / torch.export: Resizing (bicubic), a flip (in inference: the
    identity), then rotation and a Pipeline of zoom and contrast in training at collapsed factors (deterministic)."""
    from kerastorch import layers
    from kerastorch.models import Input, Model

    x = Input((10, 12, 3), name="image")
    y = layers.Resizing(8, 8, interpolation="bicubic", name="resize")(x)
    y = layers.RandomFlip(name="flip")(y)
    y = layers.RandomRotation((0.1, 0.1), name="rotate")(y, training=True)
    k3 = {"data_format": "channels_last"}
    stages = [layers.RandomZoom((-0.2, -0.2), **k3), layers.RandomContrast((-0.2, 0.2), value_range=(0, 255), **k3)]
    y = layers.Pipeline(stages, name="pipeline")(y, training=True)
    y = layers.MaxNumBoundingBoxes(4, name="max_boxes")(y)
    g = torch.Generator().manual_seed(5)
    return Model(x, y, name="compile_stack"), [torch.rand(2, 10, 12, 3, generator=g) * 255]


def _random_model(layer, shape):
    from kerastorch.models import Input, Model

    x = Input(shape, name="image")
    return Model(x, layer(x))


@pytest.fixture(scope="module")
def ejected(tmp_path_factory) -> dict[str, dict]:
    from kerastorch.models import load_model

    root = tmp_path_factory.mktemp("eject_image")
    cases = {}
    for name, family, tag in CLASSIFIERS:
        tensors = load_tensors(f"image_preprocessing/{family}_classifier_tensors.safetensors")
        path = str(FIXTURES / "image_preprocessing" / name)
        out = root / name.replace(".", "_")
        eject_file(path, out)
        cases[name] = record(name, load_model(path), [tensors["input"]], [tensors[f"{tag}.eval"]], 1e-5, out, {})
    model, xs = _resize_zoo()
    eject(model, root / "resize_zoo")
    cases["resize_zoo"] = record("resize_zoo", model, xs, [], 1e-5, root / "resize_zoo", {"grad": True})
    model, xs = _dynamic_zoo()
    eject(model, root / "dynamic_zoo")
    cases["dynamic_zoo"] = record("dynamic_zoo", model, xs, [], 1e-5, root / "dynamic_zoo", {})
    model, xs = _uint8_zoo()
    eject(model, root / "uint8_zoo")
    cases["uint8_zoo"] = record("uint8_zoo", model, xs, [], 1e-5, root / "uint8_zoo", {})
    model, xs = _train_zoo()
    eject(model, root / "train_zoo")
    cases["train_zoo"] = record("train_zoo", model, xs, [], 1e-5, root / "train_zoo", {"grad": True})
    model, xs = _compile_stack()
    eject(model, root / "compile_stack")
    cases["compile_stack"] = record("compile_stack", model, xs, [], 1e-5, root / "compile_stack",
                                     {"export": True, "onnx": True})
    return run_standalone(root, cases)


CASES = [c[0] for c in CLASSIFIERS] + ["resize_zoo", "dynamic_zoo", "uint8_zoo", "train_zoo", "compile_stack"]


@pytest.mark.parametrize("name", CASES)
def test_standalone_outputs_match_keras_and_kerastorch(ejected, name):
    # 0-255 pixels through float32 resampling: 1e-5 of the largest value
    assert_standalone_outputs(ejected[name], name, rtol=1e-5, atol=1e-5)


def test_training_gradients_and_compile(ejected):
    """The collapsed-factor training branches and every resize kernel: same input gradient as kerastorch; the
    compiled (fullgraph), exported and ONNX (onnxruntime) augmentation stack gives kerastorch's outputs."""
    for name in ("train_zoo", "resize_zoo"):
        case = ejected[name]
        grad = case["grad_x"][0]
        assert_close(case["result"]["grad_x0"], grad, rtol=1e-4, atol=1e-4 * float(grad.abs().max()), msg=name)
    case = ejected["compile_stack"]
    res = case["result"]
    for kind in ("compiled", "exported", "onnx"):
        for i, want in enumerate(case["loaded"]):
            assert_close(res[f"{kind}{i}"], want, rtol=1e-5, atol=1e-5 * float(want.abs().max()), msg=f"{kind} {i}")


def _import(directory: pathlib.Path, name: str):
    """An ejected model.py imported in this process (its source imports torch only)."""
    spec = importlib.util.spec_from_file_location(f"ejected_{name}", directory / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _module(tmp_path: pathlib.Path, model, name: str):
    """The ejected module of ``model`` in training mode on the test device."""
    eject(model, tmp_path / name)
    return _import(tmp_path / name, name).load().to(DEVICE).train()


def test_random_structure_follows_the_keras_version(tmp_path):
    """Flips: Keras 3 flips an image both ways or not at all, tf.keras each way independently (p = 1/2 each);
    contrast: Keras 3 one factor per image, tf.keras one per batch; shear and hue: a random sign per image."""
    from kerastorch import layers

    torch.manual_seed(0)
    image = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 2, 2, 1).expand(4000, 2, 2, 1).contiguous().to(DEVICE)
    flipped = {}
    for tag, extra in (("k3", {"data_format": "channels_last"}), ("tf", {})):
        net = _module(tmp_path, _random_model(layers.RandomFlip(name="flip", **extra), (2, 2, 1)), f"flip_{tag}")
        with torch.no_grad():
            y = net(image)[:, :, :, 0]
        h = (y[:, 0, 0] == 2) | (y[:, 0, 0] == 4)  # left-right flipped
        v = y[:, 0, 0] >= 3  # up-down flipped
        flipped[tag] = (h.float().mean(), v.float().mean(), (h & v).float().mean(), (h ^ v).float().mean())
    h, v, both, one = flipped["k3"]
    assert abs(h - 0.5) < 0.05 and abs(both - 0.5) < 0.05 and one == 0
    h, v, both, one = flipped["tf"]
    assert abs(h - 0.5) < 0.05 and abs(v - 0.5) < 0.05 and abs(both - 0.25) < 0.04 and abs(one - 0.5) < 0.05

    ramp = torch.linspace(0, 200, 16).view(1, 4, 4, 1).expand(64, 4, 4, 1).contiguous().to(DEVICE)
    for tag, layer in (("k3", layers.RandomContrast(0.5, value_range=(0, 255), name="contrast")),
                       ("tf", layers.RandomContrast(0.5, name="contrast"))):
        net = _module(tmp_path, _random_model(layer, (4, 4, 1)), f"contrast_{tag}")
        with torch.no_grad():
            y = net(ramp)
        gain = (y[:, 1, 2, 0] - y[:, 1, 1, 0]) / (ramp[0, 1, 2, 0] - ramp[0, 1, 1, 0])  # pixels clear of the clip
        low = 1.0 if tag == "k3" else 0.5  # Keras 3 parses 0.5 as (0, 0.5): [1, 1.5]; tf.keras [0.5, 1.5]
        assert bool(((gain >= low - 1e-4) & (gain <= 1.5 + 1e-4)).all())
        distinct = torch.unique(gain.round(decimals=4)).numel()
        assert (distinct > 32) if tag == "k3" else (distinct == 1), (tag, distinct)

    net = _module(tmp_path, _random_model(layers.RandomShear(x_factor=(0.3, 0.3), name="shear"), (5, 5, 1)), "shear")
    grid = torch.arange(25.0).view(1, 5, 5, 1).expand(400, 5, 5, 1).contiguous().to(DEVICE)
    with torch.no_grad():
        corner = net(grid)[:, 4, 0, 0]  # row 4 of column 0 reads column +-1.2: two outcomes, both drawn
    assert torch.unique(corner.round(decimals=3)).numel() == 2
    assert 0.4 < float((corner > corner.mean()).float().mean()) < 0.6


def test_a_call_without_an_ejected_form_refuses(tmp_path):
    from kerastorch import layers

    model = _random_model(layers.RandomHue(0.2, name="hue"), (6, 6, 1))  # Keras's HSV kernels take RGB images
    with pytest.raises(EjectError, match=r'Layer "hue" \(RandomHue\) cannot be ejected: it takes images with 3 chan'):
        eject(model, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_generated_source_reads_as_written(ejected):
    """Only the helpers a model needs; the augmentation runs on the channels-first view, no permute between layers."""
    source = (pathlib.Path(ejected["geometric_classifier.k3.keras"]["dir"]) / "model.py").read_text()
    assert "def flip_images(" in source and "def affine_sample(" in source and "def projective_sample(" not in source
    assert "def resize_tf(" not in source and source.count("permute(") == 1
    assert "flip_images(x, True, False, joint=True) if self.training else x" in source
    tf_source = (pathlib.Path(ejected["geometric_classifier.tf.h5"]["dir"]) / "model.py").read_text()
    assert "joint=False" in tf_source
    zoo = (pathlib.Path(ejected["resize_zoo"]["dir"]) / "model.py").read_text()
    for helper in ("bicubic_resize_matrix", "area_resize_matrix", "scale_and_translate_matrix", "lanczos3", "lanczos5",
                   "mitchell_cubic", "gaussian_resize_kernel", "aspect_pad", "center_crop_images",
                   "random_crop_keras3"):
        assert f"def {helper}(" in zoo, helper


def test_mixing_layers_draw_from_the_batch(tmp_path):
    """MixUp mixes each image with one of the batch (convex weights); CutMix pastes pixels of the batch's images;
    RandAugment / AugMix (every op computed, the drawn one kept) run in training and change the images."""
    from kerastorch import layers

    torch.manual_seed(1)
    levels = torch.tensor([0.0, 100.0, 200.0]).view(3, 1, 1, 1).expand(3, 6, 6, 3).contiguous().to(DEVICE)
    net = _module(tmp_path, _random_model(layers.MixUp(alpha=0.5, name="mix"), (6, 6, 3)), "mix")
    with torch.no_grad():
        y = net(levels)
    assert bool((y.amax((1, 2, 3)) - y.amin((1, 2, 3)) < 1e-4).all()) and bool(((y >= 0) & (y <= 200)).all())
    draws = net.forward.__globals__["beta"]((20000,), 0.2, 0.2, levels)  # the sampler MixUp / CutMix / AugMix use
    assert abs(float(draws.mean()) - 0.5) < 0.01 and abs(float(draws.var()) - 0.04 / (0.16 * 1.4)) < 0.01
    net = _module(tmp_path, _random_model(layers.CutMix(name="cut"), (6, 6, 3)), "cut")
    with torch.no_grad():
        y = net(levels)
    assert set(torch.unique(y).tolist()) <= {0.0, 100.0, 200.0}
    for layer in (layers.RandAugment(num_ops=2, name="rand_augment"), layers.AugMix(name="aug_mix")):
        net = _module(tmp_path, _random_model(layer, (6, 6, 3)), layer.name)
        image = torch.rand(4, 6, 6, 3, device=DEVICE) * 255
        with torch.no_grad():
            outs = [net(image) for _ in range(4)]
        assert all(bool(torch.isfinite(o).all()) and o.shape == image.shape for o in outs)
        assert any(not torch.equal(o, image) for o in outs)


def test_training_paths_run_on_the_meta_device(ejected):
    """Every ejected model, in training, on the meta device: nothing in forward reads a tensor's value on the host
    (a .item() or a host-to-device copy would fail there, or synchronize on a GPU)."""
    from safetensors.torch import load_file

    for name in CASES:
        directory = pathlib.Path(ejected[name]["dir"])
        net = _import(directory, f"meta_{ejected[name]['job']['name']}").load().to("meta").train()
        xs = [x.to("meta") for x in load_file(str(directory / "case.safetensors")).values()]
        outs = net(*xs)
        assert all(o.device.type == "meta" for o in (outs if isinstance(outs, tuple) else (outs,)))


def test_training_draws_match_kerastorch_under_one_seed(tmp_path):
    """Without a seed, kerastorch's layers draw from torch's global generator, and the ejected helpers draw the same
    numbers in the same order and shapes: after one ``torch.manual_seed`` the ejected model's training outputs equal
    kerastorch's at full (not collapsed) factors: the per-image / per-batch structure, the ranges and the sign draws
    are the layers' own, RandAugment's transformations are drawn once per call (an op chosen twice applies its
    transformation twice). (AugMix draws its chains with torch instead of Python's random: same distribution, other
    numbers; it is checked in the mixing test.)"""
    from kerastorch import layers
    from kerastorch.models import Input, Model

    k3 = {"data_format": "channels_last"}
    branches = [
        layers.RandomFlip(), layers.RandomFlip(**k3), layers.RandomRotation(0.2),
        layers.RandomRotation(0.2, fill_mode="wrap", interpolation="nearest"), layers.RandomZoom(0.2, 0.3),
        layers.RandomZoom(0.2), layers.RandomTranslation(0.2, 0.1, fill_mode="constant"), layers.RandomShear(0.3, 0.2),
        layers.RandomPerspective(0.7, 0.5), layers.RandomContrast(0.3),
        layers.RandomContrast(0.3, value_range=(0, 255)),
        layers.RandomBrightness(0.3), layers.RandomGrayscale(0.5), layers.RandomHue(0.3), layers.RandomSaturation(0.4),
        layers.Solarization(0.2, 0.5), layers.RandomColorDegeneration(0.5), layers.RandomInvert(0.5),
        layers.RandomColorJitter(brightness_factor=0.2, contrast_factor=0.3, saturation_factor=0.2, hue_factor=0.1),
        layers.RandomPosterization((2, 6)), layers.RandomSharpness(0.5), layers.RandomGaussianBlur(0.7, 3, (0.5, 1.5)),
        layers.RandomErasing(0.8), layers.RandomErasing(0.8, fill_value=(1.0, 2.0, 3.0)), layers.MixUp(),
        layers.CutMix(), layers.RandomCrop(8, 9), layers.RandomCrop(8, 9, **k3), layers.RandAugment(num_ops=3),
        layers.RandomElasticTransform(0.8, 0.6), layers.RandomElasticTransform(scale=(0.3, 0.9), fill_mode="constant",
                                                                               fill_value=9.0, interpolation="nearest"),
    ]
    x = Input((10, 12, 3), name="image")
    nchw = layers.Permute((3, 1, 2), name="to_nchw")(x)
    outs = [layer(x) for layer in branches]
    outs += [layer(nchw) for layer in (layers.RandomRotation(0.3, data_format="channels_first"),
                                       layers.RandomErasing(0.9, data_format="channels_first"))]
    model = Model(x, outs).to(DEVICE).train()
    net = _module(tmp_path, model, "seeded")
    images = torch.rand(6, 10, 12, 3, generator=torch.Generator().manual_seed(8)).to(DEVICE) * 255
    with torch.no_grad():
        torch.manual_seed(11)
        want = model(images)
        torch.manual_seed(11)
        got = net(images)
    for i, (a, b) in enumerate(zip(got, want)):
        assert_close(a, b, rtol=1e-4, atol=1e-3, msg=f"branch {i} ({outs[i].node.layer.name})")


def test_aspect_ratio_sizes_are_computed_in_float32(ejected):
    """The ejected aspect-ratio crop box equals kerastorch's (TensorFlow's float32 sizes) on large images too, where
    float64 arithmetic would truncate differently."""
    import random

    import numpy as np

    from kerastorch.layers.preprocessing.image_preprocessing.transforms import aspect_crop_box

    helper = _import(pathlib.Path(ejected["dynamic_zoo"]["dir"]), "aspect")
    rng = random.Random(0)
    cases, hard = [], 0
    while hard < 20:  # random sizes, and ones whose w * th / tw truncates differently in float64 and float32
        h, w, th, tw = (rng.randint(1, 20000) for _ in range(4))
        cases.append((h, w, th, tw))
        if int(w * th / tw) != int(np.float32(np.float32(w * th) / np.float32(tw))):
            cases.append((10 ** 8, w, th, tw))
            hard += 1
    for h, w, th, tw in cases:
        for at_least_one in (False, True):
            assert helper.aspect_crop_box(h, w, th, tw, at_least_one) == aspect_crop_box(h, w, th, tw, at_least_one)


@pytest.mark.parametrize("name", [c[0] for c in CLASSIFIERS if c[0] != "color_classifier.k3.keras"])
def test_classifier_files_train_like_kerastorch_under_one_seed(ejected, name):
    """The keras.io classifier files in training: after one torch.manual_seed the ejected model's outputs equal the
    loaded kerastorch model's (the same draws of the same distributions), and differ from eval. (The Keras 3 colour
    file's AugMix picks its chains with Python's random in kerastorch: its training path is in the mixing test.)"""
    from kerastorch.models import load_model

    model = load_model(str(FIXTURES / "image_preprocessing" / name)).to(DEVICE).train()
    net = _import(pathlib.Path(ejected[name]["dir"]), f"train_{ejected[name]['job']['name']}").load().to(DEVICE).train()
    family = name.split("_")[0]
    x = load_tensors(f"image_preprocessing/{family}_classifier_tensors.safetensors")["input"].to(DEVICE)
    with torch.no_grad():
        torch.manual_seed(5)
        want = model(x)
        torch.manual_seed(5)
        got = net(x)
    assert_close(got, want, msg=name)
    assert not torch.allclose(got.cpu(), ejected[name]["loaded"][0], atol=1e-6)
