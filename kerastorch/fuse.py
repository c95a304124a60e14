"""``fuse_for_inference(model)``: an eval-only copy of a model with BatchNormalization folded into the layer before it.

Inference BatchNormalization is the affine map ``y = x * s + (beta - mean * s)`` with
``s = gamma / sqrt(moving_variance + epsilon)``; when ``x`` is a convolution's or Dense's output that feeds nothing
else, the map goes into that layer's kernel (scaled along its output-channel axis) and bias (a bias is added if the
layer had none), and the BatchNormalization disappears from the graph. Layers that are the identity in inference
(``Dropout`` and the other noise layers, ``Identity``, ``Activation('linear')``, ``StochasticDepth``) are removed.

What is folded: ``Conv1D/2D/3D`` (groups too), ``DepthwiseConv1D/2D``, ``SeparableConv1D/2D`` (into the pointwise
kernel), ``Conv1D/2D/3DTranspose``, ``Dense``, each with a linear activation and called once in its model, followed
by a single-axis BatchNormalization over that layer's channel axis, called without ``training=True``. Anything
else is left as it is (a BatchNormalization after something else still runs, in inference mode). The fold is
computed in float64 and stored in the layer's dtype. Nested models are fused too.

The copy shares nothing with ``model``; it refuses ``train()`` and ``training=True`` (its folded layers and removed
dropouts would be wrong in training). Its parameters keep ``requires_grad`` (a frozen BatchNormalization runs in
inference mode even when called with ``training=True``, so freezing them would change such a model's outputs).
"""
from __future__ import annotations

import copy
import types
from collections import Counter
from typing import Any

import numpy as np
import torch

from . import activations
from .layers.convolutional.base_conv import Conv
from .layers.convolutional.base_conv_transpose import ConvTranspose
from .layers.convolutional.base_depthwise_conv import DepthwiseConv
from .layers.convolutional.base_separable_conv import SeparableConv
from .layers.core.activation import Activation
from .layers.core.dense import Dense
from .layers.core.identity import Identity
from .layers.layer import Layer
from .layers.normalization.batch_normalization import BatchNormalization
from .layers.regularization.alpha_dropout import AlphaDropout
from .layers.regularization.dropout import Dropout
from .layers.regularization.gaussian_dropout import GaussianDropout
from .layers.regularization.gaussian_noise import GaussianNoise
from .layers.applications_layers import StochasticDepth
from .engine.functional import Functional
from .engine.sequential import Sequential
from .graph.keras_tensor import KerasTensor
from .graph.node import flatten, map_structure
from .graph.symbolic import symbolic_call

__all__ = ["fuse_for_inference"]

# Layers whose inference output is their input (SpatialDropout* derive from Dropout).
_INFERENCE_IDENTITY = (Dropout, AlphaDropout, GaussianDropout, GaussianNoise, StochasticDepth, Identity)


def fuse_for_inference(model: torch.nn.Module) -> torch.nn.Module:
    """An eval-only copy of ``model`` (a ``Sequential`` or ``Functional``) with BatchNormalization folded into the
    preceding convolution or Dense and inference-identity layers removed; same outputs within float32 rounding."""
    if not isinstance(model, (Functional, Sequential)):
        raise ValueError(f"fuse_for_inference expects a kerastorch Sequential or Functional model; received {type(model).__name__}.")
    fused = _fuse(copy.deepcopy(model))
    fused.eval()
    _make_eval_only(fused)
    return fused


def _fuse(model: torch.nn.Module) -> torch.nn.Module:
    if isinstance(model, Sequential):
        return _fuse_sequential(model)
    if isinstance(model, Functional):
        return _fuse_functional(model)
    return model


# ----------------------------------------------------------------------------------------------- what folds
def _foldable_producer(layer: Any) -> bool:
    return (isinstance(layer, (Conv, Dense)) and layer.built and getattr(layer, "activation", None) is activations.linear
            and not getattr(layer, "_kt_is_model", False))


