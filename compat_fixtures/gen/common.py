"""Helpers shared by every fixture generator in ``compat_fixtures/gen/`` (written once, here).

Not run on its own: every generator is run by the single entry point, from the repository root::

    .venv-keras/bin/python compat_fixtures/generate.py

Importing this module sets the environment the generators rely on BEFORE TensorFlow / Keras are
imported (lazily, by :func:`import_tf` / :func:`import_keras3` / :func:`imports`):

* ``KERAS_BACKEND=tensorflow`` (forced): Keras 3 runs on TensorFlow, next to tf.keras;
* ``TF_CPP_MIN_LOG_LEVEL=3`` (default): quiet TensorFlow;
* ``TF_ENABLE_ONEDNN_OPTS=1`` (default): the committed fixtures were recorded with oneDNN on.
  TensorFlow only turns oneDNN on by itself on some CPUs; without it the float32 results differ
  in the last bits and one recorded error differs (eager NCHW Conv2D on the CPU only runs with
  oneDNN), so the files would not be reproduced byte for byte on such a machine.
"""
from __future__ import annotations

import json
import os
import platform
import re

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import numpy as np  # noqa: E402

#: ``compat_fixtures/`` (the default output folder) and the repository root.
FIXTURES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(FIXTURES)


# ----------------------------------------------------------------------------- imports / sessions
def import_tf():
    """``(tf, tf_keras)``, TensorFlow's Python logger set to ERROR."""
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    import tf_keras

    return tf, tf_keras


def import_keras3():
    """Keras 3, checked to run on the TensorFlow backend."""
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError("Keras 3 was imported with backend %r; need 'tensorflow'" % keras.backend.backend())
    return keras


def imports():
    """``(tf, tf_keras, keras)``."""
    tf, tf_keras = import_tf()
    return tf, tf_keras, import_keras3()


def fresh_session(*libs, seed=None):
    """``clear_session()`` in each Keras module of ``libs`` (``tf_keras`` / ``keras``), then, if
    ``seed`` is given, ``lib.utils.set_random_seed(seed)`` in each (Python, NumPy and the library's
    global seed).  A fresh session makes auto-generated layer names independent of what ran
    before in the process."""
    for lib in libs:
        lib.backend.clear_session()
    if seed is not None:
        for lib in libs:
            lib.utils.set_random_seed(seed)


def versions(*names):
    """``{name: version}`` for the requested names, in the order given."""
    def get(name):
        if name == "tensorflow":
            import tensorflow as tf

            return tf.__version__
        if name == "tf_keras":
            return import_tf()[1].__version__
        if name == "keras":
            return import_keras3().__version__
        if name == "keras_backend":
            return import_keras3().backend.backend()
        if name == "numpy":
            return np.__version__
        if name == "python":
            return platform.python_version()
        if name in ("h5py", "safetensors"):
            return __import__(name).__version__
        raise KeyError(name)

    return {name: get(name) for name in names}


# ----------------------------------------------------------------------------- JSON / safetensors
def jsonable(o):
    """Configs, shapes, NumPy / TF values -> JSON-safe Python (tuples -> lists; NaN / +-inf ->
    the strings "NaN" / "Infinity" / "-Infinity"; unknown objects -> ``{"__repr__": ...}``)."""
    if o is None or isinstance(o, (bool, str)):
        return o
    if isinstance(o, (int, np.integer)) and not isinstance(o, bool):
        return int(o)
    if isinstance(o, (float, np.floating)):
        f = float(o)
        if np.isnan(f):
            return "NaN"
        if np.isinf(f):
            return "Infinity" if f > 0 else "-Infinity"
        return f
    if isinstance(o, np.bool_):
        return bool(o)
    if isinstance(o, dict):
        return {str(k): jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [jsonable(v) for v in o]
    if isinstance(o, np.ndarray):
        return jsonable(o.tolist())
    # tensors / TensorShape / dtypes / anything else
    if hasattr(o, "numpy"):
        try:
            return jsonable(np.asarray(o.numpy()))
        except Exception:  # pragma: no cover
            pass
    if hasattr(o, "as_list"):
        try:
            return jsonable(o.as_list())
        except Exception:  # pragma: no cover
            pass
    return {"__repr__": clean_message(repr(o))}


def write_json(path, obj, newline=True):
    """``jsonable(obj)`` as JSON with ``indent=1`` (NaN refused); ``newline``: end the file with
    "\\n" (``keras_files.json`` has always been written without one)."""
    with open(path, "w") as f:
        json.dump(jsonable(obj), f, indent=1, allow_nan=False)
        if newline:
            f.write("\n")


def save_safetensors(tensors, path, metadata=None):
    """Write ``{name: array}`` (made contiguous) with safetensors, mode 0644.

    ``metadata`` should hold at most one key: safetensors writes a multi-key metadata map in
    hash order, which would make the file non-reproducible.
    """
    from safetensors.numpy import save_file

    assert metadata is None or len(metadata) <= 1, metadata
    clean = {k: np.ascontiguousarray(v) for k, v in sorted(tensors.items())}
    save_file(clean, path, metadata=metadata)
    os.chmod(path, 0o644)


def shape_list(shape):
    """A (possibly partially known) shape as a list, ``None`` for an unknown rank."""
    import tensorflow as tf

    ts = tf.TensorShape(shape)
    return None if ts.rank is None else ts.as_list()


def shape_tag(shape):
    """``(3, 4)`` -> ``"3x4"``; ``()`` -> ``"scalar"``."""
    return "x".join(str(int(d)) for d in shape) if len(shape) else "scalar"


def to_numpy(t):
    return np.asarray(t.numpy() if hasattr(t, "numpy") else t)


# ----------------------------------------------------------------------------- error recording
_ADDR_RE = re.compile(r" at 0x[0-9a-fA-F]+")
_SET_OF_STRINGS = re.compile(r"\{'[^'{}]*'(?:, '[^'{}]*')+\}")


def clean_message(msg):
    """A message / repr made reproducible: memory addresses (`` at 0x7f..``) become
    `` at 0x...`` and multi-element set-of-string literals are written sorted (Keras 3 formats
    allowed values as a Python set, e.g. "{'valid', 'same'}", whose order depends on the
    per-process string hash seed)."""
    def _sort(m):
        items = re.findall(r"'[^']*'", m.group(0))
        return "{" + ", ".join(sorted(items)) + "}"

    return _SET_OF_STRINGS.sub(_sort, _ADDR_RE.sub(" at 0x...", str(msg)))


def error_text(e):
    """``"ValueError: <clean message>"``."""
    return "%s: %s" % (type(e).__name__, clean_message(e))


def try_call(fn):
    """``(error type name, clean message, None)`` if ``fn()`` raises, else ``(None, None, fn())``."""
    try:
        out = fn()
        return None, None, out
    except Exception as e:  # noqa: BLE001
        return type(e).__name__, clean_message(e), None
