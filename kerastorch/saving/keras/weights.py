"""Real Keras weight files: ``load_keras_weights`` / ``save_keras_weights``.

Read (through :mod:`.reader`): Keras 3 ``.weights.h5``, ``.keras`` archives and tf.keras ``.h5``
files, weights-only or full model. Write: for a ``.weights.h5`` name, the Keras 3 layout Keras 3's
``save_weights`` writes; for a ``.h5`` / ``.hdf5`` name, the legacy layout tf.keras 2.21's
``save_weights('x.h5')`` writes (which tf.keras and Keras 3 both ``load_weights``), each for the
equivalent flat ``Sequential``/functional model.

Matching (:mod:`.match`): by explicit layer names when they all agree with the file, else by
position (a bare Keras 3 file by its paths), refusing whatever cannot be paired with certainty;
``by_name=True`` is tf.keras's ``load_weights(by_name=True)``. Keras kernels are
``(*kernel_size, in // groups, filters)`` (``Conv*D``), ``(*kernel_size, filters, in)``
(``Conv*DTranspose``), ``depthwise_kernel`` ``(*kernel_size, in, depth_multiplier)`` and
``pointwise_kernel`` ``(*1, in * depth_multiplier, filters)`` (``DepthwiseConv*D``,
``SeparableConv*D``; Keras 3 names a ``DepthwiseConv*D``'s kernel ``kernel``, which is accepted);
kerastorch stores each weight in its torch kernel's layout and converts through its ``WeightSpec``.
A file's class comes from its config or Keras 3 path (``conv2d_transpose``), else from its weight
names and shapes (see ``names.classes_from_weights``), and must be the kerastorch layer's class.
Weight-free layers (``UpSampling2D``, ``ZeroPadding2D``, ``Cropping2D``, ...) are in no pairing.

Loading validates everything first (layer types, weight counts and names, shapes; unbuilt
layers are built from the file's shapes) through :mod:`kerastorch.saving.plan`; a failed load
raises one ``ValueError`` naming every offending layer and weight, and changes nothing.

h5py is an optional dependency (``pip install kerastorch[keras]``), imported when needed.
"""
from __future__ import annotations

import io
import os
from typing import Any, Iterable, Sequence

import numpy as np
import torch
from torch.nn.parameter import is_lazy

from ...layers.layer import Layer
from .. import plan
from ..atomic import atomic_write, resolve_target
from ..tf import checkpoint_prefix, read_checkpoint
from ..untrusted import DEFAULT_LIMITS
from .match import match, pair_problems, weighted_layers
from .names import keras3_snake, keras3_var_groups, keras_class, tf_keras_weight_names
from . import reader
from .reader import H5Weight, KerasLayerWeights, Scratch, _import_h5py, as_array, open_keras_weights, read_keras_weights

__all__ = ["KerasLayerWeights", "load_keras_weights", "read_keras_weights", "save_keras_weights"]

# ----------------------------------------------------------------------------- public API
def load_keras_weights(
    module: torch.nn.Module,
    path: str | os.PathLike,
    *,
    by_name: bool = False,
    skip_unsupported: bool = False,
) -> None:
    """Load a real Keras weight file into the kerastorch layers of ``module``.

    Reads Keras 3 ``.weights.h5`` and ``.keras`` files, tf.keras ``.h5`` files (weights-only
    or full model) and TF 2 checkpoints (tf.keras ``save_weights('ckpt')``: the prefix ``ckpt``, or its
    folder, whose ``checkpoint`` file names the latest; a SavedModel directory's ``variables``), their layers
    found through the checkpoint's object graph; an optimizer's saved state is not a layer and is ignored. Keras layers with
    weights pair with the module's kerastorch layers with weights by their explicit names when
    those all agree with the file, else in order (``module.modules()`` order; a bare Keras 3 file
    by its paths), refusing pairs that contradict an explicit name (see :mod:`.match`); with
    ``by_name=True`` they pair by layer name and unpaired layers on either side are left alone
    (tf.keras ``load_weights(by_name=True)``). Classes and shapes are checked. Keras layers with
    weights but no kerastorch counterpart (``Dense``, ...) are an error unless
    ``skip_unsupported=True``. Unbuilt layers are built from the file's shapes. All checks run
    before anything is copied: on a ``ValueError`` the module is unchanged.
    """
    prefix = checkpoint_prefix(os.fspath(path))  # a TF checkpoint: its prefix, its folder, a SavedModel directory
    if prefix is not None:
        entries = read_checkpoint(prefix, DEFAULT_LIMITS)  # tensors are read only once their shapes are checked
        load_keras_entries(module, entries, True, repr(os.fspath(path)), by_name=by_name, skip_unsupported=skip_unsupported)
        return
    with open_keras_weights(path) as (entries, ordered):  # shapes are checked before a weight is read
        load_keras_entries(module, entries, ordered, repr(os.fspath(path)), by_name=by_name, skip_unsupported=skip_unsupported)


