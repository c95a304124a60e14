"""Reading real Keras weight files into per-layer weight lists (no matching, no torch module).

Keras 3 ``.weights.h5`` (``model.save_weights``), Keras 3 ``.keras`` archives (``model.save``: a
zip of ``config.json``, ``metadata.json``, ``model.weights.h5``) and tf.keras HDF5 files,
weights-only (``save_weights('x.h5')``) or full model (``save('x.h5')``, weights under
``model_weights/``). h5py is an optional dependency, imported when needed.

Why one file of ~480 lines: the two layouts (Keras 3's nested ``vars`` groups, tf.keras's ``weight_names``
scopes) share the lazy dataset checks and the class inference from configs, and are read by one entry point
(``open_keras_weights``); the layout walkers are the natural split once a third layout arrives.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import re
from typing import Any, Iterator, Sequence

import numpy as np
import torch

from ..untrusted import h5_attr, understored
from .names import keras3_snake

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_CONTAINERS = ("layers", "_layer_checkpoint_dependencies")  # Keras 3 / Keras 2.13 list groups
_MODEL_CLASSES = ("Sequential", "Functional", "Model")
# Attributes of a model that are saved but are not layers: the optimizer (``optimizer/vars``:
# iterations, learning rate, slots; ``optimizer/inner_optimizer`` under a LossScaleOptimizer), and the
# compiled metrics tf.keras 2.13+ writes into its ``.keras`` archives after ``fit`` (``metrics/mean/vars``:
# the loss tracker's total and count). Keras 3 saves no metric variables.
_NON_LAYER_GROUPS = ("optimizer", "metrics")


def _import_h5py() -> Any:
    try:
        import h5py
    except ImportError as e:
        raise ImportError(
            "Reading and writing Keras weight files needs h5py, which is not installed. "
            "Install it with `pip install kerastorch[keras]` (or `pip install h5py`)."
        ) from e
    return h5py


@dataclasses.dataclass
class KerasLayerWeights:
    """One Keras layer of a weight file, with its weights in Keras order."""

    name: str  # the Keras layer name
    path: str  # the HDF5 group holding its weights
    class_name: str | None  # Keras class when the file records it (a model config)
    class_stem: str | None = None  # Keras 3 container path stem (``conv2d`` for ``layers/conv2d_1``)
    weight_names: list[str] | None = None  # 'kernel', 'bias', ... when the file records them (tf.keras)
    arrays: list[np.ndarray] = dataclasses.field(default_factory=list)
    problem: str | None = None  # why the weights cannot be read without the model's config (bare files)


# ----------------------------------------------------------------------------- reading
def _natural_key(key: str) -> tuple[Any, ...]:
    """Keras's saving order: ``conv2d < conv2d_1 < conv2d_2 < conv2d_10``, private names last."""
    parts: list[Any] = re.split(r"(\d+)", key)
    parts[1::2] = [int(p) for p in parts[1::2]]
    return (key.startswith("_"), *parts)


class H5Weight:
    """One weight dataset of a Keras file, not read yet: its declared shape and dtype come from the
    HDF5 header, so they can be compared with the variable the weight is meant for before a byte of
    it is read (a file may declare a ``(32768, 32768)`` float32 dataset and store nothing).
    ``read()`` (or ``np.asarray``) reads it; the file must still be open."""

    def __init__(self, dataset: Any):
        self.dataset = dataset
        self.name = str(dataset.name)
        self.shape = tuple(int(d) for d in dataset.shape)
        dtype = dataset.dtype
        # Keras 3 stores bfloat16 as 2-byte opaque with a `dtype` attribute (read only for such datasets)
        self.bfloat16 = dtype.kind == "V" and dtype.itemsize == 2 and str(h5_attr(dataset, "dtype", "")) == "bfloat16"
        self.dtype = np.dtype(np.float32) if self.bfloat16 else dtype

    def __repr__(self) -> str:
        return f"H5Weight({self.name!r}, shape={self.shape}, dtype={self.dtype})"

    def read(self) -> np.ndarray:
        """The values, after checking that the file stores what the header declares."""
        return _array(self.dataset)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        value = self.read()
        return value if dtype is None else value.astype(dtype)


