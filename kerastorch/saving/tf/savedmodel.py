"""tf.keras SavedModel directories and TF 2 checkpoints as Keras layers and weights, without TensorFlow.

A SavedModel directory that tf.keras's ``model.save('dir')`` wrote (TF 2.0 to 2.12's default, tf_keras
since) holds ``saved_model.pb`` (TensorFlow graphs: not read), ``keras_metadata.pb`` (``SavedMetadata``:
one node per Keras object, with its object-graph path such as ``root.layer_with_weights-1`` and its
Keras JSON metadata; the root's holds the model config ``.h5`` files carry) and ``variables/variables``
(a tensor bundle, see :mod:`.bundle`). TensorFlow before ``keras_metadata.pb`` (before 2.5 by TF's own
warning) kept the same metadata in ``saved_model.pb`` (each Keras object's ``SavedUserObject.metadata``),
read from there when ``keras_metadata.pb`` is absent. ``model.save_weights('ckpt')`` writes the same bundle as
``ckpt.index`` / ``ckpt.data-*`` plus a ``checkpoint`` file naming the latest prefix.

Weights are found through the bundle's object graph (``_CHECKPOINTABLE_OBJECT_GRAPH``): a model's
children ``layer_with_weights-N`` / ``layer-N`` are its layers, a layer's variables are the nodes
under it with a ``VARIABLE_VALUE`` attribute (``kernel``, ``cell/recurrent_kernel``,
``forward_layer/cell/bias``, ...), whose ``checkpoint_key`` names the bundle entry. Optimizer slots
and the optimizer (``optimizer`` child) are never visited. The result is a list of
:class:`~kerastorch.saving.keras.reader.KerasLayerWeights`, which the ``.h5`` machinery checks and
loads (layer classes, weight names, shapes).
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
from typing import Any

from ..keras.reader import KerasLayerWeights
from ..untrusted import LoadLimits, parse_json
from . import wire
from .bundle import Bundle

_SAVED_MODEL = ("saved_model.pb", "saved_model.pbtxt")
_METADATA = "keras_metadata.pb"
_MODEL_IDENTIFIERS = ("_tf_keras_model", "_tf_keras_network", "_tf_keras_sequential")
_LAYER_CHILD = re.compile(r"layer(_with_weights)?-(\d+)$")
_MAX_PATH_PARTS = 256
# Children a SavedModel adds to every layer (functions, Keras's own lists) and a compiled model's
# optimizer: not the layer's weights.
_NOT_LAYER_STATE = frozenset({
    "keras_api", "trainable_variables", "non_trainable_variables", "regularization_losses", "__call__",
    "call_and_return_all_conditional_losses", "call_and_return_conditional_losses", "_default_save_signature",
    "signatures", "optimizer",
})


def is_saved_model_dir(path: str) -> bool:
    return os.path.isdir(path) and any(os.path.isfile(os.path.join(path, n)) for n in _SAVED_MODEL)


@dataclasses.dataclass
class SavedKerasModel:
    config: dict[str, Any]
    keras_version: Any
    entries: list[KerasLayerWeights]


# ----------------------------------------------------------------------------- object graph
class ObjectGraph:
    def __init__(self, bundle: Bundle):
        self.bundle = bundle
        self.nodes = bundle.object_graph()
        self.what = f"{bundle.index_path!r} object graph"

    def child(self, node: int, name: str) -> int | None:
        for child, local in self.nodes[node].children:
            if local == name:
                return child
        return None

    def resolve(self, parts: list[str]) -> int | None:
        """The node at a path of local names from the root (node 0)."""
        if len(parts) > _MAX_PATH_PARTS:
            raise ValueError(f"{self.what}: path of {len(parts)} parts is deeper than {_MAX_PATH_PARTS}")
        node: int | None = 0
        for part in parts:
            node = self.child(node, part)  # type: ignore[arg-type]
            if node is None:
                return None
        return node

    def _value(self, node: int) -> tuple[str, str] | None:
        """``(full name, checkpoint key)`` of a variable node, None for another object."""
        for attr, full_name, key in self.nodes[node].attributes:
            if attr == "VARIABLE_VALUE":
                return full_name, key
        return None

    def variables(self, node: int) -> list[tuple[str, str]]:
        """``(weight name, checkpoint key)`` of each variable of the layer at ``node``, in the layer's
        ``weights`` order: a SavedModel records that list (the layer's ``variables`` child); a checkpoint
        does not, and its variables are found depth first in child order (the order the layer tracked
        them: ``kernel``, ``bias``; ``cell`` then its own), each once, cycles visited once. The weight
        name is the variable's own (``lstm/lstm_cell/kernel`` -> ``kernel``, as ``.h5`` files name it)."""
        self.first_hops: set[str] = set()  # the layer's children its variables were found under (checkpoints)
        listed = self.child(node, "variables")
        if listed is not None:
            order = [child for child, _ in self.nodes[listed].children]
            found = [(child, str(i)) for i, child in enumerate(order)]
        else:
            found, seen = [], {node}
            stack = [(child, name, name) for child, name in reversed(self.nodes[node].children)]
            while stack:
                current, name, hop = stack.pop()
                if current in seen or name in _NOT_LAYER_STATE:
                    continue
                seen.add(current)
                if self._value(current) is not None:
                    found.append((current, name))
                    self.first_hops.add(hop)
                stack.extend((child, n, hop) for child, n in reversed(self.nodes[current].children))
        out = []
        for current, name in found:
            value = self._value(current)
            if value is None:
                raise ValueError(f"{self.what}: variable {name!r} of node {node} (node {current}) holds no value")
            full_name, key = value
            out.append((full_name.rsplit("/", 1)[-1] if full_name else name, key))
        return out

    def reachable(self, node: int) -> list[int]:
        """The nodes under ``node`` (each once)."""
        seen, stack = {node}, [node]
        while stack:
            for child, name in self.nodes[stack.pop()].children:
                if child not in seen and name not in _NOT_LAYER_STATE:
                    seen.add(child)
                    stack.append(child)
        return sorted(seen)

    def layer_weights(self, node: int, name: str, path: str, class_name: str | None) -> KerasLayerWeights | None:
        variables = self.variables(node)
        if not variables:
            return None
        arrays = [self.bundle.tensor(key) for _, key in variables]
        return KerasLayerWeights(name, path, class_name, weight_names=[v[0] for v in variables], arrays=arrays)


# ----------------------------------------------------------------------------- SavedModel
def _plain_json(value: Any) -> Any:
    """tf.keras's SavedModel JSON (``json_utils.Encoder``) as its ``.h5`` configs spell it: a tuple
    (``{"class_name": "__tuple__", "items": [...]}``) and a ``TensorShape`` become lists; the rest
    (``__ellipsis__`` included, which ``.h5`` files hold alike) is kept."""
    if isinstance(value, dict):
        if value.get("class_name") in ("__tuple__", "TensorShape") and isinstance(value.get("items"), list):
            return [_plain_json(v) for v in value["items"]]
        return {k: _plain_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_json(v) for v in value]
    return value


def _metadata_nodes(directory: str, limits: LoadLimits) -> list[wire.SavedObject]:
    path = os.path.join(directory, _METADATA)
    legacy = _legacy_metadata(directory, limits) if not os.path.isfile(path) else None
    if legacy:
        return legacy
    if not os.path.isfile(path):
        raise ValueError(
            f"the SavedModel has no {_METADATA} and its saved_model.pb holds no Keras metadata (where TensorFlow "
            "before 2.5 kept it): the Keras config is absent (it was written by tf.saved_model.save or Keras 3's "
            "model.export, not by tf.keras's model.save), so kerastorch cannot rebuild the model. Rebuild the architecture in kerastorch (or load it from a .keras / .h5 file of the same "
            f"network) and load the weights with load_keras_weights(model, {os.path.join(directory, 'variables')!r}); "
            "or, where TensorFlow runs, re-save it with tf.keras as .h5 / .keras"
        )
    size = os.stat(path).st_size
    if size > limits.max_config_bytes:
        raise ValueError(f"{_METADATA} is {size} bytes, more than the limit of {limits.max_config_bytes} (LoadLimits.max_config_bytes)")
    with open(path, "rb") as f:
        data = f.read(size + 1)
    return wire.saved_metadata(data, _METADATA)


def _legacy_metadata(directory: str, limits: LoadLimits) -> list[wire.SavedObject] | None:
    """The Keras objects TensorFlow before ``keras_metadata.pb`` kept inside ``saved_model.pb``
    (tf_keras's ``_read_legacy_metadata``); None when there are none with metadata (later TensorFlow
    versions leave it empty, ``tf.saved_model.save`` writes none)."""
    path = os.path.join(directory, "saved_model.pb")
    if not os.path.isfile(path):
        return None  # saved_model.pbtxt: text format, not read
    size = os.stat(path).st_size
    if size > limits.max_file_bytes:
        raise ValueError(f"saved_model.pb is {size} bytes, more than the limit of {limits.max_file_bytes} (LoadLimits.max_file_bytes)")
    with open(path, "rb") as f:
        data = f.read(size + 1)
    nodes = wire.legacy_saved_metadata(memoryview(data), "saved_model.pb")
    if not nodes or not any(n.metadata for n in nodes):
        return None
    total = sum(len(n.metadata) for n in nodes)
    if total > limits.max_config_bytes:
        raise ValueError(f"saved_model.pb holds {total} bytes of Keras metadata, more than the limit of {limits.max_config_bytes}")
    return nodes


def read_saved_model(directory: str, limits: LoadLimits) -> SavedKerasModel:
    """The model config (from ``keras_metadata.pb``) and the weights of each Keras layer with weights
    (from ``variables/``, through the object graph), in the config's layer order, nested models flattened."""
    nodes = _metadata_nodes(directory, limits)
    by_path: dict[str, tuple[wire.SavedObject, Any]] = {}
    for node in nodes:
        if node.node_path in by_path:
            raise ValueError(f"{_METADATA}: node path {node.node_path!r} appears twice")
        by_path[node.node_path] = (node, None)
    if "root" not in by_path:
        raise ValueError(f"{_METADATA} has no 'root' node")

    def meta(path: str) -> Any:
        node, parsed = by_path[path]
        if parsed is None:
            parsed = parse_json(node.metadata, f"{_METADATA} node {path!r}", limits.max_config_bytes, limits)
            by_path[path] = (node, parsed)
        return parsed

    root = meta("root")
    if not isinstance(root, dict) or not isinstance(root.get("class_name"), str):
        raise ValueError(f"{_METADATA}: the root node's metadata is not a Keras object description")
    identifier = by_path["root"][0].identifier
    if identifier == "_tf_keras_model" and not (isinstance(root.get("config"), dict) and "layers" in root["config"]):
        raise ValueError(
            f"{_METADATA}: the root object is a subclassed tf.keras model (class {root['class_name']!r}): its "
            "architecture is Python code, not a config, so kerastorch cannot rebuild it (nor pair its weights: "
            "its object graph names attributes, not layers). Where TensorFlow runs, rebuild it there and save a "
            "Sequential / functional equivalent as .h5 or .keras"
        )
    if not isinstance(root.get("config"), dict) or identifier not in _MODEL_IDENTIFIERS:
        raise ValueError(
            f"{_METADATA}: the root object is a {root['class_name']} ({by_path['root'][0].identifier}) without a "
            "Keras model config (a subclassed model saves no config); rebuild it in kerastorch and load its weights "
            "with load_keras_weights"
        )
    config = {"class_name": root["class_name"], "config": _plain_json(root["config"])}
    bundle = Bundle(os.path.join(directory, "variables", "variables"), limits)
    graph = ObjectGraph(bundle)
    children: dict[str, dict[str, str]] = {}  # model path -> {layer name: its path}
    for path in by_path:
        parent, _, last = path.rpartition(".")
        if parent and _LAYER_CHILD.match(last):
            layer = meta(path)
            if isinstance(layer, dict) and isinstance(layer.get("name"), str):
                children.setdefault(parent, {})[layer["name"]] = path
    entries: list[KerasLayerWeights] = []

    def walk(model_config: Any, model_path: str, depth: int) -> None:
        if depth > _MAX_PATH_PARTS:
            raise ValueError(f"{_METADATA}: models nest deeper than {_MAX_PATH_PARTS}")
        inner = model_config.get("config") if isinstance(model_config, dict) else None
        layers = inner if isinstance(inner, list) else (inner or {}).get("layers") if isinstance(inner, dict) else None
        for layer in layers or []:
            cfg = layer.get("config") if isinstance(layer, dict) else None
            name = cfg.get("name") if isinstance(cfg, dict) else None
            path = children.get(model_path, {}).get(name) if isinstance(name, str) else None
            if path is None:
                continue  # an InputLayer of a Sequential, or a layer without a node: the load's count check says so
            if isinstance(cfg, dict) and isinstance(cfg.get("layers"), list):
                walk(layer, path, depth + 1)
                continue
            node = graph.resolve(path.split(".")[1:])
            if node is None:
                raise ValueError(f"{bundle.index_path!r}: layer {name!r} ({path}) is not in the checkpoint's object graph")
            found = graph.layer_weights(node, name, path, layer.get("class_name"))
            if found is not None:
                entries.append(found)

    walk(config, "root", 0)
    return SavedKerasModel(config, root.get("keras_version"), entries)


# ----------------------------------------------------------------------------- checkpoints
def checkpoint_prefix(path: str) -> str | None:
    """The bundle prefix ``path`` names: a prefix (``ckpt`` with ``ckpt.index`` next to it), a folder with a
    ``checkpoint`` file (its ``model_checkpoint_path``), a SavedModel's ``variables`` folder or the SavedModel
    directory itself; None when it names none of these."""
    if os.path.isfile(path + ".index"):
        return path
    if not os.path.isdir(path):
        return None
    for candidate in (os.path.join(path, "variables", "variables"), os.path.join(path, "variables")):
        if os.path.isfile(candidate + ".index"):
            return candidate
    state = os.path.join(path, "checkpoint")
    if not os.path.isfile(state):
        return None
    if os.stat(state).st_size > 1 << 20:
        raise ValueError(f"{state!r} is larger than a checkpoint state file can be")
    with open(state, "rb") as f:
        text = f.read(1 << 20).decode("utf-8", "replace")
    found = re.search(r'^model_checkpoint_path:\s*"((?:[^"\\]|\\.)*)"', text, re.M)
    if not found:
        raise ValueError(f"{state!r} names no model_checkpoint_path")
    try:  # a C-escaped string of UTF-8 bytes, as TensorFlow's text format writes it
        name = found.group(1).encode("utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
    except (UnicodeError, ValueError):
        raise ValueError(f"{state!r}: model_checkpoint_path {found.group(1)[:200]!r} is not a valid path string") from None
    # The prefix is looked up in this folder only (an absolute path written elsewhere: by its base name).
    prefix = os.path.join(path, os.path.basename(name) if os.path.isabs(name) else name)
    if os.path.commonpath([os.path.abspath(prefix), os.path.abspath(path)]) != os.path.abspath(path):
        raise ValueError(f"{state!r} names {name!r}, outside its folder")
    if not os.path.isfile(prefix + ".index"):
        raise ValueError(f"{state!r} names the checkpoint {name!r}, but {prefix + '.index'!r} does not exist")
    return prefix


def read_checkpoint(prefix: str, limits: LoadLimits) -> list[KerasLayerWeights]:
    """The layers with weights of a tf.keras model's TF 2 checkpoint (``save_weights('ckpt')``), in the
    model's layer order: its object graph's ``layer_with_weights-0``, ``-1``, ..., a nested model's in turn.
    Layer names come from the variables' names (``dense_1/kernel``); the checkpoint records no classes."""
    bundle = Bundle(prefix, limits)
    graph = ObjectGraph(bundle)
    entries: list[KerasLayerWeights] = []
    visited: set[int] = set()

    def weighted(node: int) -> list[tuple[int, str]]:
        found = []
        for child, name in graph.nodes[node].children:
            m = _LAYER_CHILD.match(name)
            if m and m.group(1):
                found.append((int(m.group(2)), child, name))
        found.sort()
        if [i for i, _, _ in found] != list(range(len(found))):
            raise ValueError(f"{graph.what}: node {node}'s layer_with_weights children are not numbered 0..{len(found) - 1}")
        return [(child, name) for _, child, name in found]

    def walk(node: int, path: str, depth: int) -> None:
        if depth > _MAX_PATH_PARTS:
            raise ValueError(f"{graph.what}: models nest deeper than {_MAX_PATH_PARTS}")
        for child, name in weighted(node):
            if child in visited:
                raise ValueError(f"{graph.what}: {path}/{name} is reached twice (a cycle or a shared layer)")
            visited.add(child)
            where = f"{path}/{name}" if path else name
            if weighted(child):  # a nested model
                walk(child, where, depth + 1)
                continue
            owners = {full.split("/", 1)[0] for full, _ in filter(None, map(graph._value, graph.reachable(child)))}
            layer_name = owners.pop() if len(owners) == 1 else where
            found = graph.layer_weights(child, layer_name, where, None)
            if found is not None:
                # The checkpoint records no classes; the weights tell most (a kernel + bias is a Dense).
                # A tf.keras Wrapper tracks the layer it wraps as `layer`: weights only under it are a
                # TimeDistributed's (Bidirectional's are under forward_layer / backward_layer).
                if graph.first_hops == {"layer"}:
                    found.class_name = "TimeDistributed"
                entries.append(found)

    walk(0, "", 0)
    if not entries and not weighted(0):
        raise ValueError(
            f"{bundle.index_path!r}: the checkpoint's root has no layer_with_weights-N children: it is not the "
            "checkpoint of a Sequential / functional tf.keras model (a subclassed model or a tf.train.Checkpoint)"
        )
    return entries
