"""``ConvLSTM1D``/``ConvLSTM2D``/``ConvLSTM3D``: tf.keras's convolutional LSTM (``tf_keras/layers/rnn/conv_lstm*.py``,
Keras 3 alike): the LSTM gates ``[i, f, c, o]`` computed by convolutions, the input one with the layer's
``strides``/``padding`` (TF's 'same' split)/``dilation_rate``, the recurrent one with stride 1 and 'same'
padding; states ``[h, c]`` are feature maps. tf.keras's default ``recurrent_activation`` is ``hard_sigmoid``
(Keras 3's: ``sigmoid``; a Keras 3 config names it). Kernel ``(*kernel_size, in, 4*filters)``, recurrent
kernel ``(*kernel_size, filters, 4*filters)``, bias ``(4*filters,)`` (``unit_forget_bias``); sequence
handling (masks, states, ``go_backwards``, ``stateful``, dropout) is ``base_rnn``'s step loop.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch
import torch.nn.functional as F

from ... import _naming
from ..._registry import LAYERS
from ..input_spec import shape_str
from ..layer import WeightSpec
from ..utils import conv_utils
from .base_rnn import BaseRNN
from .cells import LSTMCell, _UnitForgetBias

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


class ConvLSTMCell(LSTMCell):
    """The math of one ConvLSTM step (not a Keras layer on its own here: ``ConvLSTM{N}D`` owns its weights)."""

    def __init__(self, rank: int, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, **kwargs: Any):
        self.rank = rank
        self.kernel_size = conv_utils.normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = conv_utils.normalize_tuple(strides, rank, "strides")
        self.padding = conv_utils.normalize_padding(padding)
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.dilation_rate = conv_utils.normalize_tuple(dilation_rate, rank, "dilation_rate")
        if self.padding not in ("valid", "same"):
            raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: {padding}")
        super().__init__(filters, **kwargs)

    @property
    def channels_last(self) -> bool:
        return self.data_format == "channels_last"

    def weight_specs(self, input_shape: Any) -> list[WeightSpec]:
        channels = None
        if input_shape is not None:
            channels = tuple(input_shape)[-1 if self.channels_last else 1]
        k, u = self.kernel_size, self.units
        specs = [
            WeightSpec("kernel", (*k, channels, 4 * u), self.kernel_initializer, self.kernel_regularizer, self.kernel_constraint),
            WeightSpec("recurrent_kernel", (*k, u, 4 * u), self.recurrent_initializer, self.recurrent_regularizer,
                       self.recurrent_constraint),
        ]
        if self.use_bias:
            init = _UnitForgetBias(self.bias_initializer, u) if self.unit_forget_bias else self.bias_initializer
            specs.append(WeightSpec("bias", (4 * u,), init, self.bias_regularizer, self.bias_constraint))
        return specs

    # feature maps go channels-first for torch's convolutions and back
    def _to_cf(self, x: torch.Tensor) -> torch.Tensor:
        return x.movedim(-1, 1) if self.channels_last else x

    def _from_cf(self, x: torch.Tensor) -> torch.Tensor:
        return x.movedim(1, -1) if self.channels_last else x

    def _torch_weight(self, w: torch.Tensor) -> torch.Tensor:
        return w.permute(self.rank + 1, self.rank, *range(self.rank))  # (*k, in, out) -> (out, in, *k)

    def project_inputs(self, x: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        batch, steps = x.shape[:2]
        flat = self._to_cf(x.reshape(batch * steps, *x.shape[2:]))
        if self.padding == "same":
            pads = []
            for n, k, s, d in reversed(list(zip(flat.shape[2:], self.kernel_size, self.strides, self.dilation_rate))):
                pads += list(conv_utils.same_padding(n, k, s, d))
            flat = F.pad(flat, pads)
        y = _CONV[self.rank](flat, self._torch_weight(kernel), bias, self.strides, 0, self.dilation_rate)
        y = self._from_cf(y)
        return y.reshape(batch, steps, *y.shape[1:])

    def step(self, xp, states, recurrent_kernel, bias, rec_mask):
        h, c = states
        if rec_mask is not None:
            h = h * rec_mask
        rec = _CONV[self.rank](self._to_cf(h), self._torch_weight(recurrent_kernel), None, 1, "same")
        z = xp + self._from_cf(rec)
        axis = -1 if self.channels_last else 1
        zi, zf, zc, zo = z.chunk(4, dim=axis)
        ra = self.recurrent_activation
        c = ra(zf) * c + ra(zi) * self.activation(zc)
        h = ra(zo) * self.activation(c)
        return h, [h, c]

    def fused_kind(self) -> str | None:
        return None

    def output_spatial(self, spatial: Any) -> list[int | None]:
        return conv_utils.spatial_output_shape(spatial, self.kernel_size, self.padding, self.strides, self.dilation_rate)


class ConvLSTM(BaseRNN):
    """Base of ``ConvLSTM{1,2,3}D`` (see the module docstring)."""

    rank = 2
    _tf_keras_cell_scope = False  # tf.keras names its weights conv_lstm2d/kernel:0; Keras 3 keeps them in `cell`

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, activation: Any = "tanh",
                 recurrent_activation: Any = "hard_sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros", unit_forget_bias: bool = True, kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: Any = None, **kwargs: Any):
        if kwargs.get("name") is None:  # tf.keras's default name (conv_lstm2d), not the snake case of the class
            kwargs["name"] = _naming.unique_name(f"conv_lstm{self.rank}d")
        unroll = kwargs.pop("unroll", False)
        time_major = kwargs.pop("time_major", False)
        zero = kwargs.pop("zero_output_for_mask", False)
        super().__init__(return_sequences, return_state, go_backwards, stateful, unroll, time_major, zero, **kwargs)
        self._input_ndim = 3 + self.rank
        try:
            cell = ConvLSTMCell(
                self.rank, filters, kernel_size, strides, padding, data_format, dilation_rate, activation=activation,
                recurrent_activation=recurrent_activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                unit_forget_bias=unit_forget_bias, kernel_regularizer=kernel_regularizer,
                recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
                name="conv_lstm_cell")
        except ValueError as e:
            raise ValueError(str(e).replace('layer "conv_lstm_cell"', f'layer "{self.name}"')) from None
        self.__dict__["_cell"] = cell
        if not cell.use_bias:
            self.register_parameter("bias", None)
        self._spatial: list[int | None] | None = None
        self._finish_init()

    def __getattr__(self, name: str) -> Any:
        if name in ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation",
                    "recurrent_activation", "use_bias", "unit_forget_bias", "dropout", "recurrent_dropout"):
            return getattr(self.__dict__["_cell"], "units" if name == "filters" else name)
        return super().__getattr__(name)

    def _spatial_of(self, shape: tuple) -> list:
        return list(shape[2:-1]) if self._cell.channels_last else list(shape[3:])

    def weight_specs(self, input_shape: Any) -> list[WeightSpec]:
        if input_shape is None:
            return self._cell.weight_specs(None)
        seq = self._sequence_shape(input_shape)
        return self._cell.weight_specs((seq[0], *seq[2:]))

    def input_shape_from_weights(self, shapes: Mapping[str, tuple[int, ...]]) -> tuple[int | None, ...]:
        kernel = tuple(shapes.get("kernel", ()))
        if len(kernel) != self.rank + 2 or kernel[-1] != 4 * self._cell.units:
            raise ValueError(f'Layer "{self.name}": kernel shape {kernel} does not match the layer configuration.')
        channels = kernel[-2]
        spatial = (None,) * self.rank
        return (None, None, *spatial, channels) if self._cell.channels_last else (None, None, channels, *spatial)

    def build(self, input_shape: Any) -> None:
        seq = self._sequence_shape(input_shape)
        self._create_weights(self.weight_specs(input_shape))
        self._spatial = self._cell.output_spatial(self._spatial_of(seq))
        self._on_stateful_build(seq[0])

    def _step_weights(self):
        return self.kernel, self.recurrent_kernel, self.bias

    def keras_sublayer_paths(self) -> list[tuple[str, str, Any]]:
        return [("cell", "", self)]

    def _state_shapes(self, batch: int, x: torch.Tensor | None = None) -> list[tuple[int, ...]]:
        spatial = self._spatial if x is None else self._cell.output_spatial(self._spatial_of(tuple(x.shape)))
        u = self._cell.units
        shape = (batch, *spatial, u) if self._cell.channels_last else (batch, u, *spatial)
        return [shape, shape]

    def _output_size(self) -> int:
        return self._cell.units

    def compute_output_shape(self, input_shape: Any) -> Any:
        seq = self._sequence_shape(input_shape)
        spatial = self._cell.output_spatial(self._spatial_of(seq))
        u = self._cell.units
        state = (seq[0], *spatial, u) if self._cell.channels_last else (seq[0], u, *spatial)
        out = (seq[0], seq[1], *state[1:]) if self.return_sequences else state
        return [out, state, state] if self.return_state else out

    def get_config(self) -> dict[str, Any]:
        from ... import activations, constraints, initializers, regularizers

        cell = self._cell
        config = super().get_config()
        config.update(self._rnn_config())
        config.update({
            "filters": cell.units, "kernel_size": cell.kernel_size, "strides": cell.strides, "padding": cell.padding,
            "data_format": cell.data_format, "dilation_rate": cell.dilation_rate,
            "activation": activations.serialize(cell.activation),
            "recurrent_activation": activations.serialize(cell.recurrent_activation), "use_bias": cell.use_bias,
            "kernel_initializer": initializers.serialize(cell.kernel_initializer),
            "recurrent_initializer": initializers.serialize(cell.recurrent_initializer),
            "bias_initializer": initializers.serialize(cell.bias_initializer), "unit_forget_bias": cell.unit_forget_bias,
            "kernel_regularizer": regularizers.serialize(cell.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(cell.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(cell.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(cell.kernel_constraint),
            "recurrent_constraint": constraints.serialize(cell.recurrent_constraint),
            "bias_constraint": constraints.serialize(cell.bias_constraint),
            "dropout": cell.dropout, "recurrent_dropout": cell.recurrent_dropout,
        })
        return config

    def extra_repr(self) -> str:
        cell = self._cell
        parts = [f"name={self.name!r}", f"filters={cell.units}", f"kernel_size={cell.kernel_size}"]
        return ", ".join(parts + self._rnn_repr() + self._repr_common())


@LAYERS.register()
class ConvLSTM1D(ConvLSTM):
    """1-D convolutional LSTM: input ``(batch, time, steps, channels)``."""

    rank = 1


@LAYERS.register()
class ConvLSTM2D(ConvLSTM):
    """2-D convolutional LSTM: input ``(batch, time, rows, cols, channels)``."""

    rank = 2


@LAYERS.register()
class ConvLSTM3D(ConvLSTM):
    """3-D convolutional LSTM: input ``(batch, time, d1, d2, d3, channels)``."""

    rank = 3