def as_array(value: Any) -> np.ndarray:
    """A weight of a :class:`KerasLayerWeights` as a numpy array (reading an :class:`H5Weight`)."""
    return value.read() if isinstance(value, H5Weight) else np.asarray(value)


def _check_storage(dataset: Any) -> None:
    """Refuse a dataset whose stored bytes cannot hold what its header declares (``untrusted.understored``)."""
    why = understored(dataset.size * dataset.dtype.itemsize, dataset.id.get_storage_size(), dataset.id.get_create_plist())
    if why:
        raise ValueError(f"dataset {dataset.name!r} declares shape {tuple(dataset.shape)} {dataset.dtype} ({why})")


def _array(dataset: Any) -> np.ndarray:
    try:
        _check_storage(dataset)
        value = dataset[()]
    except ValueError:
        raise
    except Exception as e:  # h5py raises OSError, KeyError, SystemError, ... on a damaged file
        raise OSError(f"dataset {dataset.name!r} cannot be read: {type(e).__name__}: {e}") from None
    if str(h5_attr(dataset, "dtype", "")) == "bfloat16":  # Keras 3 stores bfloat16 as 2-byte opaque
        raw = np.frombuffer(np.ascontiguousarray(value).tobytes(), dtype=np.uint16).reshape(dataset.shape)
        return torch.from_numpy(raw.astype(np.int16)).view(torch.bfloat16).float().numpy()
    value = np.asarray(value)  # h5py returns a fresh array: no second copy (it would double the peak)
    if value.dtype.byteorder not in ("=", "|"):
        value = value.astype(value.dtype.newbyteorder("="))
    return value if value.flags.writeable and value.flags.c_contiguous else np.array(value, copy=True)


class Scratch:
    """One reusable buffer for reads that cannot land in their weight directly (a kernel stored transposed):
    grown to the largest such weight, so a load touches fresh memory once rather than once per weight."""

    def __init__(self) -> None:
        self._buffer = np.empty(0, dtype=np.uint8)

    def array(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        nbytes = math.prod(shape) * dtype.itemsize
        if self._buffer.nbytes < nbytes:
            self._buffer = np.empty(nbytes, dtype=np.uint8)
        return self._buffer[:nbytes].view(dtype).reshape(shape)


def read_into(weight: H5Weight, target: torch.Tensor, order: Sequence[int] | None, scratch: Scratch) -> bool:
    """Read ``weight`` (Keras layout) into ``target`` (a weight's storage, ``plan.direct_target``; Keras layout
    permuted by ``order``) with one HDF5 read: straight into ``target`` when no permutation is needed, else
    into ``scratch`` and then one strided copy. False (nothing read) when the dataset's dtype is not
    ``target``'s: the caller reads a converted copy. The stored size is checked first, as for every read."""
    dataset, dtype = weight.dataset, weight.dtype  # the header's, read once (h5py re-queries on each access)
    if weight.bfloat16 or not dtype.isnative or _torch_dtype_of(dtype) != target.dtype:
        return False
    count = math.prod(weight.shape)
    if count != target.numel():
        return False
    try:
        dsid = dataset.id
        why = understored(count * dtype.itemsize, dsid.get_storage_size(), dsid.get_create_plist())
        if why:
            raise ValueError(f"dataset {weight.name!r} declares shape {weight.shape} {dtype} ({why})")
        if count == 0:
            return True
        if not order:
            out = target.numpy()
            dsid.read(_h5s_all(), _h5s_all(), out if out.ndim else out.reshape(1))
        else:
            buffer = scratch.array(weight.shape, dtype)
            dsid.read(_h5s_all(), _h5s_all(), buffer if buffer.ndim else buffer.reshape(1))
            _permuted_copy(target, torch.from_numpy(buffer), tuple(order))
    except ValueError:
        raise
    except Exception as e:  # h5py raises OSError, KeyError, SystemError, ... on a damaged file
        raise OSError(f"dataset {weight.name!r} cannot be read: {type(e).__name__}: {e}") from None
    return True


_TORCH_DTYPES: dict[np.dtype, torch.dtype | None] = {}


def _torch_dtype_of(dtype: np.dtype) -> torch.dtype | None:
    """The torch dtype numpy ``dtype`` maps to (None: none), memoized."""
    if dtype not in _TORCH_DTYPES:
        try:
            _TORCH_DTYPES[dtype] = torch.from_numpy(np.empty(0, dtype=dtype)).dtype
        except TypeError:
            _TORCH_DTYPES[dtype] = None
    return _TORCH_DTYPES[dtype]


def _permuted_copy(target: torch.Tensor, source: torch.Tensor, order: tuple[int, ...]) -> None:
    """``target.copy_(source.permute(order))``; a rotation of the axes (Keras's ``(*kernel, in, out)`` to
    torch's ``(out, *kernel, in)``) is one 2-D transpose, which torch copies blockwise (several times faster
    than its generic strided copy of a 4-D permutation)."""
    n = len(order)
    k = order[0]
    if 0 < k < n and order == tuple(range(k, n)) + tuple(range(k)):
        rows = math.prod(source.shape[:k])
        target.view(-1, rows).copy_(source.reshape(rows, -1).t())
    else:
        target.copy_(source.permute(*order))


def _h5s_all() -> Any:
    import h5py

    return h5py.h5s.ALL


def _weight(dataset: Any, lazy: bool) -> Any:
    """The dataset as an :class:`H5Weight` (``lazy``) or read now."""
    import h5py

    if not isinstance(dataset, h5py.Dataset):
        raise ValueError(f"{dataset.name!r} is a {type(dataset).__name__}, not a weight dataset")
    return H5Weight(dataset) if lazy else _array(dataset)


def _vars(group: Any, lazy: bool = False) -> list[Any]:
    keys = sorted(group.keys(), key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k))
    return [_weight(group[k], lazy) for k in keys]


