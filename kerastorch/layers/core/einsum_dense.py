"""``EinsumDense``: Keras's einsum projection (``keras/src/layers/core/einsum_dense.py``, tf.keras alike).

``activation(einsum(equation, inputs, kernel) + bias)``. The equation forms Keras accepts
(``ab,bc->ac``, ``...ab,bc->...ac``, ``ab...,bc->ac...``), its shape analysis (kernel and bias shapes from
the input shape and the partial ``output_shape`` with ``None``), ``bias_axes``, and its error messages.
Keras 3's ``lora_rank``/``lora_alpha``: the kernel is frozen and ``kernel + alpha/rank * (a @ b)`` is used;
files hold the merged kernel, as Keras 3 writes them.

Speed: the kernel is stored in Keras's layout. When the equation is a plain projection (the input's trailing
axes contracted with the kernel's leading ones, output = free input axes + kernel output axes, as every
projection of ``MultiHeadAttention``), the call is one ``F.linear`` on views of the input and the kernel
(no copy of the weights); any other equation goes to ``torch.einsum``.
"""
from __future__ import annotations

import math
import re
from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F

from ... import activations, constraints, initializers, regularizers
from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..layer import Layer, WeightSpec

_FORMS = (
    (re.compile(r"^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$"), False),
    (re.compile(r"^0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$"), True),
    (re.compile(r"^([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$"), False),
)


def parse_equation(equation: Any) -> tuple[str, str, str, bool, bool]:
    """``(input, kernel, output, elided, left_elided)`` of a Keras EinsumDense equation (ValueError otherwise)."""
    if isinstance(equation, str):
        s = equation.replace(" ", "").replace("...", "0")
        for pattern, left in _FORMS:
            m = pattern.match(s)
            if m:
                return m.group(1), m.group(2), m.group(3), "0" in s, left
    raise ValueError(
        f"Invalid einsum equation '{equation}'. Equations must be in the form "
        "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
    )


def analyze(equation: str, bias_axes: str | None, input_shape: Sequence[int | None],
            output_shape: Sequence[int | None]) -> tuple[list, list | None, list]:
    """Keras's ``_analyze_einsum_string``: ``(kernel_shape, bias_shape, full_output_shape)``."""
    input_spec, weight_spec, output_spec, has_ellipsis, left_elided = parse_equation(equation)
    input_shape = list(input_shape)
    elided = len(input_shape) - len(input_spec)
    if elided < 0 or (elided > 0 and not has_ellipsis):
        raise ValueError(
            f"The input rank {len(input_shape)} does not match the equation '{equation}' "
            f"(input spec '{input_spec}'). Received: input_shape={tuple(input_shape)}"
        )
    out = list(output_shape)
    out.insert(0, input_shape[0])
    if elided > 0 and left_elided:
        for i in range(1, elided):
            out.insert(1, input_shape[i])
    elif elided > 0:
        for i in range(len(input_shape) - elided, len(input_shape)):
            out.append(input_shape[i])
    if left_elided:
        in_map = {d: (i + elided) - len(input_shape) for i, d in enumerate(input_spec)}
        out_map = {d: i + elided for i, d in enumerate(output_spec)}
    else:
        in_map = {d: i for i, d in enumerate(input_spec)}
        out_map = {d: i for i, d in enumerate(output_spec)}
    if len(out) != len(output_spec) + elided:
        raise ValueError(
            f"The output_shape {tuple(output_shape)} does not fit the equation '{equation}': expected "
            f"{len(output_spec) - 1} dimension(s) (every output axis but the first)."
        )
    for d in input_spec:
        if d in out_map:
            o = out[out_map[d]]
            if o is not None and input_shape[in_map[d]] is not None and o != input_shape[in_map[d]]:
                raise ValueError(
                    f"Input shape and output shape do not match at shared dimension '{d}'. Input shape is "
                    f"{input_shape[in_map[d]]}, and output shape is {o}."
                )
    for d in output_spec:
        if d not in input_spec and d not in weight_spec:
            raise ValueError(
                f"Dimension '{d}' was specified in the output '{output_spec}' but has no corresponding dim in the "
                f"input spec '{input_spec}' or weight spec '{output_spec}'"
            )
    kernel = []
    for d in weight_spec:
        if d in out_map:
            kernel.append(out[out_map[d]])
        elif d in in_map:
            kernel.append(input_shape[in_map[d]])
        else:
            raise ValueError(
                f"Weight dimension '{d}' did not have a match in either the input spec '{input_spec}' or the output "
                f"spec '{output_spec}'. For this layer, the weight must be fully specified."
            )
    bias = None
    if bias_axes is not None:
        n_left = elided if left_elided else 0
        idx = {c: out[i + n_left] for i, c in enumerate(output_spec)}
        for c in bias_axes:
            if c not in output_spec:
                raise ValueError(f"Bias dimension '{c}' was requested, but is not part of the output spec '{output_spec}'")
        first = min(output_spec.find(c) for c in bias_axes)
        bias = [idx[c] if c in bias_axes else 1 for c in output_spec[first:]]
        if not left_elided:
            bias += [1] * elided
    return kernel, bias, out


