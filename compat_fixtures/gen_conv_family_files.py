"""Record real Keras weight files of the convolution family models (one per family) for the tests.

Run from the repository root in the reference venv (TensorFlow 2.21, tf-keras 2.21, Keras 3.15.1)::

    .venv-keras/bin/python compat_fixtures/gen_conv_family_files.py [OUT_DIR]

The layers are ``prove_h5_weights.py``'s family models (a) Conv2D + Conv2DTranspose + UpSampling2D +
ZeroPadding2D + Cropping2D, (b) DepthwiseConv2D + SeparableConv2D (both data formats), (c) Conv1D +
Conv1DTranspose + UpSampling1D + DepthwiseConv1D + SeparableConv1D and (d) Conv3D + Conv3DTranspose +
UpSampling3D + ZeroPadding3D + Cropping3D (channels_last), on smaller inputs. Each model is built in
tf.keras 2.21 and in Keras 3 with the same seeded weights (kernels N(0, 0.4^2), biases N(0, 0.5^2)).

Written into ``OUT_DIR/keras_files/`` (default: this folder):

* ``<model>.tf_weights.h5`` -- tf.keras ``model.save_weights('x.h5')`` (legacy HDF5, weight names)
* ``<model>.k3.weights.h5`` -- Keras 3 ``model.save_weights('x.weights.h5')`` (paths by class)
* ``b_depthwise_separable2d_nhwc.k3_full.h5`` -- Keras 3 ``model.save('x.h5')`` (legacy HDF5 with a
  config; Keras 3 names a DepthwiseConv2D's kernel ``kernel``, tf.keras ``depthwise_kernel``)
* ``conv_family_files.safetensors`` -- ``<model>.input`` (N(0, 1), batch 2), ``<model>.output``
  (tf.keras's output; Keras 3's, same weights, is checked to agree and its largest difference is
  recorded) and ``<model>.weight<i>`` (the weights in Keras order and layout)
* ``conv_family_files.json`` -- versions, model specs (input shape, layers as ``[class, args]``),
  file names per model and kind, weight counts, ``keras3_vs_tf_keras_max_abs_diff``

Outputs are computed inside ``tf.function(jit_compile=True)`` (TF's CPU kernels cannot run NCHW
convolutions eagerly). Shapes avoid the Keras 3.15.1 TF-backend bias-add bug described in
``prove_h5_weights.py`` (tf.keras and Keras 3 outputs are checked equal here).
"""
from __future__ import annotations

import json
import os
import platform
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prove_h5_weights import LAYERS_A, LAYERS_B, BILINEAR_UP, LAYERS_C, LAYERS_D, channels_first  # noqa: E402

MODELS = {
    "a_transpose2d_nhwc": {"input_shape": [4, 5, 2], "layers": LAYERS_A},
    "a_transpose2d_nchw": {"input_shape": [2, 4, 5], "layers": channels_first([LAYERS_A[0], LAYERS_A[1], BILINEAR_UP, *LAYERS_A[3:]])},
    "b_depthwise_separable2d_nhwc": {"input_shape": [7, 9, 3], "layers": LAYERS_B},
    "b_depthwise_separable2d_nchw": {"input_shape": [3, 7, 9], "layers": channels_first(LAYERS_B)},
    "c_conv1d_family_nwc": {"input_shape": [6, 2], "layers": LAYERS_C},
    "d_conv3d_family_ndhwc": {"input_shape": [3, 2, 3, 2], "layers": LAYERS_D},
}
K3_FULL = ["b_depthwise_separable2d_nhwc"]
BATCH = 2


def _model(K, spec):
    inputs = K.Input(tuple(spec["input_shape"]))
    x = inputs
    for cls, args in spec["layers"]:
        x = getattr(K.layers, cls)(**args)(x)
    return K.Model(inputs, x)


def main(out_dir: str) -> int:
    import h5py
    import keras
    import safetensors
    import tensorflow as tf
    import tf_keras
    from safetensors.numpy import save_file

    tf.get_logger().setLevel("ERROR")
    folder = os.path.join(out_dir, "keras_files")
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(20240611)
    tensors: dict[str, np.ndarray] = {}
    record = {
        "versions": {"tensorflow": tf.__version__, "tf_keras": tf_keras.__version__, "keras": keras.__version__,
                     "keras_backend": keras.backend.backend(), "h5py": h5py.__version__, "numpy": np.__version__,
                     "safetensors": safetensors.__version__, "python": platform.python_version()},
        "batch": BATCH,
        "tensors": "conv_family_files.safetensors",
        "models": {},
    }
    for name, spec in MODELS.items():
        tf_keras.backend.clear_session()
        keras.backend.clear_session()
        tf_model, k3_model = _model(tf_keras, spec), _model(keras, spec)
        weights = []
        for layer in tf_model.layers:
            for w in layer.weights:
                scale = 0.5 if w.name.split("/")[-1].startswith("bias") else 0.4
                weights.append((rng.standard_normal(w.shape) * scale).astype("float32"))
        tf_model.set_weights(weights)
        k3_model.set_weights(weights)
        x = rng.standard_normal((BATCH, *spec["input_shape"])).astype("float32")
        run = lambda m: tf.function(lambda t: m(t), jit_compile=True)(tf.constant(x)).numpy()  # noqa: E731
        out_tf, out_k3 = run(tf_model), run(k3_model)
        cross = float(np.max(np.abs(out_tf - out_k3)))
        if cross > 1e-5 * max(1.0, float(np.max(np.abs(out_tf)))):
            raise RuntimeError(f"{name}: tf.keras and Keras 3 disagree ({cross})")
        files = {"tf_weights": f"{name}.tf_weights.h5", "k3_weights": f"{name}.k3.weights.h5"}
        tf_model.save_weights(os.path.join(folder, files["tf_weights"]))
        k3_model.save_weights(os.path.join(folder, files["k3_weights"]))
        if name in K3_FULL:
            files["k3_full"] = f"{name}.k3_full.h5"
            k3_model.save(os.path.join(folder, files["k3_full"]))
        tensors[f"{name}.input"] = x
        tensors[f"{name}.output"] = out_tf
        for i, w in enumerate(weights):
            tensors[f"{name}.weight{i}"] = w
        record["models"][name] = {
            "input_shape": spec["input_shape"],
            "layers": [[cls, args] for cls, args in spec["layers"]],
            "files": files,
            "weight_count": len(weights),
            "output_shape": list(out_tf.shape),
            "keras3_vs_tf_keras_max_abs_diff": cross,
        }
        print(name, "output", out_tf.shape, "weights", [w.shape for w in weights])
    save_file(tensors, os.path.join(folder, "conv_family_files.safetensors"))
    with open(os.path.join(folder, "conv_family_files.json"), "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))))
