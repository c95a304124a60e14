"""The README's demos run: a real tf.keras file loads, matches Keras's predictions, fine-tunes, saves and
reloads (finetune_keras_model.py); a kerastorch CNN trains with regularizers and constraints and saves its
weights (train_digits.py). Both write their files into ``--out`` (default ``./demo_out``, git-ignored)."""
import importlib.util
import os

DEMOS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demo")


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, os.path.join(DEMOS, f"{name}.py"))
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    return demo


def test_finetune_demo_runs_and_learns(capsys, tmp_path):
    accuracy = _load("finetune_keras_model").main(epochs=1, out_dir=str(tmp_path / "out"))
    out = capsys.readouterr().out  # exits (SystemExit) if predictions differ from Keras's or a reload differs
    assert "accuracy as loaded: 0.4956 (tf.keras reported 0.4956)" in out
    assert "same predictions = True" in out and "same predictions = False" not in out
    assert accuracy > 0.7  # one epoch of Adam from Keras's 2-epoch weights (0.50) reaches about 0.82
    assert sorted(os.listdir(tmp_path / "out")) == ["digits_cnn.keras", "digits_cnn.safetensors"]
    assert f"wrote {tmp_path / 'out' / 'digits_cnn.keras'}" in out  # the path the user can open


def test_train_digits_demo_writes_its_files_where_it_says(capsys, tmp_path):
    accuracy = _load("train_digits").main(epochs=1, out_dir=str(tmp_path / "out"))
    out = capsys.readouterr().out
    files = sorted(os.listdir(tmp_path / "out"))
    assert files == ["digits.safetensors", "digits_convs.weights.h5"]
    for name in files:
        assert f"wrote {tmp_path / 'out' / name} (" in out
    assert "predictions identical = True" in out and accuracy > 0.5
