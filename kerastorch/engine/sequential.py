"""``Sequential``: layers called one after the other, and its Keras 3 config (read and written)."""
from __future__ import annotations

from typing import Any, Sequence

import torch

from .._registry import LAYERS
from ..graph.keras_tensor import KerasTensor
from ..layers.core.input_layer import InputLayer
from ..layers.input_spec import InputSpec, check_shape
from ..layers.layer import Layer
from ..layers.utils.string_inputs import is_string_data
from . import direct, traced
from .base_model import _Model
from .construction import _auto_name
from .masking import MaskStep, output_mask_flags, takes_mask
from .serialization import _building, _keras3_layer_config, check_config_size, deserialize_layer
from .shapes import out_shape as _out_shape


@LAYERS.register()
class Sequential(_Model):
    """Keras ``Sequential(layers=None, name=None, trainable=True)``: layers called one after the other.

    The input shape comes from a leading ``InputLayer``/``Input``, a first layer's ``input_shape``, or the
    first call; layers build then, as in Keras.
    """

    _kt_model_kind = "sequential"  # summary.py tells the kinds apart by it

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
        self.__dict__["_mask_plans"] = {}
        self.__dict__["_direct"] = self.__dict__["_direct_masked"] = None
        shape = self._output_shape_before(len(self._chain) - 1)
        if shape is None and len(self._chain) == 1 and getattr(layer, "_batch_input_shape", None) is not None:
            shape = layer._batch_input_shape
            self.__dict__["_input_layer"] = InputLayer(batch_input_shape=shape, name=layer.name + "_input")
        if shape is not None and isinstance(layer, Layer) and not layer.built and layer._weights_state() == "lazy":
            layer.build(shape)
        elif isinstance(layer, Layer) and isinstance(shape, tuple) and isinstance(layer.input_spec, InputSpec):
            check_shape(layer.input_spec, shape, layer.name)  # built before (a config's build_config): must fit

    def _build_chain(self, shape: Any) -> None:
        for key in self._chain:
            layer = self._modules[key]
            if isinstance(layer, Layer) and not layer.built and shape is not None:
                layer.build(shape)
            elif isinstance(layer, Layer) and isinstance(shape, tuple) and isinstance(layer.input_spec, InputSpec):
                # a layer built before (from a config's build_config) must still take the chain's shape, as
                # Keras's build of the Sequential checks: else a broken config would fail at the first call
                check_shape(layer.input_spec, shape, layer.name)
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
        self.__dict__["_mask_plans"] = {}
        self.__dict__["_direct"] = self.__dict__["_direct_masked"] = None
        return self._modules.pop(key)

    @property
    def layers(self) -> list[torch.nn.Module]:
        return [self._modules[k] for k in self._chain]

    @property
    def input_shape(self) -> Any:
        inp = self.__dict__["_input_layer"]
        return None if inp is None else inp.batch_shape

    # ----- masks -----
    def _mask_plan(self, input_masked: bool) -> tuple[list | None, bool]:
        """``(plan, output masked)`` of the chain for an input with or without a mask (``engine/masking.py``),
        made once per chain; ``plan`` is ``None`` when no layer does mask work."""
        key = bool(input_masked)
        cache = self.__dict__.setdefault("_mask_plans", {})  # emptied by add() and pop()
        cached = cache.get(key)
        if cached is not None:
            return cached
        masked, plan = bool(input_masked), []
        for k in self._chain:
            module = self._modules[k]
            joint = bool(getattr(module, "_kt_is_model", False))
            pass_mask = masked and (joint or takes_mask(module))
            out = output_mask_flags(module, masked, 1)[0]
            plan.append(MaskStep(None, pass_mask, out, joint) if (pass_mask or out) else None)
            masked = out
        result = (plan if any(p is not None for p in plan) else None, masked)
        cache[key] = result
        return result

    def produces_mask(self, input_masked: Any) -> bool:
        return self._mask_plan(bool(input_masked))[1]

    def run_with_masks(self, inputs: Any, mask: Any = None, training: bool | None = None) -> tuple[Any, Any]:
        """``(output, output mask)`` in one pass (a nested Sequential inside a graph)."""
        x = self._enter(inputs)
        if isinstance(mask, (list, tuple)) and len(mask) == 1:
            mask = mask[0]
        flags = (mask is not None,)
        plan = self._mask_plan(flags[0])[0]
        if not isinstance(x, torch.Tensor) or direct.checked_only():
            return self._run_masked_checked(x, mask, plan, training, None)
        n = len(self._chain)
        recorded = self.__dict__.get("_direct_masked")
        if recorded is not None and recorded[1].masked == flags and direct.matches(recorded[1], [x]):
            values, masks = [x] + [None] * n, [mask] + [None] * n
            if not direct.run(recorded[0], recorded[1], values, training, masks):
                self.__dict__["_direct_masked"] = None
            return values[-1], masks[-1]
        records: list = []
        out = self._run_masked_checked(x, mask, plan, training, records)
        chain = direct.Chain(self._chain, self._modules)
        steps = None if plan is None else [None if ms is None else MaskStep(i, ms.pass_mask, ms.produce, ms.joint)
                                           for i, ms in enumerate(plan)]  # node i reads slot i's mask
        self.__dict__["_direct_masked"] = (chain, direct.build_plan(chain, direct.signature([x]), records, steps, flags))
        return out

    def _run_masked_checked(self, x: Any, mask: Any, plan: list | None, training: bool | None,
                            records: list | None) -> tuple[Any, Any]:
        """Every layer through ``Layer.__call__`` with its mask work; ``records`` collects what the direct runner
        needs."""
        modules = self._modules
        for k, ms in zip(self._chain, plan or [None] * len(self._chain)):
            m = modules[k]
            kwargs = {"training": training} if training is not None and isinstance(m, Layer) else {}
            if ms is None:
                y, out_mask = m(x, **kwargs), None
            elif ms.joint:
                y, out_mask = m.run_with_masks(x, mask if ms.pass_mask else None, training=training)
            else:
                if ms.pass_mask:
                    kwargs["mask"] = mask
                y = m(x, **kwargs)
                out_mask = m.compute_mask(x, mask) if ms.produce else None
            if records is not None:
                records.append(direct.Record(m, x, y))
            x, mask = y, out_mask
        return x, mask

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The output mask: what the chain computes for ``inputs`` with input ``mask``."""
        return self.run_with_masks(inputs, mask, training=False)[1]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # a string column (a list of str, a NumPy string array) goes to the first (string) layer as it is
        if args and is_string_data(args[0]):
            return torch.nn.Module.__call__(self, *args, **kwargs)
        return super().__call__(*args, **kwargs)

    def _entry_layers(self, inputs: Any) -> list[tuple[Any, Any]]:
        x = inputs[0] if isinstance(inputs, (list, tuple)) and len(inputs) == 1 else inputs
        return [(self.__dict__["_input_layer"], x)]

    def _enter(self, inputs: Any) -> Any:
        """The input, through the input layer (set from the first call's shape when there is none yet)."""
        x = inputs
        if isinstance(x, (list, tuple)) and not is_string_data(x):  # Keras: a one-element list or tuple is its tensor
            if len(x) != 1:
                raise ValueError(f'Sequential model "{self.name}" takes 1 input, but it received {len(x)} inputs.')
            x = x[0]
        inp = self.__dict__["_input_layer"]
        if inp is None and isinstance(x, torch.Tensor):  # first call of a model without an input shape
            self._set_input_shape((None,) + tuple(x.shape[1:]))  # as Keras: the batch dimension stays free
            inp = self.__dict__["_input_layer"]
        if inp is not None:
            x = inp(x)
        return x

    def forward(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        plain = (self.__dict__.get("_mask_plans") or {}).get(False)
        if mask is not None or (plain if plain is not None else self._mask_plan(False))[0] is not None:
            return self.run_with_masks(inputs, mask, training)[0]
        x = self._enter(inputs)
        if isinstance(x, torch.Tensor) and torch.compiler.is_compiling() and not direct.global_hooks():
            values = [x] + [None] * len(self._chain)  # channels-first between layers (engine/traced.py)
            traced.run(direct.Chain(self._chain, self._modules), values, training)
            return values[-1]
        if not isinstance(x, torch.Tensor) or direct.checked_only():
            return self._run_checked(x, training, None)
        recorded = self.__dict__.get("_direct")
        if recorded is not None and direct.matches(recorded[1], [x]):  # the direct runner (engine/direct.py)
            values = [x] + [None] * len(self._chain)
            if not direct.run(recorded[0], recorded[1], values, training):
                self.__dict__["_direct"] = None
            return values[-1]
        records: list = []
        y = self._run_checked(x, training, records)
        chain = direct.Chain(self._chain, self._modules)
        self.__dict__["_direct"] = (chain, direct.build_plan(chain, direct.signature([x]), records))
        return y

    def _run_checked(self, x: Any, training: bool | None, records: list | None) -> Any:
        """Every layer through ``Layer.__call__``; ``records`` collects what the direct runner needs."""
        modules = self._modules
        for key in self._chain:
            m = modules[key]
            y = m(x, training=training) if training is not None and isinstance(m, Layer) else m(x)
            if records is not None:
                records.append(direct.Record(m, x, y))
            x = y
        return x

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_direct"] = state["_direct_masked"] = None  # bound methods, key identities: recorded again
        return state

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = tuple(input_shape)
        for layer in self.layers:
            shape = _out_shape(layer, shape)
        return shape

    def get_config(self) -> dict[str, Any]:
        return sequential_config(self)

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> "Sequential":
        return sequential_from_config(config, custom_objects, cls)

    def _config_node_offset(self, legacy: bool) -> int:
        return 1 if legacy and self.input_shape is not None else 0

    def _keras3_entry(self) -> dict[str, Any]:
        out = {"module": "keras", "class_name": "Sequential", "config": sequential_config(self), "registered_name": None}
        if self.get_build_config() is not None:
            out["build_config"] = self.get_build_config()
        return out

    def get_build_config(self) -> dict[str, Any] | None:
        shape = self.input_shape
        return None if shape is None else {"input_shape": list(shape)}

    def build_from_config(self, config: dict[str, Any]) -> None:
        if config and config.get("input_shape") is not None:
            self._set_input_shape(tuple(config["input_shape"]))

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


def sequential_from_config(config: dict[str, Any], custom_objects: dict[str, Any] | None = None,
                           cls: type | None = None) -> "Sequential":
    """A Sequential model from its config (tf.keras: ``layers`` may start with an InputLayer; Keras 3 too)."""
    custom_objects = dict(custom_objects or {})
    check_config_size(config)
    entries = config.get("layers")
    if not isinstance(entries, list):
        raise ValueError("Invalid Sequential model configuration: 'layers' must be a list.")
    model = (cls or Sequential)(name=config.get("name"))
    for entry in entries:
        layer = deserialize_layer(entry, custom_objects)
        with _building(getattr(layer, "name", None), type(layer).__name__):
            model.add(layer)
    if config.get("build_input_shape") is not None and model.input_shape is None:
        model.build(tuple(config["build_input_shape"]))
    if config.get("trainable") is False:
        model.trainable = False
    return model


def sequential_config(model: "Sequential") -> dict[str, Any]:
    """Keras 3's config of a Sequential model."""
    layers = []
    inp = model.__dict__["_input_layer"]
    if inp is not None:
        layers.append(_keras3_layer_config(inp))
    layers += [_keras3_layer_config(l) for l in model.layers]
    out: dict[str, Any] = {"name": model.name, "trainable": model.trainable, "dtype": None, "layers": layers}
    out["dtype"] = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}
    if model.input_shape is not None:
        out["build_input_shape"] = list(model.input_shape)
    return out
