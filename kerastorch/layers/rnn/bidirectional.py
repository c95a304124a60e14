"""``Bidirectional``: tf.keras's bidirectional wrapper (``tf_keras/layers/rnn/bidirectional.py``, Keras 3 alike).

A forward copy of the wrapped RNN and a backward one (``go_backwards`` flipped, or the given
``backward_layer``), named ``forward_<name>``/``backward_<name>``; the backward outputs are reversed back in time
before merging: ``merge_mode`` ``'concat'`` (``[fwd, bwd]`` on the last axis), ``'sum'``, ``'mul'``, ``'ave'``
or ``None`` (a list). With ``return_sequences`` both directions output zeros at masked steps (Keras forces
``zero_output_for_mask``). ``return_state`` gives ``[output(s), *forward_states, *backward_states]``;
``initial_state`` is split in half. Weights: the forward layer's, then the backward layer's.
"""
from __future__ import annotations

import copy
from typing import Any

import torch

from ..._registry import LAYERS
from ..layer import Layer
from .base_rnn import BaseRNN, split_initial_state
from ..utils.nested_weights import NestedWeights, deserialize_sublayer as deserialize

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


@LAYERS.register()
class Bidirectional(NestedWeights, Layer):
    """Runs an RNN forwards and backwards and merges the results (see the module docstring)."""

    supports_masking = True
    _call_takes_training = True

    def __init__(self, layer: Any, merge_mode: str | None = "concat", weights: Any = None,
                 backward_layer: Any = None, **kwargs: Any):
        if isinstance(layer, dict):
            layer = deserialize(layer)
        if isinstance(backward_layer, dict):
            backward_layer = deserialize(backward_layer)
        if not isinstance(layer, BaseRNN):
            raise ValueError(
                "Please initialize `Bidirectional` layer with a `tf.keras.layers.Layer` instance (an RNN layer). "
                f"Received: {layer}"
            )
        if backward_layer is not None and not isinstance(backward_layer, BaseRNN):
            raise ValueError(
                "`backward_layer` need to be a `tf.keras.layers.Layer` instance (an RNN layer). "
                f"Received: {backward_layer}"
            )
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                '{"sum", "mul", "ave", "concat", None}'
            )
        super().__init__(**kwargs)
        forward = layer.from_config(_renamed(layer.get_config(), "forward_" + layer.name))
        if backward_layer is None:
            config = _renamed(layer.get_config(), "backward_" + layer.name)
            config["go_backwards"] = not config.get("go_backwards", False)
            backward = layer.from_config(config)
        else:
            backward = backward_layer
            backward.name = "backward_" + backward.name
        self._custom_backward = backward_layer is not None
        for attr in ("return_sequences", "return_state", "stateful"):
            if getattr(forward, attr) != getattr(backward, attr):
                raise ValueError(
                    "Forward layer and backward layer should have different `go_backwards` value and the same "
                    f"`{attr}` value: forward {attr}={getattr(forward, attr)}, backward {attr}={getattr(backward, attr)}."
                )
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different `go_backwards` value. "
                f"forward_layer.go_backwards = {forward.go_backwards}, "
                f"backward_layer.go_backwards = {backward.go_backwards}"
            )
        self.merge_mode = merge_mode
        self.return_sequences = forward.return_sequences
        self.return_state = forward.return_state
        self.stateful = forward.stateful
        for sub in (forward, backward):  # Keras: zeros at masked steps when returning sequences
            sub.zero_output_for_mask = sub.return_sequences
        self.forward_layer = forward
        self.backward_layer = backward
        self.input_spec = None
        self._finish_init()
        if weights is not None:
            self.set_weights(weights)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return super().__call__(*split_initial_state(args, kwargs), **kwargs)

    def _weight_owners(self) -> list[tuple[str, Layer]]:
        return [("forward_layer", self.forward_layer), ("backward_layer", self.backward_layer)]

    def keras_sublayer_paths(self) -> list[tuple[str, str, Layer]]:
        return [("forward_layer", "forward_layer", self.forward_layer),
                ("backward_layer", "backward_layer", self.backward_layer)]

    def build(self, input_shape: Any) -> None:
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub.build(input_shape)

    def _split_states(self, initial_state: Any) -> tuple[Any, Any]:
        """``initial_state``: the forward layer's states, then the backward layer's (each ``None`` when not given)."""
        if initial_state is None:
            return None, None
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        n = len(self.forward_layer.state_sizes)
        m = len(self.backward_layer.state_sizes)
        if len(states) != n + m:
            raise ValueError(
                f'Layer "{self.name}" (Bidirectional): `initial_state` expects {n + m} tensors ({n} for the forward '
                f"layer, then {m} for the backward layer); received {len(states)}."
            )
        return states[:n], states[n:]

    def _symbolic_check_arguments(self, args: tuple, kwargs: dict) -> None:
        """The call's checks on the graph's arguments: the state count, then each layer's checks of its states and
        of the mask (the call hands both the same one)."""
        fwd, bwd = self._split_states(kwargs.get("initial_state"))
        rest = {k: v for k, v in kwargs.items() if k != "initial_state"}
        self.forward_layer._symbolic_check_arguments(args, {**rest, "initial_state": fwd})
        self.backward_layer._symbolic_check_arguments(args, {**rest, "initial_state": bwd})

    def _symbolic_sublayers(self, shapes: Any) -> list[tuple[Layer, Any]]:
        return [(self.forward_layer, shapes), (self.backward_layer, shapes)]  # both see the wrapper's input

    def compute_output_shape(self, input_shape: Any) -> Any:
        out = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            out, states = out[0], out[1:]
            states = states + self.backward_layer.compute_output_shape(input_shape)[1:]
        if self.merge_mode == "concat":  # Keras doubles the forward layer's size (whatever the backward one's)
            out = (*out[:-1], out[-1] * 2)
        outs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            return outs + list(states)
        return outs if self.merge_mode is None else out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        outs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            n = len(self.forward_layer.state_sizes)
            return outs + [None] * (2 * n)
        return outs if self.merge_mode is None else out

    def call(self, inputs: Any, mask: Any = None, training: bool = False, initial_state: Any = None) -> Any:
        if isinstance(inputs, (list, tuple)):
            if initial_state is not None:
                raise ValueError(f'Layer "{self.name}": `initial_state` given both as extra inputs and as an argument.')
            inputs, initial_state = inputs[0], (list(inputs[1:]) or None)
        fwd_state, bwd_state = self._split_states(initial_state)
        y = self.forward_layer(inputs, mask=mask, training=training, initial_state=fwd_state)
        y_rev = self.backward_layer(inputs, mask=mask, training=training, initial_state=bwd_state)
        states: list = []
        if self.return_state:
            y, states = y[0], list(y[1:])
            y_rev, rev_states = y_rev[0], list(y_rev[1:])
            states = states + rev_states
        if self.return_sequences:
            time_axis = 0 if self.forward_layer.time_major else 1
            y_rev = torch.flip(y_rev, [time_axis])
        if self.merge_mode == "concat":
            output: Any = torch.cat([y, y_rev], dim=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = [y, y_rev]
        if self.return_state:
            return (output if isinstance(output, list) else [output]) + states
        return output

    def reset_states(self, states: Any = None) -> None:
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        if states is None:
            self.forward_layer.reset_states()
            self.backward_layer.reset_states()
            return
        n = len(self.forward_layer.state_sizes)
        self.forward_layer.reset_states(states[:n])
        self.backward_layer.reset_states(states[n:])

    def _record_activity(self, outputs: Any) -> None:
        total = None
        for y in (outputs if isinstance(outputs, list) else [outputs]):
            loss = self.activity_regularizer(y).to(y.dtype) / max(y.shape[0], 1)
            total = loss if total is None else total + loss
        self._activity_losses = [total]

    def get_build_config(self) -> dict[str, Any] | None:
        return self.forward_layer.get_build_config() if self.built else None

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["merge_mode"] = self.merge_mode
        layer_config = _renamed(self.forward_layer.get_config(), self.forward_layer.name[len("forward_"):])
        layer_config.pop("zero_output_for_mask", None)
        config["layer"] = _entry(self.forward_layer, layer_config)
        if self._custom_backward:
            back = _renamed(self.backward_layer.get_config(), self.backward_layer.name[len("backward_"):])
            back.pop("zero_output_for_mask", None)
            config["backward_layer"] = _entry(self.backward_layer, back)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Bidirectional":
        config = dict(config)
        config["layer"] = deserialize(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize(config["backward_layer"])
        return cls(**config)

    def extra_repr(self) -> str:
        return ", ".join([f"name={self.name!r}", f"merge_mode={self.merge_mode!r}"] + self._repr_common())


def _renamed(config: dict[str, Any], name: str) -> dict[str, Any]:
    config = copy.deepcopy(config)
    config["name"] = name
    return config


def _entry(layer: Layer, config: dict[str, Any]) -> dict[str, Any]:
    """A wrapped layer as Keras serializes it (the unbuilt original: no build_config)."""
    cls = LAYERS.name_of(type(layer)) or type(layer).__name__
    return {"module": "keras.layers", "class_name": cls, "config": config, "registered_name": None}
