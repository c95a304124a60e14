"""Whole-model files: ``load_model`` / ``save_model`` (Keras's ``keras.models.load_model`` / ``model.save``).

Read: Keras 3 ``.keras`` archives (a zip of ``config.json``, ``metadata.json``, ``model.weights.h5``;
also tf.keras's own ``.keras`` writer), tf.keras full-model ``.h5`` files (root attribute
``model_config`` + the ``model_weights`` group; ``training_config`` and optimizer state are ignored),
and the kerastorch safetensors files ``save_model(model, 'x.safetensors')`` / ``kerastorch convert``
write (the ``state_dict`` plus the Keras config in the metadata). The format is told by the file's
content, not its name. The model is built by :func:`kerastorch.models.model_from_config` (``Lambda``
layers are refused there: their config is code), then the weights are checked whole and copied
(:func:`kerastorch.saving.keras.weights.load_keras_entries`, or the safetensors plan). The layers are
built without running their initializers (:func:`kerastorch.initializers.deferred_initialization`):
the file overwrites every weight, and a file missing one is refused by those checks; a weight nothing
wrote (one a layer fills from its config) is initialized after the copy, so none is left uninitialized.

A model file is untrusted input: archives are read in memory and never extracted, and every limit
of :class:`~kerastorch.saving.untrusted.LoadLimits` is checked before the data it guards is read or
allocated (see :mod:`kerastorch.saving.untrusted`). Loading is all-or-nothing: any failure raises
(a ``ValueError`` naming the file, ``FileNotFoundError`` for a missing one) and nothing is returned.

Write: ``save_model(model, 'x.keras')`` writes the archive Keras 3's ``model.save`` writes (the
config in Keras 3's format, ``metadata.json``, ``model.weights.h5`` in Keras 3's nested layout),
atomically; real Keras 3 loads it (``compat_fixtures/prove_save_model.py``).
"""
from __future__ import annotations

import datetime
import io
import json
import os
import zipfile
from typing import Any

import torch
from torch.nn.parameter import is_lazy

from .. import dtype_policy, initializers
from .._version import __version__
from ..activations import TF_KERAS_HARD_SIGMOID
from ..engine.functional import Functional
from ..engine.sequential import Sequential
from .._dialect import keras_dialect
from ..engine.serialization import serialize
from . import plan
from .atomic import atomic_write, resolve_target
from .keras.names import keras3_snake
from .keras import assets
from .keras.reader import _HDF5_SIGNATURE, _import_h5py, _read_h5
from .keras.weights import _unsupported_params, load_keras_entries, write_keras3_model
from .model_configs import model_from_config
from .tf import is_saved_model_dir, read_saved_model
from .untrusted_safetensors import read_safetensors_header, read_stored_into
from .untrusted import (
    DEFAULT_LIMITS, LoadLimits, allocation_guard, check_h5, h5_attr, h5_string_attr, parse_json, read_zip, weights_member_bound,
)

__all__ = ["LoadLimits", "keras_model_config", "load_model", "save_model"]

_KERAS3_VERSION = "3.15.1"  # the Keras 3 whose .keras format save_model writes
_CONFIG, _METADATA, _WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
# What goes wrong inside h5py / zipfile / a malformed config, turned into one ValueError naming the file.
_READ_ERRORS = (OSError, KeyError, TypeError, AttributeError, IndexError, RuntimeError, zipfile.BadZipFile, EOFError)


