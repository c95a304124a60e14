"""The vocabularies of a ``.keras`` archive (Keras 3 ``saving_lib``'s ``assets/``; tf.keras 2.13+ writes the same).

Keras keeps an adapted ``StringLookup``/``IntegerLookup``/``TextVectorization`` vocabulary outside the config:
``save_assets`` writes ``assets/<object path>/vocabulary.txt`` (the terms with the special tokens, one per line,
the object path being the weights file's: ``layers/<snake class>[_<n>]``, nested models inside their own), and a
tf_idf layer's ``idf_weights`` go to the weights file as ``<object path>/vars/idf_weights`` (``save_own_variables``).
A vocabulary given as ``vocabulary=`` stays in the config and has no asset. tf.keras ``.h5`` files have no assets:
there the vocabulary is only ever the config's.

Reading is bounded: the asset members' sizes are limited before they are read (``MAX_ASSET_BYTES`` each), and
the text is checked as any vocabulary (duplicates, the mask token inside, ``max_tokens``, idf length) by the layer.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import torch

from .names import keras3_snake, keras_class
from .weights import is_model, model_layers

__all__ = ["VOCABULARY_FILE", "MAX_ASSET_BYTES", "vocabulary_layers", "asset_names", "load_vocabularies",
           "vocabulary_members", "is_vocabulary_class"]

VOCABULARY_FILE = "vocabulary.txt"
MAX_ASSET_BYTES = 256 * 1024 * 1024
_CLASSES = ("StringLookup", "IntegerLookup", "TextVectorization")


def is_vocabulary_class(class_name: str | None) -> bool:
    """Whether a layer class keeps its vocabulary (and idf weights) this way."""
    return class_name in _CLASSES


def vocabulary_layers(model: torch.nn.Module, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(object path, layer)`` of every vocabulary layer of ``model``, as Keras 3's ``saving_lib`` names the
    objects (``layers/<snake class>[_<n>]``, ``n`` counted per class in ``model.layers`` order)."""
    used: dict[str, int] = {}
    seen: set[int] = set()
    for layer in model_layers(model):
        stem = keras3_snake(keras_class(layer))
        key = stem if stem not in used else f"{stem}_{used[stem] + 1}"
        used[stem] = used.get(stem, -1) + 1
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        path = f"{prefix}layers/{key}"
        if is_model(layer):
            yield from vocabulary_layers(layer, path + "/")
        elif hasattr(layer, "vocabulary_asset"):
            yield path, layer


def asset_names(model: torch.nn.Module) -> dict[str, tuple[str, Any]]:
    """``{archive member: (object path, layer)}`` of the vocabularies a ``.keras`` file of ``model`` holds."""
    return {f"assets/{path}/{VOCABULARY_FILE}": (path, layer) for path, layer in vocabulary_layers(model)}


def load_vocabularies(model: torch.nn.Module, members: dict[str, bytes], idf_of: Any) -> None:
    """Set each adapted vocabulary layer's terms from its ``vocabulary.txt`` member (and, for tf_idf, the
    ``idf_weights`` ``idf_of(object path)`` returns). A layer whose vocabulary is in its config has no asset."""
    for name, (path, layer) in asset_names(model).items():
        lookup = getattr(layer, "_lookup_layer", layer)
        if lookup.input_vocabulary is not None:
            continue
        data = members.get(name)
        if data is None:
            raise ValueError(f'layer "{layer.name}" ({type(layer).__name__}) has no vocabulary in its config and '
                             f"the archive has no {name}")
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f'layer "{layer.name}": {name} is not UTF-8 text ({e})') from None
        idf = idf_of(path) if lookup.output_mode == "tf_idf" else None
        layer.load_vocabulary_asset(text, idf)


def vocabulary_members(model: torch.nn.Module) -> dict[str, str]:
    """The ``assets/.../vocabulary.txt`` members Keras 3's ``save_assets`` writes for ``model`` (TextVectorization
    writes its lookup's copy under ``_lookup_layer/`` too, as Keras does)."""
    out: dict[str, str] = {}
    for name, (path, layer) in asset_names(model).items():
        text = layer.vocabulary_asset()
        if text is None:
            continue
        out[name] = text
        if hasattr(layer, "_lookup_layer"):
            out[f"assets/{path}/_lookup_layer/{VOCABULARY_FILE}"] = text
    return out


def idf_arrays(model: torch.nn.Module) -> dict[str, np.ndarray]:
    """``{h5 dataset path: idf weights}`` of the tf_idf layers (Keras 3's ``save_own_variables``)."""
    out: dict[str, np.ndarray] = {}
    for path, layer in vocabulary_layers(model):
        lookup = getattr(layer, "_lookup_layer", layer)
        if lookup.output_mode == "tf_idf" and lookup.idf_weights is not None:
            value = lookup.idf_weights.detach().to("cpu", torch.float32).numpy()
            out[f"{path}/vars/idf_weights"] = value
            if hasattr(layer, "_lookup_layer"):
                out[f"{path}/_lookup_layer/vars/idf_weights"] = value
    return out


def read_idf(f: Any, path: str) -> np.ndarray | None:
    """The ``idf_weights`` Keras 3 stored for the object at ``path`` of an open weights file (size bounded)."""
    dataset = f.get(f"{path}/vars/idf_weights")
    if dataset is None or not hasattr(dataset, "shape"):
        return None
    if len(dataset.shape) != 1 or dataset.shape[0] * 8 > MAX_ASSET_BYTES:
        raise ValueError(f"{path}/vars/idf_weights has shape {dataset.shape}; expected a 1-D vector of idf weights")
    return np.asarray(dataset[()], dtype=np.float32)


def write_vocabulary_vars(f: Any, model: torch.nn.Module) -> None:
    """Keras 3's ``save_own_variables`` of the lookup layers into a weights file ``write_keras3_model`` wrote:
    ``<object path>/vars/idf_weights`` for tf_idf, and TextVectorization's ``_lookup_layer`` object."""
    for path, layer in vocabulary_layers(model):
        groups = [path] + ([f"{path}/_lookup_layer"] if hasattr(layer, "_lookup_layer") else [])
        for group in groups:
            vars_group = f.require_group(f"{group}/vars")
            vars_group.attrs.setdefault("name", getattr(layer, "name", group.rsplit("/", 1)[-1]))
    for dataset, value in idf_arrays(model).items():
        f.create_dataset(dataset, data=value)


def without_vocabulary_layers(model: torch.nn.Module, entries: list[Any]) -> list[Any]:
    """The weight entries of a file that hold arrays, less those of the model's vocabulary layers (their idf
    weights come with the vocabulary: :func:`load_vocabularies`, or the config's ``idf_weights``)."""
    names = {layer.name for _, layer in vocabulary_layers(model)}
    return [e for e in entries if e.arrays and not is_vocabulary_class(e.class_name) and e.name not in names]
