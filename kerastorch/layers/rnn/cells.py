"""``SimpleRNNCell``, ``LSTMCell``, ``GRUCell`` and ``StackedRNNCells``: one time step of Keras's recurrent cells.

Reproduces ``tf_keras/layers/rnn/{simple_rnn,lstm,gru}.py`` cells (and Keras 3's): arguments and defaults
(``activation='tanh'``, ``recurrent_activation='sigmoid'``, ``recurrent_initializer='orthogonal'``,
``unit_forget_bias=True``, GRU ``reset_after=True``), weights in Keras's layout and order (``kernel (in, k*U)``,
``recurrent_kernel (U, k*U)``, ``bias``; gates LSTM ``[i, f, c, o]``, GRU ``[z, r, h]``; a reset_after GRU bias
``(2, 3U)`` = input and recurrent biases), ``call(inputs, states, training)`` returning ``(output, new_states)``.

The step math lives here once, as functions of the weights, so that a cell used alone, inside ``RNN`` and
the ``LSTM``/``GRU``/``SimpleRNN`` layers (which own the same weights) all compute it the same way. Kernels
are stored as torch's ``(k*U, in)`` (``storage_order=(1, 0)``), the layout ``F.linear`` and torch's fused
recurrent kernels read; Keras's layout is a view.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch
import torch.nn.functional as F

from ... import activations, constraints, initializers, regularizers
from ..._registry import LAYERS
from ..input_spec import shape_str
from ..layer import Layer, WeightSpec


def _positive_units(cls: str, units: Any) -> int:
    if isinstance(units, float) and units.is_integer():
        units = int(units)
    if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
        raise ValueError(
            f"Received an invalid value for argument `units`, expected a positive integer, got {units}."
        )
    return units


def _rate(name: str, value: Any) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"Invalid value for argument `{name}`. Expected a float between 0 and 1. Received: {name}={value}")
    return min(1.0, max(0.0, value))


class _UnitForgetBias(initializers.Initializer):
    """Keras's ``unit_forget_bias``: the bias initializer on the i and c/o blocks, ones on the forget block."""

    def __init__(self, base: Any, units: int):
        self.base, self.units = base, units

    def __call__(self, shape, dtype=None, device=None):
        u = self.units
        base = self.base if self.base is not None else initializers.Zeros()
        parts = [torch.as_tensor(base((u,), dtype=dtype, device=device)), torch.ones(u, dtype=dtype, device=device),
                 torch.as_tensor(base((2 * u,), dtype=dtype, device=device))]
        return torch.cat(parts)

    def get_config(self) -> dict[str, Any]:
        return {}


