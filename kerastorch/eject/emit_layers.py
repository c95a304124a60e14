"""Emitters of the remaining layer classes: convolutional recurrent layers, adaptive pooling, the other normalizations and wrappers."""
from __future__ import annotations

import math
from typing import Any

import torch

from ..layers.utils import conv_utils
from . import helpers
from .emitters import (CF, EMITTERS, KERAS, Call, Emitted, _function, _same_padding, _training, cf_axis, ctor,
                       emitter_for, embedding, fmt, keras_weight, spatial_layout, with_activation)

helpers.register_helpers({
    "conv_lstm": '''
def conv_lstm(x: torch.Tensor, convs: nn.ModuleDict, activation, recurrent_activation, state: tuple | None = None,
              return_sequences: bool = False, time_dim: int = 1, pad: tuple = ()) -> tuple:
    """Keras ConvLSTM1D/2D/3D over x (N, T, C, *spatial): the input convolution of every step in one batched call
    (TF's asymmetric 'same' split, when strides need one, in `pad`), then per step the recurrent 'same' convolution
    of h and the LSTM gates i, f, c, o (channel dim 1). Returns Keras's (output, h, c): output is the steps stacked
    at `time_dim`, or the last h."""
    flat = x.flatten(0, 1)
    if pad:
        flat = F.pad(flat, pad)
    gates_x = convs["input"](flat).unflatten(0, x.shape[:2])
    if state is None:
        h = c = gates_x.new_zeros(gates_x.shape[0], gates_x.shape[2] // 4, *gates_x.shape[3:])
    else:
        h, c = state
    outputs = []
    for t in range(gates_x.shape[1]):
        i, f, g, o = (gates_x[:, t] + convs["recurrent"](h)).chunk(4, dim=1)
        c = recurrent_activation(f) * c + recurrent_activation(i) * activation(g)
        h = recurrent_activation(o) * activation(c)
        outputs.append(h)
    return (torch.stack(outputs, dim=time_dim) if return_sequences else h), h, c
''',
    "group_norm": '''
def group_norm(norm: nn.GroupNorm, x: torch.Tensor) -> torch.Tensor:
    """nn.GroupNorm of the channels-first view of channels_last data (Keras's channel axis last). torch 2.13's CPU
    group_norm backward of channels_last memory crashes when the input needs no gradient but a weight does: such
    an input is copied to contiguous memory first."""
    if (x.device.type == "cpu" and torch.is_grad_enabled() and not x.requires_grad
            and any(p.requires_grad for p in norm.parameters())):
        x = x.contiguous()
    return norm(x)
''',
    "spectral_normalize": '''
def spectral_normalize(x: torch.Tensor, layer: nn.Module, iterations: int, training: bool, dim: int = 0) -> torch.Tensor:
    """Keras SpectralNormalization's training step, run before the wrapped `layer` reads its weight (returns x as
    it is): `iterations` power-iteration steps on the kernel as a (units, -1) matrix (units: Keras's last kernel
    axis, `dim` of the torch weight) update the stored layer.vector_u, and the weight is divided by its estimated
    spectral norm in place, as Keras assigns it (an all-zero kernel and its u stay as they are). Inference uses
    the stored weight."""
    if not training:
        return x
    weight, u = layer.weight, layer.vector_u
    with torch.no_grad():
        w = weight.movedim(dim, 0).flatten(1)
        new_u = u
        for _ in range(iterations):
            v = F.normalize(new_u @ w, dim=1, eps=1e-6)  # Keras's l2_normalize: x / max(|x|, 1e-6)
            new_u = F.normalize(v @ w.t(), dim=1, eps=1e-6)
        sigma = (v @ w.t()) @ new_u.t()
        zero = (weight == 0).all()
        u.copy_(torch.where(zero, u, new_u))
        weight.copy_(torch.where(zero, weight, weight / sigma))
    return x
''',
})


