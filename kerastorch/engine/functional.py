"""``Functional`` (alias ``Model``) and ``Sequential``: whole Keras models as torch modules.

Reproduces Keras's model API by hand: ``Input``, ``Model(inputs, outputs)`` over a graph of layer calls
(multiple inputs/outputs as a tensor, list or dict; shared layers; nested models; op nodes),
``Sequential([...])``/``add``, ``layers`` in Keras's order (by depth in the graph, as ``map_graph``),
``weights``/``get_weights`` in Keras's ``model.weights`` order (layer by layer), ``get_config`` in
Keras 3's format, ``summary()`` as tf.keras prints it.

Submodules are the Keras layers under their Keras names, so ``state_dict`` keys read
``<layer name>.<weight name>`` (``conv1_conv.kernel``, ``block.bn.moving_mean`` for a nested model).
torch module names cannot contain ``'.'``: a ``'.'`` in a Keras layer name becomes ``'__'`` (a name that
would still clash with another layer or a model attribute gets ``'_'`` appended until free); the mapping is
deterministic, so keys are stable across processes. ``module_name(keras_name)`` gives it.

Execution is a plan computed once at construction: a list of steps (module, where its arguments come
from, where its outputs go, which values die after it), run by one loop without per-call graph work, so
``torch.compile(fullgraph=True)`` and ``torch.export`` trace it straight.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch

from .._registry import LAYERS
from ..layers.core.input_layer import InputLayer
from ..layers.layer import Layer
from .keras_tensor import KerasTensor, Node, flatten, map_structure


def Input(
    shape: Sequence[int | None] | None = None,
    batch_size: int | None = None,
    name: str | None = None,
    dtype: Any = None,
    batch_shape: Sequence[int | None] | None = None,
    **kwargs: Any,
) -> KerasTensor:
    """Keras ``Input``: a symbolic input tensor (``shape`` without the batch dim, or ``batch_shape``)."""
    if shape is None and batch_shape is None and kwargs.get("batch_input_shape") is None:
        raise ValueError("Please provide to Input a `shape` or a `batch_shape` argument. Note that `shape` does not "
                         "include the batch dimension.")
    layer = InputLayer(input_shape=shape, batch_size=batch_size, name=name, dtype=dtype, batch_shape=batch_shape, **kwargs)
    return input_tensor_of(layer)


def input_tensor_of(layer: InputLayer) -> KerasTensor:
    """The symbolic tensor an InputLayer produces (its single node, made once)."""
    nodes = layer.__dict__.get("_kt_nodes")
    if nodes:
        return nodes[0].outputs
    from .keras_tensor import _Spec

    dtype = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float64": torch.float64}.get(layer.dtype, torch.float32)
    if layer.dtype in ("int32", "int64", "int8", "int16", "uint8", "bool"):
        dtype = getattr(torch, layer.dtype)
    return Node(layer, (), {}, _Spec((layer.batch_shape, dtype))).outputs


def module_name(keras_name: str) -> str:
    """The torch submodule name of a Keras layer name (``'.'`` -> ``'__'``)."""
    return keras_name.replace(".", "__")


class _Model(Layer):
    """What Functional and Sequential share: weights across layers, configs, summary."""

    _kt_is_model = True
    _call_takes_training = True

    def _register_layers(self, layers: Sequence[torch.nn.Module]) -> dict[int, str]:
        """Register ``layers`` as submodules under their (mapped) Keras names; return id -> attribute name."""
        keys: dict[int, str] = {}
        names = [getattr(layer, "name", None) or type(layer).__name__.lower() for layer in layers]
        for name in names:
            if names.count(name) > 1:  # tf.keras's message
                raise ValueError(
                    f'The name "{name}" is used {names.count(name)} times in the model. All layer names should be unique.'
                )
        for layer, name in zip(layers, names):
            key = module_name(name)
            while key in self._modules or (hasattr(self, key) and key not in self._modules) or key in keys.values():
                key += "_"
            self.add_module(key, layer)
            keys[id(layer)] = key
        return keys

    # ----- Keras layer list and weights -----
    @property
    def layers(self) -> list[torch.nn.Module]:
        return list(self._modules.values())

    def get_layer(self, name: str | None = None, index: int | None = None) -> torch.nn.Module:
        """Keras ``get_layer``: by name (Keras's name, not the module key) or by index."""
        if index is not None and name is not None:
            raise ValueError(f"Provide only a layer name or a layer index. Received: index={index}, name={name}.")
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(self.layers)} layers.")
            return self.layers[index]
        for layer in self.layers:
            if getattr(layer, "name", None) == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[getattr(l, 'name', None) for l in self.layers]}.")

    def _all_weights(self) -> list[tuple[torch.Tensor, bool]]:
        out = []
        seen: set[int] = set()
        for layer in self.layers:
            if isinstance(layer, _Model):
                items = layer._all_weights()
            elif isinstance(layer, Layer):
                items = [(w, layer._specs[n].trainable and w.requires_grad) for n, w in zip(layer._specs, layer.weights)]
            else:  # a user's torch module: its parameters, then its buffers
                items = [(p, p.requires_grad) for p in layer.parameters()] + [(b, False) for b in layer.buffers()]
            for w, trainable in items:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append((w, trainable))
        return out

    @property
    def weights(self) -> list[torch.Tensor]:
        """Keras order (tf.keras and Keras 3 ``model.weights``): layer by layer in ``layers`` order, each
        layer's own weights in its order; a weight shared by several layers counts once."""
        return [w for w, _ in self._all_weights()]

    @property
    def trainable_weights(self) -> list[torch.Tensor]:
        return [w for w, t in self._all_weights() if t]

    @property
    def non_trainable_weights(self) -> list[torch.Tensor]:
        return [w for w, t in self._all_weights() if not t]

    def _weight_slots(self) -> list[tuple[torch.nn.Module, str]]:
        """(layer, weight name) for each Keras weight, in ``weights`` order (a weight shared by several
        layers or nested models once). A user's plain torch module (``custom_objects``) contributes its
        parameters, then its buffers, under their torch names, in torch's layout."""
        slots: list[tuple[torch.nn.Module, str]] = []
        seen: set[tuple[int, str]] = set()
        for layer in self.layers:
            if isinstance(layer, _Model):
                inner = layer._weight_slots()
            elif isinstance(layer, Layer):
                inner = [(layer, n) for n in layer.weight_names]
            else:
                inner = [(layer, n) for n, _ in layer.named_parameters()] + [(layer, n) for n, _ in layer.named_buffers()]
            for l, n in inner:
                if (id(l), n) not in seen:
                    seen.add((id(l), n))
                    slots.append((l, n))
        return slots

    def get_weights(self) -> list[np.ndarray]:
        """Keras ``get_weights`` (Keras layouts, ``weights`` order)."""
        out = []
        for layer in self.layers:
            if isinstance(layer, Layer) and not layer.built:
                raise ValueError(f'Layer "{layer.name}" is not built yet: call the model once or load weights first.')
        for layer, n in self._weight_slots():
            t = (layer.keras_weight(n) if isinstance(layer, Layer) else _plain_weight(layer, n)).detach().cpu()
            out.append(np.array((t.float() if t.dtype == torch.bfloat16 else t).numpy(), order="C"))  # 0-d stays 0-d
        return out

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Keras ``set_weights``: a list in ``get_weights`` order; all shapes are checked before any copy."""
        slots = self._weight_slots()
        weights = list(weights)
        if len(weights) != len(slots):
            raise ValueError(f"You called `set_weights(weights)` on model {self.name!r} with a weight list of length "
                             f"{len(weights)}, but the model was expecting {len(slots)} weights.")
        arrays = [w if isinstance(w, torch.Tensor) else torch.as_tensor(np.asarray(w)) for w in weights]
        for (layer, n), a in zip(slots, arrays):
            if isinstance(layer, Layer):
                expected = tuple(layer.weight_spec(n).shape) if layer.built else tuple(a.shape)
            else:
                expected = tuple(_plain_weight(layer, n).shape)
            if expected != tuple(a.shape):
                raise ValueError(f'Layer "{getattr(layer, "name", type(layer).__name__)}" weight shape {expected} is not '
                                 f"compatible with provided weight shape {tuple(a.shape)}.")
        by_layer: dict[int, tuple[torch.nn.Module, dict[str, torch.Tensor]]] = {}
        for (layer, n), a in zip(slots, arrays):
            by_layer.setdefault(id(layer), (layer, {}))[1][n] = a
        for layer, values in by_layer.values():
            if isinstance(layer, Layer):
                layer.set_weights([values[n] for n in layer.weight_names])
            else:
                with torch.no_grad():
                    for n, a in values.items():
                        target = _plain_weight(layer, n)
                        target.copy_(a.to(device=target.device, dtype=target.dtype))

    @property
    def losses(self) -> list[torch.Tensor]:
        out: list[torch.Tensor] = []
        for layer in self.layers:
            out += list(getattr(layer, "losses", []))
        return out

    def apply_constraints(self) -> None:
        for layer in self.layers:
            if hasattr(layer, "apply_constraints"):
                layer.apply_constraints()

    def count_params(self) -> int:
        return int(sum(w.numel() for w, _ in self._all_weights()))

    def _first_weight(self) -> torch.Tensor | None:
        for w, _ in self._all_weights():
            if w.dtype.is_floating_point and not torch.nn.parameter.is_lazy(w):
                return w
        return None

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        Layer.trainable.fset(self, value)  # type: ignore[attr-defined]
        for layer in self.layers:
            if isinstance(layer, Layer):
                layer.trainable = value

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        return None  # a model's own lazy hook has nothing to build: its layers build themselves

    def summary(
        self,
        line_length: int | None = None,
        positions: Sequence[float] | None = None,
        print_fn: Callable[[str], Any] | None = None,
        expand_nested: bool = False,
        show_trainable: bool = False,
    ) -> str:
        """tf.keras ``model.summary()``: its table (layer (type), output shape, param #, and "Connected to"
        for non-chain graphs) and totals, ``print_fn`` called per line (default ``print``). Returns the text."""
        from .summary import print_summary

        return print_summary(self, line_length, positions, print_fn, expand_nested, show_trainable)


def _plain_weight(module: torch.nn.Module, name: str) -> torch.Tensor:
    """Parameter or buffer ``name`` of a plain torch module."""
    try:
        return module.get_parameter(name)
    except AttributeError:
        return module.get_buffer(name)


class _Step:
    """One node of the plan: call ``module`` with arguments gathered from value slots, store its outputs."""

    __slots__ = ("key", "gather", "outputs", "flat_out", "free", "pass_training", "one")

    def __init__(self, key: str, gather: Callable[[list, Any], tuple], outputs: list[int], flat_out: Callable[[Any], list],
                 free: list[int], pass_training: bool):
        self.key = key
        self.gather = gather
        self.outputs = outputs
        self.flat_out = flat_out
        self.free = free
        self.pass_training = pass_training
        # The common node, one tensor in and one out, no other argument: (argument slot, output slot), which
        # the run loop handles without gathering or flattening; None for any other node.
        simple = (
            isinstance(gather, _Gather) and gather.kind == "one" and not gather.consts
            and isinstance(flat_out, _FlatOut) and flat_out.kind == "one" and len(outputs) == 1
        )
        self.one = (gather.index, outputs[0]) if simple else None


class _FlatOut:
    """A node's outputs as a flat list (``kind``: one tensor, a dict's values in the node's key order, a
    list, or any nesting). Plain objects, not closures, so that a model pickles (``torch.save(model)``)."""

    __slots__ = ("kind", "keys")

    def __init__(self, structure: Any):
        self.keys: list = []
        if isinstance(structure, KerasTensor):
            self.kind = "one"
        elif isinstance(structure, dict):
            self.kind, self.keys = "dict", list(structure)
        elif isinstance(structure, (list, tuple)) and all(isinstance(t, KerasTensor) for t in structure):
            self.kind = "list"
        else:
            self.kind = "nested"

    def __call__(self, out: Any) -> list:
        if self.kind == "one":
            return [out]
        if self.kind == "dict":
            return [out[k] for k in self.keys]
        if self.kind == "list":
            return list(out)
        return _flatten_values(out)


def _flatten_values(x: Any) -> list:
    if isinstance(x, dict):
        return [v for k in x for v in _flatten_values(x[k])]
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in _flatten_values(item)]
    return [x]


class _Gather:
    """values -> (args, kwargs) of one node, specialized for the common calls (one tensor; a list of
    tensors; constant kwargs); anything else fills a template of slot references."""

    __slots__ = ("kind", "index", "consts", "targs", "tkwargs")

    def __init__(self, args: tuple, kwargs: dict, slot: dict[int, int]):
        self.consts = {k: v for k, v in kwargs.items() if not flatten(v)}
        self.index: Any = None
        self.targs: Any = None
        self.tkwargs: Any = None
        plain_kwargs = len(self.consts) == len(kwargs)
        if len(args) == 1 and isinstance(args[0], KerasTensor) and plain_kwargs:
            self.kind, self.index = "one", slot[id(args[0])]
        elif (len(args) == 1 and isinstance(args[0], (list, tuple)) and all(isinstance(t, KerasTensor) for t in args[0])
              and plain_kwargs):
            self.kind, self.index = "list", [slot[id(t)] for t in args[0]]
        else:
            def sub(x: Any) -> Any:
                return _Ref(slot[id(x)]) if isinstance(x, KerasTensor) else x

            self.kind = "template"
            self.targs = map_structure(sub, tuple(args))
            self.tkwargs = map_structure(sub, dict(kwargs))

    def __call__(self, v: list) -> tuple:
        if self.kind == "one":
            return (v[self.index],), self.consts
        if self.kind == "list":
            return ([v[i] for i in self.index],), self.consts
        return _fill(self.targs, v), _fill(self.tkwargs, v)


class _Ref:
    __slots__ = ("i",)

    def __init__(self, i: int):
        self.i = i


def _fill(template: Any, values: list) -> Any:
    if isinstance(template, _Ref):
        return values[template.i]
    if isinstance(template, dict):
        return {k: _fill(t, values) for k, t in template.items()}
    if isinstance(template, (list, tuple)):
        return type(template)(_fill(t, values) for t in template)
    return template


@LAYERS.register("Model")
class Functional(_Model):
    """Keras's functional model: ``Functional(inputs, outputs, name=None, trainable=True)``.

    ``inputs``/``outputs``: a KerasTensor, a list of them, or a dict of them (by name). Called with the
    same structure of real tensors (a dict by input name; a list in input order; several positional
    tensors are read as a list), it returns the outputs' structure.
    """

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None, trainable: bool = True, **kwargs: Any):
        for key in ("dtype",):
            kwargs.pop(key, None)
        super().__init__(name=name or _auto_name("functional"), trainable=trainable, **kwargs)
        self._build_graph(inputs, outputs)
        self.built = True
        self._drop_lazy_hooks()
        if not trainable:
            self.trainable = False

    # ----- graph -----
    def _build_graph(self, inputs: Any, outputs: Any) -> None:
        in_flat = _as_flat(inputs, "inputs")
        out_flat = _as_flat(outputs, "outputs")
        self._input_structure = _structure_of(inputs)
        self._output_structure = _structure_of(outputs)
        self._inputs = inputs
        self._outputs = outputs
        order, layers, by_depth = _map_graph(in_flat, out_flat)
        self._nodes = order
        self._nodes_by_depth = by_depth
        keys = self._register_layers(layers)
        # Slots: the model inputs, then every node's outputs.
        slot: dict[int, int] = {}
        for t in in_flat:
            slot[id(t)] = len(slot)
        self._n_inputs = len(in_flat)
        steps_raw = []
        for node in order:
            outs = []
            for t in node.flat_outputs:
                slot[id(t)] = len(slot)
                outs.append(slot[id(t)])
            steps_raw.append((node, outs))
        # Input layers run first (Keras's input checks and casts), in place.
        self._input_steps = [
            (keys[id(t.node.layer)], slot[id(t)]) for t in in_flat if t.node is not None and isinstance(t.node.layer, InputLayer)
        ]
        last_use: dict[int, int] = {}
        for k, (node, _) in enumerate(steps_raw):
            for t in node.input_tensors:
                last_use[slot[id(t)]] = k
        out_slots = [slot[id(t)] for t in out_flat]
        keep = set(out_slots)
        frees: list[list[int]] = [[] for _ in steps_raw]
        for s, k in last_use.items():
            if s not in keep:
                frees[k].append(s)
        self._steps = [
            _Step(keys[id(node.layer)], _Gather(node.args, node.kwargs, slot), outs, _FlatOut(node.outputs),
                  frees[k], isinstance(node.layer, Layer) and not getattr(node.layer, "op", None))
            for k, (node, outs) in enumerate(steps_raw)
        ]
        self._out_slots = out_slots
        if isinstance(outputs, dict):  # the dict's own key order, each key's flat (sorted) position
            flat_keys = sorted(outputs)
            self._dict_out = [(k, out_slots[flat_keys.index(k)]) for k in outputs]
        self._n_slots = len(slot)
        self._in_flat = in_flat
        self._out_flat = out_flat

    @property
    def inputs(self) -> list[KerasTensor]:
        return list(self._in_flat)

    @property
    def outputs(self) -> list[KerasTensor]:
        return list(self._out_flat)

    @property
    def input_names(self) -> list[str]:
        return [t.name for t in self._in_flat]

    @property
    def output_names(self) -> list[str]:
        return [t.name for t in self._out_flat]

    # ----- execution -----
    def forward(self, inputs: Any, *more: Any, training: bool | None = None) -> Any:
        values: list[Any] = [None] * self._n_slots
        if more:
            inputs = [inputs, *more]
        flat = self._flatten_inputs(inputs)
        for i, x in enumerate(flat):
            values[i] = x
        modules = self._modules
        for key, s in self._input_steps:
            values[s] = modules[key](values[s])
        for step in self._steps:
            one = step.one
            if one is not None and (training is None or not step.pass_training):  # one tensor in, one out
                values[one[1]] = modules[step.key](values[one[0]])
            else:
                args, kwargs = step.gather(values)
                if training is not None and step.pass_training:
                    kwargs = {**kwargs, "training": training}
                out = modules[step.key](*args, **kwargs)
                for s, o in zip(step.outputs, step.flat_out(out)):
                    values[s] = o
            for s in step.free:
                values[s] = None
        return self._pack_outputs(values)

    def _flatten_inputs(self, inputs: Any) -> list:
        kind, keys = self._input_structure
        n = self._n_inputs
        if isinstance(inputs, dict):
            names = keys if kind == "dict" else [t.name for t in self._in_flat]
            missing = [k for k in names if k not in inputs]
            if missing:
                raise ValueError(f'Model "{self.name}" expects inputs {names}; missing {missing}.')
            return [inputs[k] for k in names]
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != n:
                raise ValueError(f'Layer "{self.name}" expects {n} input(s), but it received {len(inputs)} input tensors.')
            return list(inputs)
        if n != 1:
            raise ValueError(f'Layer "{self.name}" expects {n} input(s), but it received 1 input tensors.')
        return [inputs]

    def _pack_outputs(self, values: list) -> Any:
        kind, keys = self._output_structure
        if kind == "single":
            return values[self._out_slots[0]]
        if kind == "dict":
            return {k: values[s] for k, s in self._dict_out}
        return [values[s] for s in self._out_slots]

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The outputs' recorded shapes (Keras's structure)."""
        shapes = [t.shape for t in self._out_flat]
        kind, keys = self._output_structure
        if kind == "single":
            return shapes[0]
        if kind == "dict":
            by_key = dict(zip(keys, shapes))
            return {k: by_key[k] for k in self._outputs}
        return shapes

    # ----- config -----
    def get_config(self) -> dict[str, Any]:
        """Keras 3's functional config: layers with ``inbound_nodes`` (``__keras_tensor__`` args)."""
        from .serialization import functional_config

        return functional_config(self)

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> "Functional":
        from .serialization import functional_from_config

        return functional_from_config(config, custom_objects)

    def get_build_config(self) -> dict[str, Any]:
        return {"input_shape": None}

    def build_from_config(self, config: dict[str, Any]) -> None:
        return None

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


