"""One emitter per Keras layer class: what the ejected ``model.py`` holds for a call of that layer.

An emitter ``fn(layer, call) -> Emitted`` says which ``torch.nn`` module the layer becomes (its constructor
line), the forward expression of one call, the weights (``state_dict`` key suffix -> tensor in torch layout,
read through the layer's ``keras_weight``: Keras's layout, which the emitter turns into torch.nn's), the
layouts it wants its inputs in and gives its output in, and the helper functions it needs.

Layouts: ``KERAS`` is the tensor as Keras holds it; ``CF`` is the channels-first view of a channels_last
tensor of rank >= 3 (``N, C, *spatial``), what torch's convolution, pooling and BatchNorm modules take. The
code generator converts between them with a ``permute`` only where a consumer needs the other one.
"""
from __future__ import annotations

import math
import re
from typing import Any, Callable, Sequence

import numpy as np
import torch

from .. import activations
from .._registry import LAYERS, Registry
from ..layers.utils import conv_utils

KERAS = "keras"
CF = "cf"

EMITTERS = Registry("eject emitter", "kerastorch.eject")


class EjectError(ValueError):
    """A layer the ejected code cannot express (names the layer and its class)."""


class Call:
    """One call of a layer, as the emitter sees it: the input tensors' Keras shapes and current layouts,
    the output shapes, and the call's constant keyword arguments (``training=`` ...)."""

    def __init__(self, layer: Any, shapes: list, layouts: list, out_shapes: list, consts: dict, dtypes: list):
        self.layer = layer
        self.shapes = shapes
        self.layouts = layouts
        self.out_shapes = out_shapes
        self.consts = consts
        self.dtypes = dtypes
        self.operands: tuple = ((), {})  # the node's (args, kwargs), inputs as Placeholders
        #: Keras's masks the call gets (variable names of boolean (batch, steps) tensors): ``mask``, what the
        #: layer's ``mask=`` argument receives (one name or None, a list for a list input; None: no mask),
        #: ``named_masks``, Keras 3's ``query_mask=`` ... arguments. An emitter that applies them sets
        #: ``Emitted.masked``.
        self.mask: Any = None
        self.named_masks: dict[str, str] = {}
        #: per input: a Python-int expression of its value where the graph took it from a shape (tf.shape(x)[1]
        #: -> ``("x.shape[1]", "x")``: the expression and the tensor it reads), else None
        self.sizes: list = [None] * len(shapes)

    @property
    def shape(self) -> tuple:
        return self.shapes[0]

    @property
    def rank(self) -> int:
        return len(self.shapes[0])

    def fail(self, why: str) -> EjectError:
        return EjectError(f'Layer "{self.layer.name}" ({type(self.layer).__name__}) cannot be ejected: {why}.')


class Placeholder:
    """Input ``i`` of a call inside its recorded arguments (``Call.operands``)."""

    def __init__(self, i: int):
        self.i = i

    def __repr__(self) -> str:
        return f"{{x{self.i}}}"


class Emitted:
    """What one call of a layer becomes. ``forward`` is a template: ``{m}`` the module (``self.<attr>``),
    ``{a}`` the attribute name, ``{x}`` the first input, ``{x0}``, ``{x1}`` ... each input, ``{training}``
    the training flag. ``weights`` keys are suffixes of the attribute name (``'.weight'``, or ``''`` for a
    parameter that is the attribute itself); ``init`` lines (same placeholders) run after the constructor."""

    def __init__(self, forward: str, module: str | None = None, weights: dict[str, torch.Tensor] | None = None,
                 layout_in: str | Sequence[str] = KERAS, layout_out: str = KERAS, helpers: Sequence[str] = (),
                 init: Sequence[str] = (), n_out: int = 1, masked: bool = False):
        self.forward = forward
        self.masked = masked  # it applies the call's masks (Call.mask / Call.named_masks)
        self.module = module
        self.weights = weights or {}
        self.layout_in = layout_in
        self.layout_out = layout_out
        self.helpers = tuple(helpers)
        self.init = tuple(init)
        self.n_out = n_out


def emitter_for(layer: Any) -> Callable[[Any, Call], Emitted] | None:
    """The emitter of ``layer``'s class (or of the nearest registered base class)."""
    for cls in type(layer).__mro__:
        name = LAYERS.name_of(cls) or cls.__name__
        if name in EMITTERS:
            return EMITTERS.lookup(name)
    return None


# ----------------------------------------------------------------------------- small formatting helpers
def fmt(value: Any) -> str:
    """A constant as Python source: a tuple of equal ints collapses to one int (torch broadcasts it)."""
    if isinstance(value, (tuple, list)):
        items = [fmt(v) for v in value]
        if len(set(items)) == 1 and len(items) > 1 and all(isinstance(v, int) for v in value):
            return items[0]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, float):
        # the shortest text of the float32 value: models compute in float32, and 0.1 reads better than 0.100000001
        return repr(float(str(np.float32(value)))) if math.isfinite(value) else f'float("{value}")'
    if isinstance(value, str) and value.isidentifier():
        return f'"{value}"'
    return repr(value)


def tup(values: Sequence[Any]) -> str:
    """A tuple as Python source, never collapsed (for helper arguments)."""
    items = [fmt(v) for v in values]
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def ctor(name: str, *args: Any, **kwargs: Any) -> str:
    """``name(args..., key=value...)`` with the keyword arguments that are not ``None``."""
    parts = [fmt(a) for a in args] + [f"{k}={fmt(v)}" for k, v in kwargs.items() if v is not None]
    return f"{name}({', '.join(parts)})"


def keras_weight(layer: Any, name: str) -> torch.Tensor:
    """A weight in Keras's layout (the layer's own ``WeightSpec.to_keras`` view), detached on the CPU."""
    return layer.keras_weight(name).detach().to("cpu")


def spatial_layout(layer: Any) -> str:
    return KERAS if getattr(layer, "data_format", "channels_last") == "channels_first" else CF


def spatial_dims(call: Call, layer: Any) -> list:
    """The input's spatial sizes (``None`` where unknown)."""
    shape = call.shape
    return list(shape[2:] if spatial_layout(layer) == KERAS else shape[1:-1])


def cf_axis(axis: int, rank: int) -> int:
    """A Keras axis of a channels_last tensor, as the axis of its channels-first view."""
    axis = axis % rank
    if axis == 0:
        return 0
    return 1 if axis == rank - 1 else axis + 1


def common_layout(call: Call) -> str:
    """The layout an elementwise op over all inputs runs in: channels-first when every input has the same
    rank >= 3 and one of them is already channels-first, else Keras's."""
    ranks = {len(s) for s in call.shapes}
    return CF if len(ranks) == 1 and ranks.pop() >= 3 and CF in call.layouts else KERAS


def _name_of_activation(fn: Any) -> str | None:
    return activations._registry.name_of(fn)


def activation(call: Call, fn: Any, expr: str, layout: str, rank: int) -> tuple[str, tuple]:
    """``fn`` (a Keras activation) applied to ``expr``: (expression, helpers)."""
    name = _name_of_activation(fn)
    dim = cf_axis(-1, rank) if layout == CF and rank >= 3 else -1
    table = {
        "linear": "{x}", "relu": "F.relu({x})", "sigmoid": "torch.sigmoid({x})", "tanh": "torch.tanh({x})",
        "softmax": f"torch.softmax({{x}}, dim={dim})", "log_softmax": f"torch.log_softmax({{x}}, dim={dim})",
        "softplus": "F.softplus({x})", "softsign": "F.softsign({x})", "selu": "F.selu({x})", "elu": "F.elu({x})",
        "exponential": "torch.exp({x})", "swish": "F.silu({x})", "gelu": "F.gelu({x})", "relu6": "F.relu6({x})",
        "mish": "F.mish({x})", "leaky_relu": "F.leaky_relu({x}, 0.2)", "keras3>hard_sigmoid": "F.hardsigmoid({x})",
        "keras3>hard_silu": "F.hardswish({x})", "hard_sigmoid": "hard_sigmoid_tf({x})",
    }
    if name not in table:
        raise call.fail(f"activation {name or fn!r} has no ejected form (known: {', '.join(sorted(table))})")
    return table[name].replace("{x}", expr), (("hard_sigmoid_tf",) if name == "hard_sigmoid" else ())