# ----------------------------------------------------------------------------- convolutional recurrent
@EMITTERS.register("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
def conv_lstm(layer: Any, call: Call) -> Emitted:
    """Keras ConvLSTM: an ``nn.ModuleDict`` of the input convolution (Keras's kernel and bias, strides, padding,
    dilation) and the recurrent one ('same', no bias), run by the ``conv_lstm`` step loop. Channels-first inside:
    states ``(N, filters, *spatial)``, sequences ``(N, filters, T, *spatial)`` (Keras's channels_first ones as
    Keras holds them)."""
    for what in ("stateful", "time_major"):
        if getattr(layer, what, False):
            raise call.fail(f"{what}=True has no ejected form")
    if layer.dropout or layer.recurrent_dropout:
        raise call.fail("dropout / recurrent_dropout inside a recurrent layer have no ejected form yet "
                        "(Keras draws one mask per sequence and gate)")
    r = layer.rank
    kernel = keras_weight(layer, "kernel")  # (*k, in, 4 * filters)
    recurrent = keras_weight(layer, "recurrent_kernel")  # (*k, filters, 4 * filters)
    cin, units = kernel.shape[r], layer.filters
    strides, dilation, ksize = tuple(layer.strides), tuple(layer.dilation_rate), tuple(layer.kernel_size)
    step = Call(layer, [call.shape[:1] + call.shape[2:]], [KERAS], [], call.consts, call.dtypes)  # one step's shape
    padding, pad = None, ()
    if layer.padding == "same":
        padding = _same_padding(step, layer, ksize, strides, dilation)
        if padding is None:  # TF's asymmetric split for strides > 1: a fixed F.pad for the model's input size
            sizes = step.shape[1:-1] if layer.data_format == "channels_last" else step.shape[2:]
            if any(n is None for n in sizes):
                raise call.fail("its 'same' padding with strides splits unevenly for an input size the model leaves open")
            splits = [conv_utils.same_padding(n, k, s, d) for n, k, s, d in zip(sizes, ksize, strides, dilation)]
            pad = tuple(p for split in reversed(splits) for p in split)
        elif padding != "same" and not any(padding):
            padding = None
    to_torch = (r + 1, r, *range(r))  # (*k, in, out) -> (out, in, *k)
    weights = {".input.weight": kernel.permute(to_torch), ".recurrent.weight": recurrent.permute(to_torch)}
    if layer.use_bias:
        weights[".input.bias"] = keras_weight(layer, "bias")
    conv = f"nn.Conv{r}d"
    first = ctor(conv, cin, 4 * units, kernel_size=ksize, stride=None if set(strides) == {1} else strides,
                 padding=padding, dilation=None if set(dilation) == {1} else dilation,
                 bias=None if layer.use_bias else False)
    second = ctor(conv, units, 4 * units, kernel_size=ksize, padding="same", bias=False)
    module = f'nn.ModuleDict({{\n    "input": {first},\n    "recurrent": {second},\n}})'
    act, h1 = _function(call, layer.activation)
    rec, h2 = _function(call, layer.recurrent_activation)
    channels_last = layer.data_format == "channels_last"
    # x as (N, T, C, *spatial), a view of either layout
    x = {CF: "{x}.transpose(1, 2)", KERAS: "{x}.movedim(-1, 2)" if channels_last else "{x}"}[call.layouts[0]]
    if layer.go_backwards:
        x += ".flip(1)"
    args = [x, "{m}", act, rec]
    given = len(call.shapes) - 1
    if given:
        args.append("state=({x1}, {x2})")
    if layer.return_sequences:
        args.append("return_sequences=True")
    if layer.return_sequences and channels_last:
        args.append("time_dim=2")
    if pad:
        args.append(f"pad={fmt(pad)}")
    forward = f"conv_lstm({', '.join(args)})" + ("" if layer.return_state else "[0]")
    layout = CF if channels_last else KERAS
    return Emitted(forward, module, weights, layout_in=[call.layouts[0]] + [layout] * given, layout_out=layout,
                   helpers=("conv_lstm",) + h1 + h2, n_out=3 if layer.return_state else 1)


# ----------------------------------------------------------------------------- pooling
@EMITTERS.register("AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
                   "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D")
def adaptive_pooling(layer: Any, call: Call) -> Emitted:
    """torch's adaptive pooling: its bins ``[floor(i * L / out), ceil((i + 1) * L / out))`` are Keras 3's
    (``keras/src/backend/tensorflow/nn.py``, ``_compute_static_gather_indices``; checked in
    ``kerastorch.layers.pooling.adaptive_pooling``)."""
    kind = "Avg" if layer._pool == "avg" else "Max"
    layout = spatial_layout(layer)
    size = layer.output_size[0] if layer.rank == 1 else tuple(layer.output_size)
    return Emitted("{m}({x})", ctor(f"nn.Adaptive{kind}Pool{layer.rank}d", size), layout_in=layout, layout_out=layout)


# ----------------------------------------------------------------------------- normalization
@EMITTERS.register("GroupNormalization")
def group_normalization(layer: Any, call: Call) -> Emitted:
    """nn.GroupNorm (biased group variance, ``epsilon`` inside the square root: Keras's formula) on the channel axis:
    channels_last data on its channels-first view, another axis moved to dim 1 and back."""
    rank = call.rank
    axis = layer.axis % rank
    c = call.shape[axis]
    affine = layer.center or layer.scale
    module = ctor("nn.GroupNorm", layer.groups, c, eps=float(layer.epsilon), affine=None if affine else False)
    weights: dict[str, torch.Tensor] = {}
    init: list[str] = []
    if affine:
        weights[".weight"] = keras_weight(layer, "gamma") if layer.scale else torch.ones(c)
        weights[".bias"] = keras_weight(layer, "beta") if layer.center else torch.zeros(c)
        init += [f"{{m}}.{p}.requires_grad_(False)  # Keras: {k}=False" for p, k, on in
                 (("weight", "scale", layer.scale), ("bias", "center", layer.center)) if not on]
    if axis == 1 or rank == 2:
        return Emitted("{m}({x})", module, weights, init=init)
    if axis == rank - 1:
        return Emitted("group_norm({m}, {x})", module, weights, CF, CF, ("group_norm",), init)
    return Emitted(f"group_norm({{m}}, {{x}}.movedim({axis}, 1)).movedim(1, {axis})", module, weights,
                   helpers=("group_norm",), init=init)


@EMITTERS.register("RMSNormalization")
def rms_normalization(layer: Any, call: Call) -> Emitted:
    """Keras 3 ``x * rsqrt(mean(x ** 2, axis) + epsilon) * scale``: nn.RMSNorm over trailing axes; the channel axis
    of a channels-first value in place; other axes as the formula (``scale`` broadcast trailing-aligned, as Keras
    multiplies it)."""
    rank = call.rank
    axes = sorted(a % rank for a in layer.axis)
    scale = keras_weight(layer, "scale")
    eps = fmt(float(layer.epsilon))
    param = (f"{{m}} = nn.Parameter(torch.empty({', '.join(map(str, scale.shape))}))  # Keras RMSNormalization scale",)
    if call.layouts[0] == CF and rank >= 3 and axes == [rank - 1]:
        view = f"{{m}}.view(-1{', 1' * (rank - 2)})"
        return Emitted(f"{{x}} * torch.rsqrt({{x}}.square().mean(dim=1, keepdim=True) + {eps}) * {view}",
                       weights={"": scale}, layout_in=CF, layout_out=CF, init=param)
    if axes == list(range(rank - len(axes), rank)):
        shape = tuple(scale.shape)
        return Emitted("{m}({x})", ctor("nn.RMSNorm", shape[0] if len(shape) == 1 else shape, eps=float(layer.epsilon)),
                       {".weight": scale})
    dims = fmt(tuple(axes)) if len(axes) > 1 else str(axes[0])
    return Emitted(f"{{x}} * torch.rsqrt({{x}}.square().mean(dim={dims}, keepdim=True) + {eps}) * {{m}}",
                   weights={"": scale}, init=param)


@EMITTERS.register("UnitNormalization")
def unit_normalization(layer: Any, call: Call) -> Emitted:
    """Keras's ``x * rsqrt(max(sum(x ** 2, axis), 1e-12))``: ``F.normalize`` with eps 1e-6 (``x / max(|x|, 1e-6)``)."""
    rank = call.rank
    layout = call.layouts[0] if rank >= 3 else KERAS
    axes = [layer.axis] if isinstance(layer.axis, int) else list(layer.axis)
    dims = sorted(cf_axis(a, rank) if layout == CF else a % rank for a in axes)
    dim = str(dims[0]) if len(dims) == 1 else fmt(tuple(dims))
    x = "{x}" if call.dtypes[0].is_floating_point else "{x}.float()"
    return Emitted(f"F.normalize({x}, dim={dim}, eps=1e-06)", layout_in=layout, layout_out=layout)


#: wrapped layers SpectralNormalization takes, and the torch weight axis that is Keras's last kernel axis
_SPECTRAL_INNER = {"Dense": 0, "Conv1D": 0, "Conv2D": 0, "Conv3D": 0, "Conv1DTranspose": 0, "Conv2DTranspose": 0,
                   "Conv3DTranspose": 0, "Embedding": 1}


@EMITTERS.register("SpectralNormalization")
def spectral_normalization(layer: Any, call: Call) -> Emitted:
    """The wrapped layer's own module with Keras's ``vector_u`` as a buffer; in training the ``spectral_normalize``
    helper runs Keras's power iteration (updating u and the kernel in place) before the layer reads its weight."""
    inner = layer.layer
    kind = type(inner).__name__
    if kind not in _SPECTRAL_INNER or getattr(inner, "lora_rank", None):
        raise call.fail(f"a SpectralNormalization over a {kind} has no ejected form yet "
                        f"(over {', '.join(sorted(_SPECTRAL_INNER))} it has)")
    em = emitter_for(inner)(inner, Call(inner, call.shapes, call.layouts, call.out_shapes, call.consts, call.dtypes))
    u = layer.vector_u.detach().to("cpu")
    dim = _SPECTRAL_INNER[kind]
    step = (f"spectral_normalize({{x}}, {{m}}, {layer.power_iterations}, {_training(call)}"
            + (f", dim={dim})" if dim else ")"))
    init = em.init + (f'{{m}}.register_buffer("vector_u", torch.empty({u.shape[0]}, {u.shape[1]}))  '
                      "# Keras's power-iteration vector",)
    return Emitted(em.forward.replace("{x}", step), em.module, {**em.weights, ".vector_u": u}, em.layout_in,
                   em.layout_out, em.helpers + ("spectral_normalize",), init, em.n_out)


# ----------------------------------------------------------------------------- core
@EMITTERS.register("EinsumDense")
def einsum_dense(layer: Any, call: Call) -> Emitted:
    """An ``nn.Linear`` on flattened views when the equation is a plain projection (the input's trailing axes
    contracted with the kernel's leading ones), else ``torch.einsum`` with Keras's kernel and bias."""
    if layer.lora_rank:
        raise call.fail("LoRA einsum projections are not supported")
    kernel = keras_weight(layer, "kernel")
    bias = keras_weight(layer, "bias") if layer.bias is not None else None
    x = "{x}" if call.dtypes[0].is_floating_point else "{x}.float()"
    plan = layer._matmul_plan(call.rank)
    if plan is not None:
        n, size, out_dims, _ = plan
        units = math.prod(out_dims)
        weights = {".weight": kernel.reshape(size, units).t()}
        if bias is not None:
            weights[".bias"] = bias.reshape(-1)
        module = ctor("nn.Linear", size, units, bias=None if bias is not None else False)
        forward = f"{{m}}({x if n == 1 else f'{x}.flatten(-{n})'})"
        if len(out_dims) != 1:
            forward += f".unflatten(-1, {fmt(tuple(out_dims))})" if out_dims else ".squeeze(-1)"
        return with_activation(call, Emitted(forward, module, weights))
    weights = {".kernel": kernel}
    entries = [f'"kernel": nn.Parameter(torch.empty({", ".join(map(str, kernel.shape))}))']
    forward = f'torch.einsum("{layer.equation}", {x}, {{m}}["kernel"])'
    if bias is not None:
        weights[".bias"] = bias
        entries.append(f'"bias": nn.Parameter(torch.empty({", ".join(map(str, bias.shape))}))')
        forward += ' + {m}["bias"]'
    module = f"nn.ParameterDict({{{', '.join(entries)}}})  # Keras's layout"
    return with_activation(call, Emitted(forward, module, weights))


@EMITTERS.register("ReversibleEmbedding")
def reversible_embedding(layer: Any, call: Call) -> Emitted:
    """Keras 3 ReversibleEmbedding: an ``nn.Embedding`` lookup, or with ``reverse=True`` the logits against its
    table (``F.linear``; an own ``reverse_embeddings`` parameter when the weights are not tied), soft-capped as
    ``tanh(logits / cap) * cap``. Both kinds of call share one module."""
    em = embedding(layer, call)
    if not layer.tie_weights:
        reverse = keras_weight(layer, "reverse_embeddings")
        em.init += (f"{{m}}.reverse_embeddings = nn.Parameter(torch.empty({reverse.shape[0]}, {reverse.shape[1]}))",)
        em.weights[".reverse_embeddings"] = reverse
    if not call.consts.get("reverse", False):
        return em
    x, table = "{x}", "{m}.weight" if layer.tie_weights else "{m}.reverse_embeddings"
    if layer._reverse_torch_dtype is not None and layer._reverse_torch_dtype != torch.float32:
        dtype = str(layer._reverse_torch_dtype)
        x, table = f"{x}.to({dtype})", f"{table}.to({dtype})"
    forward = f"F.linear({x}, {table})" if layer.tie_weights else f"{x} @ {table}"
    if layer.logit_soft_cap is not None:
        cap = fmt(float(layer.logit_soft_cap))
        forward = f"torch.tanh({forward} / {cap}) * {cap}"
    return Emitted(forward, em.module, em.weights, init=em.init)