def _channel_axis(layer: Any, rank: int) -> int:
    """The output-channel axis (non-negative) of a foldable producer's output of ``rank`` dims."""
    if isinstance(layer, Conv) and layer.data_format == "channels_first":
        return 1
    return rank - 1


def _bn_folds_into(bn: Any, producer: Any, rank: int | None, training_kwarg: Any) -> bool:
    if not isinstance(bn, BatchNormalization) or not bn.built or training_kwarg is True or rank is None:
        return False
    axes = [bn.axis] if isinstance(bn.axis, int) else list(bn.axis)
    if len(axes) != 1 or axes[0] % rank != _channel_axis(producer, rank):
        return False
    return bn.compute_dtype == producer.compute_dtype


def _is_inference_identity(layer: Any, training_kwarg: Any) -> bool:
    if training_kwarg is True:
        return False
    if isinstance(layer, Activation):
        return layer.activation is activations.linear
    return isinstance(layer, _INFERENCE_IDENTITY)


# ----------------------------------------------------------------------------------------------- the fold
def _folded(producer: Any, bn: Any) -> Layer:
    """A new layer equal to ``bn(producer(x))`` in inference (``producer`` and ``bn`` are left unchanged)."""
    bw = dict(zip(bn.weight_names, (w.astype(np.float64) for w in bn.get_weights())))
    var, mean = bw["moving_variance"], bw["moving_mean"]
    scale = 1.0 / np.sqrt(var + bn.epsilon)
    if "gamma" in bw:
        scale = scale * bw["gamma"]
    shift = -mean * scale + (bw["beta"] if "beta" in bw else 0.0)
    pw = dict(zip(producer.weight_names, producer.get_weights()))
    dtype = next(iter(pw.values())).dtype
    # The kernel whose last op produces the output channels, and that channel axis in Keras's layout.
    if isinstance(producer, SeparableConv):
        name, kernel = "pointwise_kernel", pw["pointwise_kernel"].astype(np.float64)
        kernel = kernel * scale
    elif isinstance(producer, DepthwiseConv):
        name, kernel = "depthwise_kernel", pw["depthwise_kernel"].astype(np.float64)
        kernel = kernel * scale.reshape(kernel.shape[-2], kernel.shape[-1])
    elif isinstance(producer, ConvTranspose):  # (..., filters, in)
        name, kernel = "kernel", pw["kernel"].astype(np.float64)
        kernel = kernel * scale[:, None]
    else:  # Conv (..., in / groups, filters) and Dense (in, units)
        name, kernel = "kernel", pw["kernel"].astype(np.float64)
        kernel = kernel * scale
    bias = pw["bias"].astype(np.float64) * scale + shift if "bias" in pw else shift
    new = type(producer).from_config({**producer.get_config(), "use_bias": True})
    weights = {**pw, name: kernel.astype(dtype), "bias": bias.astype(dtype)}
    new.set_weights([weights[n] for n in new.weight_names])
    return new


# ----------------------------------------------------------------------------------------------- Sequential
def _fuse_sequential(model: Sequential) -> Sequential:
    layers = [_fuse(layer) for layer in model.layers]
    shapes: list[Any] = []
    shape = model.input_shape
    for layer in model.layers:
        shapes.append(shape)
        shape = _out_shape(layer, shape)
    out: list[torch.nn.Module] = []
    i = 0
    while i < len(layers):
        layer = layers[i]
        if _is_inference_identity(layer, None):
            i += 1
            continue
        if i + 1 < len(layers) and _foldable_producer(layer):
            rank = len(shapes[i + 1]) if shapes[i + 1] is not None else None
            if rank is None and isinstance(layer, Conv):  # an unbuilt Sequential: a conv's output rank is fixed
                rank = layer.rank + 2
            if _bn_folds_into(layers[i + 1], layer, rank, None):
                out.append(_folded(layer, layers[i + 1]))
                i += 2
                continue
        out.append(layer)
        i += 1
    inp = model.__dict__["_input_layer"]
    return Sequential(([inp] if inp is not None else []) + out, name=model.name)


