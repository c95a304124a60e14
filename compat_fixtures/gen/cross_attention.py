"""Record a cross-attention model whose query AND value carry masks from REAL tf.keras 2.21 and Keras 3.15.1
(issue 19): two ``Embedding(mask_zero=True)`` inputs into ``MultiHeadAttention(query, value)``. Keras hands
each tensor argument's mask to the layer (tf.keras: ``query._keras_mask`` / ``value._keras_mask``; Keras 3:
``Layer.__call__`` fills ``query_mask`` / ``value_mask`` / ``key_mask`` from the arguments' masks), so the
padded source tokens must not be attended to. Output under ``attention/``: ``cross_attention.tf.h5``,
``cross_attention.k3.keras``, ``cross_attention.json`` and ``cross_attention.safetensors`` (tensors
``input.<name>``, ``<lib>.out``). ``errors``: Keras 3's refusal of ``return_attention_scores`` with
``flash_attention=True`` (MultiHeadAttention and GroupQueryAttention): ``{"cls", "message"}``.
"""
from __future__ import annotations

import os
import shutil
import tempfile

import numpy as np

from .common import clean_message, fresh_session, import_keras3, import_tf, save_safetensors, write_json

SEED = 2300


def _cross(lib, vocab=12, tq=4, tv=5, d=8):
    L = lib.layers
    q_tok = L.Input((tq,), dtype="int32", name="target")
    v_tok = L.Input((tv,), dtype="int32", name="source")
    q = L.Embedding(vocab, d, mask_zero=True, name="target_emb")(q_tok)
    v = L.Embedding(vocab, d, mask_zero=True, name="source_emb")(v_tok)
    h = L.MultiHeadAttention(num_heads=2, key_dim=4, name="cross_attn")(q, v)
    return lib.Model([q_tok, v_tok], L.Dense(3, name="out")(h), name="cross_attention")


def main(out_dir):
    tf, tfk = import_tf()
    k3 = import_keras3()
    folder = os.path.join(out_dir, "attention")
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(SEED)
    target = rng.integers(1, 12, (3, 4)).astype("int32")
    source = rng.integers(1, 12, (3, 5)).astype("int32")
    target[1, 2:] = 0
    source[0, 3:] = 0  # padded source positions: attending to them changes the output
    source[2, 1:] = 0
    tensors = {"input.target": target, "input.source": source}
    doc = {"inputs": ["target", "source"], "files": {}}
    with tf.device("/CPU:0"):
        for tag, lib, ext in (("tf", tfk, ".h5"), ("k3", k3, ".keras")):
            fresh_session(lib, seed=SEED)
            model = _cross(lib)
            wr = np.random.default_rng(SEED + 1)
            model.set_weights([(wr.standard_normal(w.shape) * 0.5).astype("float32") for w in model.get_weights()])
            tensors[f"{tag}.out"] = np.asarray(model([tf.constant(target), tf.constant(source)], training=False))
            # What the output would be if the source mask were ignored (the test proves it differs).
            unmasked = _cross(lib)
            unmasked.get_layer("source_emb").mask_zero = False
            unmasked = lib.Model.from_config(_without_source_mask(model.get_config()))
            unmasked.set_weights(model.get_weights())
            tensors[f"{tag}.out_source_unmasked"] = np.asarray(
                unmasked([tf.constant(target), tf.constant(source)], training=False))
            name = f"cross_attention.{tag}{ext}"
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "m" + ext)
                model.save(path)
                shutil.copy(path, os.path.join(folder, name))
            doc["files"][tag] = name
    doc["errors"] = []
    for cls, layer in (("MultiHeadAttention", k3.layers.MultiHeadAttention(num_heads=2, key_dim=2, flash_attention=True)),
                       ("GroupQueryAttention", k3.layers.GroupQueryAttention(
                           head_dim=2, num_query_heads=2, num_key_value_heads=1, flash_attention=True))):
        x = np.ones((1, 3, 4), "float32")
        try:
            layer(x, x, return_attention_scores=True)
            message = None
        except ValueError as e:
            message = clean_message(e)
        doc["errors"].append({"cls": cls, "message": message})
    write_json(os.path.join(folder, "cross_attention.json"), doc)
    save_safetensors(tensors, os.path.join(folder, "cross_attention.safetensors"))
    print("[cross_attention]", doc["files"])
    return doc["files"]


def _without_source_mask(config):
    for layer in config["layers"]:
        if layer["config"].get("name") == "source_emb":
            layer["config"]["mask_zero"] = False
    return config