class RecurrentCell(Layer):
    """What the built-in cells share: arguments, weights, dropout rates, configs.

    Subclasses set ``_gates`` (k) and implement ``project_inputs`` (the input part of every gate for
    all time steps at once) and ``step`` (one step given that projection), both from explicit weights.
    """

    _gates = 1
    _has_recurrent_activation = True
    supports_masking = True

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ):
        implementation = kwargs.pop("implementation", 2)  # tf.keras's kernel choice: the same results
        super().__init__(**kwargs)
        if implementation not in (1, 2):
            raise ValueError(f'{type(self).__name__} layer "{self.name}": `implementation` must be 1 or 2, received {implementation!r}.')
        self.implementation = int(implementation)
        try:
            self.units = _positive_units(type(self).__name__, units)
            self.activation = activations.get(activation)
            self.recurrent_activation = activations.get(recurrent_activation) if self._has_recurrent_activation else None
            self.use_bias = bool(use_bias)
            self.kernel_initializer = initializers.get(kernel_initializer)
            self.recurrent_initializer = initializers.get(recurrent_initializer)
            self.bias_initializer = initializers.get(bias_initializer)
            self.kernel_regularizer = regularizers.get(kernel_regularizer)
            self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
            self.bias_regularizer = regularizers.get(bias_regularizer)
            self.kernel_constraint = constraints.get(kernel_constraint)
            self.recurrent_constraint = constraints.get(recurrent_constraint)
            self.bias_constraint = constraints.get(bias_constraint)
            self.dropout = _rate("dropout", dropout)
            self.recurrent_dropout = _rate("recurrent_dropout", recurrent_dropout)
        except ValueError as e:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": {e}') from None
        self.seed = seed
        if self.recurrent_dropout and self._gates > 1:  # tf.keras: recurrent dropout runs implementation 1
            self.implementation = 1
        self._extra_init(kwargs)
        if not self.use_bias:
            self.register_parameter("bias", None)
        self._finish_init()

    def _extra_init(self, kwargs: dict) -> None:
        pass

    # ----- state -----
    @property
    def state_size(self) -> Any:
        return self.units

    @property
    def output_size(self) -> int:
        return self.units

    @property
    def state_sizes(self) -> list[int]:
        """``state_size`` as a list (one entry per state tensor)."""
        s = self.state_size
        return list(s) if isinstance(s, (list, tuple)) else [s]

    def get_initial_state(self, inputs: torch.Tensor | None = None, batch_size: int | None = None, dtype: Any = None) -> list[torch.Tensor]:
        """Zeros of ``(batch, size)`` for every state (Keras's ``get_initial_state``)."""
        if inputs is not None:
            batch_size, dtype, device = inputs.shape[0], inputs.dtype, inputs.device
        else:
            device = None
        return [torch.zeros(batch_size, s, dtype=dtype or torch.float32, device=device) for s in self.state_sizes]

    # ----- weights -----
    def _bias_spec(self) -> WeightSpec:
        return WeightSpec("bias", (self._gates * self.units,), self.bias_initializer, self.bias_regularizer, self.bias_constraint)

    def weight_specs(self, input_shape: Any) -> list[WeightSpec]:
        last = None
        if input_shape is not None:
            last = tuple(input_shape)[-1]
            if last is None:
                raise ValueError(
                    f'{type(self).__name__} layer "{self.name}": the last dimension of the inputs should be defined. '
                    f"Found None. Full input shape received: {shape_str(input_shape)}"
                )
        k = self._gates * self.units
        specs = [
            WeightSpec("kernel", (last, k), self.kernel_initializer, self.kernel_regularizer, self.kernel_constraint,
                       storage_order=(1, 0)),
            WeightSpec("recurrent_kernel", (self.units, k), self.recurrent_initializer, self.recurrent_regularizer,
                       self.recurrent_constraint, storage_order=(1, 0)),
        ]
        if self.use_bias:
            specs.append(self._bias_spec())
        return specs

    def input_shape_from_weights(self, shapes: Mapping[str, tuple[int, ...]]) -> tuple[int | None, ...]:
        kernel = tuple(shapes.get("kernel", ()))
        k = self._gates * self.units
        if len(kernel) != 2 or kernel[1] != k:
            raise ValueError(
                f'Layer "{self.name}": kernel shape {kernel} does not match the layer configuration '
                f"(expected (input_dim, {k}) for units={self.units})."
            )
        return (None, kernel[0])

    def step_weights(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``(kernel, recurrent_kernel, bias)`` in storage layout (kernels ``(k*U, in)`` / ``(k*U, U)``)."""
        return self.kernel, self.recurrent_kernel, self.bias

    # ----- the math (explicit weights) -----
    def input_bias(self, bias: torch.Tensor | None) -> torch.Tensor | None:
        return bias

    def project_inputs(self, x: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        """``x @ kernel + input bias`` for any number of leading dims (all time steps at once)."""
        return F.linear(x, kernel, self.input_bias(bias))

    def step(self, xp: torch.Tensor, states: list[torch.Tensor], recurrent_kernel: torch.Tensor,
             bias: torch.Tensor | None, rec_mask: torch.Tensor | None) -> tuple[torch.Tensor, list[torch.Tensor]]:
        raise NotImplementedError

    # ----- Keras's cell call -----
    def call(self, inputs: torch.Tensor, states: Any = None, training: bool = False) -> tuple[torch.Tensor, Any]:
        """One step: ``(output, new_states)`` (a list when ``states`` is a list, as Keras)."""
        nested = isinstance(states, (list, tuple))
        given = list(states) if nested else ([] if states is None else [states])
        if not given:
            given = self.get_initial_state(inputs)
        sizes = self.state_sizes
        if len(given) != len(sizes) or any(tuple(s.shape) != (inputs.shape[0], n) for s, n in zip(given, sizes)):
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": expected states of shapes '
                f"{[(inputs.shape[0], n) for n in sizes]}, received {[tuple(s.shape) for s in given]}."
            )
        kernel, rk, bias = self.step_weights()
        x, rec_mask = inputs, None
        if training and self.dropout > 0:
            x = x * dropout_mask(x, self.dropout)
        if training and self.recurrent_dropout > 0:
            rec_mask = dropout_mask(given[0], self.recurrent_dropout)
        out, new = self.step(self.project_inputs(x, kernel, bias), given, rk, bias, rec_mask)
        return out, (new if nested or len(new) > 1 else new[0])

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        return (tuple(input_shape)[0], self.units)

    # ----- config -----
    def _base_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["units"] = self.units
        config["activation"] = activations.serialize(self.activation)
        if self._has_recurrent_activation:
            config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["use_bias"] = self.use_bias
        for w in ("kernel", "recurrent", "bias"):
            config[f"{w}_initializer"] = initializers.serialize(getattr(self, f"{w}_initializer"))
        return config

    def _tail_config(self) -> dict[str, Any]:
        config = {}
        for kind, module in (("regularizer", regularizers), ("constraint", constraints)):
            for w in ("kernel", "recurrent", "bias"):
                config[f"{w}_{kind}"] = module.serialize(getattr(self, f"{w}_{kind}"))
        config["dropout"] = self.dropout
        config["recurrent_dropout"] = self.recurrent_dropout
        return config

    def get_config(self) -> dict[str, Any]:
        config = self._base_config()
        config.update(self._tail_config())
        return config

    def extra_repr(self) -> str:
        parts = [f"name={self.name!r}", f"units={self.units}"]
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        if self.recurrent_dropout:
            parts.append(f"recurrent_dropout={self.recurrent_dropout}")
        return ", ".join(parts + self._repr_common())

    # ----- which fused torch kernel computes this cell (None: the step loop) -----
    def fused_kind(self) -> str | None:
        return None


def dropout_mask(like: torch.Tensor, rate: float) -> torch.Tensor:
    """Keras's per-sequence dropout mask: ``bernoulli(1 - rate) / (1 - rate)`` of the shape of ``like``."""
    keep = 1.0 - rate
    if keep <= 0.0:
        return torch.zeros_like(like)
    return torch.empty_like(like).bernoulli_(keep) / keep


@LAYERS.register()
class SimpleRNNCell(RecurrentCell):
    """``output = activation(x @ kernel + h @ recurrent_kernel + bias)``; state ``[h]``."""

    _gates = 1
    _has_recurrent_activation = False

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True, **kwargs: Any):
        kwargs.pop("recurrent_activation", None)
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)

    def step(self, xp, states, recurrent_kernel, bias, rec_mask):
        h = states[0]
        if rec_mask is not None:
            h = h * rec_mask
        out = self.activation(xp + F.linear(h, recurrent_kernel))
        return out, [out]

    def fused_kind(self) -> str | None:
        if self.activation is activations.tanh:
            return "rnn_tanh"
        if self.activation is activations.relu:
            return "rnn_relu"
        return None


