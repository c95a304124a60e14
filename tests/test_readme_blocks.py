"""Every code block of README.md and docs/*.md runs as written (issue 26, item 17).

Python blocks run one by one, each in a fresh namespace (so a missing import fails), in a temporary folder
holding small stand-ins for the files they name (model files written by real Keras, from
compat_fixtures/models) and for the user's own data (``STAND_INS``: tensors, and a ``keras_model`` whose
``to_json`` is a config written by real tf.keras). Shell blocks set up environments and run the suite or
the generators; they are checked command by command: every script and extra they name exists, every
generator named with ``--only`` is registered; an unknown command fails the test.
"""
from __future__ import annotations

import ast
import json
import re
import shlex
import shutil
import tomllib
import types

import numpy as np
import pytest
import torch

from kt_testing import FIXTURES, load_json

REPO = FIXTURES.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)

# Files the blocks name -> the real Keras file that stands in for it.
FILES = {"model.h5": "models/cnn_seq.tf.h5", "resnet.keras": "models/cnn_seq.k3.keras",
         "model.keras": "models/cnn_seq.k3.keras",
         "imdb_bilstm.h5": "rnn/models/text_classifier.tf.h5"}  # Embedding(mask_zero) -> Bidirectional(LSTM) -> Dense
# Folders the blocks name -> a real tf.keras SavedModel directory / checkpoint (compat_fixtures/tf_formats).
DIRS = {"my_model": "tf_formats/text.savedmodel", "ckpts": "tf_formats/text.ckpt"}


def _stand_ins() -> dict:
    """The user's own objects the blocks use without defining them."""
    config = next(c["config"] for c in load_json("models/summaries.json")["cases"] if c["model"] == "cnn_seq")
    text = config if isinstance(config, str) else json.dumps(config)
    return {
        "images_nhwc": torch.rand(2, 8, 8, 3),  # what model.h5 (cnn_seq) takes
        "padded_token_ids": np.array([[4, 7, 2, 0, 0, 0], [9, 3, 5, 8, 1, 0]]),  # what imdb_bilstm.h5 takes
        "x": torch.rand(4, 28, 28, 1),
        "y": torch.randint(0, 10, (4,)),
        "keras_model": types.SimpleNamespace(to_json=lambda: text),  # a tf.keras model, as its config
    }


def _blocks(lang: set[str]) -> list:
    out = []
    for doc in DOCS:
        text = doc.read_text()
        for m in BLOCK.finditer(text):
            if m.group(1) in lang:
                line = text[: m.start()].count("\n") + 1
                out.append(pytest.param(m.group(2), id=f"{doc.name}:{line}"))
    return out


PYTHON = _blocks({"python", "py"})
SHELL = _blocks({"bash", "sh", "shell", "console"})


def test_every_block_is_checked():
    assert len(PYTHON) >= 3 and len(SHELL) >= 3
    languages = {m.group(1) for doc in DOCS for m in BLOCK.finditer(doc.read_text())}
    assert languages <= {"python", "py", "bash", "sh", "shell", "console", "text", ""}, languages


@pytest.mark.parametrize("code", PYTHON)
def test_python_block_runs(code, tmp_path, monkeypatch, capsys):
    for name, source in FILES.items():
        if name in code:
            shutil.copy(FIXTURES / source, tmp_path / name)
    for name, source in DIRS.items():
        if f'"{name}' in code:
            shutil.copytree(FIXTURES / source, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__readme__", **_stand_ins()}
    exec(compile(code, "<README block>", "exec"), namespace)  # noqa: S102 - the repository's own docs


def _generators() -> list[str]:
    tree = ast.parse((REPO / "compat_fixtures" / "generate.py").read_text())
    node = next(n for n in tree.body if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "GENERATORS")
    return ast.literal_eval(node.value)


def _check_command(words: list[str], comment: str) -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    extras = pyproject["project"]["optional-dependencies"]
    program, args = words[0], words[1:]
    if program == "python3" and args[:2] == ["-m", "venv"]:
        assert args[2] in (".venv", ".venv-keras"), words
    elif program.endswith("/pip") and args[0] == "install":
        for arg in args[1:]:
            m = re.fullmatch(r'-e\s*"?\.(?:\[(\w+)\])?"?|-e', arg)
            if arg.startswith(".["):
                m = re.fullmatch(r"\.\[(\w+)\]", arg)
            if m and m.groups() and m.group(1):
                assert m.group(1) in extras, f"pip extra [{m.group(1)}] is not in pyproject.toml"
    elif program.endswith("/lint-imports"):  # import-linter's CLI, from the test extra (contracts: pyproject.toml)
        assert any(d.startswith("import-linter") for d in extras["test"]), "import-linter is not in the [test] extra"
    elif program.endswith("/python"):
        if args[:2] == ["-m", "pytest"]:
            return
        if args[0] == "-c":  # inline code: it must at least compile
            compile(args[1], "<-c>", "exec")
            return
        if args[:2] == ["-m", "kerastorch"]:
            assert args[2] in ("convert", "summary"), words
            return
        script = REPO / args[0]
        assert script.is_file(), f"{args[0]} does not exist"
        names = re.findall(r"--only\s+([\w,]+)", " ".join(args) + " " + comment)
        for name in ",".join(names).split(","):
            assert not name or name in _generators(), f"--only {name}: no such generator"
    else:
        raise AssertionError(f"unknown command in a README block: {' '.join(words)}")


@pytest.mark.parametrize("code", SHELL)
def test_shell_block_names_what_exists(code):
    for line in code.strip().splitlines():
        command, _, comment = line.partition("#")
        for part in command.split("&&"):
            if part.strip():
                _check_command(shlex.split(part), comment)
