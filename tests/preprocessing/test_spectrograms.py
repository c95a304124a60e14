"""MelSpectrogram and STFTSpectrogram (Keras 3 only; issue 21), recorded from real Keras 3.15.1 by
``compat_fixtures/gen/structured.py``: windows, fft/frame lengths, hops, padding, scaling, modes, layouts; the STFT
kernels; an audio model file loaded with Keras's output and re-saved."""
from __future__ import annotations

import os

import pytest
import torch
from layer_contract import LayerCase, contract_params, run_check
from structured_fixtures import ROOT, assert_parity, call, cases, layer, load, tensors

from kerastorch.layers import MelSpectrogram, STFTSpectrogram
from kerastorch.saving import load_model, save_model
from kt_testing import DEVICE, assert_close


@pytest.mark.parametrize("case", cases("MelSpectrogram") + cases("STFTSpectrogram"), ids=lambda c: c["id"])
def test_spectrogram_equals_keras(case):
    # largest term (dB values of ~30 are compared to ~1e-4 absolute)
    lay = assert_parity(case, rtol=1e-5, atol=1e-4)


def test_stft_kernels_are_keras_weights():
    case = next(c for c in cases("STFTSpectrogram") if "weight_names" in c)
    lay = layer(case)
    lay(call(case, lay).new_zeros(1, 64, 2))  # build
    assert lay.weight_names == case["weight_names"] == ["real_kernel", "imag_kernel"]
    for i, w in enumerate(lay.get_weights()):
        assert_close(torch.from_numpy(w), torch.from_numpy(tensors()[f"{case['id']}.weight{i}"]), atol=1e-6)
    assert [lay.weight_spec(n).trainable for n in lay.weight_names] == [True, True]  # Keras 3's default
    assert STFTSpectrogram(mode="real", frame_length=8).weight_names == ["real_kernel"]


@pytest.mark.parametrize("err", [e for e in load("errors.json") if e["class_name"] in ("STFTSpectrogram", "MelSpectrogram")],
                         ids=lambda e: f"{e['class_name']}-{e['args']}")
def test_bad_arguments_are_refused(err):
    cls = {"STFTSpectrogram": STFTSpectrogram, "MelSpectrogram": MelSpectrogram}[err["class_name"]]
    with pytest.raises(ValueError, match=err["class_name"]):
        cls(**err["args"])


def test_unsupported_windows_are_refused():
    with pytest.raises(ValueError, match="STFTSpectrogram.*window 'kaiser'"):
        STFTSpectrogram(window="kaiser")
    with pytest.raises(ValueError, match='MelSpectrogram.*"hann"'):
        MelSpectrogram(window="blackman")


def test_audio_model_file_computes_what_keras_computed(tmp_path):
    t = tensors(os.path.join("models", "tensors.safetensors"))
    x = torch.from_numpy(t["x_wave"].copy()).to(DEVICE)
    model = load_model(os.path.join(ROOT, "models", "audio.k3.keras")).to(DEVICE)
    want = torch.from_numpy(t["audio.k3.output"])
    assert_close(model(x), want, rtol=1e-5, atol=1e-4)
    save_model(model, tmp_path / "again.keras")
    assert_close(load_model(tmp_path / "again.keras").to(DEVICE)(x), want, rtol=1e-5, atol=1e-4)


# zero_copy=False: Keras's layouts cost one copy each way (STFTSpectrogram convolves (batch * channels, 1, time)
# rows of a (batch, time, channels) input and returns (batch, frames, channels * bins); MelSpectrogram returns
# (..., mel, frames) of torch.stft's frames) and torch's FFT/abs backward kernels copy inside
CONTRACT = [
    LayerCase(STFTSpectrogram, dict(frame_length=8, frame_step=4, mode="magnitude"), (2, 24, 2), id="STFTSpectrogram",
              expected_output_shape=(2, 5, 10), expected_num_weights=2, zero_copy=False),
    LayerCase(MelSpectrogram, dict(fft_length=16, sequence_stride=8, num_mel_bins=4, sampling_rate=800,
                                   power_to_db=False), (2, 40), id="MelSpectrogram", expected_output_shape=(2, 4, 6),
              expected_num_weights=0, zero_copy=False),
]


@pytest.mark.parametrize("case,check", contract_params(CONTRACT))
def test_layer_contract(case, check):
    run_check(case, check)
