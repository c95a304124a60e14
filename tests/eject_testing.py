"""Shared by the eject tests: record a kerastorch model's outputs (and a training step) for a case, then run every
case's ejected ``model.py`` in one fresh process where kerastorch cannot be imported (``standalone_runner.py``)."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import torch
from safetensors.torch import load_file, save_file

from kt_testing import assert_close

from kerastorch.eject.codegen import identifier

RUNNER = pathlib.Path(__file__).resolve().parent / "eject" / "standalone_runner.py"
REPO = RUNNER.parent.parent.parent


def _nested(out) -> list:
    return [t for v in out for t in _nested(v)] if isinstance(out, (list, tuple)) else [out]


def assert_standalone_outputs(case: dict, name: str, rtol: float | None = None, atol: float | None = None,
                              keras_atol: float | None = None) -> None:
    """The standalone run's eval outputs of ``case`` (``run_standalone``): as many as the kerastorch model gave, each
    with its dtype and shape, equal to kerastorch's (integers exactly; floats to ``rtol``, default the case's, and
    ``atol`` times the output's largest magnitude (at least 1) where given) and to the recorded Keras outputs (the
    case's rtol, ``keras_atol``; dtypes as recorded in ``case["dtypes"]`` where the case has them)."""
    res = case["result"]
    loaded = _nested(case["loaded"])
    assert len([k for k in res if k.startswith("out")]) == len(loaded), name
    assert len(case["expected"]) <= len(loaded), name  # hand-built models: kerastorch's outputs only
    rtol = case.get("rtol") if rtol is None else rtol
    for i, want in enumerate(loaded):
        got = res[f"out{i}"]
        assert got.dtype == want.dtype and tuple(got.shape) == tuple(want.shape), (name, i, got.dtype, want.dtype,
                                                                                      tuple(got.shape))
        if not want.dtype.is_floating_point:
            assert torch.equal(got, want.cpu()), f"{name} output {i} vs kerastorch"
            continue
        scaled = None if atol is None else atol * max(1.0, float(want.abs().max()))
        assert_close(got, want, rtol=rtol, atol=scaled, msg=f"{name} output {i} vs kerastorch")
    for i, want in enumerate(case["expected"]):
        got = res[f"out{i}"]
        assert tuple(got.shape) == tuple(want.shape), (name, i, tuple(got.shape), tuple(want.shape))
        if "dtypes" in case:
            assert str(got.dtype) == f"torch.{case['dtypes'][i]}", (name, i, got.dtype)
        assert_close(got, want, rtol=case.get("rtol"), atol=keras_atol, msg=f"{name} output {i} vs Keras")


def _flat(out, names=None):
    if isinstance(out, dict):
        return [out[n] for n in names] if names else list(out.values())
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _layer_norms(model: torch.nn.Module, grad: bool) -> dict[str, float]:
    """Per Keras layer: the norm of its parameters' gradients (or of its float buffers)."""
    out = {}
    for module in model.modules():
        if getattr(module, "_kt_is_model", False) or not hasattr(module, "name"):
            continue
        items = module.named_parameters(recurse=False) if grad else module.named_buffers(recurse=False)
        tensors = [t.grad if grad else t for _, t in items]
        tensors = [t for t in tensors if t is not None and t.is_floating_point()]
        if tensors:
            out[identifier(module.name)] = sum(float(t.double().square().sum()) for t in tensors) ** 0.5
    return out


def _grad_input(x: torch.Tensor) -> torch.Tensor:
    """A copy of input ``x`` that takes a gradient when it is floating (token ids and other integers cannot)."""
    return x.clone().requires_grad_(True) if x.is_floating_point() else x


def record(name: str, model: torch.nn.Module, xs: list, expected: list, rtol: float, out_dir: pathlib.Path,
            job: dict, names: list | None = None) -> dict:
    """Run the kerastorch model (eval; and a training step for a grad case) and store the inputs for the runner."""
    model.eval()
    with torch.no_grad():
        loaded = _flat(model(xs[0] if len(xs) == 1 else list(xs)), names)
    save_file({f"x{i}": x.contiguous() for i, x in enumerate(xs)}, str(out_dir / "case.safetensors"))
    case = {"name": name, "dir": str(out_dir), "expected": expected, "loaded": loaded, "rtol": rtol}
    if job.get("grad"):
        model.train()
        xg = [_grad_input(x) for x in xs]  # integer token inputs take no gradient
        loss = sum(o.square().sum() for o in _flat(model(xg[0] if len(xg) == 1 else xg), names))
        loss.backward()
        case["grad_x"] = [x.grad if x.requires_grad else None for x in xg]
        case["gnorm"], case["bnorm"] = _layer_norms(model, True), _layer_norms(model, False)
        model.eval()
    case["job"] = {"name": identifier(name), "dir": str(out_dir), "n_inputs": len(xs), "names": names, **job}
    return case


def run_standalone(root: pathlib.Path, cases: dict[str, dict]) -> dict[str, dict]:
    """Run every case's ejected model in one ``python -I`` process; each case gets its ``result`` tensors."""
    jobs = root / "jobs.json"
    jobs.write_text(json.dumps([c["job"] for c in cases.values()]))
    proc = subprocess.run([sys.executable, "-I", str(RUNNER), str(jobs), str(REPO)],
                          capture_output=True, text=True, cwd=str(root), timeout=600)
    assert proc.returncode == 0 and "standalone ok" in proc.stdout, proc.stdout + proc.stderr
    for case in cases.values():
        case["result"] = load_file(os.path.join(case["dir"], "result.safetensors"))
    return cases