def _out_shape(layer: Any, shape: Any) -> Any:
    if shape is None or not hasattr(layer, "compute_output_shape"):
        return None
    try:
        return layer.compute_output_shape(shape)
    except (NotImplementedError, TypeError, AttributeError, ValueError):
        return None


# ----------------------------------------------------------------------------------------------- Functional
def _fuse_functional(model: Functional) -> Functional:
    nodes = model._nodes
    uses: Counter[int] = Counter()
    for node in nodes:
        for t in node.input_tensors:
            uses[id(t)] += 1
    for t in model._out_flat:
        uses[id(t)] += 1
    calls = Counter(id(node.layer) for node in nodes)
    # BatchNormalization nodes folded into their producer: producer node id -> BN node.
    folds: dict[int, Any] = {}
    in_model = {id(node) for node in nodes}
    for node in nodes:
        if len(node.input_tensors) != 1 or not isinstance(node.layer, BatchNormalization):
            continue
        t = node.input_tensors[0]
        p = t.node
        if (p is None or p.layer is None or not _foldable_producer(p.layer) or calls[id(p.layer)] != 1 or uses[id(t)] != 1
                or len(p.flat_outputs) != 1 or id(p) not in in_model):
            continue
        if _bn_folds_into(node.layer, p.layer, t.ndim, node.kwargs.get("training")):
            folds[p.id] = node
    folded_bn = {id(n) for n in folds.values()}
    nested: dict[int, torch.nn.Module] = {}
    value: dict[int, KerasTensor] = {id(t): t for t in model._in_flat}

    def sub(x: Any) -> Any:
        return value[id(x)] if isinstance(x, KerasTensor) else x

    for node in nodes:
        if id(node) in folded_bn:
            continue  # its output was mapped when its producer was replaced
        layer = node.layer
        args, kwargs = map_structure(sub, tuple(node.args)), map_structure(sub, dict(node.kwargs))
        if _is_inference_identity(layer, node.kwargs.get("training")) and _same_structure(node):
            for o, i in zip(node.flat_outputs, flatten(args[0])):
                value[id(o)] = i
            continue
        if node.id in folds:
            bn_node = folds[node.id]
            new_out = symbolic_call(_folded(layer, bn_node.layer), args, kwargs)
            value[id(node.flat_outputs[0])] = new_out
            value[id(bn_node.flat_outputs[0])] = new_out
            continue
        if getattr(layer, "_kt_is_model", False):
            if id(layer) not in nested:
                nested[id(layer)] = _fuse(layer)
            layer = nested[id(layer)]
        outs = flatten(symbolic_call(layer, args, kwargs))
        for o, n in zip(node.flat_outputs, outs):
            value[id(o)] = n
    outputs = map_structure(sub, model._outputs)
    return Functional(model._inputs, outputs, name=model.name)


def _same_structure(node: Any) -> bool:
    """Whether an identity node's flat outputs correspond one to one to its (single argument's) flat inputs."""
    return len(node.args) == 1 and len(flatten(node.args[0])) == len(node.flat_outputs) == len(node.input_tensors)


# ----------------------------------------------------------------------------------------------- eval-only
def _make_eval_only(model: torch.nn.Module) -> None:
    """Bind ``train``/``forward`` guards on the instance (bound methods: ``copy.deepcopy`` rebinds them to the copy)."""
    model.train = types.MethodType(_train_eval_only, model)  # type: ignore[method-assign]
    model.forward = types.MethodType(_forward_eval_only, model)  # type: ignore[method-assign]


def _train_eval_only(self: torch.nn.Module, mode: bool = True) -> torch.nn.Module:
    if mode:
        raise ValueError(f'Model "{self.name}" comes from fuse_for_inference: it is inference-only (BatchNormalization '
                         "is folded and dropout layers are removed). Train the original model instead.")
    return torch.nn.Module.train(self, False)


def _forward_eval_only(self: torch.nn.Module, *args: Any, training: bool | None = None, **kwargs: Any) -> Any:
    if training:
        raise ValueError(f'Model "{self.name}" comes from fuse_for_inference: it cannot run with training=True.')
    return type(self).forward(self, *args, **kwargs)