Model = Functional


def _map_graph(in_flat: list[KerasTensor], out_flat: list[KerasTensor]) -> tuple[list[Node], list[torch.nn.Module], dict]:
    """The model's nodes to run (creation order: a topological order), its layers in Keras's order, and
    all its nodes by depth (input nodes included: Keras's ``_nodes_by_depth``).

    Keras's ``map_graph`` (tf_keras ``functional._map_graph_network``, Keras 3 ``ops/function.map_graph``),
    iteratively: a depth-first walk from the outputs (in order) back to the inputs numbers each layer when
    first reached; a node's depth is 1 + the largest depth of the nodes it feeds, a layer's depth the largest
    of its nodes'; ``layers`` is by decreasing depth, ties in walk order (model inputs that no output reaches
    come first among depth 0). This order is ``model.layers``, ``weights`` and ``summary()``'s order.
    """
    inputs = {id(t) for t in in_flat}
    layer_index: dict[int, int] = {}
    layer_of: dict[int, torch.nn.Module] = {}
    finished: set[int] = set()
    post_order: list[Node] = []
    parents: dict[int, list[Node]] = {}
    entry_nodes: set[int] = set()  # nodes that produce a model input: not run by the model
    for out in out_flat:
        if out.node is None:
            raise ValueError(f"Graph disconnected: KerasTensor {out!r} was not produced by `Input` or a layer call.")
        if out.node.id in finished:
            continue
        in_progress: set[int] = set()
        stack: list[tuple[Node, Any, bool]] = []

        def enter(t: KerasTensor) -> None:
            node = t.node
            if node is None:
                raise ValueError(f"Graph disconnected: KerasTensor {t!r} was not produced by `Input` or a layer call.")
            if node.id in finished:
                return
            if node.id in in_progress:
                raise ValueError(f"The graph has a cycle through layer {node.layer.name!r}.")
            if id(node.layer) not in layer_index:
                layer_index[id(node.layer)] = len(layer_index)
                layer_of[id(node.layer)] = node.layer
            in_progress.add(node.id)
            if id(t) in inputs:
                srcs: list[KerasTensor] = []
                entry_nodes.add(node.id)
            else:
                srcs = list(node.input_tensors)
                if not srcs and not (isinstance(node.layer, InputLayer) and id(t) in inputs):
                    raise ValueError(
                        f"Graph disconnected: cannot find parent for KerasTensor {t!r}: it is not one of the model's "
                        f"`inputs` ({[x.name for x in in_flat]}) and no input of the model leads to it."
                    )
            parents[node.id] = [s.node for s in srcs]
            stack.append((node, iter(srcs), True))

        enter(out)
        while stack:
            node, it, _ = stack[-1]
            nxt = next(it, None)
            if nxt is not None:
                enter(nxt)
                continue
            stack.pop()
            in_progress.discard(node.id)
            finished.add(node.id)
            post_order.append(node)
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    for node in reversed(post_order):
        depth = max(node_depth.setdefault(node.id, 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        node_depth[node.id] = depth
        for parent in parents[node.id]:
            node_depth[parent.id] = max(depth + 1, node_depth.get(parent.id, 0))
    for t in in_flat:
        layer = t.node.layer if t.node is not None else None
        if layer is not None and id(layer) not in layer_depth:
            layer_depth[id(layer)] = 0
            layer_index[id(layer)] = -1
            layer_of[id(layer)] = layer
    layers = sorted(layer_of.values(), key=lambda l: (-layer_depth[id(l)], layer_index[id(l)]))
    nodes = sorted((n for n in post_order if n.id not in entry_nodes), key=lambda n: n.id)
    by_depth: dict[int, list[Node]] = {}
    for n in post_order:
        by_depth.setdefault(node_depth[n.id], []).append(n)
    for t in in_flat:  # inputs no output reaches: depth 0
        if t.node is not None and t.node.id not in node_depth:
            by_depth.setdefault(0, []).append(t.node)
    return nodes, layers, by_depth


def _auto_name(base: str) -> str:
    from .. import _naming

    return _naming.unique_name(base)


def _as_flat(x: Any, what: str) -> list[KerasTensor]:
    if isinstance(x, KerasTensor):
        return [x]
    if isinstance(x, dict):  # Keras flattens dicts in sorted key order (tf.nest / keras.tree)
        items = [x[k] for k in sorted(x)]
    elif isinstance(x, (list, tuple)):
        items = list(x)
    else:
        raise ValueError(f"All `{what}` of a functional model must be KerasTensors (from `Input` or a layer call). "
                         f"Received {what}={x!r}")
    bad = [t for t in items if not isinstance(t, KerasTensor)]
    if bad or not items:
        raise ValueError(f"All `{what}` of a functional model must be KerasTensors (from `Input` or a layer call). "
                         f"Received {what}={x!r}")
    return items


def _structure_of(x: Any) -> tuple[str, list]:
    if isinstance(x, KerasTensor):
        return ("single", [])
    if isinstance(x, dict):
        return ("dict", sorted(x))  # the flat order; outputs are packed back in the dict's own order
    return ("list", [])


@LAYERS.register()
class Sequential(_Model):
    """Keras ``Sequential(layers=None, name=None, trainable=True)``: layers called one after the other.

    The input shape comes from a leading ``InputLayer``/``Input``, a first layer's ``input_shape``, or the
    first call; layers build then, as in Keras.
    """

    def __init__(self, layers: Sequence[Any] | None = None, name: str | None = None, trainable: bool = True, **kwargs: Any):
        kwargs.pop("dtype", None)
        build_shape = kwargs.pop("build_input_shape", None)
        super().__init__(name=name or _auto_name("sequential"), trainable=trainable, **kwargs)
        self.__dict__["_input_layer"] = None
        self._chain: list[str] = []
        for layer in layers or []:
            self.add(layer)
        if build_shape is not None and self.__dict__["_input_layer"] is None:
            self._set_input_shape(tuple(build_shape))
        self.built = True
        self._drop_lazy_hooks()
        if not trainable:
            self.trainable = False

    def add(self, layer: Any) -> None:
        """Keras ``add``: append a layer (an ``Input`` tensor or ``InputLayer`` sets the input shape)."""
        if isinstance(layer, KerasTensor):
            layer = layer.node.layer
        if isinstance(layer, InputLayer):
            if self._chain or self.__dict__["_input_layer"] is not None:
                raise ValueError("Sequential model: an InputLayer can only be the first layer.")
            self.__dict__["_input_layer"] = layer
            self._build_chain(layer.batch_shape)
            return
        if not isinstance(layer, torch.nn.Module):
            raise ValueError(f"Only instances of `keras.Layer` can be added to a Sequential model. Received: {layer!r} "
                             f"(of type {type(layer)})")
        if any(getattr(l, "name", None) == getattr(layer, "name", None) for l in self.layers):
            raise ValueError(
                "All layers added to a Sequential model should have unique names. Name "
                f'"{layer.name}" is already the name of a layer in this model. Update the `name` argument to pass a '
                "unique name."
            )
        keys = self._register_layers([layer])
        self._chain.append(keys[id(layer)])
        shape = self._output_shape_before(len(self._chain) - 1)
        if shape is None and len(self._chain) == 1 and getattr(layer, "_batch_input_shape", None) is not None:
            shape = layer._batch_input_shape
            self.__dict__["_input_layer"] = InputLayer(batch_input_shape=shape, name=layer.name + "_input")
        if shape is not None and isinstance(layer, Layer) and not layer.built and layer._weights_state() == "lazy":
            layer.build(shape)

    def _build_chain(self, shape: Any) -> None:
        for key in self._chain:
            layer = self._modules[key]
            if isinstance(layer, Layer) and not layer.built and shape is not None:
                layer.build(shape)
            shape = _out_shape(layer, shape)

    def _output_shape_before(self, index: int) -> Any:
        inp = self.__dict__["_input_layer"]
        shape = inp.batch_shape if inp is not None else None
        if shape is None:
            return None
        for key in self._chain[:index]:
            shape = _out_shape(self._modules[key], shape)
        return shape

    def build(self, input_shape: Any = None) -> None:
        """Keras ``build(input_shape)``: set the input shape (batch dim included) and build the layers."""
        self._set_input_shape(input_shape)

    def _set_input_shape(self, input_shape: Any) -> None:
        # not under the Layer build wrapper: a Sequential is "built" (a container) from construction on
        if input_shape is not None and self.__dict__["_input_layer"] is None:
            self.__dict__["_input_layer"] = InputLayer(batch_input_shape=tuple(input_shape), name=_auto_name("input_layer"))
            self._build_chain(tuple(input_shape))

    def pop(self) -> torch.nn.Module:
        if not self._chain:
            raise ValueError("There are no layers in the model.")
        key = self._chain.pop()
        return self._modules.pop(key)

    @property
    def layers(self) -> list[torch.nn.Module]:
        return [self._modules[k] for k in self._chain]

    @property
    def input_shape(self) -> Any:
        inp = self.__dict__["_input_layer"]
        return None if inp is None else inp.batch_shape

    def forward(self, inputs: Any, training: bool | None = None) -> Any:
        x = inputs
        inp = self.__dict__["_input_layer"]
        if inp is None and isinstance(x, torch.Tensor):  # first call of a model without an input shape
            self._set_input_shape((None,) + tuple(x.shape[1:]))  # as Keras: the batch dimension stays free
            inp = self.__dict__["_input_layer"]
        if inp is not None:
            x = inp(x)
        modules = self._modules
        if training is None:
            for key in self._chain:
                x = modules[key](x)
        else:
            for key in self._chain:
                m = modules[key]
                x = m(x, training=training) if isinstance(m, Layer) else m(x)
        return x

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = _out_shape(layer, shape)
        return shape

    def get_config(self) -> dict[str, Any]:
        from .serialization import sequential_config

        return sequential_config(self)

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> "Sequential":
        from .serialization import sequential_from_config

        return sequential_from_config(config, custom_objects)

    def get_build_config(self) -> dict[str, Any] | None:
        shape = self.input_shape
        return None if shape is None else {"input_shape": list(shape)}

    def build_from_config(self, config: dict[str, Any]) -> None:
        if config and config.get("input_shape") is not None:
            self._set_input_shape(tuple(config["input_shape"]))

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


def _out_shape(layer: torch.nn.Module, shape: Any) -> Any:
    if shape is None:
        return None
    fn = getattr(layer, "compute_output_shape", None)
    if fn is None:
        return None
    try:
        return fn(shape)
    except (NotImplementedError, TypeError, AttributeError):
        return None