# ----------------------------------------------------------------------------- loading
def load_model(
    filepath: str | os.PathLike,
    custom_objects: dict[str, Any] | None = None,
    compile: bool = True,
    safe_mode: bool = True,
    *,
    limits: LoadLimits | None = None,
) -> torch.nn.Module:
    """Keras's ``load_model``: the model of a ``.keras`` archive, a tf.keras ``.h5`` full-model file
    a kerastorch model ``.safetensors`` or a tf.keras SavedModel directory (``model.save('dir')``, read
    without TensorFlow: :mod:`kerastorch.saving.tf`), with its weights, as a torch module.

    ``compile`` is accepted and ignored (there is no Keras training configuration in torch);
    ``safe_mode`` is always on (``Lambda`` layers are refused whatever it says). ``custom_objects``
    maps class names in the config to kerastorch ``Layer`` subclasses. ``limits`` bounds what the
    file may make us read or allocate.
    """
    del compile, safe_mode
    limits = limits or DEFAULT_LIMITS
    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such file: {path!r}")
    if os.path.isdir(path):
        if not is_saved_model_dir(path):
            raise IsADirectoryError(
                f"{path!r} is a directory without saved_model.pb; load_model reads a .keras, .h5 or .safetensors "
                "file or a tf.keras SavedModel directory"
            )
        kind = "saved_model"
    else:
        with open(path, "rb") as f:
            head = f.read(16)
        kind = _file_kind(path, head)
    loader = {"keras": _load_keras_archive, "h5": _load_h5, "safetensors": _load_safetensors,
              "saved_model": _load_saved_model}[kind]
    try:
        # The file overwrites the weights: layers allocate them without running their initializers
        # (most of the build time: a random draw per weight); whatever the file did not write (a
        # weight the load's checks let through, e.g. one a layer computes from its config) is
        # initialized afterwards, so nothing uninitialized is ever returned.
        with initializers.deferred_initialization() as deferral:
            model = loader(path, custom_objects, limits)
        deferral.finish()
        return model
    except (ValueError, *_READ_ERRORS) as e:
        if isinstance(e, (FileNotFoundError, ImportError)):
            raise
        message = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
        raise ValueError(f"Cannot load a model from {path!r}: {message}") from None


def _file_kind(path: str, head: bytes) -> str:
    if head.startswith(b"PK"):
        return "keras"
    if head.startswith(_HDF5_SIGNATURE):
        return "h5"
    if len(head) > 8 and head[8:9] == b"{":
        return "safetensors"
    for ext, kind in ((".keras", "keras"), (".h5", "h5"), (".hdf5", "h5"), (".safetensors", "safetensors")):
        if path.endswith(ext):
            return kind  # the reader says what is wrong with it
    raise ValueError(
        f"Cannot load a model from {path!r}: it is neither a .keras archive, an HDF5 file nor a safetensors file"
    )


def _build(
    config: Any, custom_objects: dict[str, Any] | None, limits: LoadLimits, what: str, keras_version: Any = None
) -> torch.nn.Module:
    """The model of a Keras config, every tensor allocation bounded by ``limits``, read in the dialect of
    the Keras that wrote the file (``keras_version``: what the file says; None: each entry by its form)."""

    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"{what} is not a Keras model config (expected an object with a 'class_name')")
    with allocation_guard(limits, what), keras_dialect(keras_version):
        try:
            return model_from_config(config, custom_objects=custom_objects)
        except RecursionError:
            raise ValueError(f"{what} nests too deeply to build") from None


