"""The Layer call pipeline: ``__call__`` (symbolic inputs record a graph node), ``forward`` with the eager fast
path, the checked path (input spec, build, autocast, per-shape hooks) and the activity regularizer
(a mixin of :class:`kerastorch.layers.layer.Layer`).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from .. import activations
from ..dtype_policy import autocast_enabled
from ..graph.keras_tensor import KerasTensor
from ..graph.symbolic import symbolic_call
from .input_spec import InputSpec, assert_input_compatibility, check_shape


def _is_symbolic(x: Any) -> bool:
    """A KerasTensor (``kerastorch.graph``), or a list/tuple/dict holding one: duck-typed, one attribute read."""
    if isinstance(x, torch.Tensor):
        return False
    if isinstance(x, (list, tuple)):
        return any(getattr(t, "_kt_symbolic", False) for t in x)
    if isinstance(x, dict):
        return any(getattr(t, "_kt_symbolic", False) for t in x.values())
    return getattr(x, "_kt_symbolic", False)


def _same_tensors(inputs: Any, key: tuple) -> bool:
    """Whether ``inputs`` (a list/tuple) are tensors of exactly the (shape, dtype) pairs of ``key``."""
    if len(inputs) != len(key):
        return False
    for t, (shape, dtype) in zip(inputs, key):
        if not isinstance(t, torch.Tensor) or t.dtype is not dtype or t.shape != shape:
            return False
    return True


def _holds_numpy(x: Any) -> bool:
    """A NumPy array, or a list/tuple/dict holding one (a model's several inputs)."""
    if isinstance(x, (list, tuple)):
        return any(isinstance(t, np.ndarray) for t in x)
    if isinstance(x, dict):
        return any(isinstance(t, np.ndarray) for t in x.values())
    return isinstance(x, np.ndarray)


def _from_numpy(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(x))  # shares the memory; a strided view is copied
    if isinstance(x, dict):
        return {k: _from_numpy(v) for k, v in x.items()}
    return type(x)(_from_numpy(t) for t in x) if isinstance(x, (list, tuple)) else x


_module_call = torch.nn.Module.__call__

# Keras activations computed elementwise (any physical layout gives the same values), and the in-place forms of
# those a runner may apply to a tensor it owns (torch's in-place ops: same values and gradients).
_ELEMENTWISE = {
    activations.linear, activations.relu, activations.relu6, activations.sigmoid, activations.softplus,
    activations.softsign, activations.tanh, activations.selu, activations.elu, activations.exponential,
    activations.hard_sigmoid, activations.swish, activations.gelu, activations.mish, activations.leaky_relu,
}
def _relu6_(x: torch.Tensor) -> torch.Tensor:
    # torch's in-place hardtanh_/silu_ save a clone of their input for backward: in place only without autograd
    return torch._C._nn.hardtanh_(x, 0.0, 6.0) if not x.requires_grad else torch._C._nn.hardtanh(x, 0.0, 6.0)


def _silu_(x: torch.Tensor) -> torch.Tensor:
    return torch._C._nn.silu_(x) if not x.requires_grad else torch._C._nn.silu(x)


_INPLACE = {activations.relu: torch.relu_, activations.relu6: _relu6_, activations.swish: _silu_}  # relu_: no clone


def is_elementwise(activation: Any) -> bool:
    """Whether ``activation`` is a Keras activation computed elementwise (a custom callable may not be)."""
    try:
        return activation in _ELEMENTWISE
    except TypeError:  # unhashable callable
        return False


def inplace_form(activation: Any) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The in-place form of a Keras activation, when torch has one."""
    try:
        return _INPLACE.get(activation)
    except TypeError:
        return None


class CallPipeline:
    """``__call__``/``forward`` of every kerastorch layer."""

    # ----- the call pipeline -----
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Functional-model construction: a call on symbolic KerasTensors records a graph node instead
        # (kerastorch.graph). Never taken while tracing. A tensor is answered first (the
        # cheapest test), so that eager calls pay one isinstance here.
        if args and not isinstance(args[0], torch.Tensor):
            if _is_symbolic(args[0]) and not torch.compiler.is_compiling():
                return symbolic_call(self, args, kwargs)
            if _holds_numpy(args[0]):  # Keras takes NumPy arrays: a tensor of the array's dtype, on the CPU
                args = (_from_numpy(args[0]), *args[1:])
        return _module_call(self, *args, **kwargs)

    def forward(self, inputs: Any, *args: Any, training: bool | None = None, mask: Any = None, **kwargs: Any) -> Any:
        """Check the input against the layer's spec, build, cast, ``call``, record the activity loss.

        An input shaped and typed like the previous one skips the checks (the fast path).
        ``training`` defaults to ``self.training`` (torch's train and eval modes). ``mask`` goes to a ``call``
        that takes one; another layer ignores it, as Keras does (it only propagates through ``compute_mask``).
        """
        # While tracing, always take the checked path (it costs nothing at run time) and never read
        # the key, so that no guard depends on what eager calls did.
        if torch.compiler.is_compiling() or torch.jit.is_tracing():
            inputs = self._prepare(inputs)
        else:
            key = self._call_key
            if key is None:
                inputs = self._prepare(inputs)
            elif isinstance(inputs, torch.Tensor):
                # key: (full shape, non-batch shape, dtype); the full shape is compared first (no slice)
                shape = inputs.shape
                if inputs.dtype is not key[2] or (shape != key[0] and shape[1:] != key[1]):
                    inputs = self._prepare(inputs)
            elif type(inputs) is not key[0] or not _same_tensors(inputs, key[1]):  # a list/tuple of tensors
                inputs = self._prepare(inputs)
        if self._call_takes_training:
            kwargs["training"] = self.training if training is None else bool(training)
        if mask is not None and self._call_takes_mask:
            kwargs["mask"] = mask
        outputs = self.call(inputs, *args, **kwargs)
        if self.activity_regularizer is not None:
            self._record_activity(outputs)
        return outputs

    # ----- the graph runner's direct calls (engine/functional.py) -----
    # A model that has run a checked pass over its graph calls each layer's compute directly (no input checks:
    # the model's inputs are shaped and typed as in that pass, so every layer's are too). These hooks, read once
    # after that pass (the layer's per-shape state is set), say how; the defaults are ``call`` on Keras's layout.
    def _layout_call(self, rank: int) -> tuple[str, Callable[..., Any]] | None:
        """How ``call`` runs on another physical layout, for an input of ``rank`` dims (channels last):

        - ``("follow", fn)``: ``fn`` (an elementwise computation) gives the output in the layout of its input,
          the channels-first view of a channels-last tensor included;
        - ``("first", fn)``: ``fn`` takes the channels-first view of the input (``(N, C, *spatial)``, the layout
          torch's kernels read) and returns the channels-first view of the output (an output of rank <= 2 as
          it is), so that consecutive conv/BN/pooling layers issue no permute between them;
        - ``None``: only Keras's layout (the runner hands it the logical tensor).

        ``fn`` takes ``training`` as its second argument when ``call`` takes it."""
        return None

    def _inplace_call(self) -> Callable[[torch.Tensor], torch.Tensor] | None:
        """An in-place form of an elementwise ``call`` (same values, same gradient), which the runner uses when
        it owns the input: a fresh tensor (``_output_is_fresh`` of its producer) that no other node reads."""
        return None

    def _output_is_fresh(self) -> bool:
        """Whether ``call`` returns a newly allocated tensor that its own backward does not read (so a
        consumer may overwrite it in place)."""
        return False

    # ----- masks (Keras's compute_mask; the graph runners carry masks beside the values) -----
    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """Keras's output mask: the input ``mask`` when ``supports_masking``, else ``None`` (the mask is dropped).
        Layers that make, combine or consume masks override it."""
        return mask if self.supports_masking else None

    def produces_mask(self, input_masked: Any) -> bool:
        """Whether ``compute_mask`` can return a mask when the inputs carry masks as ``input_masked`` says (a
        bool, or one per input of a list): read once, when a model plans its masks, so that a model without mask
        sources does no mask work. Default: a layer passes a mask on (``supports_masking``, or its own
        ``compute_mask``) only when it gets one; a layer that creates masks (Embedding, Masking) overrides it."""
        flags = input_masked if isinstance(input_masked, (list, tuple)) else [input_masked]
        if not any(bool(f) for f in flags):
            return False
        return bool(self.supports_masking) or type(self).compute_mask is not CallPipeline.compute_mask

    def _prepare(self, inputs: Any) -> Any:
        """The checked path: input spec, build, cast to the compute dtype, per-shape hook."""
        assert_input_compatibility(self.input_spec, inputs, self.name)
        if not self.built and self._weights_state() == "lazy":
            self.build([tuple(t.shape) for t in inputs] if isinstance(inputs, (list, tuple)) else tuple(inputs.shape))
        if isinstance(inputs, (list, tuple)):
            cast = type(inputs)(self._cast(t) for t in inputs)
            self._on_new_inputs(cast)
            # Fast-path key for a list of tensors: every full shape and dtype, only when no cast happened.
            if not (torch.compiler.is_compiling() or torch.jit.is_tracing()):
                same = self.built and all(isinstance(t, torch.Tensor) and c is t for c, t in zip(cast, inputs))
                self._call_key = (type(inputs), tuple((t.shape, t.dtype) for t in inputs), None) if same else None
            return cast
        inputs = self._cast(inputs)
        self._on_new_input(inputs)
        if self.built and not (torch.compiler.is_compiling() or torch.jit.is_tracing()):
            self._call_key = (inputs.shape, inputs.shape[1:], inputs.dtype)
        return inputs

    def _keep_state(self, **state: Any) -> None:
        """Store per-shape state (``_on_new_input``'s caches). While ``torch.compile`` traces, a value already
        stored is not written again: dynamo replays every attribute write of a trace after each compiled call
        (through ``nn.Module.__setattr__``, with guards of its own), so an unchanged cache would cost per call."""
        compiling = torch.compiler.is_compiling()
        for name, value in state.items():
            if not compiling or not hasattr(self, name) or getattr(self, name) != value:
                setattr(self, name, value)

    def _cast(self, x: torch.Tensor) -> torch.Tensor:
        """Keras autocast: floating inputs go to the compute dtype (torch's autocast decides when on).

        A weight-free layer without an explicit ``dtype`` keeps its input's dtype (it follows the
        model around it, as torch modules do, instead of casting a float64 model's data to float32).
        """
        if not (self._explicit_dtype or self._first_weight() is not None):
            return x
        dtype = self.compute_dtype
        if x.dtype.is_floating_point and x.dtype != dtype and not autocast_enabled(x.device):
            return x.to(dtype)
        return x

    def _record_activity(self, outputs: torch.Tensor) -> None:
        """tf.keras ``_handle_activity_regularization``: ``reg(outputs) / batch_size`` (0 for an empty batch)."""
        loss = self.activity_regularizer(outputs)
        batch = outputs.shape[0] if outputs.dim() else 1
        self._activity_losses = [loss.to(outputs.dtype) / max(batch, 1)]

    def __prepare_scriptable__(self) -> "Layer":
        raise RuntimeError(
            f"{type(self).__name__} (a kerastorch layer) cannot be compiled by torch.jit.script: TorchScript "
            "cannot express Keras layers. Use torch.compile(model) or torch.export.export(model, args) instead "
            "(torch.jit.trace also works)."
        )

    def _symbolic_build(self, inputs: Any, shapes: Any) -> None:
        """``symbolic_call``'s hook: Keras's checks as on real inputs (input spec, build from the known
        ``shapes``, ``None`` when not all known), so that a wrong wiring fails at construction. A wrapper's
        inner layers are checked on the shapes they will be called with (``_symbolic_sublayers``), as Keras's
        symbolic call of the wrapper calls them."""
        spec = self.input_spec
        if isinstance(inputs, KerasTensor) and inputs.shape is not None and isinstance(spec, InputSpec):
            check_shape(spec, inputs.shape, self.name)
        elif isinstance(inputs, (list, tuple)) and isinstance(spec, (list, tuple)) and len(spec) == len(inputs):
            for i, (s, t) in enumerate(zip(spec, inputs)):
                if isinstance(t, KerasTensor) and t.shape is not None and isinstance(s, InputSpec):
                    check_shape(s, t.shape, self.name, i)
        if not self.built and shapes is not None and self._weights_state() == "lazy":
            self.build(shapes)
        if shapes is not None:
            dtype = inputs.dtype if isinstance(inputs, KerasTensor) else torch.float32
            for sub, shape in self._symbolic_sublayers(shapes):
                hook = getattr(sub, "_symbolic_build", None)
                if hook is not None and shape is not None:
                    hook(KerasTensor(shape, dtype), tuple(shape))

    def _symbolic_sublayers(self, shapes: Any) -> list[tuple[torch.nn.Module, Any]]:
        """The inner layers a wrapper calls on its input, each with the input shape it receives (none here)."""
        return []
