"""The recurrent layer machinery: the base of ``RNN(cell)`` (``rnn.py``), ``SimpleRNN``/``LSTM``/``GRU`` and ConvLSTM.

Reproduces ``tf_keras/layers/rnn/base_rnn.py`` and ``backend.rnn`` (and Keras 3's ``RNN``):
``return_sequences``, ``return_state`` (``[output, *states]``), ``go_backwards`` (outputs stay in processing
order), ``stateful`` (states kept between calls, a fixed batch, ``reset_states``), ``unroll`` (accepted: the
same computation), tf.keras's ``time_major``, ``initial_state`` as a call argument or as extra list inputs,
masks (a masked step carries the states and repeats the previous output, or outputs zeros with
``zero_output_for_mask``, as inside ``Bidirectional``), Keras's per-sequence ``dropout`` /
``recurrent_dropout`` masks in training, and ``compute_mask``.

Speed: a built-in cell with torch's activations (LSTM/GRU ``tanh``/``sigmoid``, GRU ``reset_after=True``,
SimpleRNN ``tanh``/``relu``) and no recurrent dropout runs torch's fused kernel (``torch._VF.lstm``/``gru``/
``rnn_tanh``, the ones behind ``torch.nn.LSTM``), on the Keras-layout weights (stored as torch reads them:
no copy for LSTM and SimpleRNN; GRU's gate blocks are reordered, one small copy); a right-padded mask runs
it on packed sequences (eager mode). Anything else (other activations, recurrent dropout, other masks,
masks under ``torch.compile``, an LSTM traced for training by ``torch.compile``, whose AOT autograd cannot
trace the CPU LSTM kernel's backward in torch 2.13) runs one step loop over the same cell's math, which ``torch.compile`` traces.
"""
from __future__ import annotations

import inspect

from typing import Any, Sequence

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from ..input_spec import shape_str
from ..layer import Layer
from .cells import GRUCell, LSTMCell, RecurrentCell, SimpleRNNCell, _as_list, dropout_mask
from .stacked_rnn_cells import StackedRNNCells


def split_initial_state(args: tuple, kwargs: dict) -> tuple:
    """tf.keras's ``_standardize_args``: a call on ``[inputs, *initial_state]`` is a call on ``inputs`` with
    ``initial_state=`` (so that a graph recorded either way has Keras 3's form). Updates ``kwargs`` in place."""
    if args and isinstance(args[0], (list, tuple)) and len(args[0]) > 1 and kwargs.get("initial_state") is None:
        kwargs["initial_state"] = list(args[0][1:])
        return (args[0][0], *args[1:])
    return args


def _flat_states(states: Any) -> list[Any]:
    if isinstance(states, (list, tuple)):
        return [t for s in states for t in _flat_states(s)]
    return [states]


def _state_sizes(cell: Any) -> list[int]:
    return cell.state_sizes if hasattr(cell, "state_sizes") else _as_list(cell.state_size)


