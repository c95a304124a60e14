"""Shared test helpers: the fixtures recorded from real Keras (compat_fixtures/) and the one tolerance helper."""
from __future__ import annotations

import functools
import json
import os
import pathlib

import torch
from safetensors.torch import load_file

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "compat_fixtures"

# The one place the suite takes its device from: KT_TEST_DEVICE=cuda runs the parity tests on a GPU.
DEVICE = torch.device(os.environ.get("KT_TEST_DEVICE", "cpu"))

# The one tolerance table of the suite, by dtype and kind of comparison:
# - "layer": one layer against real Keras or a hand-written torch op. TF (Eigen/oneDNN/XLA) and torch
#   (oneDNN) sum in different orders, so float32 agrees to ~1e-5 relative; the absolute slack is scaled
#   by the expected tensor's magnitude, so large gradients get a fair bound.
# - "graph": whole compiled/exported/distributed graphs against eager: fused kernels reorder sums
#   across layers and over all-reduced gradients.
# - "half": bfloat16/float16 results (8 and 11 mantissa bits).
# On CUDA (TF32 off, tests/conftest.py) cuDNN may pick Winograd/FFT convolution algorithms, whose float32 rounding
# is a few times TF's direct CPU convolution: float32 "layer" comparisons get 3x the slack there.
_DEVICE_SLACK = {"cuda": 3.0}
_TOLERANCES = {
    ("layer", torch.float32): (1e-5, 1e-6),
    ("layer", torch.float64): (1e-10, 1e-12),
    ("graph", torch.float32): (1e-4, 1e-5),
    ("graph", torch.float64): (1e-9, 1e-11),
    ("half", torch.bfloat16): (1.6e-2, 1e-2),
    ("half", torch.float16): (1e-3, 1e-5),
}


def tolerance(dtype: torch.dtype, kind: str = "layer", device: torch.device | str = DEVICE) -> tuple[float, float]:
    """``(rtol, atol)`` for comparing ``dtype`` tensors computed on ``device`` in a comparison of ``kind``."""
    if dtype in (torch.bfloat16, torch.float16):
        kind = "half"
    rtol, atol = _TOLERANCES.get((kind, dtype), _TOLERANCES[(kind, torch.float32)] if kind != "half" else (1.6e-2, 1e-2))
    slack = _DEVICE_SLACK.get(torch.device(device).type, 1.0) if dtype == torch.float32 else 1.0
    return rtol * slack, atol * slack


def assert_close(actual, expected, rtol: float | None = None, atol: float | None = None, msg: str = "", kind: str = "layer") -> None:
    """Compare in ``expected``'s dtype with the suite's tolerance for it (explicit ``rtol``/``atol`` win)."""
    device = actual.device if isinstance(actual, torch.Tensor) else DEVICE
    expected = torch.as_tensor(expected).detach().cpu()
    actual = torch.as_tensor(actual).detach().to("cpu", expected.dtype)
    d_rtol, d_atol = tolerance(expected.dtype, kind, device)
    rtol = d_rtol if rtol is None else rtol
    if atol is None:
        scale = expected.abs().max().item() if expected.numel() and expected.is_floating_point() else 0.0
        atol = max(d_atol, rtol * scale) if expected.is_floating_point() else 0.0
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol, msg=lambda m: f"{msg}\n{m}" if msg else m)


@functools.lru_cache(maxsize=None)
def load_json(name: str):
    with open(FIXTURES / name) as f:
        return json.load(f)


@functools.lru_cache(maxsize=None)
def load_tensors(name: str) -> dict[str, torch.Tensor]:
    """A recorded safetensors fixture, its tensors on the test device."""
    return load_file(str(FIXTURES / name), device=str(DEVICE))


def jsonable(value):
    """Tuples -> lists, recursively, to compare our configs with Keras's JSON."""
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def keras_grad(layer, name: str) -> torch.Tensor:
    """The gradient of weight ``name`` in Keras's layout (parameters are stored in the torch kernel's layout)."""
    return layer.weight_spec(name).to_keras(getattr(layer, name).grad)
