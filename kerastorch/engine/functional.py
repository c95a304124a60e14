"""``Functional`` (alias ``Model``): a Keras functional model as a torch module.

Reproduces Keras's model API by hand: ``Model(inputs, outputs)`` over a graph of layer calls (multiple
inputs/outputs as a tensor, list or dict; shared layers; nested models; op nodes), ``layers`` in Keras's
order (``construction.map_graph``), ``get_config`` in Keras 3's format (``functional_config``).
Construction turns the graph into a plan (``plan.py``) that ``forward`` runs in one loop.
"""
from __future__ import annotations

from typing import Any

import torch

from .._registry import LAYERS
from ..graph.keras_tensor import KerasTensor
from ..layers.core.input_layer import InputLayer
from ..layers.layer import Layer
from .base_model import _Model
from .construction import _as_flat, _auto_name, _map_graph, _structure_of
from .functional_config import functional_config, functional_from_config
from .plan import _FlatOut, _Gather, _Step


@LAYERS.register("Model")
class Functional(_Model):
    """Keras's functional model: ``Functional(inputs, outputs, name=None, trainable=True)``.

    ``inputs``/``outputs``: a KerasTensor, a list of them, or a dict of them (by name). Called with the
    same structure of real tensors (a dict by input name; a list in input order; several positional
    tensors are read as a list), it returns the outputs' structure.
    """

    _kt_model_kind = "functional"  # summary.py tells the kinds apart by it

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
        return functional_config(self)

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> "Functional":
        return functional_from_config(config, custom_objects, cls)

    def _config_node_offset(self, legacy: bool) -> int:
        return 1

    def _keras3_entry(self) -> dict[str, Any]:
        return {"module": "keras.src.models.functional", "class_name": "Functional", "config": functional_config(self),
                "registered_name": "Functional", "build_config": {"input_shape": None}}

    def get_build_config(self) -> dict[str, Any]:
        return {"input_shape": None}

    def build_from_config(self, config: dict[str, Any]) -> None:
        return None

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


Model = Functional