def _attr_str(value: Any) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def _walk_keras3(h5py: Any, group: Any, path: str, in_container: bool, shallow: bool = False) -> list[KerasLayerWeights]:
    """Depth-first over a Keras 3 weights file, in Keras's saving order.

    A group with a non-empty ``vars`` group is a layer (or a model with weights of its own).
    Inside a ``layers`` container Keras names groups by class (``conv2d``, ``conv2d_1``), so the
    class is known there; attribute groups of subclassed models (``conv_a``) say nothing about it.
    Groups that are not layers (the compiled optimizer's state, ``optimizer/vars``) are skipped.
    ``shallow``: only the entries' paths are wanted (their weights are the dataset names, nothing opened).
    """
    out = []
    key = path.rsplit("/", 1)[-1]
    vars_group = group.get("vars")
    stem = re.sub(r"_\d+$", "", key)
    if in_container and stem in _WRAPPER_STEMS:  # a recurrent layer or wrapper: one Keras layer, weights in sublayers
        name = _attr_str(h5_attr(vars_group, "name", key)) if isinstance(vars_group, h5py.Group) else key
        try:
            arrays, problem = _nested_vars(h5py, group), None
        except ValueError as e:
            arrays, problem = [None], str(e)
        if arrays:
            out.append(KerasLayerWeights(name, f"/{path}/vars", None, class_stem=stem, arrays=arrays, problem=problem))
        return out
    if isinstance(vars_group, h5py.Group) and len(vars_group):
        stem = re.sub(r"_\d+$", "", key)
        name = key if shallow else _attr_str(h5_attr(vars_group, "name", key))
        where = f"/{path}/vars" if path else "/vars"
        arrays = list(vars_group.keys()) if shallow else _vars(vars_group, True)
        out.append(KerasLayerWeights(name, where, None, class_stem=stem if in_container else None, arrays=arrays))
    for child_key in sorted(group.keys(), key=_natural_key):
        child = group[child_key]
        if child_key == "vars" or not isinstance(child, h5py.Group):
            continue
        if child_key in _NON_LAYER_GROUPS and key not in _CONTAINERS:
            continue
        child_path = f"{path}/{child_key}" if path else child_key
        out += _walk_keras3(h5py, child, child_path, key in _CONTAINERS, shallow)
    return out


_WRAPPER_STEMS = ("simple_rnn", "lstm", "gru", "rnn", "bidirectional", "conv_lstm1d", "conv_lstm2d", "conv_lstm3d",
                  "time_distributed", "multi_head_attention", "grouped_query_attention")
