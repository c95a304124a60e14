"""The device path: loaded models of every family run on any device without reading data on the host.

``KT_TEST_DEVICE=cuda`` runs the suite under ``torch.cuda.set_sync_debug_mode("error")`` around every forward and
backward (tests/conftest.py). On the CPU, where a host read costs nothing and cannot be caught, the same property
is checked on the meta device: a meta tensor has no data, so any ``.item()``, ``.tolist()``, ``bool(tensor)``,
``.cpu()`` or data-dependent branch in a forward or backward raises. Each family's real Keras files (recorded
fixtures) are loaded, moved to ``meta`` and run forward and backward. Then the same models run on ``DEVICE``
(the CPU by default): moved there by ``.to``, and re-saved and re-loaded straight onto it.
"""
from __future__ import annotations

import pytest
import torch

import kerastorch as kt
from kt_testing import DEVICE, FIXTURES, assert_close

# one real file per family and per kind of graph (masks, recurrent kernels, attention, TF ops, mixed precision)
FILES = [
    "models/cnn_seq.tf.h5", "models/unet.k3.keras", "models/two_io_dict.tf.keras", "models/shared.tf.h5",
    "models/tf_ops.tf.h5", "models/k3_ops.k3.keras", "models/conv3d.k3.keras",
    "masks/text_func.tf.h5", "masks/masking_model.k3.keras", "masks/two_masks.k3.keras",
    "rnn/models/text_classifier.k3.keras", "rnn/models/stacked_lstm_masked.tf.h5", "rnn/models/seq2seq.k3.keras",
    "rnn/models/gru_forecaster.tf.h5", "rnn/models/conv_lstm.k3.keras", "rnn/models/cudnn.tf.h5",
    "attention/text_classifier.k3.keras", "attention/decoder.tf.h5", "attention/mini_vit.k3.keras",
    "attention/cross_attention.k3.keras", "user_files/tf_mixed.tf.keras", "mixed_precision/keras3_mixed_bfloat16_tagger.k3.keras",
    "image_preprocessing/geometric_classifier.tf.h5", "image_preprocessing/color_classifier.k3.keras",
]


def _inputs(model: torch.nn.Module, device: str, batch: int = 2, steps: int = 5):
    """Inputs of the model's declared shapes and dtypes (unknown dims -> ``steps``), empty on ``device``."""
    def make(shape, dtype):
        shape = [batch] + [steps if d is None else d for d in shape[1:]]
        dtype = dtype if isinstance(dtype, torch.dtype) else torch.float32
        if device == "meta":
            return torch.empty(shape, dtype=dtype, device=device, requires_grad=dtype.is_floating_point)
        g = torch.Generator().manual_seed(0)
        t = torch.randint(1, 5, shape, generator=g) if not dtype.is_floating_point else torch.randn(shape, generator=g)
        return t.to(device, dtype).requires_grad_(dtype.is_floating_point)

    if getattr(model, "inputs", None):
        xs = [make(tuple(t.shape), t.dtype) for t in model.inputs]
        return xs[0] if len(xs) == 1 else xs
    first = next(iter(model.layers))
    dtype = torch.int64 if type(first).__name__ == "Embedding" else torch.float32
    return make(tuple(model.input_shape), dtype)


def _outputs(y) -> list[torch.Tensor]:
    if isinstance(y, torch.Tensor):
        return [y]
    if isinstance(y, dict):
        y = list(y.values())
    return [t for v in y for t in _outputs(v)]


def _forward_backward(model, xs):
    try:
        y = model(xs)
    except (ValueError, TypeError):  # a dict-input model takes its inputs by name
        y = model(dict(zip(model.input_names, xs)))
    outs = _outputs(y)
    loss = sum(t.float().sum() for t in outs if t.is_floating_point())
    loss.backward()
    return outs


@pytest.mark.parametrize("file", FILES)
def test_no_host_reads_in_forward_or_backward(file):
    meta = kt.models.load_model(FIXTURES / file).to("meta")
    for training in (False, True):
        meta.train(training)
        outs = _forward_backward(meta, _inputs(meta, "meta"))
        assert outs and all(t.device.type == "meta" for t in outs)
    assert all(p.grad is not None and p.grad.is_meta for p in meta.parameters() if p.requires_grad)


def test_models_run_on_the_test_device_moved_and_reloaded(tmp_path):
    """``.to(DEVICE)`` and save_model -> load_model -> ``.to(DEVICE)`` give the CPU model's outputs and gradients."""
    for file in ("models/unet.k3.keras", "rnn/models/text_classifier.k3.keras", "attention/text_classifier.k3.keras"):
        cpu = kt.models.load_model(FIXTURES / file).eval()
        xs = _inputs(cpu, "cpu")
        expected = [t.detach() for t in _forward_backward(cpu, xs)]
        grads = [p.grad.clone() for p in cpu.parameters() if p.requires_grad]
        kt.models.save_model(cpu, tmp_path / "m.keras")
        for model in (kt.models.load_model(tmp_path / "m.keras").to(DEVICE).eval(),):
            dx = [x.detach().to(DEVICE).requires_grad_(x.requires_grad) for x in (xs if isinstance(xs, list) else [xs])]
            outs = _forward_backward(model, dx if isinstance(xs, list) else dx[0])
            assert all(t.device.type == DEVICE.type for t in outs)
            for ours, theirs in zip(outs, expected):
                assert_close(ours, theirs, kind="graph")
            for ours, theirs in zip([p.grad for p in model.parameters() if p.requires_grad], grads):
                assert_close(ours, theirs, kind="graph")