def _load_keras_archive(path: str, custom_objects: dict[str, Any] | None, limits: LoadLimits) -> torch.nn.Module:
    size = os.stat(path).st_size
    if size > limits.max_file_bytes:
        raise ValueError(f"it is {size} bytes, more than the limit of {limits.max_file_bytes} (LoadLimits.max_file_bytes)")
    # The config first: how far the weights member may inflate depends on the model it describes.
    wanted = {_CONFIG: limits.max_config_bytes, _METADATA: limits.max_metadata_bytes, _WEIGHTS: limits.max_weights_bytes}
    members, names = read_zip(path, wanted, limits, header_only=(_WEIGHTS,))
    if _CONFIG not in members:
        raise ValueError(f"the archive has no {_CONFIG} (it holds {sorted(names)[:10]}); a .keras archive needs one")
    config = parse_json(members.pop(_CONFIG), _CONFIG, limits.max_config_bytes, limits)
    metadata = None
    if _METADATA in members:
        metadata = parse_json(members.pop(_METADATA), _METADATA, limits.max_metadata_bytes, limits)
    keras_version = metadata.get("keras_version") if isinstance(metadata, dict) else None
    if _WEIGHTS not in names:
        other = [n for n in names if n.startswith("model.weights")]
        raise ValueError(f"the archive has no {_WEIGHTS}" + (f" (only {other}, which kerastorch does not read)" if other else ""))
    model = _build(config, custom_objects, limits, _CONFIG, keras_version)
    # Streamed into a private temporary file within that bound, never held whole: a multi-GB model
    # costs disk, not memory; a member inflating past what the model needs is refused while streaming.
    spilled, _ = read_zip(path, {_WEIGHTS: weights_member_bound(model, limits)}, limits, spill=(_WEIGHTS,))
    # The vocabularies of lookup layers (assets/<object path>/vocabulary.txt), each bounded before it is read.
    wanted_assets = {n: assets.MAX_ASSET_BYTES for n in assets.asset_names(model) if n in names}
    vocabularies = read_zip(path, wanted_assets, limits)[0] if wanted_assets else {}
    h5py = _import_h5py()
    with spilled[_WEIGHTS] as weights, h5py.File(weights, "r") as f:
        check_h5(h5py, f, limits)
        entries, ordered = _read_h5(h5py, f, config, lazy=True)
        # a lookup layer's idf_weights are not a weight of kerastorch's layer: they come with its vocabulary
        entries = assets.without_vocabulary_layers(model, entries)
        load_keras_entries(model, entries, ordered, repr(path), fresh=True)
        assets.load_vocabularies(model, vocabularies, lambda obj: assets.read_idf(f, obj))
    return model


def _load_h5(path: str, custom_objects: dict[str, Any] | None, limits: LoadLimits) -> torch.nn.Module:
    size = os.stat(path).st_size
    if size > limits.max_file_bytes:
        raise ValueError(f"it is {size} bytes, more than the limit of {limits.max_file_bytes} (LoadLimits.max_file_bytes)")
    h5py = _import_h5py()
    with h5py.File(path, "r") as f:
        check_h5(h5py, f, limits)
        raw = h5_string_attr(f, "model_config", limits)
        if raw is None:
            raise ValueError(
                "it has no `model_config`: it is a weights-only file (load it into a model with load_keras_weights)"
            )
        config = parse_json(raw, "model_config", limits.max_config_bytes, limits)
        model = _build(config, custom_objects, limits, "model_config", h5_attr(f, "keras_version"))
        # Lazily: every dataset's declared shape is compared with its weight before one is read, then
        # each is read and copied in turn (the load needs one weight beyond the finished model).
        entries, ordered = _read_h5(h5py, f, None, lazy=True)
        # tf.keras keeps a tf_idf lookup's idf weights as a variable too; the config's idf_weights are the same
        load_keras_entries(model, assets.without_vocabulary_layers(model, entries), ordered, repr(path), fresh=True)
    return model


def _load_saved_model(path: str, custom_objects: dict[str, Any] | None, limits: LoadLimits) -> torch.nn.Module:
    """A tf.keras SavedModel directory: the config of keras_metadata.pb, the weights of variables/ (saving.tf)."""
    saved = read_saved_model(path, limits)
    model = _build(saved.config, custom_objects, limits, "keras_metadata.pb", saved.keras_version)
    load_keras_entries(model, saved.entries, True, repr(path))
    return model


def _load_safetensors(path: str, custom_objects: dict[str, Any] | None, limits: LoadLimits) -> torch.nn.Module:
    size = os.stat(path).st_size
    if size > limits.max_file_bytes:
        raise ValueError(f"it is {size} bytes, more than the limit of {limits.max_file_bytes} (LoadLimits.max_file_bytes)")
    with open(path, "rb") as f:
        stored, metadata = read_safetensors_header(f, size, limits)  # every entry checked; nothing else read
        if "keras_config" not in metadata:
            raise ValueError(
                "it holds no Keras config (`keras_config` metadata, written by save_model / `kerastorch convert`); "
                "a save_weights file loads into a model with load_weights"
            )
        config = parse_json(metadata["keras_config"], "the keras_config metadata", limits.max_config_bytes, limits)
        model = _build(config, custom_objects, limits, "the keras_config metadata")
        declared = {k: torch.empty(t.shape, dtype=t.dtype, device="meta") for k, t in stored.items()}
        plan.check(model, declared, True, repr(path))
        # Each tensor read from its checked place straight into its weight, in turn.
        plan.apply_each(model, {k: t.shape for k, t in stored.items()}, lambda key, w: read_stored_into(f, stored[key], w))
    return model


