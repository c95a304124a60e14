"""The ``kerastorch`` command line: ``convert`` and ``summary`` (kerastorch/cli.py, ``python -m kerastorch``).

``convert`` is checked against the outputs real Keras recorded for the model files of
compat_fixtures/models (tolerance: the fixture's ``tolerance.rtol``, 1e-5); ``summary`` against the
text real tf.keras 2.21 printed (compat_fixtures/models/summaries.json), character for character.
"""
from __future__ import annotations

import os
import subprocess
import re
import sys

import pytest
import torch

from kerastorch.cli import main
from kerastorch.models import load_model, model_from_config, save_model
from kt_testing import FIXTURES, assert_close, load_json, load_tensors

MODELS_DIR = FIXTURES / "models"
ENTRIES = {e["name"]: e for e in load_json("models/MANIFEST.json")["fixtures"]}
SUMMARIES = [c for c in load_json("models/summaries.json")["cases"]
             if set(c["kwargs"]) <= {"expand_nested", "line_length"}]
REPO = FIXTURES.parent


def _check(model: torch.nn.Module, entry: dict) -> None:
    tensors = load_tensors(f"models/{entry['tensors']}")
    xs = [tensors[i["key"]] for i in entry["inputs"]]
    model.eval()
    with torch.no_grad():
        out = model(xs[0] if len(xs) == 1 else xs)
    outs = [out[n] for n in entry["outputs"]["names"]] if isinstance(out, dict) else (
        list(out) if isinstance(out, (list, tuple)) else [out])
    for got, key in zip(outs, entry["outputs"]["keys"], strict=True):
        assert_close(got, tensors[key], rtol=entry["tolerance"]["rtol"], msg=key)


@pytest.mark.parametrize("source,out", [
    ("unet.tf.h5", "unet.safetensors"), ("nested.k3.keras", "nested.safetensors"),
    ("two_io_dict.tf.keras", "two_io_dict.keras"), ("tf_ops.tf.h5", "tf_ops.safetensors"),
])
def test_convert_keeps_keras_outputs(tmp_path, capsys, source, out):
    entry = ENTRIES[next(n for n, e in ENTRIES.items() if source in e["files"].values())]
    target = tmp_path / out
    assert main(["convert", str(MODELS_DIR / source), str(target)]) == 0
    assert f"Wrote {target}" in capsys.readouterr().out
    _check(load_model(target), entry)
    assert os.listdir(tmp_path) == [out]


@pytest.mark.parametrize("case", SUMMARIES, ids=[f"{c['model']}-{c['kwargs']}" for c in SUMMARIES])
def test_summary_prints_tf_keras_text(tmp_path, capsys, case):
    path = tmp_path / "m.safetensors"
    save_model(model_from_config(case["config"]), path)
    flags = (["--expand-nested"] if case["kwargs"].get("expand_nested") else []) + (
        ["--line-length", str(case["kwargs"]["line_length"])] if "line_length" in case["kwargs"] else [])
    assert main(["summary", str(path), *flags]) == 0
    assert capsys.readouterr().out == case["text"] + "\n"


def test_errors_are_messages_not_tracebacks(tmp_path, capsys):
    lam = str(MODELS_DIR / "lambda_k3.k3.keras")
    out = tmp_path / "x.safetensors"
    assert main(["convert", lam, str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kerastorch convert: error: ") and 'Layer "lam" is a Lambda layer' in err
    assert "Traceback" not in err and not out.exists()
    assert main(["summary", str(tmp_path / "missing.keras")]) == 2
    assert "No such file" in capsys.readouterr().err
    assert main(["convert", str(MODELS_DIR / "cnn_seq.tf.h5"), str(tmp_path / "x.h5")]) == 2
    assert "OUT must end with .safetensors or .keras" in capsys.readouterr().err
    assert main(["convert", str(MODELS_DIR / "tf_ops.tf.h5"), str(tmp_path / "x.keras")]) == 2
    assert "TFOpLambda" in capsys.readouterr().err  # Keras 3 cannot load tf.* op layers
    assert os.listdir(tmp_path) == []
    with pytest.raises(SystemExit) as usage:
        main(["convert", "only-one-argument"])
    assert usage.value.code == 2


def test_no_overwrite_keeps_the_existing_file(tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    out.write_bytes(b"precious")
    assert main(["convert", "--no-overwrite", str(MODELS_DIR / "cnn_seq.tf.h5"), str(out)]) == 2
    assert "overwrite=False" in capsys.readouterr().err
    assert out.read_bytes() == b"precious"
    assert main(["convert", str(MODELS_DIR / "cnn_seq.tf.h5"), str(out)]) == 0
    _check(load_model(out), ENTRIES["cnn_seq.tf_keras"])


@pytest.mark.slow
def test_python_dash_m_and_the_console_script_entry_point(tmp_path):
    out = tmp_path / "conv1d.safetensors"
    run = subprocess.run([sys.executable, "-m", "kerastorch", "convert", str(MODELS_DIR / "conv1d.k3.keras"), str(out)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    _check(load_model(out), ENTRIES["conv1d.keras3"])
    run = subprocess.run([sys.executable, "-m", "kerastorch", "summary", str(out)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and run.stdout.startswith('Model: "') and "Total params:" in run.stdout
    text = (REPO / "pyproject.toml").read_text()  # tomllib is Python 3.11+; the package supports 3.10
    section = re.search(r"^\[project\.scripts\]\n(.*?)(?=^\[|\Z)", text, re.M | re.S)
    assert section and re.search(r'^kerastorch = "kerastorch\.cli:main"$', section.group(1), re.M)
