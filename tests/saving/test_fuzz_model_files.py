"""The model-file mutation fuzzer in CI: a fixed seed, a few hundred mutants, none BAD.

``model_fuzzer.py`` derives mutants from small valid ``.h5``/``.keras`` files written by real Keras and
``.safetensors`` written by ``save_model``, loads each in a memory-limited child process and calls the
model; a mutant is BAD when loading raises anything but a ``ValueError``/``OSError`` naming the file,
crashes, hangs, runs out of memory, fails at the first call, modifies the file, or when the CLI does
not refuse it with status 2 and one line. The long run is ``benchmarks/fuzz_model_files.py``.
"""
from __future__ import annotations

import io
import os
import zipfile

import torch

import kerastorch as kt
from saving import model_fuzzer

COUNT = 200
SEED = 25


def test_fixed_seed_mutants_are_all_loaded_or_refused_cleanly():
    results = model_fuzzer.run(COUNT, seed=SEED, workers=2, inflate_every=100)
    summary = model_fuzzer.summarize(results)
    assert len(results) == COUNT
    assert not summary["bad"], "\n".join(f"{why}: {examples[:3]}" for why, examples in summary["bad"].items())
    # the mutants exercise both outcomes: not all refused, not all loading
    assert summary["counts"].get("OK", 0) > COUNT // 10 and summary["counts"].get("REFUSED", 0) > COUNT // 2


def test_the_harness_calls_the_model_and_flags_an_error_at_the_first_call(tmp_path, monkeypatch):
    path = tmp_path / "m.h5"
    path.write_bytes(open(os.path.join(model_fuzzer.MODELS, "tf_ops.tf.h5"), "rb").read())
    assert model_fuzzer.classify(str(path)) == {"outcome": "OK"}
    real = kt.models.load_model

    def broken_at_call(p):
        model = real(p)
        model.forward = lambda *a, **k: torch.zeros(()).view(-1, 7)  # a RuntimeError from torch
        return model

    monkeypatch.setattr(kt.models, "load_model", broken_at_call)
    result = model_fuzzer.classify(str(path))
    assert result["outcome"] == "BAD" and result["why"] == "RuntimeError at first call"


def test_the_inflating_archive_is_small_with_honest_headers():
    seed = next(s for s in model_fuzzer.load_seeds(None, safetensors=False) if s.kind == "keras")
    members = model_fuzzer.read_archive(seed.data)
    data = model_fuzzer.inflating_archive(members, "model.weights.h5", 2**30)
    assert len(data) < 4 * 2**20
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo("model.weights.h5")
        assert info.file_size == len(members["model.weights.h5"]) + 2**30
        with z.open(info) as member:  # the stream really inflates: its start is the real weights member
            assert member.read(len(members["model.weights.h5"])) == members["model.weights.h5"]
