"""Regenerate every tf.keras compatibility fixture in this folder.

The fixtures are recorded from the REAL tf.keras (the ``tf_keras`` package,
TensorFlow 2.21 / tf-keras 2.21; Keras 3.15 is only used to record Keras 3
error messages next to the tf.keras ones).  kerastorch's tests only read the
recorded files; they never need TensorFlow.

Create the reference environment once (from the repository root)::

    python3 -m venv .venv-keras && .venv-keras/bin/pip install tensorflow-cpu==2.21.0 tf-keras==2.21.0 keras==3.15.1 safetensors h5py

then regenerate with::

    .venv-keras/bin/python compat_fixtures/generate.py

Generators (each exposes ``main(out_dir)`` and writes into ``out_dir``, which
is this folder):

* ``gen_conv.py`` -- Conv2D forward/backward cases (``conv2d_cases.json`` +
  ``conv2d_tensors.safetensors``) and constructor/build/call error cases
  (``conv2d_errors.json``).  See its module docstring for the exact formats.
* ``gen_components.py`` -- fixtures for the other components (activations,
  initializers, regularizers, constraints, ...); skipped with a message if that
  file does not exist yet.

All generators are seeded; the output is deterministic run-to-run.
"""

import importlib
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATORS = ["gen_conv", "gen_components", "gen_keras_files"]  # gen_keras_files runs the kerastorch venv ($KERASTORCH_PYTHON or .venv) for its proof step


def main(out_dir=HERE):
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    results = {}
    for name in GENERATORS:
        if not os.path.exists(os.path.join(HERE, name + ".py")):
            print(f"[generate] {name}.py not found -- skipped")
            continue
        t0 = time.time()
        mod = importlib.import_module(name)  # imported lazily, one at a time
        results[name] = mod.main(out_dir)
        print(f"[generate] {name} done in {time.time() - t0:.1f}s")
    print(f"[generate] fixtures written to {out_dir}")
    return results


if __name__ == "__main__":
    main()
