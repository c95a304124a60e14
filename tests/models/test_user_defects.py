"""Torch tools on models loaded from real Keras files, as a new user tries them (issue 26, items 11-13, 18).

Models: compat_fixtures/models (written by real tf.keras 2.21 / Keras 3.15.1, with the outputs Keras
computed): ``cnn_seq`` (a Sequential CNN with BatchNormalization), ``two_io`` (two inputs, two outputs)
and ``nested`` (a Functional holding a sub-model). The README claims ``torch.jit.trace``, ONNX export and
autocast work; each claim is checked against Keras's recorded outputs.
"""
from __future__ import annotations

import contextlib
import io
import signal
import warnings

import numpy as np
import onnxruntime as ort
import pytest
import torch

import kerastorch as kt
from kerastorch.cli import main as cli_main
from kt_testing import FIXTURES, assert_close, load_json, load_tensors

ENTRIES = {e["name"]: e for e in load_json("models/MANIFEST.json")["fixtures"]}
MODELS = {"cnn_seq": "cnn_seq.tf_keras", "two_io": "two_io.tf_keras", "nested": "nested.keras3"}


def _fixture(model: str) -> tuple[torch.nn.Module, list[torch.Tensor], list[torch.Tensor]]:
    """A freshly loaded model (never called), its inputs and Keras's outputs."""
    entry = ENTRIES[MODELS[model]]
    files = entry["files"]
    loaded = kt.models.load_model(str(FIXTURES / "models" / files.get("h5", files.get("keras")))).eval()
    tensors = load_tensors(f"models/{entry['tensors']}")
    return loaded, [tensors[i["key"]] for i in entry["inputs"]], [tensors[k] for k in entry["outputs"]["keys"]]


def _as_list(out) -> list[torch.Tensor]:
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _args(xs: list[torch.Tensor]) -> tuple:
    return (xs[0],) if len(xs) == 1 else (xs,)


# ----- item 11: torch.jit.trace of a fresh model -----
@pytest.mark.parametrize("model", sorted(MODELS))
def test_jit_trace_of_a_fresh_model_checks_and_computes_what_keras_does(model):
    fresh, xs, expected = _fixture(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # shapes become constants: Keras's too
        traced = torch.jit.trace(fresh, _args(xs), check_trace=True)  # runs twice, compares the graphs
        with torch.no_grad():
            for got, want in zip(_as_list(traced(*_args(xs))), expected, strict=True):
                assert_close(got, want, kind="graph")
        called, _, _ = _fixture(model)
        with torch.no_grad():
            called(*_args(xs))  # an eager call first: the trace must not depend on it
        again = torch.jit.trace(called, _args(xs))
    assert again.code == traced.code


# ----- item 12: a one-element list into a Sequential -----
def test_sequential_takes_a_one_element_list_as_keras_does():
    model, (x,), (want,) = _fixture("cnn_seq")
    with torch.no_grad():
        out = model([x])
    assert isinstance(out, torch.Tensor)
    assert_close(out, want)
    with torch.no_grad():
        assert torch.equal(model((x,)), out)
    with pytest.raises(ValueError, match=f'"{model.name}".*1 input.*2'):
        model([x, x])


# ----- item 13: both ONNX exporters on Functional models -----
def _run_onnx(data: bytes, xs: list[torch.Tensor]) -> list[np.ndarray]:
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(None, {i.name: x.numpy() for i, x in zip(session.get_inputs(), xs)})


@pytest.mark.parametrize("model", sorted(MODELS))
def test_legacy_onnx_exporter_reproduces_keras(model):
    loaded, xs, expected = _fixture(model)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's TracerWarnings and deprecation notice
        torch.onnx.export(loaded, _args(xs), buffer, dynamo=False, opset_version=17)
    outs = _run_onnx(buffer.getvalue(), xs)
    for got, want in zip(outs, expected, strict=True):
        assert_close(torch.from_numpy(got), want, kind="graph")


@pytest.mark.slow
def test_dynamo_onnx_exporter_on_a_nested_functional_model():
    loaded, xs, expected = _fixture("nested")
    program = torch.onnx.export(loaded, _args(xs), dynamo=True, opset_version=18, verbose=False)
    data = program.model_proto.SerializeToString()
    for got, want in zip(_run_onnx(data, xs), expected, strict=True):
        assert_close(torch.from_numpy(got), want, kind="graph")


# ----- item 18: the README's autocast claim -----
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_autocast_on_cpu_computes_what_keras_does_in_half_precision(dtype):
    model, xs, expected = _fixture("cnn_seq")
    with torch.autocast("cpu", dtype=dtype), torch.no_grad():
        out = model(*_args(xs))
    assert out.dtype in (dtype, torch.float32)  # softmax runs in float32 under CPU autocast
    assert_close(out.float(), expected[0], rtol=3e-2, atol=3e-2)  # conv/dense in half precision
    model.train()
    with torch.autocast("cpu", dtype=dtype):
        model(*_args(xs)).float().sum().backward()
    assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in model.parameters())


