"""Regenerate every tf.keras compatibility fixture in this folder (the single entry point).

The fixtures are recorded from the REAL tf.keras (the ``tf_keras`` package,
TensorFlow 2.21 / tf-keras 2.21) and Keras 3 (3.15.1, on the TensorFlow backend).
kerastorch's tests only read the recorded files; they never need TensorFlow.

Create the reference environment once (from the repository root)::

    python3 -m venv .venv-keras && .venv-keras/bin/pip install tensorflow-cpu==2.21.0 tf-keras==2.21.0 keras==3.15.1 safetensors h5py scipy

then regenerate (from the repository root) with::

    .venv-keras/bin/python compat_fixtures/generate.py

Options: ``--only conv,keras_files`` runs only the named generators (in the order below);
``--out DIR`` writes into DIR instead of this folder (e.g. to compare with ``cmp``).

Generators (modules of the ``gen`` package next to this file; each exposes ``main(out_dir)``):

* ``gen/conv.py`` -- Conv1D / Conv2D / Conv3D forward/backward cases
  (``conv{1,2,3}d_cases.json`` + ``conv{1,2,3}d_tensors.safetensors``) and
  constructor/build/call error cases (``conv{1,2,3}d_errors.json``).  See its module
  docstring for the exact formats.
* ``gen/conv_family.py`` -- the rest of the convolutional module: Conv{1,2,3}DTranspose,
  DepthwiseConv{1,2}D, SeparableConv{1,2}D, UpSampling{1,2,3}D, ZeroPadding{1,2,3}D,
  Cropping{1,2,3}D (``<snake>_cases.json`` + ``<snake>_tensors.safetensors`` +
  ``<snake>_errors.json``, e.g. ``conv2d_transpose_*``).  Run last: it is newer than the
  others, whose files it must not change.
* ``gen/components.py`` -- activations, initializers, regularizers, constraints, Conv2D
  configs, versions.
* ``gen/keras_files.py`` -- real Keras weight files under ``keras_files/``; its proof step
  runs the kerastorch venv (``$KERASTORCH_PYTHON`` or ``.venv/bin/python``).
* ``gen/applications.py`` -- ``keras.applications`` architectures (tf.keras + Keras 3, ``weights=None``):
  configs + fill seeds + outputs under ``applications/`` (see its docstring).
* ``gen/ops.py`` -- weight-free models of op nodes (tf.keras TFOpLambda / SlicingOpLambda, Keras 3
  ``keras.ops``) under ``ops/``: configs, outputs and output dtypes.
* ``gen/keras3_configs.py`` -- ``layer_configs.json``: every layer class's default config as Keras 3 and
  tf.keras write it (plus the 1-D ``data_format`` variants, with outputs).
* ``gen/user_files.py`` -- model files as users have them (issue 26: tf.keras ``.keras`` with hard_sigmoid,
  Keras 3 legacy ``.h5``, saved after ``fit``, normalization weights, mixed precision, nested, Keras 2.0
  list configs, broken configs) under ``user_files/``; ``prove_user_files.py`` reads back what kerastorch writes.
* ``gen/masks.py`` -- Embedding / Masking / ReversibleEmbedding / TimeDistributed and the masks every
  layer propagates, plus whole masked text models (``embedding_*`` and ``masks/``; see its docstring).
* ``gen/rnn.py`` -- the recurrent family (SimpleRNN/LSTM/GRU, cells, RNN, StackedRNNCells, Bidirectional):
  cases with masks, states and gradients, stateful runs, cells, errors and whole models under ``rnn/``.
* ``gen/tf_formats.py`` -- tf.keras SavedModel directories and TF checkpoints (issue 28) under ``tf_formats/``,
  with the ``.h5`` of each network and tf.keras's outputs; MobileNetV2 checked by a proof step (see its docstring).
* ``gen/attention.py`` -- EinsumDense, MultiHeadAttention and GroupQueryAttention per option and call argument
  (outputs, scores, gradients, configs, masks, causal) and whole transformer models (``.h5`` / ``.keras``) under
  ``attention/``; ``prove_attention_files.py`` reads back what kerastorch writes.
* ``gen/structured.py`` -- CategoryEncoding, Discretization (and ``adapt``), Hashing, HashedCrossing, MelSpectrogram,
  STFTSpectrogram (issue 21): TF's raw string/int hashes, cases per option, errors and model files under
  ``structured/``; ``prove_structured_files.py`` reads back what kerastorch writes. Keras 3's STFTSpectrogram needs
  ``scipy`` in ``.venv-keras``.
* ``gen/image_color.py`` -- the colour and mixing image augmentation layers (issue 20) under
  ``image_preprocessing/color_*``: outputs for fixed factors and Keras's own transforms, configs, errors.
* ``gen/mixed_precision.py`` -- small convnet / LSTM tagger files saved by tf.keras and Keras 3 under ``mixed_float16`` /
  ``mixed_bfloat16`` policies (issue 22), with the dtypes Keras gives every layer's variables and outputs, under
  ``mixed_precision/``.
* ``gen/image_geometric.py`` -- the geometric image layers (issue 20: Resizing, CenterCrop, RandomCrop, RandomFlip,
  RandomRotation, RandomTranslation, RandomZoom, RandomShear) under ``image_preprocessing/geometric_*``: outputs for
  every interpolation / fill mode at fixed factors, configs, and a keras.io classifier with its augmentation block
  (``.h5`` / ``.keras``); ``prove_image_files.py`` reads back what kerastorch writes.
* ``gen/lookups.py`` -- IntegerLookup, StringLookup and TextVectorization (issue 21): vocabularies after adapt,
  outputs per option, configs, errors, and keras.io's structured-data and text classifiers saved with their
  vocabularies (``.h5``/``.keras``) under ``lookups/``; ``prove_lookup_files.py`` reads back what kerastorch writes.
* ``gen/attention_masked_rows.py`` -- MultiHeadAttention / Attention / AdditiveAttention gradients (tf.GradientTape)
  with a query row masked whole, under ``attention/masked_rows.*``.
* ``gen/common.py`` -- the helpers they share (not a generator).

All generators are seeded; the output is deterministic run-to-run on one machine (the
``.keras`` archives embed their save date).  Float results can differ in the last bits between
CPUs (vector width), so compare regenerated files on the machine that produced them.
"""

import argparse
import importlib
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATORS = ["conv", "components", "keras_files", "conv_family", "core", "normalization", "pooling", "merging",
              "reshaping", "regularization", "models", "activation_layers", "preprocessing",
              "applications", "ops", "keras3_configs", "user_files", "rnn", "masks", "attention_small", "transformer_ops", "attention", "tf_formats", "cross_attention", "structured", "image_color", "image_geometric", "mixed_precision", "lookups", "attention_masked_rows"]


def main(out_dir=HERE, only=None):
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    results = {}
    for name in GENERATORS:
        if only is not None and name not in only:
            continue
        t0 = time.time()
        mod = importlib.import_module("gen." + name)  # imported lazily, one at a time
        results[name] = mod.main(out_dir)
        print(f"[generate] gen/{name}.py done in {time.time() - t0:.1f}s")
    print(f"[generate] fixtures written to {out_dir}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated generators: " + ", ".join(GENERATORS))
    parser.add_argument("--out", default=HERE, help="output folder (default: this folder)")
    opts = parser.parse_args()
    only = None
    if opts.only:
        only = [n.strip() for n in opts.only.split(",") if n.strip()]
        unknown = sorted(set(only) - set(GENERATORS))
        if unknown:
            parser.error(f"unknown generators {unknown}; choose from {GENERATORS}")
    main(os.path.abspath(opts.out), only)