class BaseRNN(Layer):
    """Everything an RNN layer does around its cell's math (see the module docstring).

    Subclasses provide ``_cell`` (the cell whose math runs) and ``_step_weights()``.
    """

    supports_masking = True

    def __init__(
        self,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        time_major: bool = False,
        zero_output_for_mask: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.time_major = bool(time_major)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.input_spec = None  # checked in build/call: the call also takes [inputs, *initial_state]
        self._states: list[torch.Tensor] | None = None
        self._stateful_batch: int | None = None

    # ``__call__`` only moves a list input's states to ``initial_state``: a graph runner's direct ``call`` on one
    # tensor is the same call (engine/direct.py)
    _kt_call_normalizes_args = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return super().__call__(*split_initial_state(args, kwargs), **kwargs)

    # ----- what subclasses provide -----
    @property
    def cell(self) -> Any:
        return self._cell

    def _step_weights(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        raise NotImplementedError

    @property
    def state_sizes(self) -> list[int]:
        return _state_sizes(self.cell)

    # ----- shapes -----
    _input_ndim = 3  # (batch, time, features); ConvLSTM: (batch, time, *spatial, channels)

    def _check_rank(self, shape: Sequence[Any]) -> None:
        if len(shape) != self._input_ndim:
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected ndim={self._input_ndim}, found '
                f"ndim={len(shape)}. Full shape received: {shape_str(shape)}"
            )

    def _sequence_shape(self, input_shape: Any) -> tuple[Any, ...]:
        """The (batch, time, features) shape of the first input (list inputs: ``[inputs, *states]``)."""
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        shape = tuple(input_shape)
        self._check_rank(shape)
        return (shape[1], shape[0], *shape[2:]) if self.time_major else shape

    def compute_output_shape(self, input_shape: Any) -> Any:
        batch, time, _ = self._sequence_shape(input_shape)
        units = self._output_size()
        if self.return_sequences:
            out = (time, batch, units) if self.time_major else (batch, time, units)
        else:
            out = (batch, units)
        if self.return_state:  # a stack's states nest per cell, as its call returns them (Keras 3)
            return [out, *self._nest_states([(batch, s) for s in self.state_sizes])]
        return out

    def _output_size(self) -> int:
        cell = self.cell
        return getattr(cell, "output_size", None) or _state_sizes(cell)[0]

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """Keras: the time mask passes through with ``return_sequences`` (``[mask, None, ...]`` with states)."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * len(self._nest_states(self.state_sizes))
        return out

    def _on_stateful_build(self, batch: Any) -> None:
        if self.stateful:
            if batch is None:
                raise ValueError(
                    f'Layer "{self.name}": if a RNN is stateful, it needs to know its batch size. Specify the batch '
                    "size of your input tensors (`batch_input_shape`/`batch_size`, or build it with a known batch)."
                )
            self._stateful_batch = int(batch)

    # ----- states -----
    def reset_states(self, states: Any = None) -> None:
        """Keras's ``reset_states``: zeros (or the given values) for a stateful layer's states."""
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        if self._stateful_batch is None:
            raise ValueError(f'Layer "{self.name}": a stateful RNN resets its states once built (its batch size known).')
        if states is None:
            self._states = None
            return
        states = [torch.as_tensor(s) for s in _as_list(states)]
        self._validate_states(states, self._stateful_batch, "reset_states")
        self._states = [s.detach().clone() for s in states]

    @property
    def states(self) -> list[torch.Tensor] | None:
        return self._states

    def _validate_states(self, states: list[torch.Tensor], batch: int, what: str) -> None:
        self._validate_state_shapes([tuple(s.shape) for s in states], batch, what)

    def _validate_state_shapes(self, received: list[Any], batch: int | None, what: str) -> None:
        """Keras's check of given states against the cell's; a ``None`` shape or dimension (symbolic) fits any."""
        sizes = self.state_sizes
        expected = self._state_shapes(batch)

        def fits(r: Any, e: tuple) -> bool:
            return r is None or (len(r) == len(e) and all(a is None or b is None or a == b for a, b in zip(r, e)))

        if len(received) != len(sizes) or not all(fits(r, e) for r, e in zip(received, expected)):
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}): an `{what}` was passed that is not compatible with '
                f"`cell.state_size` {sizes}: expected {len(sizes)} state tensor(s) of shapes {expected}, received "
                f"{len(received)} of shapes {received}."
            )

    def _nest_states(self, states: list[torch.Tensor]) -> list[Any]:
        """Keras's nesting of a stack's states: per cell, a list when the cell has several, else the tensor."""
        cell = self.cell
        if not isinstance(cell, StackedRNNCells):
            return states
        out, i = [], 0
        for c in cell.cells:
            n = len(_state_sizes(c))
            out.append(list(states[i:i + n]) if n > 1 else states[i])
            i += n
        return out

    def _symbolic_check_arguments(self, args: tuple, kwargs: dict) -> None:
        """At graph construction (``symbolic_call``): the given ``initial_state`` (``__call__`` has already moved
        the extra inputs of a list there) against the cell's states, so that a damaged file fails at load."""
        inputs, states = (args[0] if args else None), kwargs.get("initial_state")
        if isinstance(inputs, (list, tuple)):
            inputs = inputs[0] if inputs else None
        shape = getattr(inputs, "shape", None)
        try:  # positional arguments after the input bind to the call's parameters (mask first)
            mask = inspect.signature(type(self).call).bind_partial(self, *args, **kwargs).arguments.get("mask")
        except TypeError:
            mask = kwargs.get("mask")
        if isinstance(mask, (list, tuple)):
            mask = mask[0] if mask else None
        mask_shape = getattr(mask, "shape", None)
        if mask_shape is not None and shape is not None and len(shape) >= 2:  # the call's mask check, on known dims
            mask_shape = tuple(mask_shape[1::-1]) + tuple(mask_shape[2:]) if self.time_major else tuple(mask_shape)
            expected = (shape[1], shape[0]) if self.time_major else (shape[0], shape[1])
            if len(mask_shape) != 2 or any(a is not None and b is not None and a != b for a, b in zip(mask_shape, expected)):
                raise ValueError(
                    f'Layer "{self.name}": the mask must have shape (batch, timesteps) = {expected}, received {mask_shape}.'
                )
        if states is None or not self.built:
            return
        flat = _flat_states(states)
        batch = shape[1 if self.time_major else 0] if shape else None
        self._validate_state_shapes([getattr(s, "shape", None) for s in flat], batch, "initial_state")

    def _initial_states(self, x: torch.Tensor, initial_state: Any) -> list[torch.Tensor]:
        batch = x.shape[0]
        if initial_state is not None:
            states = _flat_states(initial_state)
            if not all(isinstance(s, torch.Tensor) for s in states):
                raise ValueError(f'Layer "{self.name}": `initial_state` must be tensors, received {initial_state!r}.')
            self._validate_states(states, batch, "initial_state")
            return [s.to(x.dtype) for s in states]
        if self.stateful and self._states is not None:
            return self._states
        return [x.new_zeros(shape) for shape in self._state_shapes(batch, x)]

    def _state_shapes(self, batch: int, x: torch.Tensor | None = None) -> list[tuple[int, ...]]:
        """The shape of each state tensor for a batch (ConvLSTM: feature maps)."""
        return [(batch, s) for s in self.state_sizes]

    # ----- the call -----
    def _check_input(self, inputs: Any) -> None:
        """Keras's rank check and a floating dtype, before anything is built (list inputs: the sequence first)."""
        x = inputs[0] if isinstance(inputs, (list, tuple)) and inputs else inputs
        if not isinstance(x, torch.Tensor):
            raise ValueError(f'Layer "{self.name}" expects a tensor input, received {type(x).__name__}.')
        self._check_rank(tuple(x.shape))
        if not x.is_floating_point():
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) expects a floating-point input, received {x.dtype}.'
            )

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        if not self.built and args:
            self._check_input(args[0])
        super().initialize_parameters(*args, **kwargs)

    def _prepare(self, inputs: Any) -> Any:
        self._check_input(inputs)
        return super()._prepare(inputs)

    def _record_activity(self, outputs: Any) -> None:
        total = None
        for y in _as_list(outputs):
            loss = self.activity_regularizer(y).to(y.dtype) / max(y.shape[0] if y.dim() else 1, 1)
            total = loss if total is None else total + loss
        self._activity_losses = [total]

    def call(self, inputs: Any, mask: Any = None, training: bool = False, initial_state: Any = None) -> Any:
        if isinstance(inputs, (list, tuple)):
            if initial_state is not None:
                raise ValueError(f'Layer "{self.name}": `initial_state` given both as extra inputs and as an argument.')
            inputs, initial_state = inputs[0], (list(inputs[1:]) or None)
        x = inputs  # rank and dtype were checked by _prepare (the fast path: an input like the last checked one)
        if self.time_major:
            x = x.transpose(0, 1)
        batch, steps = x.shape[0], x.shape[1]
        if self.stateful and self._stateful_batch is not None and batch != self._stateful_batch:
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected shape='
                f"{shape_str((self._stateful_batch, None, x.shape[-1]))}, found shape={shape_str(tuple(inputs.shape))} "
                f"(a stateful RNN keeps its batch size, {self._stateful_batch})"
            )
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is not None:
            if self.time_major:
                mask = mask.transpose(0, 1)
            if tuple(mask.shape) != (batch, steps):
                raise ValueError(
                    f'Layer "{self.name}": the mask must have shape (batch, timesteps) = {(batch, steps)}, '
                    f"received {tuple(mask.shape)}."
                )
            mask = mask.to(torch.bool)
        states = self._initial_states(x, initial_state)
        if self.go_backwards:
            x = x.flip(1)
            mask = mask.flip(1) if mask is not None else None
        last, seq, states = self._run(x, states, mask, bool(training))
        if self.stateful:
            self._states = [s.detach() for s in states]
        if self.return_sequences:
            output = seq.transpose(0, 1) if self.time_major else seq
        else:
            output = last
        return [output, *self._nest_states(states)] if self.return_state else output

    def _run(self, x: torch.Tensor, states: list[torch.Tensor], mask: torch.Tensor | None, training: bool):
        """``(last output, sequence of outputs or None, final states)`` over batch-major ``x``."""
        cell = self.cell
        if not isinstance(cell, RecurrentCell):
            return self._generic_loop(x, states, mask, training)
        kernel, rk, bias = self._step_weights()
        if self._dtype_policy.is_mixed:  # float32 variables, read in the compute dtype (Keras's autocast variables)
            dtype = self._dtype_policy.compute_dtype
            kernel, rk, bias = kernel.to(dtype), rk.to(dtype), None if bias is None else bias.to(dtype)
        if training and cell.dropout > 0:
            x = x * dropout_mask(x[:, 0], cell.dropout).unsqueeze(1)
        rec_mask = None
        if training and cell.recurrent_dropout > 0:
            rec_mask = dropout_mask(states[0], cell.recurrent_dropout)
        kind = cell.fused_kind() if rec_mask is None else None
        if kind == "lstm" and torch.compiler.is_compiling() and torch.is_grad_enabled():
            kind = None  # torch 2.13's AOT autograd cannot trace the CPU LSTM kernel's backward (mkldnn_rnn_layer)
        if kind is not None:
            # Choosing the fused kernel for a masked batch reads the mask on the host: free for CPU tensors, a
            # device sync anywhere else (and impossible while tracing), where the masked step loop runs instead.
            if mask is not None and mask.device.type == "cpu" and not (torch.compiler.is_compiling() or torch.jit.is_tracing()):
                lengths = mask.sum(1)
                if bool((lengths == x.shape[1]).all()):
                    mask = None
                elif not self.go_backwards and bool((lengths > 0).all()) and torch.equal(
                        mask, torch.arange(x.shape[1], device=mask.device) < lengths[:, None]):
                    return self._fused_packed(kind, x, states, kernel, rk, bias, lengths, training)
            if mask is None:
                return self._fused(kind, x, states, kernel, rk, bias, training)
        return self._loop(cell, x, states, kernel, rk, bias, mask, rec_mask)

    # ----- fused torch kernels -----
    def _fused_params(self, kind: str, kernel: torch.Tensor, rk: torch.Tensor, bias: torch.Tensor | None) -> list[torch.Tensor]:
        if kind == "gru":  # Keras gate blocks [z, r, h] -> torch's [r, z, n]
            u = self.cell.units

            def perm(w: torch.Tensor) -> torch.Tensor:
                return torch.cat([w[u:2 * u], w[:u], w[2 * u:]])

            params = [perm(kernel), perm(rk)]
            if bias is not None:
                params += [perm(bias[0]), perm(bias[1])]
            return params
        params = [kernel, rk]
        if bias is not None:
            params += [bias, torch.zeros_like(bias)]
        return params

    def _fused(self, kind, x, states, kernel, rk, bias, training):
        params = self._fused_params(kind, kernel, rk, bias)
        has_bias = bias is not None
        if kind == "lstm":
            seq, h, c = torch._VF.lstm(x, (states[0].unsqueeze(0), states[1].unsqueeze(0)), params, has_bias, 1, 0.0,
                                       training, False, True)
            new = [h[0], c[0]]
        else:
            fn = getattr(torch._VF, kind)
            seq, h = fn(x, states[0].unsqueeze(0), params, has_bias, 1, 0.0, training, False, True)
            new = [h[0]]
        return new[0], seq, new

    def _fused_packed(self, kind, x, states, kernel, rk, bias, lengths, training):
        steps = x.shape[1]
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        order, unorder = packed.sorted_indices, packed.unsorted_indices
        params = self._fused_params(kind, kernel, rk, bias)
        has_bias = bias is not None
        hx = [s.index_select(0, order).unsqueeze(0) for s in states]
        if kind == "lstm":
            data, h, c = torch._VF.lstm(packed.data, packed.batch_sizes, (hx[0], hx[1]), params, has_bias, 1, 0.0,
                                        training, False)
            new = [h[0].index_select(0, unorder), c[0].index_select(0, unorder)]
        else:
            data, h = getattr(torch._VF, kind)(packed.data, packed.batch_sizes, hx[0], params, has_bias, 1, 0.0,
                                               training, False)
            new = [h[0].index_select(0, unorder)]
        seq = None
        if self.return_sequences:
            seq, _ = pad_packed_sequence(PackedSequence(data, packed.batch_sizes, order, unorder), batch_first=True,
                                         total_length=steps)
            if not self.zero_output_for_mask:  # Keras repeats the last output over the padding
                idx = torch.minimum(torch.arange(steps, device=x.device)[None, :], (lengths - 1).to(x.device)[:, None])
                seq = seq.gather(1, idx.unsqueeze(-1).expand(-1, -1, seq.shape[-1]))
        return new[0], seq, new

    # ----- the step loops -----
    def _loop(self, cell, x, states, kernel, rk, bias, mask, rec_mask):
        xp = cell.project_inputs(x, kernel, bias)
        return self._scan(lambda t, st: cell.step(xp[:, t], st, rk, bias, rec_mask), x.shape[1], states, mask)

    def _scan(self, step: Any, steps: int, states: list, mask: torch.Tensor | None) -> tuple:
        """Keras's time loop over ``step(t, states) -> (output, new states)``, masked steps included; returns
        ``(last output, sequence of outputs or None, final states)``."""
        outs = []
        out = prev = None
        for t in range(steps):
            out, new = step(t, states)
            if mask is not None:
                out, new, prev = self._masked_step(mask[:, t], out, new, states, prev)
            states = new
            if self.return_sequences:
                outs.append(out)
        seq = torch.stack(outs, 1) if self.return_sequences else None
        return out, seq, states

    def _masked_step(self, m: torch.Tensor, out: torch.Tensor, new: list, states: list, prev: Any) -> tuple:
        """Keras's masked step: where ``m`` is False the states are carried over and the output repeats the
        previous one (zeros with ``zero_output_for_mask``). Returns ``(out, new states, out)``."""
        m = m.view(-1, *[1] * (out.dim() - 1))
        new = [torch.where(m, n, s) for n, s in zip(new, states)]
        if prev is None:
            prev = torch.zeros_like(out)
        out = torch.where(m, out, torch.zeros_like(out) if self.zero_output_for_mask else prev)
        return out, new, out

    def _stacked_loop(self, stack: StackedRNNCells, x, states, mask, training):
        """``StackedRNNCells`` of built-in cells: Keras's per-sequence dropout masks, one pair per cell (Keras's
        ``RNN`` resets each cell's cached masks once per call, not per step), then every step runs the cells
        in turn, each on the previous one's output."""
        cells = list(stack.cells)
        batch = x.shape[0]
        weights = [c.step_weights() for c in cells]
        widths = [x.shape[-1]] + [c.units for c in cells[:-1]]
        in_masks, rec_masks, spans, i = [], [], [], 0
        for c, width in zip(cells, widths):
            n = len(c.state_sizes)
            spans.append((i, i + n))
            like = x.new_empty(batch, width)
            in_masks.append(dropout_mask(like, c.dropout) if training and c.dropout > 0 else None)
            rec_masks.append(dropout_mask(states[i], c.recurrent_dropout) if training and c.recurrent_dropout > 0 else None)
            i += n

        def step(t: int, st: list) -> tuple:
            h, new = x[:, t], []
            for c, (kernel, rk, bias), (a, b), im, rm in zip(cells, weights, spans, in_masks, rec_masks):
                h, s = c.step(c.project_inputs(h if im is None else h * im, kernel, bias), st[a:b], rk, bias, rm)
                new += s
            return h, new

        return self._scan(step, x.shape[1], states, mask)

    def _generic_loop(self, x, states, mask, training):
        cell = self.cell
        if isinstance(cell, StackedRNNCells) and all(type(c) in (SimpleRNNCell, LSTMCell, GRUCell) for c in cell.cells):
            return self._stacked_loop(cell, x, states, mask, training)
        kwargs = {"training": training} if isinstance(cell, Layer) else {}

        def step(t: int, st: list) -> tuple:
            out, new = cell(x[:, t], list(st), **kwargs)
            return out, _as_list(new)

        return self._scan(step, x.shape[1], states, mask)

    # ----- config -----
    def get_build_config(self) -> dict[str, Any] | None:
        """Keras 3's ``build_config``: the sequence's shape (also when built from ``[inputs, *initial_state]``)."""
        config = super().get_build_config()
        shape = config and config.get("input_shape")
        if isinstance(shape, list) and shape and isinstance(shape[0], list):
            config = {"input_shape": shape[0]}
        return config

    def _rnn_config(self) -> dict[str, Any]:
        return {
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "time_major": self.time_major,
        }

    def _rnn_repr(self) -> list[str]:
        parts = []
        for key in ("return_sequences", "return_state", "go_backwards", "stateful", "time_major"):
            if getattr(self, key):
                parts.append(f"{key}=True")
        return parts