# Keras 3's weight order of a layer's sublayer groups (attention: query, key, gate, value, output projections)
_SUBLAYER_ORDER = {"forward_layer": 0, "backward_layer": 1,
                   **{f"{u}{p}_dense": i for u in ("", "_") for i, p in enumerate(("query", "key", "gate", "value", "output"))}}
_ATTENTION_LAYERS = ("MultiHeadAttention", "GroupedQueryAttention", "GroupQueryAttention")


def _nested_vars(h5py: Any, group: Any) -> list[Any]:
    """A wrapper's weights without a config: its own ``vars``, then its sublayers' groups (``forward_layer``
    before ``backward_layer``, stacked cells in Keras's per-class counter order)."""
    arrays: list[Any] = []
    if isinstance(group.get("vars"), h5py.Group) and len(group["vars"]):
        arrays += _vars(group["vars"], True)
    keys = [k for k in group.keys() if k != "vars" and isinstance(group[k], h5py.Group)]
    if group.name.endswith("/cells") and len({re.sub(r"_\d+$", "", k) for k in keys}) > 1:
        raise ValueError(
            f"{group.name} holds stacked RNN cells of several classes {sorted(keys)}: a bare Keras 3 .weights.h5 "
            "does not record their order (Keras 3 reads it from the model). Load the model's .keras file instead"
        )
    for k in sorted(keys, key=lambda k: (_SUBLAYER_ORDER.get(k, 2), _natural_key(k))):
        arrays += _nested_vars(h5py, group[k])
    return arrays


def _walk_keras3_config(
    h5py: Any, f: Any, layers: Sequence[dict], path: str, paths: set[str]
) -> list[KerasLayerWeights]:
    """Follow a ``.keras`` config: layer ``i`` of class ``C`` lives at ``layers/<c>[_n]`` (Keras 3). ``paths``:
    every object path of the file (:func:`_object_paths`)."""
    out: list[KerasLayerWeights] = []
    used: dict[str, int] = {}
    for layer_config in layers:
        class_name = layer_config["class_name"]
        config = layer_config.get("config") or {}
        stem = keras3_snake(class_name)
        key = stem if stem not in used else f"{stem}_{used[stem] + 1}"
        used[stem] = used.get(stem, -1) + 1
        group_path = next(
            (f"{path}{c}/{key}" for c in _CONTAINERS if f"{path}{c}/{key}" in paths), f"{path}layers/{key}"
        )
        if isinstance(config.get("layers"), list):
            out += _walk_keras3_config(h5py, f, config["layers"], group_path + "/", paths)
        else:
            arrays = _layer_vars(f, group_path, class_name, config, paths)
            if arrays:
                out.append(KerasLayerWeights(str(config.get("name", key)), f"/{group_path}/vars", class_name, arrays=arrays))
    return out


