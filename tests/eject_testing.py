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

from kerastorch.eject.codegen import identifier

RUNNER = pathlib.Path(__file__).resolve().parent / "eject" / "standalone_runner.py"
REPO = RUNNER.parent.parent.parent


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