def load_keras_entries(
    module: torch.nn.Module,
    entries: list[KerasLayerWeights],
    ordered: bool,
    source: str,
    *,
    by_name: bool = False,
    skip_unsupported: bool | None = None,
    fresh: bool = False,
) -> None:
    """``load_keras_weights`` for layers already read from a file (``reader``): match, check, copy.
    ``skip_unsupported=None`` (``load_model``): no such option to suggest in messages.

    Every weight's declared shape and dtype is checked against its variable before any is read
    (``H5Weight``s are read only then, so a file cannot make the reader allocate more than the model's
    own weights). ``fresh`` (a model ``load_model`` just built, discarded on failure): each weight is
    read and copied in turn, so the load needs one weight beyond the finished model; otherwise all are
    read before the first is copied, so a failure leaves the module unchanged."""
    pairs, problems = match(entries, ordered, module, by_name, skip_unsupported)
    for entry, prefix, layer in pairs:
        problems += pair_problems(entry, prefix, layer)
    if problems:
        raise ValueError(f"Cannot load Keras weights {source} into {type(module).__name__}: " + "; ".join(problems))
    sources: dict[str, tuple[Any, Any]] = {}
    declared: dict[str, torch.Tensor] = {}  # meta tensors: the storage shape and dtype each weight will have
    for entry, prefix, layer in pairs:
        dot = prefix + "." if prefix else ""
        for name, array in zip(layer.weight_names, entry.arrays):
            spec = layer.weight_spec(name)
            where = f"{entry.path}/{name}"
            dtype = _torch_dtype(array.dtype, where, source, module)
            declared[dot + name] = spec.to_storage(torch.empty(tuple(array.shape), dtype=dtype, device="meta"))
            sources[dot + name] = (array, spec)
    plan.check(module, declared, False, f"Keras weights {source}")

    scratch = Scratch()

    def produce(key: str, weight: torch.Tensor | None = None) -> torch.Tensor | None:
        array, spec = sources.pop(key)
        try:
            target = plan.direct_target(weight) if weight is not None and isinstance(array, H5Weight) else None
            if target is not None and reader.read_into(array, target, spec.storage_order, scratch):
                plan.written_in_place(weight)
                return None
            value = torch.from_numpy(as_array(array))
        except (OSError, ValueError) as e:
            raise ValueError(f"Cannot load Keras weights {source} into {type(module).__name__}: {e}") from None
        return spec.to_storage(value)  # a strided view: copied into the weight once

    if fresh:
        plan.apply_each(module, {k: tuple(t.shape) for k, t in declared.items()}, produce)
    else:
        plan.apply(module, {k: produce(k) for k in list(sources)}, False)


def _torch_dtype(dtype: np.dtype, where: str, source: str, module: torch.nn.Module) -> torch.dtype:
    """The torch dtype a weight of numpy ``dtype`` is read as; a ValueError for what is no weight type."""
    try:
        return torch.from_numpy(np.empty(0, dtype=dtype)).dtype
    except (TypeError, ValueError):
        raise ValueError(
            f"Cannot load Keras weights {source} into {type(module).__name__}: {where!r} has dtype {dtype}, not a weight type"
        ) from None


def _keras_array(param: torch.Tensor) -> np.ndarray:
    """A weight as Keras stores it: C-contiguous, its shape kept (a 0-d ``count`` stays 0-d, which
    ``np.ascontiguousarray`` would make 1-d and Keras's ``load_weights`` refuse)."""
    t = param.detach().cpu()
    if t.dtype == torch.bfloat16:  # Keras casts on assignment; float32 holds every bfloat16
        t = t.float()
    return np.array(t.numpy(), order="C", copy=True)


def _unsupported_params(module: torch.nn.Module) -> list[str]:
    owned = {id(p) for m in module.modules() if isinstance(m, Layer) for p in m.parameters(recurse=False)}
    return [n for n, p in module.named_parameters() if id(p) not in owned]


_TF_KERAS_VERSION = "2.21.0"  # the tf.keras whose legacy HDF5 weights layout is written
_HDF5_OBJECT_HEADER_LIMIT = 64512  # tf.keras: larger attributes are split into name0, name1, ...