# ----- item 14: summary widths and the command line's arguments -----
@contextlib.contextmanager
def _deadline(seconds: int):
    """Fail instead of hanging (summary used to loop forever on narrow tables)."""
    def expire(*_):
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("model", ["cnn_seq", "nested"])
def test_summary_answers_for_any_width_and_positions(model):
    loaded, _, _ = _fixture(model)
    wide = loaded.summary(print_fn=lambda line: None)
    tries = [{"line_length": n} for n in (-5, 1, 8, 9, 12, 20)]
    tries += [{"line_length": 40, "positions": p} for p in ([0.5, 0.5, 0.7, 1.0], [0.0, 0.0, 0.0, 0.0], [0.7, 0.5, 1.0],
                                                            [2, 3, 4, 5], [0.1, 0.2])]
    tries += [{"line_length": 30, "expand_nested": True}]
    with _deadline(20):
        for kwargs in tries:
            try:
                text = loaded.summary(print_fn=lambda line: None, **kwargs)
            except ValueError as e:  # refused: says which argument and why
                assert any(k in str(e) for k in ("line_length", "positions")), (kwargs, e)
            else:
                assert isinstance(text, str) and text.count("\n") < 10 * wide.count("\n"), kwargs
    assert loaded.summary(print_fn=lambda line: None) == wide


def test_cli_refuses_bad_arguments_in_one_line(tmp_path, capsys):
    for bad in ("0", "-3", "abc", "2.5"):
        with pytest.raises(SystemExit) as exit_:
            cli_main(["summary", "m.keras", "--line-length", bad])
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--line-length" in err and repr(bad) in err
    with pytest.raises(SystemExit) as exit_:
        cli_main(["summary"])
    assert exit_.value.code == 2 and capsys.readouterr().err.count("\n") == 1


def test_cli_summary_with_a_narrow_table_exits_2_in_one_line(capsys):
    path = str(FIXTURES / "models" / "cnn_seq.tf.h5")
    with _deadline(60):
        for width in ("8", "3"):
            assert cli_main(["summary", path, "--line-length", width]) == 2
            out, err = capsys.readouterr()
            assert out == "" and err.count("\n") == 1 and f"line_length={width}" in err, err
        assert cli_main(["summary", path, "--line-length", "40"]) == 0


# ----- docs note: model.layers of a Keras 3 model with keras.ops nodes -----
def test_model_layers_lists_op_nodes_and_keras_3_layers_are_the_others():
    # Decision (README, "Models"): op nodes are torch submodules the graph runs, so model.layers lists them in
    # the file's order (as tf.keras lists its TFOpLambda layers); Keras 3's own model.layers omits its
    # keras.ops Operations: they are the layers that are not kt.models.OpLayer.
    entry = ENTRIES["k3_ops.keras3"]
    model = kt.models.load_model(str(FIXTURES / "models" / entry["files"]["keras"]))
    written = entry["keras3_config"]["layers"]
    assert [layer.name for layer in model.layers] == [e["config"]["name"] for e in written]
    keras3_layers = [e["config"]["name"] for e in written if e["module"] == "keras.layers"]
    assert [l.name for l in model.layers if not isinstance(l, kt.models.OpLayer)] == keras3_layers
    assert model.get_layer("add").op == "k3:Add"


# ----- docs note: NumPy input, as Keras takes it -----
@pytest.mark.parametrize("model", ["cnn_seq", "two_io"])
def test_numpy_inputs_are_taken_as_keras_takes_them(model):
    loaded, xs, expected = _fixture(model)
    arrays = [x.numpy() for x in xs]
    with torch.no_grad():
        outs = _as_list(loaded(arrays[0] if len(arrays) == 1 else arrays))
        if len(arrays) > 1:  # a dict by input name
            assert torch.equal(_as_list(loaded(dict(zip(loaded.input_names, arrays))))[0], outs[0])
    for got, want in zip(outs, expected, strict=True):
        assert isinstance(got, torch.Tensor)
        assert_close(got, want)
    dense = kt.layers.Dense(2)
    assert dense(np.zeros((1, 3))).dtype == torch.float32  # float64 data autocast to the layer's float32, as Keras
    with pytest.raises(ValueError, match='"dense.*torch.Tensor'):
        dense([[1.0, 2.0, 3.0]])  # a nested Python list stays refused (Keras converts it; see the README)
