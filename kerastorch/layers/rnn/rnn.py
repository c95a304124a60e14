"""``RNN(cell)`` (Keras's generic recurrent layer over any cell, a list of cells or ``StackedRNNCells``) and
``OwnCellRNN``, the base of the layers that own their cell's weights (``SimpleRNN``/``LSTM``/``GRU``).
Sequence handling is :class:`~.base_rnn.BaseRNN`'s."""
from __future__ import annotations

from typing import Any, Mapping

import torch

from ... import _naming, regularizers
from ..._registry import LAYERS
from ..layer import Layer, WeightSpec
from .base_rnn import BaseRNN
from .stacked_rnn_cells import StackedRNNCells
from .cells import RecurrentCell
from ..utils.nested_weights import NestedWeights, deserialize_sublayer as deserialize


@LAYERS.register()
class RNN(NestedWeights, BaseRNN):
    """Keras's ``RNN(cell)``: any kerastorch cell, a list of cells (a ``StackedRNNCells``) or a cell object
    with ``state_size`` and ``call(inputs, states)``; the cell's weights are this layer's Keras weights."""

    def __init__(self, cell: Any, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False, time_major: bool = False,
                 **kwargs: Any):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells([deserialize(c) for c in cell])
        elif isinstance(cell, dict):
            cell = deserialize(cell)
        if not hasattr(cell, "state_size") or not callable(cell):
            raise ValueError(
                "Argument `cell` should have a `call` method and a `state_size` attribute. "
                f"Received: cell={cell!r}"
            )
        zero = kwargs.pop("zero_output_for_mask", False)
        super().__init__(return_sequences, return_state, go_backwards, stateful, unroll, time_major, zero, **kwargs)
        if isinstance(cell, torch.nn.Module):
            self._modules["cell"] = cell  # `cell` is a read-only property of the base class
        else:
            self.__dict__["_plain_cell"] = cell
        self._finish_init()
        if self._batch_input_shape is not None and not self.built:
            self.build(self._batch_input_shape)

    @property
    def cell(self) -> Any:
        return self._modules["cell"] if "cell" in self._modules else self.__dict__["_plain_cell"]

    def _weight_owners(self) -> list[tuple[str, Layer]]:
        cell = self.cell
        return [("cell", cell)] if isinstance(cell, Layer) and cell.weight_names else []

    def keras_sublayer_paths(self) -> list[tuple[str, str, Any]]:
        """Where Keras keeps the weights: ``(Keras 3 group, state_dict prefix, sublayer)``."""
        return [("cell", "cell", self.cell)]

    def build(self, input_shape: Any) -> None:
        batch, _, features = self._sequence_shape(input_shape)
        cell = self.cell
        if isinstance(cell, Layer) and not cell.built:
            cell.build((batch, features))
        self._on_stateful_build(batch)

    def _input_shape_from_sublayer(self, shape: Any) -> Any:
        shape = tuple(shape)
        return (shape[0], None, shape[-1]) if not self.time_major else (None, shape[0], shape[-1])

    def _step_weights(self):
        return self.cell.step_weights()

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self._rnn_config())
        config["cell"] = LAYERS.serialize(self.cell)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "RNN":
        config = dict(config)
        cell = config.pop("cell")
        cell = [deserialize(c) for c in cell] if isinstance(cell, list) else deserialize(cell)
        return cls(cell, **config)

    def extra_repr(self) -> str:
        return ", ".join([f"name={self.name!r}"] + self._rnn_repr() + self._repr_common())


class OwnCellRNN(BaseRNN):
    """``SimpleRNN``/``LSTM``/``GRU``: the layer owns its cell's weights (``lstm.kernel``, ...), so that it is an
    ordinary kerastorch layer for torch (parametrizations, pruning, state_dict); ``layer.cell`` is the cell
    that holds the configuration and the math."""

    _cell_class: type = RecurrentCell
    _cell_args: tuple[str, ...] = ()

    def __init__(self, units: int, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False, time_major: bool = False,
                 **kwargs: Any):
        cell_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in self._cell_args}
        zero = kwargs.pop("zero_output_for_mask", False)
        if "implementation" in kwargs:
            cell_kwargs["implementation"] = kwargs.pop("implementation")
        super().__init__(return_sequences, return_state, go_backwards, stateful, unroll, time_major, zero, **kwargs)
        dtype = self._dtype_policy.name if self._explicit_dtype else None
        try:
            cell = self._cell_class(units, name=_naming.to_snake_case(self._cell_class.__name__), dtype=dtype, **cell_kwargs)
        except ValueError as e:
            raise ValueError(str(e).replace(f'layer "{_naming.to_snake_case(self._cell_class.__name__)}"', f'layer "{self.name}"')) from None
        self.__dict__["_cell"] = cell  # not a submodule: this layer owns the weights
        if not cell.use_bias:
            self.register_parameter("bias", None)
        self._finish_init()

    def __getattr__(self, name: str) -> Any:
        # Keras exposes the cell's arguments on the layer (lstm.units, lstm.recurrent_dropout, ...)
        if name in type(self)._cell_args or name in ("units", "state_size"):
            return getattr(self.__dict__["_cell"], name)
        return super().__getattr__(name)

    def weight_specs(self, input_shape: Any) -> list[WeightSpec]:
        if input_shape is None:
            return self._cell.weight_specs(None)
        batch, _, features = self._sequence_shape(input_shape)
        return self._cell.weight_specs((batch, features))

    def input_shape_from_weights(self, shapes: Mapping[str, tuple[int, ...]]) -> tuple[int | None, ...]:
        _, features = self._cell.input_shape_from_weights(shapes)
        return (None, None, features)

    def build(self, input_shape: Any) -> None:
        batch, _, _ = self._sequence_shape(input_shape)
        self._create_weights(self.weight_specs(input_shape))
        self._on_stateful_build(batch)

    def _step_weights(self):
        return self.kernel, self.recurrent_kernel, self.bias

    def keras_sublayer_paths(self) -> list[tuple[str, str, Any]]:
        """Keras keeps this layer's weights in its cell (Keras 3 group ``cell``, tf.keras scope ``lstm_cell``)."""
        return [("cell", "", self)]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self._rnn_config())
        cell = self._cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell.pop(key, None)
        out = {}
        for k, v in {**config, **cell}.items():  # Keras's key order: activity_regularizer after the bias's
            out[k] = v
            if k == "bias_regularizer":
                out["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return out

    def extra_repr(self) -> str:
        parts = [f"name={self.name!r}", f"units={self._cell.units}"] + self._rnn_repr()
        if self._cell.fused_kind() is None:
            parts.append("fused=False")
        return ", ".join(parts + self._repr_common())