@LAYERS.register()
class EinsumDense(Layer):
    """Keras's ``EinsumDense(equation, output_shape, activation=None, bias_axes=None, kernel_initializer=
    'glorot_uniform', bias_initializer='zeros', kernel_regularizer=None, bias_regularizer=None,
    activity_regularizer=None, kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None)``."""

    def __init__(
        self,
        equation: str,
        output_shape: Any,
        activation: Any = None,
        bias_axes: str | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        quantization_config: Any = None,
        gptq_unpacked_column_size: Any = None,
        **kwargs: Any,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        where = f'EinsumDense layer "{self.name}"'
        try:
            self._spec = parse_equation(equation)
            self.equation = equation
            if isinstance(output_shape, int) and not isinstance(output_shape, bool):
                output_shape = (output_shape,)
            if not isinstance(output_shape, (list, tuple)) or any(
                d is not None and (isinstance(d, bool) or not isinstance(d, int) or d < 0) for d in output_shape
            ):
                raise ValueError(f"`output_shape` must be an int or a tuple of ints or None. Received: {output_shape!r}")
            self.partial_output_shape = tuple(output_shape)
            if bias_axes is not None and not isinstance(bias_axes, str):
                raise ValueError(f"`bias_axes` must be a string of output axes or None. Received: {bias_axes!r}")
            if bias_axes is not None:
                for c in bias_axes:
                    if c not in self._spec[2]:
                        raise ValueError(
                            f"Bias dimension '{c}' was requested, but is not part of the output spec '{self._spec[2]}'"
                        )
            self.bias_axes = bias_axes
            self.activation = activations.get(activation)
            self.kernel_initializer = initializers.get(kernel_initializer)
            self.bias_initializer = initializers.get(bias_initializer)
            self.kernel_regularizer = regularizers.get(kernel_regularizer)
            self.bias_regularizer = regularizers.get(bias_regularizer)
            self.kernel_constraint = constraints.get(kernel_constraint)
            self.bias_constraint = constraints.get(bias_constraint)
            if quantization_config is not None or gptq_unpacked_column_size:
                raise ValueError("Keras 3's quantization (`quantization_config`) is not supported.")
            if lora_rank is not None and (isinstance(lora_rank, bool) or not isinstance(lora_rank, int) or lora_rank < 0):
                raise ValueError(f"`lora_rank` must be a positive integer or None. Received: {lora_rank!r}")
            if lora_rank and self.kernel_constraint is not None:
                raise ValueError(
                    "Lora is incompatible with kernel constraints. In order to enable lora on this layer, remove "
                    "the `kernel_constraint` argument."
                )
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
        self.lora_rank = lora_rank or None
        self.lora_alpha = (lora_alpha if lora_alpha is not None else lora_rank) if lora_rank else None
        self._has_activation = self.activation is not activations.linear
        self._plan: tuple | None = None
        n_in = len(self._spec[0])
        self.input_spec = InputSpec(min_ndim=n_in, float_only=False) if self._spec[3] else InputSpec(ndim=n_in, float_only=False)
        if self.bias_axes is None:
            self.register_parameter("bias", None)
        self._finish_init()

    # ----- shapes and weights -----
    def _analyze(self, input_shape: Sequence[int | None]) -> tuple[list, list | None, list]:
        try:
            return analyze(self.equation, self.bias_axes, input_shape, self.partial_output_shape)
        except ValueError as e:
            raise ValueError(f'EinsumDense layer "{self.name}": {e}') from None

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        """Keras's full output shape, its ``None`` dims filled from the input axes they share a letter with."""
        input_shape = tuple(input_shape)
        out = list(self._analyze(input_shape)[2])
        ins, _, outs, ellipsis, left = self._spec
        shift_in = len(input_shape) - len(ins) if left else 0
        shift_out = len(out) - len(outs) if left else 0
        for i, c in enumerate(outs):
            if c in ins and out[i + shift_out] is None:
                out[i + shift_out] = input_shape[ins.index(c) + shift_in]
        return tuple(out)

    def _default_input_shape(self) -> list:
        ins, _, _, ellipsis, _ = self._spec
        return [None] * (len(ins) + (1 if ellipsis else 0))

    def weight_specs(self, input_shape: Sequence[int | None] | None) -> list[WeightSpec]:
        kernel, bias, _ = self._analyze(self._default_input_shape() if input_shape is None else tuple(input_shape))
        if input_shape is not None and any(d is None for d in kernel):
            raise ValueError(
                f'EinsumDense layer "{self.name}": the kernel shape {tuple(kernel)} is not fully known from the input '
                f"shape {tuple(input_shape)}; the contracted input dimensions must be defined."
            )
        specs = [WeightSpec("kernel", tuple(kernel), self.kernel_initializer, self.kernel_regularizer, self.kernel_constraint)]
        if bias is not None:
            specs.append(WeightSpec("bias", tuple(bias), self.bias_initializer, self.bias_regularizer, self.bias_constraint))
        return specs

    def input_shape_from_weights(self, shapes: Mapping[str, tuple[int, ...]]) -> tuple[int | None, ...]:
        ins, ws, outs, ellipsis, left = self._spec
        kernel = tuple(shapes.get("kernel", ()))
        if len(kernel) != len(ws):
            raise ValueError(
                f'EinsumDense layer "{self.name}": kernel shape {kernel} does not match the equation '
                f"'{self.equation}' (expected rank {len(ws)})."
            )
        dims = {c: k for c, k in zip(ws, kernel)}
        shape = [dims.get(c) for c in ins]
        if ellipsis:
            elided = 1
            bias = shapes.get("bias")
            if bias is not None and self.bias_axes and not left:
                first = min(outs.find(c) for c in self.bias_axes)
                elided = max(len(bias) - len(outs[first:]), 1)
            shape = [None] * elided + shape if left else shape + [None] * elided
        return tuple(shape)

    def _on_build(self, input_shape: Sequence[int | None]) -> None:
        input_shape = tuple(input_shape)
        ins, _, _, ellipsis, left = self._spec
        if ellipsis and (left or self.bias is None):  # a built layer takes any number of elided axes
            self.input_spec = InputSpec(min_ndim=len(ins), float_only=False)
        else:  # right-elided axes are in the bias's shape: their number is fixed
            self.input_spec = InputSpec(ndim=len(input_shape), float_only=False)
        if self.lora_rank:
            # Keras 3's enable_lora: a (kernel dims but the last, rank) he_uniform, b (rank, last) zeros; the
            # factors train, the kernel is frozen (they are not Keras weights of the file: it holds the merge)
            self.kernel.requires_grad_(False)  # Keras 3 freezes the kernel (still first in the file: kernel, bias)
            k, like = tuple(self.kernel.shape), self.kernel
            a = initializers.get("he_uniform")(k[:-1] + (self.lora_rank,), dtype=like.dtype).to(like.device)
            self.lora_kernel_a = torch.nn.Parameter(a.contiguous())
            self.lora_kernel_b = torch.nn.Parameter(torch.zeros(self.lora_rank, k[-1], dtype=like.dtype, device=like.device))
        self._plan = self._matmul_plan(len(input_shape))

    def _matmul_plan(self, rank: int) -> tuple | None:
        """``(n_contracted, contracted_size, out_dims, bias_flat)`` when the equation is one ``F.linear``."""
        ins, ws, outs, ellipsis, left = self._spec
        if ellipsis and not left:
            return None
        n = 0
        while n < min(len(ins), len(ws)) and ins[len(ins) - 1 - n] not in outs:
            n += 1
        contracted, free = ins[len(ins) - n:], ins[: len(ins) - n]
        if n == 0 or ws[:n] != contracted or outs != free + ws[n:] or set(free) & set(ws):
            return None
        kernel = tuple(self._stored("kernel").shape)
        out_dims = kernel[n:]
        bias_flat = self.bias is not None and tuple(self.bias.shape) == tuple(out_dims)
        if self.bias is not None and not bias_flat:
            return None
        return n, math.prod(kernel[:n]), out_dims, bias_flat

    @property
    def trainable(self) -> bool:
        return self._trainable if self.lora_rank else Layer.trainable.fget(self)

    @trainable.setter
    def trainable(self, value: bool) -> None:
        Layer.trainable.fset(self, value)
        if self.lora_rank and self.built:
            self.kernel.requires_grad_(False)

    def effective_kernel(self) -> torch.Tensor:
        """The kernel the layer computes with (LoRA's low-rank update merged in)."""
        if not self.lora_rank:
            return self.kernel
        return self.kernel + (self.lora_alpha / self.lora_rank) * torch.matmul(self.lora_kernel_a, self.lora_kernel_b)

    def keras_weight(self, name: str) -> torch.Tensor:
        if name == "kernel" and self.lora_rank:
            return self.effective_kernel()  # Keras 3 writes the merged kernel
        return super().keras_weight(name)

    def set_weights(self, weights: Sequence[Any]) -> None:
        super().set_weights(weights)
        if self.lora_rank:  # Keras 3 loads the merged kernel and zeroes the LoRA factors
            with torch.no_grad():
                self.lora_kernel_a.zero_()
                self.lora_kernel_b.zero_()

    # ----- call -----
    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.project(inputs)

    def project(self, inputs: torch.Tensor) -> torch.Tensor:
        """The einsum, bias and activation (``MultiHeadAttention`` calls it directly on checked inputs)."""
        kernel, bias = self.effective_kernel(), self.bias
        if self._dtype_policy.is_mixed:
            dtype = self._dtype_policy.compute_dtype
            kernel, bias = kernel.to(dtype), None if bias is None else bias.to(dtype)
        if not inputs.is_floating_point():
            inputs = inputs.to(kernel.dtype)
        plan = self._plan
        if plan is not None and inputs.dim() >= plan[0]:
            n, size, out_dims, bias_flat = plan
            lead = inputs.shape[: inputs.dim() - n]
            w = kernel.reshape(size, -1).t()  # a view of the contiguous kernel
            y = F.linear(inputs.reshape(*lead, size), w, bias.reshape(-1) if bias_flat else None)
            y = y.view(*lead, *out_dims)
        else:
            y = torch.einsum(self.equation, inputs, kernel).contiguous()  # einsum may return a permuted view
            if bias is not None:
                y = y + bias
        return self.activation(y) if self._has_activation else y

    # ----- config / repr -----
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "output_shape": list(self.partial_output_shape),
                "equation": self.equation,
                "activation": activations.serialize(self.activation),
                "bias_axes": self.bias_axes,
                **self._components_config("kernel", "bias"),
            }
        )
        if self.lora_rank:
            config["lora_rank"] = self.lora_rank
            config["lora_alpha"] = self.lora_alpha
        return config

    def extra_repr(self) -> str:
        parts = [f"name={self.name!r}", f"equation={self.equation!r}", f"output_shape={self.partial_output_shape}"]
        if self.bias_axes:
            parts.append(f"bias_axes={self.bias_axes!r}")
        if self.lora_rank:
            parts.append(f"lora_rank={self.lora_rank}")
        return ", ".join(parts + self._repr_common())