# ----------------------------------------------------------------------------- saving
def keras_model_config(model: torch.nn.Module, keras3: bool = True) -> dict[str, Any]:
    """The model's config as Keras 3 writes it to ``config.json`` (``serialize_keras_object``):
    ``module``, ``class_name``, ``config``, ``registered_name``, ``build_config``, ``compile_config``.

    With ``keras3`` (for ``.keras`` files), layer configs are turned into Keras 3's spelling where
    tf.keras's differs (a ``BatchNormalization`` ``axis`` ``[3]`` is ``3`` in Keras 3; ``ThresholdedReLU``,
    gone from Keras 3, is its equal ``ReLU(threshold=theta)``), and what Keras 3 cannot load is refused
    (:func:`_keras3_dialect`); kerastorch's ``.safetensors`` keeps every config.
    """

    if not isinstance(model, (Functional, Sequential)):
        raise ValueError(
            f"save_model saves kerastorch models (Sequential, Functional / Model); received a {type(model).__name__}. "
            "The weights of other modules save with save_weights or save_keras_weights."
        )
    out = json.loads(json.dumps(serialize(model)))  # a deep copy, and proof that it is JSON
    out.setdefault("build_config", {"input_shape": None})
    out["compile_config"] = {}
    if keras3:
        _keras3_dialect(out)
    return out


_TF_ONLY_CLASSES = ("TFOpLambda", "SlicingOpLambda")
# Config keys of tf.keras layers that Keras 3's constructors refuse ("Unrecognized keyword arguments"),
# each without effect: ``groups`` of the transposed and depthwise convolutions (always 1 / ignored), the
# unused ``kernel_*`` a SeparableConv inherits from Conv in tf.keras, SpatialDropout's ``noise_shape``
# (derived from the input) and ``trainable`` (no weights; Keras 3's signature takes neither). Found by
# comparing tf.keras's and Keras 3's configs of the layer fixtures (``config`` / ``keras3_config`` of
# ``compat_fixtures/*_cases.json``), and proven by ``compat_fixtures/prove_save_model.py``.
_KERAS3_DROPPED = {
    **{f"Conv{n}DTranspose": ("groups",) for n in (1, 2, 3)},
    **{f"DepthwiseConv{n}D": ("groups",) for n in (1, 2)},
    **{f"SeparableConv{n}D": ("groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint") for n in (1, 2)},
    **{f"SpatialDropout{n}D": ("noise_shape", "trainable") for n in (1, 2, 3)},
    # tf.keras's time_major (False: Keras 3's only layout; True is refused below)
    **{cls: ("time_major",) for cls in ("SimpleRNN", "LSTM", "GRU", "RNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")},
    # tf.keras's build shapes in the config (Keras 3: the build_config) and its softmax option
    "MultiHeadAttention": ("query_shape", "key_shape", "value_shape", "softmax_robust_masking"),
    # tf.keras's random image layers (BaseRandomLayer) write their RNG kind; Keras 3's take no rng_type
    **{cls: ("rng_type",) for cls in ("RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "RandomCrop",
                                      "RandomContrast", "RandomBrightness", "RandomHeight", "RandomWidth")},
}


def _uses_tf_keras_hard_sigmoid(config: Any) -> bool:
    """Whether a serialized config (activation names already in Keras 3's spelling, see
    ``engine.serialization.serialize``) holds tf.keras's hard_sigmoid, which Keras 3 cannot name."""

    if isinstance(config, dict):
        return any(v == TF_KERAS_HARD_SIGMOID or (isinstance(v, dict) and v.get("config") == TF_KERAS_HARD_SIGMOID)
                   if k in ("activation", "recurrent_activation") else _uses_tf_keras_hard_sigmoid(v)
                   for k, v in config.items())
    if isinstance(config, list):
        return any(_uses_tf_keras_hard_sigmoid(v) for v in config)
    return False