@LAYERS.register()
class LSTMCell(RecurrentCell):
    """Gates ``[i, f, c, o]``: ``c = f*c + i*act(...)``, ``h = o*act(c)``; states ``[h, c]``."""

    _gates = 4

    def __init__(self, units: int, *args: Any, unit_forget_bias: bool = True, **kwargs: Any):
        self.unit_forget_bias = bool(unit_forget_bias)
        super().__init__(units, *args, **kwargs)

    @property
    def state_size(self) -> list[int]:
        return [self.units, self.units]

    def _bias_spec(self) -> WeightSpec:
        init = _UnitForgetBias(self.bias_initializer, self.units) if self.unit_forget_bias else self.bias_initializer
        return WeightSpec("bias", (4 * self.units,), init, self.bias_regularizer, self.bias_constraint)

    def step(self, xp, states, recurrent_kernel, bias, rec_mask):
        h, c = states
        if rec_mask is not None:
            h = h * rec_mask
        z = xp + F.linear(h, recurrent_kernel)
        zi, zf, zc, zo = z.chunk(4, dim=-1)
        ra = self.recurrent_activation
        c = ra(zf) * c + ra(zi) * self.activation(zc)
        h = ra(zo) * self.activation(c)
        return h, [h, c]

    def fused_kind(self) -> str | None:
        ok = self.activation is activations.tanh and self.recurrent_activation is activations.sigmoid
        return "lstm" if ok else None

    def get_config(self) -> dict[str, Any]:
        config = self._base_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        config.update(self._tail_config())
        config["implementation"] = self.implementation
        return config


@LAYERS.register()
class GRUCell(RecurrentCell):
    """Gates ``[z, r, h]``: ``h = z*h_prev + (1-z)*h_cand``; ``reset_after`` applies the reset gate after the
    recurrent matmul (CuDNN-compatible, bias ``(2, 3U)``) or before it (bias ``(3U,)``); state ``[h]``."""

    _gates = 3

    def __init__(self, units: int, *args: Any, reset_after: bool = True, **kwargs: Any):
        self.reset_after = bool(reset_after)
        super().__init__(units, *args, **kwargs)

    def _bias_spec(self) -> WeightSpec:
        shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        return WeightSpec("bias", shape, self.bias_initializer, self.bias_regularizer, self.bias_constraint)

    def input_bias(self, bias):
        return bias[0] if bias is not None and self.reset_after else bias

    def step(self, xp, states, recurrent_kernel, bias, rec_mask):
        h = states[0]
        hr = h * rec_mask if rec_mask is not None else h
        u = self.units
        xz, xr, xh = xp.split(u, dim=-1)
        ra = self.recurrent_activation
        if self.reset_after:
            rp = F.linear(hr, recurrent_kernel, bias[1] if bias is not None else None)
            rz, rr, rh = rp.split(u, dim=-1)
            z, r = ra(xz + rz), ra(xr + rr)
            cand = self.activation(xh + r * rh)
        else:
            rz, rr = F.linear(hr, recurrent_kernel[: 2 * u]).split(u, dim=-1)
            z, r = ra(xz + rz), ra(xr + rr)
            cand = self.activation(xh + F.linear(r * hr, recurrent_kernel[2 * u:]))
        h = z * h + (1 - z) * cand
        return h, [h]

    def fused_kind(self) -> str | None:
        ok = self.activation is activations.tanh and self.recurrent_activation is activations.sigmoid
        return "gru" if ok and self.reset_after else None

    def get_config(self) -> dict[str, Any]:
        config = self._base_config()
        config.update(self._tail_config())
        config["implementation"] = self.implementation
        config["reset_after"] = self.reset_after
        return config


def _as_list(x: Any) -> list:
    return list(x) if isinstance(x, (list, tuple)) else [x]