def with_activation(call: Call, em: Emitted, rank: int | None = None) -> Emitted:
    fn = getattr(call.layer, "activation", None)
    if fn is None:
        return em
    em.forward, helpers = activation(call, fn, em.forward, em.layout_out, rank if rank is not None else len(call.out_shapes[0]))
    em.helpers += helpers
    return em


# ----------------------------------------------------------------------------- core
@EMITTERS.register("Dense")
def dense(layer: Any, call: Call) -> Emitted:
    kernel = keras_weight(layer, "kernel")
    weights = {".weight": kernel.t()}
    if layer.use_bias:
        weights[".bias"] = keras_weight(layer, "bias")
    module = ctor("nn.Linear", kernel.shape[0], kernel.shape[1], bias=None if layer.use_bias else False)
    return with_activation(call, Emitted("{m}({x})", module, weights))


@EMITTERS.register("Activation")
def activation_layer(layer: Any, call: Call) -> Emitted:
    layout = call.layouts[0]
    expr, helpers = activation(call, layer.activation, "{x}", layout, call.rank)
    return Emitted(expr, layout_in=layout, layout_out=layout, helpers=helpers)


@EMITTERS.register("Identity", "ActivityRegularization")
def identity(layer: Any, call: Call) -> Emitted:
    return Emitted("{x}", layout_in=call.layouts[0], layout_out=call.layouts[0])


@EMITTERS.register("Embedding")
def embedding(layer: Any, call: Call) -> Emitted:
    if getattr(layer, "lora_rank", None):
        raise call.fail("LoRA embeddings are not supported")
    table = keras_weight(layer, "embeddings")
    x = "{x}" if call.dtypes[0] == torch.int64 else "{x}.long()"
    return Emitted(f"{{m}}({x})", ctor("nn.Embedding", table.shape[0], table.shape[1]), {".weight": table})