def _keras3_dialect(entry: dict[str, Any], refuse: bool = True) -> None:
    """In place: a layer entry (nested models included) as Keras 3 spells it; a ValueError naming the
    layer for what Keras 3 cannot load (tf.* op layers, names containing '/'), unless ``refuse`` is
    false (``compat_fixtures/prove_save_model.py`` writes such files to show Keras 3 refuses them)."""
    cls = entry.get("class_name")
    config = entry.get("config")
    if not isinstance(config, dict):
        return
    name = config.get("name")
    if cls in _TF_ONLY_CLASSES and refuse:
        raise ValueError(
            f"Cannot save layer {name!r} ({cls}, tf.{config.get('function')}) to a .keras file: it is a TensorFlow op "
            "recorded by tf.keras, which Keras 3 cannot load. Save the model as .safetensors (kerastorch's format) instead."
        )
    if isinstance(name, str) and "/" in name and refuse:
        raise ValueError(
            f"Cannot save layer {name!r} ({cls}) to a .keras file: Keras 3 refuses layer names containing '/'. "
            "Rename the layer, or save the model as .safetensors (kerastorch's format) instead."
        )
    if refuse and _uses_tf_keras_hard_sigmoid({k: v for k, v in config.items() if k != "layers"}):
        raise ValueError(
            f"Cannot save layer {name!r} ({cls}) to a .keras file: its activation is tf.keras's hard_sigmoid "
            "(clip(0.2 * x + 0.5, 0, 1)); Keras 3's hard_sigmoid is relu6(x + 3) / 6, and Keras 3 has no function "
            "computing tf.keras's. Save the model as .safetensors (kerastorch's format) instead."
        )
    if "dtype" in config:  # a mixed policy: Keras 3's DTypePolicy, not tf.keras's Policy
        config["dtype"] = dtype_policy.to_keras3(config["dtype"])
    if cls == "Sequential":  # Keras 3 keeps the input shape in an InputLayer (tf.keras: in the first layer too)
        _sequential_input_layer(config)
    if cls != "InputLayer":  # Keras 3's layers refuse batch_input_shape (tf.keras's input_shape=...)
        config.pop("batch_input_shape", None)
    if cls in ("CuDNNLSTM", "CuDNNGRU") and refuse:
        raise ValueError(
            f"Cannot save layer {name!r} ({cls}) to a .keras file: Keras 3 has no {cls} (tf.keras 1.x / Keras 2 "
            "only). Save the model as .safetensors (kerastorch's format) instead."
        )
    if config.get("time_major") and refuse:
        raise ValueError(
            f"Cannot save layer {name!r} ({cls}) to a .keras file: it is time_major, which Keras 3's recurrent "
            "layers do not support. Save the model as .safetensors (kerastorch's format) instead."
        )
    if cls in _KERAS3_DROPPED:  # tf.keras arguments Keras 3's class does not take (and ignores in tf.keras)
        for key in _KERAS3_DROPPED[cls]:
            config.pop(key, None)
    if cls == "LeakyReLU" and "alpha" in config:  # Keras 3 names it negative_slope (alpha: deprecated)
        config["negative_slope"] = config.pop("alpha")
    if cls == "ThresholdedReLU":  # not in Keras 3; its ReLU(threshold=t) computes x if x > t else 0 alike
        entry.update(module="keras.layers", class_name="ReLU", registered_name=None)
        theta = config.pop("theta", 1.0)
        config.update(max_value=None, negative_slope=0.0, threshold=theta)
    if cls == "BatchNormalization" and isinstance(config.get("axis"), list):  # Keras 3: one int
        if len(config["axis"]) != 1:
            raise ValueError(
                f"Cannot save layer {name!r} (BatchNormalization over axes {config['axis']}) to a .keras file: "
                "Keras 3's BatchNormalization normalizes over one axis."
            )
        config["axis"] = config["axis"][0]
    for layer in [*(config.get("layers") or []), config.get("layer"), config.get("backward_layer")]:
        if isinstance(layer, dict):  # nested models' layers, a wrapper's (Bidirectional) layers
            _keras3_dialect(layer, refuse)


