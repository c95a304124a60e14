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
from ..graph.node import flatten
from ..layers.core.input_layer import InputLayer
from ..layers.layer import Layer
from ..layers.utils.string_inputs import holds_string_data, is_string_data, numpy_to_tensors
from . import direct, traced
from .base_model import _Model
from .construction import _as_flat, _auto_name, _map_graph, _structure_of, pack_nested
from .functional_config import functional_config, functional_from_config
from .masking import MaskStep, any_flag, named_mask_args, output_mask_flags, takes_mask
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
        # Masks: where each node's first argument comes from, and whether the node is given its mask as a graph
        # tensor (a Keras 3 file records them; a recorded `mask=None` means "the propagated one", as in Keras 3).
        self._mask_args = [(_arg_slots(node.args, slot), bool(flatten(node.kwargs.get("mask")))) for node, _ in steps_raw]
        self._named_masks = [
            named_mask_args(node.layer, node.args, node.kwargs, lambda t: slot[id(t)] if isinstance(t, KerasTensor) else None)
            for node, _ in steps_raw
        ]
        self._mask_plans: dict[tuple, tuple] = {}
        self._no_mask_plan = self._mask_plan((False,) * len(in_flat))[0] is None

    # ----- masks -----
    def _mask_plan(self, input_flags: tuple) -> tuple:
        """``(plan, output flags)`` for inputs that carry masks as ``input_flags`` say: decided from the graph
        alone (``engine/masking.py``), once per combination; ``plan`` is ``None`` when no node does mask work."""
        cached = self._mask_plans.get(input_flags)
        if cached is not None:
            return cached
        masked = [False] * self._n_slots
        masked[: len(input_flags)] = list(input_flags)
        plan: list = []
        for step, (arg, recorded), named in zip(self._steps, self._mask_args, self._named_masks):
            module = self._modules[step.key]
            if arg is None:  # an op node on constants / nested structures: ops drop masks
                plan.append(None)
                continue
            flags = [masked[i] for i in arg] if isinstance(arg, list) else masked[arg]
            joint = bool(getattr(module, "_kt_is_model", False))
            pass_mask = any_flag(flags) and not recorded and (joint or takes_mask(module))
            named = [(p, s) for p, s in named if masked[s]]
            out_flags = output_mask_flags(module, flags, len(step.outputs))
            for s, f in zip(step.outputs, out_flags):
                masked[s] = f
            produce = any(out_flags)
            plan.append(MaskStep(arg, pass_mask, produce, joint, named) if (pass_mask or produce or named) else None)
        result = (plan if any(p is not None for p in plan) else None, [masked[s] for s in self._out_slots])
        self._mask_plans[input_flags] = result
        return result

    def produces_mask(self, input_masked: Any) -> list[bool]:
        """Which outputs (flat) carry a mask when the inputs carry masks as ``input_masked`` says."""
        flags = input_masked if isinstance(input_masked, (list, tuple)) else [input_masked]
        return self._mask_plan(tuple(bool(any_flag(f)) for f in flags))[1]

    def _flatten_masks(self, mask: Any) -> list:
        if mask is None:
            return [None] * self._n_inputs
        if isinstance(mask, torch.Tensor):
            return [mask] + [None] * (self._n_inputs - 1)
        if isinstance(mask, dict):
            kind, keys = self._input_structure
            names = keys if kind == "dict" else [t.name for t in self._in_flat]
            return [mask.get(k) for k in names]
        masks = list(mask)
        if len(masks) != self._n_inputs:
            raise ValueError(f'Model "{self.name}" expects {self._n_inputs} input mask(s) (or None), received {len(masks)}.')
        return masks

    def run_with_masks(self, inputs: Any, mask: Any = None, training: bool | None = None) -> tuple[Any, Any]:
        """``(outputs, output masks)`` in one pass, masks in the outputs' structure (Keras's joint
        output-and-mask computation of a nested model)."""
        flat = self._flatten_inputs(inputs)
        out_values, out_masks = self._run_masked(flat, self._flatten_masks(mask), training)
        return out_values, self._pack_outputs(out_masks, flat_given=True)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The model's output mask(s): what its graph computes for ``inputs`` with input ``mask``."""
        return self.run_with_masks(inputs, mask, training=False)[1]

    def _run_masked(self, flat: list, in_masks: list, training: bool | None) -> tuple[Any, list]:
        """The graph with its masks (``forward`` with a mask plan); returns the packed outputs and the flat
        output masks. As the unmasked run: the first call per input signature (and mask flags) checks every
        node and records a plan, later calls run it (``engine/direct.py``)."""
        flags = tuple(m is not None for m in in_masks)
        plan = self._mask_plan(flags)[0]
        values: list[Any] = [None] * self._n_slots
        masks: list[Any] = [None] * self._n_slots
        for i, (x, m) in enumerate(zip(flat, in_masks)):
            values[i], masks[i] = x, m
        modules = self._modules
        for key, s in self._input_steps:
            values[s] = modules[key](values[s])
        records: list | None = None
        if not direct.checked_only():
            recorded = self.__dict__.get("_direct_masked")
            if recorded is not None and recorded.masked == flags and direct.matches(recorded, flat):
                if not direct.run(self, recorded, values, training, masks):
                    self.__dict__["_direct_masked"] = None
                return self._pack_outputs(values), [masks[s] for s in self._out_slots]
            sig = direct.signature(flat)
            records = [] if sig is not None else None
        for k, step in enumerate(self._steps):
            ms = plan[k] if plan is not None else None
            args, kwargs = step.gather(values)
            if training is not None and step.pass_training:
                kwargs = {**kwargs, "training": training}
            module = modules[step.key]
            out = module(*args, **kwargs) if ms is None else direct.masked_call(module, ms, step, args, kwargs, masks)
            if records is not None:
                records.append(direct.Record(module, args[0] if len(args) == 1 and not kwargs.keys() - {"training"}
                                             else None, out))
            for s, o in zip(step.outputs, step.flat_out(out)):
                values[s] = o
            for s in step.free:
                values[s] = None
                masks[s] = None
        if records is not None:
            self.__dict__["_direct_masked"] = direct.build_plan(self, sig, records, plan, flags)
        return self._pack_outputs(values), [masks[s] for s in self._out_slots]

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
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # String columns (a list of str, a NumPy string array; torch has none) go to the model's string layers as
        # they are; the other NumPy inputs become tensors as usual.
        if args and holds_string_data(args[0]):
            return torch.nn.Module.__call__(self, numpy_to_tensors(args[0]), *args[1:], **kwargs)
        return super().__call__(*args, **kwargs)

    def forward(self, inputs: Any, *more: Any, training: bool | None = None, mask: Any = None) -> Any:
        while more and more[-1] is None:  # torch.onnx's legacy exporter passes training=None positionally
            more = more[:-1]
        if more:
            inputs = [inputs, *more]
        flat = self._flatten_inputs(inputs)
        if mask is not None or not self._no_mask_plan:  # masks planned at construction: else no mask work at all
            return self._run_masked(flat, self._flatten_masks(mask), training)[0]
        values: list[Any] = [None] * self._n_slots
        for i, x in enumerate(flat):
            values[i] = x
        modules = self._modules
        for key, s in self._input_steps:
            values[s] = modules[key](values[s])
        if direct.checked_only():
            # compiled: checked, channels-first between layers (engine/traced.py; no state read); jit.trace, or
            # global module hooks: every layer through Module.__call__
            if torch.compiler.is_compiling() and not direct.global_hooks():
                traced.run(self, values, training)
            else:
                self._run_checked(values, training, None)
            return self._pack_outputs(values)
        plan = self.__dict__.get("_direct")
        if plan is not None and direct.matches(plan, flat):
            if not direct.run(self, plan, values, training):
                self.__dict__["_direct"] = None  # a layer changed (moved, rebuilt, called elsewhere): record again
            return self._pack_outputs(values)
        sig = direct.signature(flat)
        records: list | None = [] if sig is not None else None
        self._run_checked(values, training, records)
        self.__dict__["_direct"] = None if records is None else direct.build_plan(self, sig, records)
        return self._pack_outputs(values)

    def _run_checked(self, values: list, training: bool | None, records: list | None) -> None:
        """Every node through ``Layer.__call__`` (its checks), on Keras's layout; ``records`` collects what
        the direct runner needs (``engine/direct.py``)."""
        modules = self._modules
        for step in self._steps:
            one = step.one
            module = modules[step.key]
            if one is not None and (training is None or not step.pass_training):  # one tensor in, one out
                x = values[one[0]]
                values[one[1]] = out = module(x)
            else:
                args, kwargs = step.gather(values)
                x = args[0] if len(args) == 1 and not kwargs.keys() - {"training"} else None
                if training is not None and step.pass_training:
                    kwargs = {**kwargs, "training": training}
                out = module(*args, **kwargs)
                for s, o in zip(step.outputs, step.flat_out(out)):
                    values[s] = o
            if records is not None:
                records.append(direct.Record(module, x, out))
            for s in step.free:
                values[s] = None

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_direct"] = state["_direct_masked"] = None  # bound methods, key identities: recorded again
        return state

    def _entry_layers(self, inputs: Any) -> list[tuple[Any, Any]]:
        layers = [t.node.layer if t.node is not None and isinstance(t.node.layer, InputLayer) else None
                  for t in self._in_flat]
        return list(zip(layers, self._flatten_inputs(inputs)))

    def _flatten_inputs(self, inputs: Any) -> list:
        kind, keys = self._input_structure
        n = self._n_inputs
        if isinstance(inputs, dict):
            names = keys if kind == "dict" else [t.name for t in self._in_flat]
            missing = [k for k in names if k not in inputs]
            if missing:
                raise ValueError(f'Model "{self.name}" expects inputs {names}; missing {missing}.')
            return [inputs[k] for k in names]
        if isinstance(inputs, (list, tuple)) and not (n == 1 and len(inputs) != 1 and is_string_data(inputs)):
            if len(inputs) != n:
                raise ValueError(f'Layer "{self.name}" expects {n} input(s), but it received {len(inputs)} input tensors.')
            return list(inputs)
        if n != 1:
            raise ValueError(f'Layer "{self.name}" expects {n} input(s), but it received 1 input tensors.')
        return [inputs]

    def _pack_outputs(self, values: list, flat_given: bool = False) -> Any:
        """The outputs' structure from the value slots (``flat_given``: from the flat outputs, in slot order)."""
        if flat_given:
            values = dict(zip(self._out_slots, values))
        kind, keys = self._output_structure
        if kind == "single":
            return values[self._out_slots[0]]
        if kind == "dict":
            return {k: values[s] for k, s in self._dict_out}
        if kind == "nested":
            return pack_nested(keys, [values[s] for s in self._out_slots])
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
        return pack_nested(keys, shapes) if kind == "nested" else shapes

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


def _arg_slots(args: tuple, slot: dict[int, int]) -> Any:
    """The value slot(s) of a node's first argument (a tensor, or a list of tensors); ``None`` otherwise."""
    if not args:
        return None
    first = args[0]
    if isinstance(first, KerasTensor):
        return slot[id(first)]
    if isinstance(first, (list, tuple)) and first and all(isinstance(t, KerasTensor) for t in first):
        return [slot[id(t)] for t in first]
    return None