def keras_weights_format(path: str | os.PathLike) -> str:
    """``'keras3'`` for a ``.weights.h5`` name, ``'tf_keras'`` for ``.h5`` / ``.hdf5`` (what Keras 3's
    ``load_weights`` reads as legacy HDF5); a ValueError for anything else."""
    name = os.fspath(path)
    if name.endswith(".weights.h5"):
        return "keras3"
    if name.endswith((".h5", ".hdf5")):
        return "tf_keras"
    raise ValueError(
        f"Cannot write Keras weights to {name!r}: the file name must end in '.weights.h5' (the Keras 3 "
        "layout, Keras 3 `model.save_weights`) or '.h5' (the legacy tf.keras HDF5 layout, tf.keras "
        "`model.save_weights('x.h5')`); Keras chooses the layout by the name when loading. A '.keras' "
        "archive needs a Keras model config, which kerastorch does not write."
    )


def save_keras_weights(module: torch.nn.Module, path: str | os.PathLike, *, skip_unsupported: bool = False) -> None:
    """Write the module's kerastorch layers as a Keras weights file, atomically.

    The layout is what Keras writes for the model: a kerastorch ``Sequential`` / ``Functional``
    keeps its nested models nested, as Keras's ``model.save_weights`` does; another module is
    written as the equivalent flat model (its kerastorch layers with weights, in
    ``module.modules()`` order). The layout is chosen by the name as Keras chooses it:
    ``x.weights.h5`` is Keras 3's ``model.save_weights`` layout
    (``layers/<class>[_<n>]/vars/<i>``, the layer name in the ``vars`` group's ``name``
    attribute); ``x.h5`` is tf.keras 2.21's ``model.save_weights('x.h5')`` layout (``layer_names``,
    per layer ``weight_names`` such as ``conv2d/kernel:0``), which tf.keras and Keras 3
    ``load_weights`` both read. Other names are a ValueError. Parameters outside kerastorch layers
    are an error unless ``skip_unsupported=True`` (they are then left out).
    """
    resolve_target(path)  # a directory: say so before anything else
    layout = keras_weights_format(path)
    h5py = _import_h5py()
    state = module.state_dict(keep_vars=True)
    lazy = [k for k, v in state.items() if is_lazy(v)]
    if lazy:
        raise ValueError(f"Cannot save weights of unbuilt layers (call the model once or build() first): {lazy}")
    extra = _unsupported_params(module)
    if extra and not skip_unsupported:
        raise ValueError(
            f"Cannot save {type(module).__name__} as Keras weights: parameters {extra} are not in kerastorch "
            "layers and have no Keras layer to go to (pass skip_unsupported=True to leave them out)."
        )
    layers = [layer for _, layer in weighted_layers(module)]
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        if layout == "keras3" and is_model(module):
            write_keras3_model(f, module, set())
            f.create_group("vars").attrs["name"] = getattr(module, "name", None) or keras3_snake(type(module).__name__)
        elif layout == "keras3":
            _write_keras3(f, layers)
            f.create_group("vars").attrs["name"] = keras3_snake(type(module).__name__)
        elif is_model(module):
            _write_tf_keras(f, [(layer, _legacy_weights(layer)) for layer in model_layers(module)])
        else:
            _write_tf_keras(f, [(layer, [(layer, n) for n in layer.weight_names]) for layer in layers])
    with atomic_write(path) as out:
        out.write(buffer.getvalue())


def _write_keras3(f: Any, layers: Iterable[Layer]) -> None:
    """Keras 3 ``saving_lib``: ``layers/<snake class>[_<n>]/vars/<i>``, ``n`` counted per class."""
    used: dict[str, int] = {}
    container = f.create_group("layers")
    for layer in layers:
        stem = keras3_snake(keras_class(layer))
        key = stem if stem not in used else f"{stem}_{used[stem] + 1}"
        used[stem] = used.get(stem, -1) + 1
        _write_keras3_vars(container.create_group(key), layer)


def _write_keras3_vars(group: Any, layer: Any) -> None:
    """A layer's ``vars`` group(s) under its group: ``vars/<i>``, or, for a layer whose weights Keras keeps
    in sublayers (recurrent cells, ``Bidirectional``), its empty ``vars`` and the sublayers' groups
    (``cell/vars``, ``forward_layer/cell/vars``, ...; see ``names.keras3_var_groups``)."""
    for rel, name, names in keras3_var_groups(layer):
        variables = (group.require_group(rel) if rel else group).create_group("vars")
        variables.attrs["name"] = name
        for i, w in enumerate(names):
            variables.create_dataset(str(i), data=_keras_array(layer.keras_weight(w)))


def is_model(module: torch.nn.Module) -> bool:
    """A kerastorch ``Sequential`` / ``Functional`` (a Keras model: its ``layers`` are saved as such)."""
    return isinstance(getattr(module, "layers", None), (list, tuple))