def _sequential_input_layer(config: dict[str, Any]) -> None:
    """In place: a Sequential config whose first layer carries ``batch_input_shape`` (tf.keras's
    ``Sequential([Dense(3, input_shape=(4,))])``, Keras 2.0's list configs) starts with the InputLayer
    Keras 3 writes for it, which holds the shape as ``batch_shape``."""
    layers = config.get("layers")
    if not isinstance(layers, list) or not layers or not isinstance(layers[0], dict):
        return
    first = layers[0].get("config")
    if layers[0].get("class_name") == "InputLayer" or not isinstance(first, dict):
        return
    shape = first.get("batch_input_shape")
    if not isinstance(shape, list):
        return
    dtype = first.get("dtype") if isinstance(first.get("dtype"), str) else "float32"
    name = f"{config.get('name') or 'sequential'}_input"
    layers.insert(0, {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None, "config": {
        "batch_shape": shape, "dtype": dtype, "sparse": False, "ragged": False, "name": name}})


def _check_savable(model: torch.nn.Module) -> None:
    lazy = [k for k, v in model.state_dict(keep_vars=True).items() if is_lazy(v)]
    if lazy:
        raise ValueError(f"Cannot save a model with unbuilt layers (call it once or build() first): {lazy}")


def save_model(model: torch.nn.Module, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Keras's ``model.save``: a ``.keras`` archive Keras 3 loads (or, for a ``.safetensors`` name,
    the ``state_dict`` with the Keras config in the metadata, which ``load_model`` reads back).

    Written atomically: a crash leaves any old file intact. ``overwrite=False`` refuses an existing file.
    """
    path = os.fspath(filepath)
    if not path.endswith((".keras", ".safetensors")):
        raise ValueError(
            f"Invalid filepath extension for saving. Please add either a `.keras` extension for the native Keras "
            f"format or a `.safetensors` extension for kerastorch's. Received: filepath={path}"
        )
    resolve_target(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path!r} exists and overwrite=False")
    _check_savable(model)
    config = keras_model_config(model, keras3=path.endswith(".keras"))
    if path.endswith(".safetensors"):
        _save_safetensors(model, path, config)
        return
    extra = _unsupported_params(model)
    if extra:
        raise ValueError(f"Cannot save {type(model).__name__} as a .keras file: parameters {extra} are not in kerastorch layers")

    h5py = _import_h5py()
    weights = io.BytesIO()
    with h5py.File(weights, "w") as f:
        write_keras3_model(f, model, set())
        assets.write_vocabulary_vars(f, model)
        f.create_group("vars").attrs["name"] = config["config"].get("name", keras3_snake(config["class_name"]))
    metadata = {
        "keras_version": _KERAS3_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "kerastorch_version": __version__,
    }
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:  # Keras writes the members stored, in this order
        zf.writestr(_METADATA, json.dumps(metadata))
        zf.writestr(_CONFIG, json.dumps(config))
        zf.writestr(_WEIGHTS, weights.getvalue())
        for name, text in assets.vocabulary_members(model).items():  # Keras 3's save_assets
            zf.writestr(name, text)
    with atomic_write(path) as out:
        out.write(archive.getvalue())


def _save_safetensors(model: torch.nn.Module, path: str, config: dict[str, Any]) -> None:
    from safetensors.torch import save as _safetensors_bytes


    tensors = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in model.state_dict().items()}
    metadata = {"format": "pt", "kerastorch_version": __version__, "keras_config": json.dumps(config)}
    payload = _safetensors_bytes(tensors, metadata=metadata)
    with atomic_write(path) as f:
        f.write(payload)