_CELL_LAYERS = ("SimpleRNN", "LSTM", "GRU", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")


def _sublayer_groups(class_name: str, config: dict) -> list[tuple[str, str, dict]]:
    """Keras 3's groups of a layer's sublayers, in the order of its weights (``layer.weights``): a
    recurrent layer's ``cell``; ``RNN``'s cell (a ``StackedRNNCells`` keeps its cells at
    ``cells/<snake class>[_n]``); ``Bidirectional``'s ``forward_layer`` then ``backward_layer``;
    ``TimeDistributed``'s ``layer``."""
    if class_name in _CELL_LAYERS:
        return [("cell", "", {})]
    if class_name == "RNN" and isinstance(config.get("cell"), dict):
        cell = config["cell"]
        return [("cell", str(cell.get("class_name")), cell.get("config") or {})]
    if class_name == "StackedRNNCells" and isinstance(config.get("cells"), list):
        out, used = [], {}
        for cell in config["cells"]:
            stem = keras3_snake(str(cell.get("class_name")))
            key = stem if stem not in used else f"{stem}_{used[stem] + 1}"
            used[stem] = used.get(stem, -1) + 1
            out.append((f"cells/{key}", str(cell.get("class_name")), cell.get("config") or {}))
        return out
    if class_name == "Bidirectional" and isinstance(config.get("layer"), dict):
        forward = config["layer"]
        backward = config.get("backward_layer") if isinstance(config.get("backward_layer"), dict) else forward
        return [("forward_layer", str(forward.get("class_name")), forward.get("config") or {}),
                ("backward_layer", str(backward.get("class_name")), backward.get("config") or {})]
    if class_name in _ATTENTION_LAYERS:  # EinsumDense projections (GroupedQueryAttention's attributes: _query_dense)
        u = "" if class_name == "MultiHeadAttention" else "_"
        gate = ["gate"] if config.get("use_gate") else []
        return [(f"{u}{g}_dense", "EinsumDense", {}) for g in ["query", "key", *gate, "value", "output"]]
    if class_name in ("TimeDistributed", "SpectralNormalization") and isinstance(config.get("layer"), dict):
        inner = config["layer"]  # the wrapped layer's group
        return [("layer", str(inner.get("class_name")), inner.get("config") or {})]
    return []


def _layer_vars(f: Any, group_path: str, class_name: str, config: dict, paths: set[str]) -> list[Any]:
    """A layer's weights in Keras order: its own ``vars``, then its sublayers' (``_sublayer_groups``)."""
    own: list[Any] = []
    if f"{group_path}/vars/" in paths:  # a non-empty vars group
        own = _vars(f[f"{group_path}/vars"], True)
    subs: list[Any] = []
    for sub, sub_class, sub_config in _sublayer_groups(class_name, config):
        subs += _layer_vars(f, f"{group_path}/{sub}", sub_class, sub_config, paths)
    if class_name == "SpectralNormalization" and own:
        # Keras 3 tracks the wrapped kernel again as the wrapper's first variable (``self.kernel =
        # self.layer.kernel``, the same variable): the wrapped layer's weights, then ``vector_u``.
        return subs + own[1:]
    return own + subs


def _object_paths(f: Any) -> set[str]:
    """Every object path of an open file (hard links only: ``check_h5`` refused the others), and ``<group>/``
    for every group that holds something: one walk of the links, instead of h5py's ``path in group``, which
    re-validates every component of the path in Python (most of a Keras 3 file's metadata time)."""
    paths: set[str] = set()

    def add(name: bytes) -> None:
        text = name.decode("utf8", "surrogateescape")
        paths.add(text)
        if "/" in text:
            paths.add(text.rsplit("/", 1)[0] + "/")

    f.id.links.visit(add)
    return paths


def _read_keras3(h5py: Any, f: Any, config: dict | None) -> tuple[list[KerasLayerWeights], bool]:
    """Layers of a Keras 3 weights file, and whether their order is exact (known from a config)."""
    if config is not None and isinstance((config.get("config") or {}).get("layers"), list):
        entries = _walk_keras3_config(h5py, f, config["config"]["layers"], "", _object_paths(f))
        groups = [e.path[: -len("vars")] for e in entries]  # a wrapper's entry covers its sublayers' groups
        if all(any(p.startswith(g) for g in groups) for p in (e.path for e in _walk_keras3(h5py, f, "", False, True))):
            return entries, True
    entries = _walk_keras3(h5py, f, "", False)
    problems = [e.problem for e in entries if e.problem]
    if problems:
        raise ValueError("; ".join(problems))
    return entries, False


def _attr_list(group: Any, name: str) -> list[str]:
    """A tf.keras string-list attribute, also when tf.keras split it into ``name0, name1, ...``."""
    if name in group.attrs:
        values = list(h5_attr(group, name))
    else:
        values, i = [], 0
        while f"{name}{i}" in group.attrs:
            values += list(h5_attr(group, f"{name}{i}"))
            i += 1
    return [_attr_str(v) for v in values]


def _config_classes(config: Any) -> dict[str, Any]:
    """``{layer name: class name or nested mapping}`` from a tf.keras model config (also Keras 2.0's
    Sequential, whose ``config`` is the list of its layers)."""
    out: dict[str, Any] = {}
    inner = (config or {}).get("config")
    for layer in (inner if isinstance(inner, list) else (inner or {}).get("layers")) or []:
        cfg = layer.get("config")
        name = cfg.get("name", layer.get("name")) if isinstance(cfg, dict) else layer.get("name")
        if isinstance(cfg, list) or (isinstance(cfg, dict) and isinstance(cfg.get("layers"), list)):
            out[name] = _config_classes(layer)
        else:
            out[name] = layer.get("class_name")
    return out


def _read_tf_keras(h5py: Any, group: Any, classes: dict[str, Any] | None) -> list[KerasLayerWeights]:
    """tf.keras HDF5 (``save_weights_to_hdf5_group``): ``layer_names``, then per layer ``weight_names``."""
    out = []
    for layer_name in _attr_list(group, "layer_names"):
        g = group[layer_name]
        weight_names = _attr_list(g, "weight_names")
        scope = classes.get(layer_name) if classes else None
        by_owner: dict[str, list[str]] = {}
        for w in weight_names:  # a nested model's group holds its sublayers' weights
            by_owner.setdefault(_owner(w, layer_name, scope), []).append(w)
        nested = isinstance(scope, dict) or (scope is None and len(by_owner) > 1 and not _one_wrapper(layer_name, by_owner))
        if not nested and len(by_owner) > 1:  # one layer whose sublayers hold the weights (Bidirectional, RNN)
            by_owner = {layer_name: [w for names in by_owner.values() for w in names]}
        for owner, names in by_owner.items():
            name = owner.rsplit("/", 1)[-1] if nested else layer_name
            scope = classes.get(layer_name) if classes else None
            if isinstance(scope, dict):
                class_name = _find_class(scope, name)
            else:
                class_name = scope
            arrays = [_weight(g[w], True) for w in names]
            base = [re.sub(r":\d+$", "", w.rsplit("/", 1)[-1]) for w in names]
            where = f"{g.name}/{owner}" if nested else g.name
            out.append(KerasLayerWeights(name, where, class_name, weight_names=base, arrays=arrays))
    return out


def _leaf_names(scope: dict[str, Any]) -> set[str]:
    out = set()
    for key, value in scope.items():
        out |= _leaf_names(value) if isinstance(value, dict) else {key}
    return out


def _owner(weight: str, layer_name: str, scope: Any) -> str:
    """The scope of the layer owning ``weight`` (``model/dense/kernel:0`` -> ``model/dense``). In a
    nested model's group, the scope ends at the last part naming one of its layers, so that an LSTM's
    cell scope (``sequential/lstm/lstm_cell/kernel:0``) belongs to ``sequential/lstm``."""
    if "/" not in weight:
        return layer_name
    parts = weight.split("/")[:-1]
    if isinstance(scope, dict):
        leaves = _leaf_names(scope)
        for i in range(len(parts) - 1, -1, -1):
            if parts[i] in leaves:
                return "/".join(parts[: i + 1])
    return "/".join(parts)


def _one_wrapper(layer_name: str, by_owner: dict[str, list[str]]) -> bool:
    """Whether the scopes of a weights-only file's layer group are one recurrent wrapper's sublayers
    (``bidirectional/forward_lstm/lstm_cell``, ``rnn/stacked_rnn_cells/gru_cell``) rather than a nested model's."""
    def inner(owner: str) -> str:
        return owner[len(layer_name) + 1:] if owner.startswith(layer_name + "/") else owner

    return all(inner(o).startswith(("forward_", "backward_")) or "cell" in inner(o).split("/")[-1] for o in by_owner)


def _find_class(scope: dict[str, Any], name: str) -> str | None:
    for key, value in scope.items():
        if key == name and isinstance(value, str):
            return value
        if isinstance(value, dict):
            found = _find_class(value, name)
            if found:
                return found
    return None


def _read_h5(h5py: Any, f: Any, config: dict | None, lazy: bool = False) -> tuple[list[KerasLayerWeights], bool]:
    """The layers of an open Keras weights file and whether their order is exact. With ``lazy`` their
    weights are :class:`H5Weight` (read later, while ``f`` is open, after the shapes were checked);
    otherwise they are read now. Whatever h5py raises on a damaged file is an ``OSError`` naming the part."""
    try:
        entries, ordered = _read_layout(h5py, f, config)
        if not lazy:
            for entry in entries:
                entry.arrays = [as_array(a) for a in entry.arrays]
    except (ValueError, OSError):
        raise
    except (KeyError, TypeError, AttributeError, IndexError, RuntimeError, SystemError, UnicodeError) as e:
        raise OSError(f"its weights cannot be read ({type(e).__name__}: {e})") from None
    return entries, ordered


def _read_layout(h5py: Any, f: Any, config: dict | None) -> tuple[list[KerasLayerWeights], bool]:
    if "layer_names" in f.attrs or "layer_names0" in f.attrs:
        return _read_tf_keras(h5py, f, None), True
    if "model_weights" in f:
        model_config = h5_attr(f, "model_config")
        classes = _config_classes(json.loads(_attr_str(model_config))) if model_config is not None else None
        return _read_tf_keras(h5py, f["model_weights"], classes), True
    if any(k in f for k in (*_CONTAINERS, "vars")) or any(
        isinstance(f[k], h5py.Group) and "vars" in f[k] for k in f.keys()
    ):
        return _read_keras3(h5py, f, config)
    raise ValueError("it holds no Keras weights (no `layer_names`, `model_weights`, `layers` or `vars`)")


@contextlib.contextmanager
def open_keras_weights(path: str | os.PathLike, limits: Any = None) -> Iterator[tuple[list[KerasLayerWeights], bool]]:
    """The Keras layers with weights of a Keras file, as :class:`H5Weight` (not read yet), and whether
    the file records their order; the file stays open inside the ``with``. The untrusted-file limits
    (:class:`~kerastorch.saving.untrusted.LoadLimits`) are checked first; an archive's weights member is
    streamed into a temporary file within them, never held in memory whole."""
    from ..untrusted import DEFAULT_LIMITS, check_h5, parse_json, read_zip

    limits = limits or DEFAULT_LIMITS
    h5py = _import_h5py()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such file: {path!r}")
    with contextlib.ExitStack() as stack:
        try:
            size = os.stat(path).st_size
            if size > limits.max_file_bytes:
                raise ValueError(f"it is {size} bytes, more than the limit of {limits.max_file_bytes} (LoadLimits.max_file_bytes)")
            with open(path, "rb") as head_file:
                head = head_file.read(8)
            if head.startswith(b"PK"):
                wanted = {"config.json": limits.max_config_bytes, "model.weights.h5": limits.max_weights_bytes}
                try:
                    members, names = read_zip(path, wanted, limits, spill=("model.weights.h5",))
                except ValueError as e:
                    raise ValueError(str(e).replace("zip archive", ".keras archive")) from None
                if "model.weights.h5" not in members:
                    raise ValueError(f"the archive has no model.weights.h5 (it holds {sorted(names)[:10]})")
                weights = stack.enter_context(members["model.weights.h5"])
                config = members.get("config.json")
                if config is not None:
                    config = parse_json(config, "config.json", limits.max_config_bytes, limits)
                    config = config if isinstance(config, dict) else None
                f = stack.enter_context(h5py.File(weights, "r"))
            elif path.endswith(".keras") and not head.startswith(_HDF5_SIGNATURE):
                raise ValueError("it is a truncated or corrupt .keras archive (not a complete zip file)")
            else:
                config = None
                f = stack.enter_context(h5py.File(path, "r"))
            check_h5(h5py, f, limits)
            entries, ordered = _read_h5(h5py, f, config, lazy=True)
        except (OSError, ValueError) as e:
            if isinstance(e, FileNotFoundError):
                raise
            raise ValueError(f"{path!r} is not a readable Keras weights file: {e}") from None
        yield [e for e in entries if e.arrays], ordered


def read_keras_weights(path: str | os.PathLike) -> tuple[list[KerasLayerWeights], bool]:
    """Every Keras layer with weights in a Keras file, and whether the file records their order.

    A bare Keras 3 ``.weights.h5`` records only paths (``layers/conv2d_1``): the order among
    layers of one class is known, the order between classes is not (Keras 3 itself matches by
    path). tf.keras files (``layer_names``) and ``.keras`` archives (``config.json``) record it.
    Every weight is read (see :func:`open_keras_weights` to compare shapes before reading).
    """
    with open_keras_weights(path) as (entries, ordered):
        try:
            for entry in entries:
                entry.arrays = [as_array(a) for a in entry.arrays]
        except (OSError, ValueError) as e:
            raise ValueError(f"{os.fspath(path)!r} is not a readable Keras weights file: {e}") from None
    return entries, ordered