def model_layers(model: torch.nn.Module) -> list[torch.nn.Module]:
    """``model.layers`` as Keras saves them: its Keras 3 ``keras.ops`` nodes are Operations, not Layers,
    and have no group in a weights file (nor a place in the per-class counters)."""
    from ...layers.ops.op_layer import OpLayer

    return [layer for layer in getattr(model, "layers") if not isinstance(layer, OpLayer)]


def write_keras3_model(group: Any, model: torch.nn.Module, written: set[int]) -> None:
    """Keras 3 ``saving_lib._save_state`` for a Sequential / Functional model: ``layers/<c>[_<n>]``
    per layer (``n`` counted per class in ``model.layers`` order), each with a ``vars`` group named
    after the layer; nested models recurse. A shared layer is saved where it is first met."""
    container = group.create_group("layers")
    used: dict[str, int] = {}
    for layer in model_layers(model):
        stem = keras3_snake(keras_class(layer))
        key = stem if stem not in used else f"{stem}_{used[stem] + 1}"
        used[stem] = used.get(stem, -1) + 1
        if id(layer) in written:
            continue
        written.add(id(layer))
        sub = container.create_group(key)
        if is_model(layer):
            write_keras3_model(sub, layer, written)
        if is_model(layer) or not getattr(layer, "weight_names", None):
            sub.create_group("vars").attrs["name"] = getattr(layer, "name", key)
        else:
            _write_keras3_vars(sub, layer)


def _legacy_weights(layer: torch.nn.Module) -> list[tuple[Layer, str]]:
    """tf.keras ``_legacy_weights(layer)``: ``(owner layer, weight name)`` of ``trainable_weights +
    non_trainable_weights`` -- for a nested model, every trainable weight of its layers first."""
    if not is_model(layer):
        return [(layer, n) for n in getattr(layer, "weight_names", [])]
    leaves = [leaf for _, leaf in weighted_layers(layer)]
    pairs = [(leaf, n) for leaf in leaves for n in leaf.weight_names]
    trainable = [p for p in pairs if p[0]._stored(p[1]).requires_grad]
    return trainable + [p for p in pairs if not p[0]._stored(p[1]).requires_grad]


def _write_tf_keras(f: Any, layers: Sequence[tuple[torch.nn.Module, list[tuple[Layer, str]]]]) -> None:
    """tf.keras 2.21 ``save_weights_to_hdf5_group``: ``layer_names`` in model order, a group per
    layer (created in name order) with ``weight_names`` and datasets ``<layer>/<weight>:0`` (a nested
    model's group holds its layers' weights), then an empty ``top_level_model_weights``. ``layers``:
    each layer with its ``(owner, weight name)`` list."""
    names = [layer.name for layer, _ in layers]
    bad = sorted({n for n in names if names.count(n) > 1 or "/" in n or n == "top_level_model_weights"})
    if bad:
        raise ValueError(
            f"Cannot write a tf.keras .h5 weights file: its layers are HDF5 groups named after the layers, "
            f"and these names are repeated or not usable as group names: {bad} (give the layers unique names)."
        )
    _save_attributes(f, "layer_names", [n.encode("utf8") for n in names])
    f.attrs["backend"] = b"tensorflow"
    f.attrs["keras_version"] = _TF_KERAS_VERSION.encode("utf8")
    for layer, weights in sorted(layers, key=lambda item: item[0].name):
        group = f.create_group(layer.name)
        weight_names = [_tf_keras_name(owner, w).encode("utf8") for owner, w in weights]
        _save_attributes(group, "weight_names", weight_names)
        for key, (owner, w) in zip(weight_names, weights):
            value = _keras_array(owner.keras_weight(w))
            dataset = group.create_dataset(key, value.shape, dtype=value.dtype)
            dataset[()] = value
    _save_attributes(f.create_group("top_level_model_weights"), "weight_names", [])


def _tf_keras_name(owner: Layer, weight: str) -> str:
    """tf.keras's full name of one weight (``conv2d/kernel:0``, ``lstm/lstm_cell/kernel:0``)."""
    return tf_keras_weight_names(owner)[list(owner.weight_names).index(weight)]


def _save_attributes(group: Any, name: str, data: list[bytes]) -> None:
    """tf.keras ``save_attributes_to_hdf5_group``: one attribute, or ``name0, name1, ...`` chunks
    when it would pass the HDF5 object header limit."""
    data_npy = np.asarray(data)
    chunks = 1
    chunked = np.array_split(data_npy, chunks)
    while any(x.nbytes > _HDF5_OBJECT_HEADER_LIMIT for x in chunked):
        chunks += 1
        chunked = np.array_split(data_npy, chunks)
    if chunks > 1:
        for i, chunk in enumerate(chunked):
            group.attrs[f"{name}{i}"] = chunk
    else:
        group.attrs[name] = data
