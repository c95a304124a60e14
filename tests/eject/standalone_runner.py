"""Runs ejected ``model.py`` files in a process where kerastorch cannot be imported (the proof that an ejected
model needs torch only). Started by ``test_eject.py`` as ``python -I standalone_runner.py JOBS.json REPO``.

For each job (a directory holding ``model.py``, ``model.safetensors`` and ``case.safetensors`` with the inputs):
``py_compile`` the file, import it, ``load()`` the weights, run it in eval mode; with ``grad``: one training step's
forward + backward (its outputs, input gradients, per-module gradient and buffer norms; ``seed``: torch's seed
before that forward); with ``export``: torch.compile
(fullgraph=True), torch.export and ONNX (onnxruntime) outputs. Results go to ``result.safetensors`` beside the
model; the test compares them.
"""
import importlib.util
import json
import os
import py_compile
import sys

repo = os.path.realpath(sys.argv[2])
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in str(getattr(f, "__module__", ""))
                    and "editable" not in str(getattr(f, "__name__", ""))]
# the venv may live inside the repo: drop only the repo root and its source folders
sys.path[:] = [p for p in sys.path if p and os.path.realpath(p) not in (repo, os.path.join(repo, "tests"))]
try:
    import kerastorch  # noqa: F401
except ImportError:
    pass
else:
    raise SystemExit("kerastorch is importable in the standalone process")

import torch  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402


def flat(out, names=None):
    if isinstance(out, dict):
        return [out[n] for n in names] if names else list(out.values())
    if isinstance(out, (list, tuple)):
        return list(out)
    return [out]


def norms(named, grad):
    by_module = {}
    for name, t in named:
        t = t.grad if grad else t
        if t is None or not t.is_floating_point():
            continue
        key = name.split(".")[0]
        by_module[key] = by_module.get(key, 0.0) + float(t.double().square().sum())
    return {k: torch.tensor(v ** 0.5) for k, v in by_module.items()}


def run(job):
    d = job["dir"]
    py_compile.compile(os.path.join(d, "model.py"), doraise=True)
    spec = importlib.util.spec_from_file_location(f"ejected_{job['name']}", os.path.join(d, "model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert "kerastorch" not in sys.modules
    net = module.load()
    data = load_file(os.path.join(d, "case.safetensors"))
    literal = job.get("literal", {})  # inputs that are no tensors (string columns: lists of str), in the job itself
    xs = [literal[str(i)] if str(i) in literal else data[f"x{i}"] for i in range(job["n_inputs"])]
    res = {}
    with torch.no_grad():
        for i, o in enumerate(flat(net(*xs), job['names'])):
            res[f"out{i}"] = o
    if job.get("grad"):
        net.train()
        # floating inputs take a gradient; integer token ids and string columns cannot
        xg = [x.clone().requires_grad_(True) if isinstance(x, torch.Tensor) and x.is_floating_point() else x
              for x in xs]
        if job.get("seed") is not None:  # dropout: the same draws as the kerastorch model's under this seed
            torch.manual_seed(job["seed"])
        outs = flat(net(*xg), job['names'])
        res.update({f"train_out{i}": o for i, o in enumerate(outs)})
        loss = sum(o.square().sum() for o in outs)
        loss.backward()
        for i, x in enumerate(xg):
            if isinstance(x, torch.Tensor) and x.requires_grad:
                res[f"grad_x{i}"] = x.grad
        res.update({f"gnorm:{k}": v for k, v in norms(net.named_parameters(), True).items()})
        res.update({f"bnorm:{k}": v for k, v in norms(net.named_buffers(), False).items()})
        net.eval()
    if job.get("export"):
        compiled = torch.compile(net, fullgraph=True, backend="eager")
        with torch.no_grad():
            for i, o in enumerate(flat(compiled(*xs), job['names'])):
                res[f"compiled{i}"] = o
        exported = torch.export.export(net, tuple(xs))
        with torch.no_grad():
            for i, o in enumerate(flat(exported.module()(*xs), job['names'])):
                res[f"exported{i}"] = o
        if job.get("onnx"):
            import onnxruntime

            path = os.path.join(d, "model.onnx")
            # the TorchScript exporter: seconds faster than dynamo=True here (tests/models covers dynamo=True)
            torch.onnx.export(net, tuple(xs), path, dynamo=False)
            session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
            feeds = {i.name: x.numpy() for i, x in zip(session.get_inputs(), xs)}
            for i, o in enumerate(session.run(None, feeds)):
                res[f"onnx{i}"] = torch.from_numpy(o)
    # clone: outputs may be views of one tensor (slices, reshapes), which safetensors refuses to save together
    save_file({k: v.detach().clone(memory_format=torch.contiguous_format) for k, v in res.items()}, os.path.join(d, "result.safetensors"))


import time  # noqa: E402

for job in json.load(open(sys.argv[1])):
    start = time.process_time()
    run(job)
    print(f"{job['name']}: {time.process_time() - start:.2f}s cpu", file=sys.stderr)
print("standalone ok")