# ----------------------------------------------------------------------------- convolutions
def _same_padding(call: Call, layer: Any, kernel: Sequence[int], strides: Sequence[int], dilation: Sequence[int]) -> Any:
    """torch's ``padding=`` for TF's 'same' when it is symmetric for the known input size (``'same'`` for stride
    1), else ``None``: the forward pads with the ``tf_same_pad`` helper."""
    if all((k - 1) * d == 0 for k, d in zip(kernel, dilation)):
        return ()  # a 1-wide window: 'same' pads nothing
    if all(s == 1 for s in strides):  # stride 1: the total (k - 1) * d, split evenly when it is even
        totals = [(k - 1) * d for k, d in zip(kernel, dilation)]
        return tuple(t // 2 for t in totals) if all(t % 2 == 0 for t in totals) else "same"
    sizes = spatial_dims(call, layer)
    if any(n is None for n in sizes):
        return None
    splits = [conv_utils.same_padding(n, k, s, d) for n, k, s, d in zip(sizes, kernel, strides, dilation)]
    if any(a != b for a, b in splits):
        return None
    return tuple(a for a, _ in splits)


def _conv_module(call: Call, layer: Any, cls: str, cin: int, cout: int, kernel: Sequence[int], groups: int = 1,
                 bias: bool = True) -> tuple[str, str, tuple]:
    """(constructor, input expression, helpers) of a convolution with the layer's strides, dilation, padding."""
    strides, dilation = tuple(layer.strides), tuple(getattr(layer, "dilation_rate", (1,) * len(kernel)))
    x, helpers, padding = "{x}", (), None
    if layer.padding == "same":
        padding = _same_padding(call, layer, kernel, strides, dilation)
        if padding is None:
            x, helpers = f"tf_same_pad({{x}}, {tup(kernel)}, {tup(strides)}, {tup(dilation)})", ("tf_same_pad",)
        elif padding != "same" and not any(padding):
            padding = None
    elif layer.padding == "causal":
        x = f"F.pad({{x}}, ({dilation[0] * (kernel[0] - 1)}, 0))"
    module = ctor(cls, cin, cout, kernel_size=tuple(kernel), stride=None if set(strides) == {1} else tuple(strides),
                  padding=padding, dilation=None if set(dilation) == {1} else tuple(dilation),
                  groups=None if groups == 1 else groups, bias=None if bias else False)
    return channels_last_kernel(module, layer, len(kernel)), x, helpers


def channels_last_kernel(module: str, layer: Any, rank: int) -> str:
    """A 2-D convolution of channels_last data keeps its kernel in channels_last memory, as its input is: with an
    NCHW-contiguous kernel oneDNN reorders the kernel on every call (ResNet50: 64 copies, a quarter of a forward)."""
    if rank == 2 and spatial_layout(layer) == CF:
        return f"{module}.to(memory_format=torch.channels_last)"
    return module


@EMITTERS.register("Conv1D", "Conv2D", "Conv3D")
def conv(layer: Any, call: Call) -> Emitted:
    r = layer.rank
    kernel = keras_weight(layer, "kernel")  # (*k, in / groups, out)
    weights = {".weight": kernel.permute(r + 1, r, *range(r))}
    if layer.use_bias:
        weights[".bias"] = keras_weight(layer, "bias")
    cin = kernel.shape[r] * layer.groups
    module, x, helpers = _conv_module(call, layer, f"nn.Conv{r}d", cin, layer.filters, layer.kernel_size, layer.groups,
                                      layer.use_bias)
    layout = spatial_layout(layer)
    return with_activation(call, Emitted(f"{{m}}({x})", module, weights, layout, layout, helpers))


def _depthwise(layer: Any, r: int) -> tuple[int, int, torch.Tensor]:
    """(in, multiplier, torch weight): Keras's depthwise kernel ``(*k, in, multiplier)`` as the grouped
    convolution's ``(in * multiplier, 1, *k)``, output channel ``c * multiplier + j`` as Keras orders them."""
    kernel = keras_weight(layer, "depthwise_kernel")
    cin, mult = kernel.shape[r], kernel.shape[r + 1]
    return cin, mult, kernel.permute(r, r + 1, *range(r)).reshape(cin * mult, 1, *kernel.shape[:r])


@EMITTERS.register("DepthwiseConv1D", "DepthwiseConv2D")
def depthwise_conv(layer: Any, call: Call) -> Emitted:
    r = layer.rank
    cin, mult, weight = _depthwise(layer, r)
    weights = {".weight": weight}
    if layer.use_bias:
        weights[".bias"] = keras_weight(layer, "bias")
    module, x, helpers = _conv_module(call, layer, f"nn.Conv{r}d", cin, cin * mult, layer.kernel_size, cin, layer.use_bias)
    layout = spatial_layout(layer)
    return with_activation(call, Emitted(f"{{m}}({x})", module, weights, layout, layout, helpers))


@EMITTERS.register("SeparableConv1D", "SeparableConv2D")
def separable_conv(layer: Any, call: Call) -> Emitted:
    r = layer.rank
    cin, mult, weight = _depthwise(layer, r)
    pointwise = keras_weight(layer, "pointwise_kernel")  # (*1, in * multiplier, filters)
    weights = {".0.weight": weight, ".1.weight": pointwise.permute(r + 1, r, *range(r))}
    if layer.use_bias:
        weights[".1.bias"] = keras_weight(layer, "bias")
    first, x, helpers = _conv_module(call, layer, f"nn.Conv{r}d", cin, cin * mult, layer.kernel_size, cin, False)
    second = channels_last_kernel(ctor(f"nn.Conv{r}d", cin * mult, layer.filters, kernel_size=1,
                                       bias=None if layer.use_bias else False), layer, r)
    module = f"nn.Sequential(\n    {first},  # depthwise\n    {second},  # pointwise\n)"
    layout = spatial_layout(layer)
    return with_activation(call, Emitted(f"{{m}}({x})", module, weights, layout, layout, helpers))


# ----------------------------------------------------------------------------- normalization
@EMITTERS.register("BatchNormalization")
def batch_norm(layer: Any, call: Call) -> Emitted:
    rank = call.rank
    axes, fused = layer._resolve(call.shape)
    if len(axes) != 1 or rank > 5 or rank < 2:
        raise call.fail(f"torch's BatchNorm takes one channel axis of a 2-D to 5-D tensor; axis={axes}, rank {rank}")
    axis = axes[0]
    if rank == 2:
        layout = KERAS
    elif axis == rank - 1:
        layout = CF
    elif axis == 1:
        layout = KERAS
    else:
        raise call.fail(f"axis {axis} of a rank-{rank} input is neither the channels axis 1 nor the last")
    c = call.shape[axis]
    cls = f"nn.BatchNorm{max(rank - 2, 1)}d"
    momentum = 1.0 - layer.momentum  # torch: running = (1 - m) * running + m * batch
    module = ctor(cls, c, eps=layer.epsilon, momentum=momentum,
                  affine=None if (layer.center or layer.scale) else False)
    weights: dict[str, torch.Tensor] = {}
    init: list[str] = []
    if layer.center or layer.scale:
        weights[".weight"] = keras_weight(layer, "gamma") if layer.scale else torch.ones(c)
        weights[".bias"] = keras_weight(layer, "beta") if layer.center else torch.zeros(c)
        init += [f"{{m}}.{p}.requires_grad_(False)  # Keras: {k}=False" for p, k, on in
                 (("weight", "scale", layer.scale), ("bias", "center", layer.center)) if not on]
    weights[".running_mean"] = keras_weight(layer, "moving_mean")
    weights[".running_var"] = keras_weight(layer, "moving_variance")
    weights[".num_batches_tracked"] = torch.zeros((), dtype=torch.long)
    helpers: tuple = ()
    if not layer.trainable:
        init.append("{m}.requires_grad_(False)  # Keras: trainable=False, always in inference mode")
        forward = "F.batch_norm({x}, {m}.running_mean, {m}.running_var, {m}.weight, {m}.bias, False, 0.0, {m}.eps)"
    elif fused and not layer.synchronized:
        forward = "{m}({x})"
    else:
        forward, helpers = "batch_norm_biased({m}, {x})", ("batch_norm_biased",)
    return Emitted(forward, module, weights, layout, layout, helpers, init)


@EMITTERS.register("LayerNormalization")
def layer_norm(layer: Any, call: Call) -> Emitted:
    rank = call.rank
    axes = sorted(a % rank for a in layer.axis)
    if axes != list(range(rank - len(axes), rank)) or getattr(layer, "rms_scaling", False):
        raise call.fail(f"torch's LayerNorm normalizes trailing axes; axis={layer.axis} of a rank-{rank} input")
    if layer.center and not layer.scale:
        raise call.fail("center=True with scale=False has no nn.LayerNorm form")
    shape = tuple(call.shape[a] for a in axes)
    weights = {}
    if layer.scale:
        weights[".weight"] = keras_weight(layer, "gamma").reshape(shape)
    if layer.center:
        weights[".bias"] = keras_weight(layer, "beta").reshape(shape)
    module = ctor("nn.LayerNorm", shape[0] if len(shape) == 1 else shape, eps=layer.epsilon,
                  elementwise_affine=None if layer.scale else False, bias=None if layer.center or not layer.scale else False)
    return Emitted("{m}({x})", module, weights)


# ----------------------------------------------------------------------------- pooling
@EMITTERS.register("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
                   "AveragePooling3D")
def pooling(layer: Any, call: Call) -> Emitted:
    r = layer.rank
    kind = "Max" if "Max" in type(layer).__name__ else "Avg"
    kernel, strides = tuple(layer.pool_size), tuple(layer.strides)
    layout = spatial_layout(layer)
    if layer.padding == "valid":
        return Emitted("{m}({x})", ctor(f"nn.{kind}Pool{r}d", kernel, strides), layout_in=layout, layout_out=layout)
    padding = _same_padding(call, layer, kernel, strides, (1,) * r)
    if padding == "same":  # stride 1, an even window: TF's split is asymmetric
        padding = None
    if padding == ():
        padding = (0,) * r
    if padding is not None and all(p <= k // 2 for p, k in zip(padding, kernel)):
        extra = {"count_include_pad": False} if kind == "Avg" and any(padding) else {}
        module = ctor(f"nn.{kind}Pool{r}d", kernel, strides, padding=padding if any(padding) else None, **extra)
        return Emitted("{m}({x})", module, layout_in=layout, layout_out=layout)
    k, s = fmt(kernel), fmt(strides)
    if kind == "Max":
        forward = f'F.max_pool{r}d(tf_same_pad({{x}}, {tup(kernel)}, {tup(strides)}, {tup((1,) * r)}, float("-inf")), {k}, {s})'
        return Emitted(forward, layout_in=layout, layout_out=layout, helpers=("tf_same_pad",))
    return Emitted(f"avg_pool_same({{x}}, {tup(kernel)}, {tup(strides)})", layout_in=layout, layout_out=layout,
                   helpers=("avg_pool_same",))


@EMITTERS.register("GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalAveragePooling1D",
                   "GlobalAveragePooling2D", "GlobalAveragePooling3D")
def global_pooling(layer: Any, call: Call) -> Emitted:
    if call.mask is not None:  # GlobalAveragePooling1D: the mean over the kept steps
        if getattr(layer, "data_format", "channels_last") == "channels_first":
            raise call.fail("a mask with data_format='channels_first' has no ejected form yet")
        forward = f"masked_mean({{x}}, {call.mask}{', keepdim=True' if layer.keepdims else ''})"
        return Emitted(forward, helpers=("masked_mean",), masked=True)
    r = call.rank - 2
    dims = fmt(tuple(range(2, 2 + r))) if r > 1 else "2"
    op = "amax" if "Max" in type(layer).__name__ else "mean"
    layout = spatial_layout(layer)
    if layer.keepdims:
        return Emitted(f"{{x}}.{op}(dim={dims}, keepdim=True)", layout_in=layout, layout_out=layout)
    return Emitted(f"{{x}}.{op}(dim={dims})", layout_in=layout, layout_out=KERAS)


# ----------------------------------------------------------------------------- reshaping
@EMITTERS.register("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D")
def zero_padding(layer: Any, call: Call) -> Emitted:
    pad = [p for pair in reversed(layer.padding) for p in pair]
    return Emitted(f"F.pad({{x}}, ({', '.join(map(str, pad))}))", layout_in=spatial_layout(layer), layout_out=spatial_layout(layer))


@EMITTERS.register("Cropping1D", "Cropping2D", "Cropping3D")
def cropping(layer: Any, call: Call) -> Emitted:
    index = [":", ":"] + [f"{a or ''}:{-b if b else ''}" for a, b in layer.cropping]
    return Emitted(f"{{x}}[{', '.join(index)}]", layout_in=spatial_layout(layer), layout_out=spatial_layout(layer))


@EMITTERS.register("UpSampling1D", "UpSampling2D", "UpSampling3D")
def up_sampling(layer: Any, call: Call) -> Emitted:
    mode = getattr(layer, "interpolation", "nearest")
    if mode not in ("nearest", "bilinear"):
        raise call.fail(f"interpolation={mode!r} (only 'nearest' and 'bilinear' map to torch's)")
    layout = spatial_layout(layer)
    if len(layer.size) == 1:
        return Emitted(f"{{x}}.repeat_interleave({layer.size[0]}, dim=2)", layout_in=layout, layout_out=layout)
    module = ctor("nn.Upsample", scale_factor=tuple(float(s) for s in layer.size), mode=mode,
                  align_corners=False if mode == "bilinear" else None)
    return Emitted("{m}({x})", module, layout_in=layout, layout_out=layout)


@EMITTERS.register("Flatten")
def flatten(layer: Any, call: Call) -> Emitted:
    if call.rank >= 3 and getattr(layer, "data_format", "channels_last") == "channels_first":
        return Emitted("torch.flatten({x}.movedim(1, -1), 1)")  # Keras flattens channels_first data in NHWC order
    return Emitted("torch.flatten({x}, 1)")


@EMITTERS.register("Reshape")
def reshape(layer: Any, call: Call) -> Emitted:
    target = tuple(layer.target_shape)
    if -1 in target:
        return Emitted(f"torch.flatten({{x}}, 1).unflatten(1, {fmt(target)})")
    return Emitted(f"{{x}}.reshape(-1, {', '.join(str(d) for d in target)})")


@EMITTERS.register("Permute")
def permute(layer: Any, call: Call) -> Emitted:
    return Emitted(f"{{x}}.permute(0, {', '.join(str(d) for d in layer.dims)})")


@EMITTERS.register("RepeatVector")
def repeat_vector(layer: Any, call: Call) -> Emitted:
    return Emitted(f"{{x}}.unsqueeze(1).expand(-1, {layer.n}, -1)")


# ----------------------------------------------------------------------------- merging
def _merge(op: Callable[[list[str]], str]) -> Callable[[Any, Call], Emitted]:
    def emit(layer: Any, call: Call) -> Emitted:
        if isinstance(call.mask, list) and layer._keras3_masks and type(layer)._merge_masked is not _base_merge_masked():
            xs = ", ".join(f"{{x{i}}}" for i in range(len(call.shapes)))
            masks = ", ".join(str(m) for m in call.mask)
            return Emitted(f'keras3_masked_merge("{type(layer).__name__.lower()}", [{xs}], [{masks}])',
                           helpers=("keras3_masked_merge",), masked=True)
        layout = common_layout(call)
        # tf.keras's merges (and Keras 3's Add / Subtract / Average) compute the same with or without masks
        return Emitted(op([f"{{x{i}}}" for i in range(len(call.shapes))]), layout_in=layout, layout_out=layout,
                       masked=True)

    return emit


def _nest(fn: str, xs: list[str]) -> str:
    out = xs[0]
    for x in xs[1:]:
        out = f"{fn}({out}, {x})"
    return out


EMITTERS.alias("Add", _merge(lambda xs: " + ".join(xs)))
EMITTERS.alias("Subtract", _merge(lambda xs: f"{xs[0]} - {xs[1]}"))
EMITTERS.alias("Multiply", _merge(lambda xs: " * ".join(xs)))
EMITTERS.alias("Average", _merge(lambda xs: f"({' + '.join(xs)}) / {len(xs)}"))
EMITTERS.alias("Maximum", _merge(lambda xs: _nest("torch.maximum", xs)))
EMITTERS.alias("Minimum", _merge(lambda xs: _nest("torch.minimum", xs)))


def _base_merge_masked() -> Any:
    from ..layers.merging.base_merge import Merge

    return Merge._merge_masked


@EMITTERS.register("Concatenate")
def concatenate(layer: Any, call: Call) -> Emitted:
    layout = common_layout(call)
    rank = call.rank
    axis = cf_axis(layer.axis, rank) if layout == CF else layer.axis % rank
    xs = ", ".join(f"{{x{i}}}" for i in range(len(call.shapes)))
    return Emitted(f"torch.cat([{xs}], dim={axis})", layout_in=layout, layout_out=layout)


# ----------------------------------------------------------------------------- activations
@EMITTERS.register("ReLU")
def relu(layer: Any, call: Call) -> Emitted:
    layout = call.layouts[0]
    slope, top, threshold = layer.negative_slope, layer.max_value, layer.threshold
    if slope == 0.0 and threshold == 0.0 and top is None:
        return Emitted("F.relu({x})", layout_in=layout, layout_out=layout)
    if slope == 0.0 and threshold == 0.0 and top == 6.0:
        return Emitted("F.relu6({x})", layout_in=layout, layout_out=layout)
    args = ctor("keras_relu", "{x}", negative_slope=slope or None, max_value=top, threshold=threshold or None)
    return Emitted(args.replace("'{x}'", "{x}"), layout_in=layout, layout_out=layout, helpers=("keras_relu",))


@EMITTERS.register("ThresholdedReLU")
def thresholded_relu(layer: Any, call: Call) -> Emitted:
    layout = call.layouts[0]
    return Emitted(f"keras_relu({{x}}, threshold={fmt(float(layer.theta))})", layout_in=layout, layout_out=layout,
                   helpers=("keras_relu",))


@EMITTERS.register("LeakyReLU")
def leaky_relu(layer: Any, call: Call) -> Emitted:
    layout = call.layouts[0]
    return Emitted(f"F.leaky_relu({{x}}, {fmt(float(layer.alpha))})", layout_in=layout, layout_out=layout)


@EMITTERS.register("ELU")
def elu(layer: Any, call: Call) -> Emitted:
    layout = call.layouts[0]
    if float(layer.alpha) == 1.0:
        return Emitted("F.elu({x})", layout_in=layout, layout_out=layout)
    return Emitted(f"elu_tf({{x}}, {fmt(float(layer.alpha))})", layout_in=layout, layout_out=layout, helpers=("elu_tf",))


@EMITTERS.register("Masking")
def masking(layer: Any, call: Call) -> Emitted:
    """Keras Masking: the steps whose features all equal mask_value become zeros (their mask is False)."""
    value = fmt(float(layer.mask_value))
    return Emitted(f"{{x}}.masked_fill(({{x}} == {value}).all(dim=-1, keepdim=True), 0.0)")


@EMITTERS.register("Softmax")
def softmax(layer: Any, call: Call) -> Emitted:
    axis = layer.axis
    if isinstance(axis, list):
        if len(axis) != 1:
            raise call.fail(f"softmax over several axes {axis}")
        axis = axis[0]
    layout = call.layouts[0]
    dim = cf_axis(axis, call.rank) if layout == CF else axis
    return Emitted(f"torch.softmax({{x}}, dim={dim})", layout_in=layout, layout_out=layout)


# ----------------------------------------------------------------------------- regularization
def _training(call: Call) -> str:
    return repr(bool(call.consts["training"])) if call.consts.get("training") is not None else "{training}"


@EMITTERS.register("Dropout")
def dropout(layer: Any, call: Call) -> Emitted:
    if layer.noise_shape is not None:
        noise = list(layer.noise_shape)
        if len(noise) != call.rank:
            raise call.fail(f"noise_shape={layer.noise_shape} does not match the rank-{call.rank} input")
        layout = call.layouts[0] if all(d == 1 for d in noise[1:]) else KERAS  # a per-sample mask fits any layout
        dims = ", ".join(f"{{x}}.shape[{i}]" if d is None else str(d) for i, d in enumerate(noise))
        return Emitted(f"keras_dropout({{x}}, {fmt(float(layer.rate))}, ({dims}), {_training(call)})", layout_in=layout,
                       layout_out=layout, helpers=("keras_dropout",))
    if call.consts.get("training") is not None:
        return Emitted(f"F.dropout({{x}}, {fmt(float(layer.rate))}, {_training(call)})", layout_in=call.layouts[0],
                       layout_out=call.layouts[0])
    return Emitted("{m}({x})", ctor("nn.Dropout", float(layer.rate)), layout_in=call.layouts[0], layout_out=call.layouts[0])


@EMITTERS.register("SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D")
def spatial_dropout(layer: Any, call: Call) -> Emitted:
    r = call.rank - 2
    layout = spatial_layout(layer)
    return Emitted("{m}({x})", ctor(f"nn.Dropout{r}d", float(layer.rate)), layout_in=layout, layout_out=layout)


@EMITTERS.register("AlphaDropout")
def alpha_dropout(layer: Any, call: Call) -> Emitted:
    return Emitted("{m}({x})", ctor("nn.AlphaDropout", float(layer.rate)), layout_in=call.layouts[0],
                   layout_out=call.layouts[0])


@EMITTERS.register("GaussianNoise")
def gaussian_noise(layer: Any, call: Call) -> Emitted:
    return Emitted(f"gaussian_noise({{x}}, {fmt(float(layer.stddev))}, {_training(call)})", layout_in=call.layouts[0],
                   layout_out=call.layouts[0], helpers=("gaussian_noise",))


@EMITTERS.register("GaussianDropout")
def gaussian_dropout(layer: Any, call: Call) -> Emitted:
    return Emitted(f"gaussian_dropout({{x}}, {fmt(float(layer.rate))}, {_training(call)})", layout_in=call.layouts[0],
                   layout_out=call.layouts[0], helpers=("gaussian_dropout",))


@EMITTERS.register("StochasticDepth")
def stochastic_depth(layer: Any, call: Call) -> Emitted:
    layout = call.layouts[0]
    return Emitted(f"drop_path({{x}}, {fmt(float(layer.drop_path_rate))}, {_training(call)})", layout_in=layout,
                   layout_out=layout, helpers=("drop_path",))


@EMITTERS.register("LayerScale")
def layer_scale(layer: Any, call: Call) -> Emitted:
    gamma = keras_weight(layer, "gamma")
    return Emitted("{x} * {m}", weights={"": gamma}, init=(f"{{m}} = nn.Parameter(torch.empty({gamma.shape[0]}))",))


# ----------------------------------------------------------------------------- preprocessing
@EMITTERS.register("Rescaling")
def rescaling(layer: Any, call: Call) -> Emitted:
    scale, offset = layer.scale, layer.offset
    layout = call.layouts[0]
    x = "{x}" if call.dtypes[0].is_floating_point else "{x}.float()"
    if isinstance(scale, (list, tuple)) or isinstance(offset, (list, tuple)):
        weights = {"_scale": torch.tensor(scale, dtype=torch.float32), "_offset": torch.tensor(offset, dtype=torch.float32)}
        init = tuple(f'self.register_buffer("{{a}}{k}", torch.empty({tup(tuple(v.shape))}))' for k, v in weights.items())
        return Emitted(f"{x} * self.{{a}}_scale + self.{{a}}_offset", weights=weights, init=init)
    offset = float(offset)
    forward = f"{x} * {fmt(float(scale))}" + (f" {'-' if offset < 0 else '+'} {fmt(abs(offset))}" if offset else "")
    return Emitted(forward, layout_in=layout, layout_out=layout)


@EMITTERS.register("Normalization")
def normalization(layer: Any, call: Call) -> Emitted:
    mean, variance = layer._state()
    rank = call.rank
    kept = {a % rank for a in layer.axis}
    shape = tuple(call.shape[a] if a in kept else 1 for a in range(rank))
    weights = {"_mean": mean.detach().to("cpu").reshape(shape), "_variance": variance.detach().to("cpu").reshape(shape)}
    init = tuple(f'self.register_buffer("{{a}}{k}", torch.empty({tup(shape)}))' for k in weights)
    std = "self.{a}_variance.sqrt().clamp(min=1e-07)"  # Keras: maximum(sqrt(variance), backend epsilon)
    forward = f"self.{{a}}_mean + {{x}} * {std}" if layer.invert else f"({{x}} - self.{{a}}_mean) / {std}"
    return Emitted(forward, weights=weights, init=init)


# ----------------------------------------------------------------------------- recurrent
_FUSED_MODULES = {"lstm": "nn.LSTM", "gru": "nn.GRU", "rnn_tanh": "nn.RNN", "rnn_relu": "nn.RNN"}
#: the step-loop helper of each built-in cell (Keras's gate order, any activation, masks, dropout)
_LOOP_HELPERS = {"LSTMCell": "lstm_keras", "GRUCell": "gru_keras", "SimpleRNNCell": "simple_rnn_keras"}


def _check_recurrent(layer: Any, call: Call) -> None:
    if getattr(layer, "stateful", False):
        raise call.fail("stateful=True has no ejected form")


def _function(call: Call, fn: Any) -> tuple[str, tuple]:
    """A Keras activation as a callable's source (for the step-loop helpers)."""
    expr, helpers = activation(call, fn, "v", KERAS, 2)
    match = re.fullmatch(r"([\w.]+)\(v\)", expr)
    return (match.group(1) if match else f"lambda v: {expr}"), helpers


def _states_arg(kind: str, first: int, count: int) -> str:
    """The initial-state argument (inputs ``first``.. of the call) in torch's (1, N, U) form."""
    if not count:
        return ""
    states = [f"{{x{first + i}}}.unsqueeze(0)" for i in range(count)]
    return ", (" + ", ".join(states) + ")" if kind == "lstm" else ", " + states[0]


def _select(layer: Any, result: str, n_states: int) -> tuple[str, tuple, int]:
    """(expression, helpers, outputs) of Keras's outputs from a torch-form recurrent result."""
    if layer.return_state:
        return f"rnn_outputs({result}, {layer.return_sequences})", ("rnn_outputs",), 1 + n_states
    return (f"{result}[0]" if layer.return_sequences else f"{result}[0][:, -1]"), (), 1


def _time_mask(call: Call) -> str | None:
    """The (batch, steps) mask a recurrent layer's call gets (its sequence's), or None."""
    mask = call.mask
    return mask[0] if isinstance(mask, list) else mask


def _fused(layer: Any) -> str | None:
    """The torch kernel (nn.LSTM / nn.GRU / nn.RNN) that computes the layer's cell, if one does (no dropout)."""
    cell = layer.cell
    if getattr(cell, "dropout", 0) or getattr(cell, "recurrent_dropout", 0) or not hasattr(cell, "fused_kind"):
        return None
    return cell.fused_kind()


def _loop_form(layer: Any, call: Call, x: str, params: str, state: str, mask: str | None,
               zero_output: bool) -> tuple[str, dict, tuple]:
    """One recurrent layer as its step-loop helper's call: (expression of the nn-form result, the ParameterDict's
    tensors (torch layout, Keras's gate order), helpers)."""
    cell = layer.cell
    name = type(cell).__name__
    if name not in _LOOP_HELPERS:
        raise call.fail(f"an RNN over a {name} has no ejected form yet (SimpleRNN/LSTM/GRU cells have)")
    weights = _cell_weights(cell, *layer._step_weights())
    args = [x, state, f'{params}["weight_ih"]', f'{params}["weight_hh"]']
    biases = ("bias_ih", "bias_hh") if name == "GRUCell" else ("bias_ih",)
    args += [f'{params}["{b}"]' if b in weights else "None" for b in biases]
    act, helpers = _function(call, cell.activation)
    args.append(act)
    if name != "SimpleRNNCell":
        rec, more = _function(call, cell.recurrent_activation)
        args.append(rec)
        helpers += more
    if name == "GRUCell":
        args.append(f"reset_after={bool(cell.reset_after)}")
    if mask is not None:
        args.append(f"mask={mask}")
    if zero_output and mask is not None:
        args.append("zero_output=True")
    if cell.dropout or cell.recurrent_dropout:
        args += [f"dropout={fmt(float(cell.dropout))}", f"recurrent_dropout={fmt(float(cell.recurrent_dropout))}",
                 f"training={_training(call)}"]
    return f"{_LOOP_HELPERS[name]}({', '.join(args)})", weights, (_LOOP_HELPERS[name],) + helpers


def _cell_weights(cell: Any, kernel: torch.Tensor, rk: torch.Tensor,
                  bias: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """A built-in cell's step-loop tensors (torch layout, Keras's gate order): weight_ih, weight_hh, bias_ih, and a
    reset_after GRU's recurrent bias bias_hh."""
    weights = {"weight_ih": kernel.detach().to("cpu"), "weight_hh": rk.detach().to("cpu")}
    if bias is not None:
        both = bias.detach().to("cpu").reshape(-1, kernel.shape[0])
        weights["bias_ih"] = both[0]
        if type(cell).__name__ == "GRUCell" and cell.reset_after:
            weights["bias_hh"] = both[1]
    return weights


def _parameter_dict(weights: dict[str, torch.Tensor]) -> str:
    entries = ", ".join(f'"{k}": nn.Parameter(torch.empty({", ".join(map(str, v.shape))}))' for k, v in weights.items())
    return f"nn.ParameterDict({{{entries}}})"


@EMITTERS.register("SimpleRNN", "LSTM", "GRU", "CuDNNLSTM", "CuDNNGRU", "RNN")
def recurrent(layer: Any, call: Call) -> Emitted:
    """SimpleRNN / LSTM / GRU, and RNN over one such cell: torch's fused nn.LSTM / nn.GRU / nn.RNN where its math
    is Keras's (no mask, no dropout, torch's activations, GRU reset_after), else a step loop in Keras's gate order.
    A mask makes Keras's masked steps (state carried over, output repeated); time_major runs batch-first inside."""
    _check_recurrent(layer, call)
    cell = layer.cell
    mask = _time_mask(call)
    if layer.time_major and (mask is not None or layer.return_state):
        raise call.fail("time_major=True with a mask or return_state has no ejected form yet")
    is_lstm = type(cell).__name__ == "LSTMCell"
    n_states = 2 if is_lstm else 1
    x = "{x}.transpose(0, 1)" if layer.time_major else "{x}"
    if layer.go_backwards:
        x += ".flip(1)"
        mask = None if mask is None else f"{mask}.flip(1)"
    given = len(call.shapes) - 1  # initial states passed to the call
    if type(cell).__name__ == "StackedRNNCells":
        return _stacked(layer, call, x, mask, given)
    kind = _fused(layer) if mask is None else None
    if kind is not None:
        kernel, rk, bias = (None if t is None else t.detach().to("cpu") for t in layer._step_weights())
        params = layer._fused_params(kind, kernel, rk, bias)
        names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
        weights = {f".{n}": p.detach() for n, p in zip(names, params)}
        extra = {"nonlinearity": "relu"} if kind == "rnn_relu" else {}
        module = ctor(_FUSED_MODULES[kind], kernel.shape[1], cell.units, batch_first=True,
                      bias=None if bias is not None else False, **extra)
        init = ("{m}.bias_hh_l0.requires_grad_(False)  # Keras has one bias: torch's second one stays zero",) \
            if bias is not None and kind != "gru" else ()
        result = f"{{m}}({x}{_states_arg('lstm' if is_lstm else 'rnn', 1, given)})"
        forward, helpers, n_out = _select(layer, result, n_states)
        if layer.time_major and layer.return_sequences:
            forward += ".transpose(0, 1)"
        return Emitted(forward, module, weights, helpers=helpers, init=init, n_out=n_out)
    state = "None"
    if given:
        state = _states_arg("lstm" if is_lstm else "rnn", 1, given)[2:]
    result, weights, helpers = _loop_form(layer, call, x, "{m}", state, mask, layer.zero_output_for_mask)
    module = _parameter_dict(weights) + "  # Keras's gate order, torch layout"
    forward, more, n_out = _select(layer, result, n_states)
    if layer.time_major and layer.return_sequences:
        forward += ".transpose(0, 1)"
    weights = {f'.{k}': v for k, v in weights.items()}
    return Emitted(forward, module, weights, helpers=helpers + more, n_out=n_out, masked=True)


def _stacked(layer: Any, call: Call, x: str, mask: str | None, given: int) -> Emitted:
    """RNN over StackedRNNCells of built-in cells: one step function per cell (its step helper on its own
    weights, and the cell's recurrent dropout mask), run in turn at every step by stacked_rnn_keras."""
    cells, sizes, weights, entries, helpers, rates = [], [], {}, [], ("stacked_rnn_keras",), []
    for i, cell in enumerate(layer.cell.cells):
        name = type(cell).__name__
        if name not in _LOOP_HELPERS:
            raise call.fail(f"a StackedRNNCells holding a {name} has no ejected form yet")
        rates.append((float(cell.dropout), float(cell.recurrent_dropout)))
        w = _cell_weights(cell, *cell.step_weights())
        p = f'{{m}}["{i}"]'
        b_ih = f'{p}["bias_ih"]' if "bias_ih" in w else "None"
        gates = f'F.linear(x_t, {p}["weight_ih"], {b_ih})'
        act, more = _function(call, cell.activation)
        helpers += more
        if name == "SimpleRNNCell":
            step = f'simple_rnn_step({gates}, s, {p}["weight_hh"], {act}, r)'
            helpers += ("simple_rnn_step",)
        else:
            rec, more = _function(call, cell.recurrent_activation)
            helpers += more
            if name == "LSTMCell":
                step = f'lstm_step({gates}, s, {p}["weight_hh"], {act}, {rec}, r)'
                helpers += ("lstm_step",)
            else:
                b_hh = f'{p}["bias_hh"]' if "bias_hh" in w else "None"
                step = f'gru_step({gates}, s, {p}["weight_hh"], {b_hh}, {act}, {rec}, {bool(cell.reset_after)}, r)'
                helpers += ("gru_step",)
        cells.append(f"lambda x_t, s, r: {step}")
        sizes.append(list(cell.state_sizes))
        weights.update({f'.{i}.{k}': v for k, v in w.items()})
        entries.append(f'    "{i}": {_parameter_dict(w)},  # {cell.name}: {type(cell).__name__}\n')
    module = "nn.ModuleDict({  # each cell's weights: Keras's gate order, torch layout\n" + "".join(entries) + "})"
    state = "[" + ", ".join(f"{{x{1 + i}}}" for i in range(given)) + "]" if given else "None"
    args = [x, state, "[" + ", ".join(cells) + "]", repr(sizes)]
    if mask is not None:
        args.append(f"mask={mask}")
    if layer.zero_output_for_mask and mask is not None:
        args.append("zero_output=True")
    if any(a or b for a, b in rates):
        args += [f"dropout={rates!r}", f"training={_training(call)}"]
    n_states = sum(len(s) for s in sizes)
    forward, more, n_out = _select(layer, f"stacked_rnn_keras({', '.join(args)})", n_states)
    if layer.time_major and layer.return_sequences:
        forward += ".transpose(0, 1)"
    return Emitted(forward, module, weights, helpers=helpers + more, n_out=n_out, masked=True)


@EMITTERS.register("Bidirectional")
def bidirectional(layer: Any, call: Call) -> Emitted:
    """A bidirectional nn.LSTM / nn.GRU / nn.RNN when both halves are the same fusable layer, else each half's
    step loop (masks: a padded step carries the state over; Keras gives the halves zero outputs there)."""
    fwd, bwd = layer.forward_layer, layer.backward_layer
    for sub in (fwd, bwd):
        _check_recurrent(sub, call)
    mask = _time_mask(call)
    kind = _fused(fwd)
    given = len(call.shapes) - 1  # initial states: the forward layer's, then the backward layer's
    same = (mask is None and type(fwd) is type(bwd) and kind is not None and _fused(bwd) == kind
            and fwd.units == bwd.units and not fwd.go_backwards and bwd.go_backwards and fwd.use_bias == bwd.use_bias
            and not layer.return_state and not given)
    if not same:
        weights: dict[str, torch.Tensor] = {}
        results, helpers, entries, first = [], ("bidirectional_keras",), [], 1
        for sub, key in ((fwd, "forward_layer"), (bwd, "backward_layer")):
            x, m = "{x}", mask
            if sub.go_backwards:
                x += ".flip(1)"
                m = None if m is None else f"{m}.flip(1)"
            n = len(sub.state_sizes)
            state = _states_arg("lstm" if n == 2 else "rnn", first, n)[2:] if given else "None"
            first += n
            result, w, more = _loop_form(sub, call, x, f'{{m}}["{key}"]', state, m, sub.zero_output_for_mask)
            results.append(result)
            helpers += more
            weights.update({f".{key}.{k}": v for k, v in w.items()})
            entries.append(f'    "{key}": {_parameter_dict(w)},\n')
        module = ("nn.ModuleDict({  # each direction's step loop: Keras's gate order, torch layout\n"
                  + "".join(entries) + "})")
        forward = f"bidirectional_keras({results[0]}, {results[1]}, {layer.return_sequences}, {fmt(layer.merge_mode)}"
        n_out = 2 if layer.merge_mode is None else 1
        if layer.return_state:
            forward += ", return_state=True"
            n_out += len(fwd.state_sizes) + len(bwd.state_sizes)
        return Emitted(forward + ")", module, weights, helpers=helpers, n_out=n_out, masked=True)
    weights = {}
    init = []
    for sub, suffix in ((fwd, ""), (bwd, "_reverse")):
        kernel, rk, bias = (t.detach().to("cpu") if t is not None else None for t in sub._step_weights())
        params = sub._fused_params(kind, kernel, rk, bias if sub.use_bias else None)
        for n, p in zip(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"], params):
            weights[f".{n}{suffix}"] = p.detach()
        if sub.use_bias and kind != "gru":
            init.append(f"{{m}}.bias_hh_l0{suffix}.requires_grad_(False)  # Keras has one bias")
    extra = {"nonlinearity": "relu"} if kind == "rnn_relu" else {}
    module = ctor(_FUSED_MODULES[kind], int(weights[".weight_ih_l0"].shape[1]), fwd.units, batch_first=True,
                  bias=None if fwd.use_bias else False, bidirectional=True, **extra)
    if layer.merge_mode == "concat" and layer.return_sequences:
        return Emitted("{m}({x})[0]", module, weights, init=init)
    return Emitted(f'bidirectional_merge({{m}}({{x}}), {layer.return_sequences}, {fmt(layer.merge_mode)})', module, weights,
                   helpers=("bidirectional_merge",), init=init, n_out=2 if layer.merge_mode is None else 1)


# ----------------------------------------------------------------------------- attention
def _argument(call: Call, position: int, name: str) -> Any:
    """A call argument by position or keyword (``None`` when absent)."""
    args, kwargs = call.operands
    if len(args) > position:
        return args[position]
    return kwargs.get(name)


def _and_masks(parts: list[str]) -> str | None:
    parts = list(dict.fromkeys(parts))  # the same mask twice (self-attention) once
    return None if not parts else parts[0] if len(parts) == 1 else "(" + " & ".join(parts) + ")"


@EMITTERS.register("MultiHeadAttention", "GroupQueryAttention")
def multi_head_attention(layer: Any, call: Call) -> Emitted:
    """Keras MultiHeadAttention over the sequence axis. Masks as Keras combines them: the query's mask on the rows,
    the value's and key's on the columns, attention_mask, ANDed into one (batch, T, S) mask (a graph hands the
    query's mask as ``mask``, Keras 3's rule each tensor argument's as ``<argument>_mask``)."""
    rank = call.rank
    if rank != 3 or layer.attention_axes not in (None, (1,)) or layer._output_shape is not None:
        raise call.fail("only attention over the sequence axis of (batch, steps, features) inputs with the default "
                        "output_shape has an ejected form yet")
    if getattr(layer, "use_gate", False) or getattr(layer, "sliding_window", None):
        raise call.fail("use_gate / sliding_window have no ejected form yet")
    query, value = _argument(call, 0, "query"), _argument(call, 1, "value")
    key = _argument(call, 2, "key")
    self_value = isinstance(value, Placeholder) and isinstance(query, Placeholder) and value.i == query.i
    self_key = key is None or (isinstance(key, Placeholder) and isinstance(query, Placeholder) and key.i == query.i)
    key_is_value = key is None or (isinstance(key, Placeholder) and isinstance(value, Placeholder) and key.i == value.i)
    key = value if key is None else key
    named, passed = call.named_masks, call.mask if isinstance(call.mask, str) else None
    masks = {}
    for name in ("query_mask", "value_mask", "key_mask", "attention_mask"):
        given = _argument(call, 99, name)
        if given is not None and not isinstance(given, Placeholder):
            raise call.fail(f"a constant `{name}` has no ejected form yet")
        masks[name] = str(given) if given is not None else named.get(name)
    query_mask = masks["query_mask"] or passed
    value_mask = masks["value_mask"] or (passed if self_value else None)
    key_mask = masks["key_mask"] or (passed if self_key and self_value and not key_is_value else None)
    parts = [f"{query_mask}[:, :, None]"] if query_mask else []
    parts += [f"{m}[:, None, :]" for m in (value_mask, key_mask) if m]
    attention_mask = masks["attention_mask"]
    if attention_mask is not None:
        index = int(attention_mask[2:-1])
        if call.dtypes[index] != torch.bool:
            attention_mask = f"({attention_mask} {'> 0.5' if layer._keras3 else '!= 0'})"
        parts.insert(0, attention_mask)
    mask = _and_masks(parts)
    return_scores = bool(call.consts.get("return_attention_scores", False))
    causal = bool(call.consts.get("use_causal_mask", False))
    weights: dict[str, torch.Tensor] = {}
    entries = []
    for part, dense in (("query", layer.query_dense), ("key", layer.key_dense), ("value", layer.value_dense)):
        kernel = keras_weight(dense, "kernel")  # (features, heads, dim)
        weights[f'.{part}.weight'] = kernel.reshape(kernel.shape[0], -1).t()
        if layer.use_bias:
            weights[f'.{part}.bias'] = keras_weight(dense, "bias").reshape(-1)
        entries.append(f'"{part}": ' + ctor("nn.Linear", kernel.shape[0], kernel.shape[1] * kernel.shape[2],
                                              bias=None if layer.use_bias else False))
    kernel = keras_weight(layer.output_dense, "kernel")  # (heads, dim, features)
    weights[".output.weight"] = kernel.reshape(-1, kernel.shape[-1]).t()
    if layer.use_bias:
        weights[".output.bias"] = keras_weight(layer.output_dense, "bias")
    entries.append('"output": ' + ctor("nn.Linear", kernel.shape[0] * kernel.shape[1], kernel.shape[2],
                                         bias=None if layer.use_bias else False))
    module = "nn.ModuleDict({\n" + "".join(f"    {e},\n" for e in entries) + "})"
    helper = "masked_multi_head_attention" if mask is not None or return_scores else "multi_head_attention"
    forward = (f"{helper}({query}, {value}, {key}, {{m}}, {layer.num_heads}, {fmt(float(layer.dropout))}, "
               f"{_training(call)}" + (f", {mask}" if helper != "multi_head_attention" else "")
               + (", causal=True" if causal else ""))
    kv = getattr(layer, "num_key_value_heads", layer.num_heads)
    if kv != layer.num_heads:
        forward += f", num_kv_heads={kv}"
    if mask is not None and not (layer._keras3 or layer.softmax_robust_masking):
        forward += ", additive_mask=True"
    if return_scores:
        forward += ", return_scores=True"
    if layer._keras3 and (mask is not None or causal) and (layer.dropout > 0 or return_scores):
        forward += ", zero_masked_rows=True"  # Keras 3 when it materializes the scores
    return Emitted(forward + ")", module, weights, helpers=(helper,), n_out=2 if return_scores else 1, masked=True)


def _attention_masks(call: Call) -> tuple[str | None, str | None]:
    """The (query, value) masks of an Attention / AdditiveAttention call."""
    masks = call.mask if isinstance(call.mask, list) else [call.mask, None]
    return masks[0], masks[1]


@EMITTERS.register("Attention", "AdditiveAttention")
def dot_attention(layer: Any, call: Call) -> Emitted:
    """Keras Attention (dot scores: F.scaled_dot_product_attention, Keras's softmax scale 1 and use_scale's factor
    on the query) and AdditiveAttention; masks (a padded value step takes no weight, a padded query step gives
    zeros), return_attention_scores and Keras's dropout by the keras_attention helper."""
    if call.consts.get("mask") is not None or len(call.shapes) > 3:
        raise call.fail("a constant mask has no ejected form yet")
    additive = layer.score_mode == "additive"
    if layer.score_mode not in ("dot", "additive"):
        raise call.fail(f"score_mode={layer.score_mode!r} has no ejected form yet")
    q, v = "{x0}", "{x1}"
    k = "{x2}" if len(call.shapes) == 3 else v
    causal = bool(call.consts.get("use_causal_mask", False) or getattr(layer, "causal", False))
    return_scores = bool(call.consts.get("return_attention_scores", False))
    query_mask, value_mask = _attention_masks(call)
    weights, init = {}, ()
    if layer.use_scale:
        scale = keras_weight(layer, "scale")
        weights[""] = scale.reshape(()) if not additive else scale
        shape = "()" if not additive else str(scale.shape[0])
        init = (f"{{m}} = nn.Parameter(torch.empty({shape}))  # Keras use_scale: a learned factor on the scores",)
    if not additive and not return_scores and query_mask is None and value_mask is None:
        q = f"{q} * {{m}}" if layer.use_scale else q
        dropout = f"dropout_p={fmt(float(layer.dropout))} if {_training(call)} else 0.0, " if layer.dropout else ""
        forward = f"F.scaled_dot_product_attention({q}, {k}, {v}, {dropout}{'is_causal=True, ' if causal else ''}scale=1.0)"
        return Emitted(forward, weights=weights, init=init, masked=True)
    if additive:
        scores = f"torch.tanh({q}.unsqueeze(-2) + {k}.unsqueeze(-3))"
        scores = f"({scores} * {{m}}).sum(dim=-1)" if layer.use_scale else f"{scores}.sum(dim=-1)"
    else:
        scores = f"torch.matmul({q}, {k}.transpose(-1, -2))" + (" * {m}" if layer.use_scale else "")
    args = [scores, v]
    if value_mask is not None:
        args.append(f"value_mask={value_mask}")
    if query_mask is not None:
        args.append(f"query_mask={query_mask}")
    if causal:
        args.append("causal=True")
    if layer.dropout:
        args += [f"dropout={fmt(float(layer.dropout))}", f"training={_training(call)}"]
    if return_scores:
        args.append("return_scores=True")
    return Emitted(f"keras_attention({', '.join(args)})", weights=weights, init=init, helpers=("keras_attention",),
                   n_out=2 if return_scores else 1, masked=True)


@EMITTERS.register("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")
def conv_transpose(layer: Any, call: Call) -> Emitted:
    """nn.ConvTranspose with TF's output placement (``conv_utils.transpose_padding``: torch's padding and
    output_padding, and an end crop where TF keeps less than torch's result), for the known input size."""
    r = layer.rank
    sizes = spatial_dims(call, layer)
    if any(n is None for n in sizes):
        raise call.fail("a transposed convolution's placement depends on the input size, which the model leaves open")
    dilation = tuple(getattr(layer, "dilation_rate", (1,) * r))
    out = layer._output_spatial(sizes)
    splits = [conv_utils.transpose_padding(n, o, k, layer.padding, s, d)
              for n, o, k, s, d in zip(sizes, out, layer.kernel_size, layer.strides, dilation)]
    if all(k == 1 for k in layer.kernel_size) and any(op for _, op, _ in splits):
        raise call.fail("a 1x1 kernel with output_padding (torch's CPU backward of it is broken) has no ejected form")
    kernel = keras_weight(layer, "kernel")  # (*k, filters, in)
    weights = {".weight": kernel.permute(r + 1, r, *range(r))}
    if layer.use_bias:
        weights[".bias"] = keras_weight(layer, "bias")
    padding = tuple(p for p, _, _ in splits)
    output_padding = tuple(op for _, op, _ in splits)
    module = ctor(f"nn.ConvTranspose{r}d", kernel.shape[r + 1], layer.filters, kernel_size=tuple(layer.kernel_size),
                  stride=None if set(layer.strides) == {1} else tuple(layer.strides),
                  padding=padding if any(padding) else None,
                  output_padding=output_padding if any(output_padding) else None,
                  dilation=None if set(dilation) == {1} else dilation, bias=None if layer.use_bias else False)
    forward = "{m}({x})"
    if any(c for _, _, c in splits):  # TF keeps fewer values at the end than torch's result holds
        forward = f"{forward}[:, :, {', '.join(f':-{c}' if c else ':' for _, _, c in splits)}]"
    layout = spatial_layout(layer)
    return with_activation(call, Emitted(forward, module, weights, layout, layout))


@EMITTERS.register("PReLU")
def prelu(layer: Any, call: Call) -> Emitted:
    """Keras PReLU: ``relu(x) - alpha * relu(-x)`` with alpha of the input's shape (1 on shared axes), in Keras's
    layout (torch's nn.PReLU has one alpha per channel only)."""
    alpha = keras_weight(layer, "alpha")
    init = (f"{{m}} = nn.Parameter(torch.empty({', '.join(map(str, alpha.shape))}))  # Keras PReLU alpha",)
    return Emitted("F.relu({x}) - {m} * F.relu(-{x})", weights={"": alpha}, init=init)


@EMITTERS.register("TimeDistributed")
def time_distributed(layer: Any, call: Call) -> Emitted:
    """The inner layer's own form on the steps folded into the batch: ``(N, T, ...) -> (N * T, ...)`` and back."""
    inner = layer.layer
    emit = emitter_for(inner)
    if emit is None or getattr(inner, "_kt_is_model", False) or len(call.shapes) != 1:
        raise call.fail(f"a TimeDistributed over a {type(inner).__name__} has no ejected form yet")
    shape = (None, *call.shape[2:])
    out_shape = (None, *call.out_shapes[0][2:])
    em = emit(inner, Call(inner, [shape], [KERAS], [out_shape], call.consts, call.dtypes))
    if em.n_out != 1 or not isinstance(em.layout_in, str):
        raise call.fail(f"its inner {type(inner).__name__} has several inputs or outputs")
    x = "{x}.flatten(0, 1)"
    if em.layout_in == CF and len(shape) >= 3:
        x += ".permute(0, 3, 1, 2)" if len(shape) == 4 else f".permute(0, {len(shape) - 1}, {', '.join(map(str, range(1, len(shape) - 1)))})"
    y = em.forward.replace("{x}", x).replace("{x0}", x)
    if em.layout_out == CF and len(out_shape) >= 3:
        r = len(out_shape)
        y = f"{y}.permute(0, {', '.join(map(str, range(2, r)))}, 1)"
    if call.mask is not None and layer._inner_mask:
        raise call.fail(f"a mask for its inner {type(inner).__name__} has no ejected form yet")
    return Emitted(f"{y}.unflatten(0, ({{x}}.shape[0], -1))", em.module, em.weights, helpers=em.helpers, init=em.init,
                   masked=True)


@EMITTERS.register("Dot")
def dot(layer: Any, call: Call) -> Emitted:
    """Keras Dot (batch dot product) of two rank-2 or two rank-3 tensors; ``normalize``: L2 along the axes first."""
    ranks = [len(s) for s in call.shapes]
    axes = layer.axes if isinstance(layer.axes, (list, tuple)) else (layer.axes, layer.axes)
    if len(ranks) != 2 or ranks[0] != ranks[1] or ranks[0] not in (2, 3):
        raise call.fail(f"a Dot of ranks {ranks} has no ejected form yet (two rank-2 or two rank-3 inputs have)")
    a, b = (a % ranks[0] for a in axes)
    x, y = "{x0}", "{x1}"
    if layer.normalize:
        x, y = f"F.normalize({x}, dim={a})", f"F.normalize({y}, dim={b})"
    if ranks[0] == 2:
        return Emitted(f"({x} * {y}).sum(dim=1, keepdim=True)")
    x = x if a == 2 else f"{x}.transpose(1, 2)"
    y = f"{y}.transpose(1, 2)" if b == 2 else y
    return Emitted(f"torch.matmul({x}, {y})")


# the emitters of the other families register themselves on import
from . import emit_image, emit_layers, emit_ops, emit_structured  # noqa: E402,F401
