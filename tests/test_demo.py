"""The README's main demo runs: a real tf.keras file loads, matches Keras's predictions, fine-tunes, saves and reloads."""
import importlib.util
import os

DEMO = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demo", "finetune_keras_model.py")


def test_finetune_demo_runs_and_learns(capsys):
    spec = importlib.util.spec_from_file_location("finetune_keras_model", DEMO)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    accuracy = demo.main(epochs=1)  # exits (SystemExit) if predictions differ from Keras's or a reload differs
    out = capsys.readouterr().out
    assert "accuracy as loaded: 0.4956 (tf.keras reported 0.4956)" in out
    assert "same predictions = True" in out and "same predictions = False" not in out
    assert accuracy > 0.7  # one epoch of Adam from Keras's 2-epoch weights (0.50) reaches about 0.82
