"""The Keras ``Layer`` contract on a ``torch.nn.Module``.

Reproduces from tf.keras's base layer: names, ``trainable``, dtype policies, ``build``/``built``,
``losses`` (activity term of the latest call, divided by the batch size, then weight-regularizer
terms from the current weights), ``get_weights``/``set_weights``, ``get_config``/``from_config``.
Unbuilt layers are torch lazy modules: their weights are ``UninitializedParameter``s that the first
forward, ``build`` or ``load_state_dict`` materializes in place, so an optimizer made before the
first call keeps working.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter, is_lazy

from .. import _naming, dtype_policy

_LAYER_KWARGS = ("input_shape", "batch_input_shape", "batch_size", "input_dim", "weights", "autocast", "implementation")


class Layer(LazyModuleMixin, torch.nn.Module):
    """Base for kerastorch layers; subclasses implement ``build`` and ``forward``."""

    def __init__(
        self,
        *,
        trainable: bool = True,
        name: str | None = None,
        dtype: Any = None,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ):
        super().__init__()
        from .. import regularizers

        unknown = set(kwargs) - set(_LAYER_KWARGS)
        if unknown:
            raise TypeError(f"Keyword argument not understood: {sorted(unknown)[0]!r}")
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"`name` must be a non-empty string. Received: name={name!r}")
        self.name = name or _naming.unique_name(_naming.to_snake_case(type(self).__name__))
        self._dtype_policy = dtype_policy.get(dtype)
        self._trainable = bool(trainable)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.built = False
        self._activity_losses: list[torch.Tensor] = []
        self._weight_specs: dict[str, tuple[Any, Any]] = {}  # name -> (regularizer, constraint)
        self._batch_input_shape = self._batch_shape_from_kwargs(kwargs)
        self._initial_weights = kwargs.get("weights")

    # ----- construction helpers -----
    @staticmethod
    def _batch_shape_from_kwargs(kwargs: dict[str, Any]) -> tuple[int | None, ...] | None:
        if kwargs.get("batch_input_shape") is not None:
            return tuple(kwargs["batch_input_shape"])
        if kwargs.get("input_shape") is not None:
            return (kwargs.get("batch_size"),) + tuple(kwargs["input_shape"])
        if kwargs.get("input_dim") is not None:
            return (kwargs.get("batch_size"), kwargs["input_dim"])
        return None

    def _finish_init(self) -> None:
        """Build right away when the constructor was given an input shape (and initial weights)."""
        if self._batch_input_shape is not None:
            self.build(self._batch_input_shape)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _declare_weight(self, name: str, regularizer: Any = None, constraint: Any = None) -> None:
        """Register an uninitialized parameter that ``build`` materializes."""
        param = UninitializedParameter(requires_grad=self._trainable, dtype=self._dtype_policy.variable_dtype)
        self.register_parameter(name, param)
        self._weight_specs[name] = (regularizer, constraint)

    def _materialize_weights(self, specs: Sequence[tuple[str, Sequence[int], Callable[..., Any], Sequence[int] | None]]) -> None:
        """Give each weight ``(name, shape, initializer, memory_order)`` its Keras shape and values.

        All initial values are computed before any parameter changes, so a failing initializer
        leaves the layer unbuilt. ``memory_order`` lists the Keras dims from outermost to innermost
        in memory, so a permuted view can be handed to torch kernels without a copy.
        """
        values = []
        for name, shape, initializer, _ in specs:
            param = self._parameters[name]
            value = initializer(tuple(shape), dtype=param.dtype, device=param.device)
            value = torch.as_tensor(value, dtype=param.dtype, device=param.device)
            if tuple(value.shape) != tuple(shape):
                raise ValueError(f'Layer "{self.name}": the initializer of `{name}` returned shape {tuple(value.shape)}, expected {tuple(shape)}.')
            values.append(value)
        with torch.no_grad():
            for (name, shape, _, memory_order), value in zip(specs, values):
                param = self._parameters[name]
                if is_lazy(param):
                    param.materialize(tuple(shape))
                order = list(memory_order) if memory_order is not None else list(range(len(shape)))
                storage = torch.empty([shape[d] for d in order], device=param.device, dtype=param.dtype)
                param.data = storage.permute(*np.argsort(order).tolist())
                param.copy_(value)

    # ----- lazy-module protocol -----
    def _weights_state(self) -> str:
        """'lazy' (all uninitialized), 'real' (none), or refuse a mix (e.g. a partial functional_call)."""
        lazy = [is_lazy(p) for p in self._parameters.values() if p is not None]
        if all(lazy):
            return "lazy"
        if not any(lazy):
            return "real"
        raise ValueError(f'Layer "{self.name}" is unbuilt and was given only some of its weights.')

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        """Called by torch's lazy-module hook before the first forward: build from the input.

        When every weight was supplied from outside (``torch.func.functional_call`` on an unbuilt
        layer) nothing is built: the call is stateless and the layer stays unbuilt.
        """
        if not self.built and args and self._weights_state() == "lazy":
            self._check_input(args[0])
            self.build(tuple(args[0].shape))

    def _infer_parameters(self, module: "Layer", args: Any, kwargs: Any = None) -> None:
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.built:
            module._drop_lazy_hooks()

    def _apply(self, fn: Callable[..., Any], recurse: bool = True) -> "Layer":
        # torch refuses .half()/.bfloat16()/... on uninitialized parameters; apply fn to an empty
        # probe and move the placeholder in place so references (optimizers) stay valid.
        lazy = {n: p for n, p in self._parameters.items() if p is not None and is_lazy(p)}
        for name, param in lazy.items():
            probe = fn(torch.empty(0, dtype=param.dtype, device=param.device))
            with torch.no_grad():
                param.data = torch.empty(0, dtype=probe.dtype, device=probe.device)
            del self._parameters[name]
        try:
            return super()._apply(fn, recurse)
        finally:
            self._parameters.update(lazy)
            order = list(self._weight_specs) + [n for n in self._parameters if n not in self._weight_specs]
            self._parameters = {n: self._parameters[n] for n in order if n in self._parameters}

    def __getstate__(self) -> dict[str, Any]:
        # Pickle/deepcopy: activity losses are graph tensors (detach them); UninitializedParameter
        # pickles without its dtype/device, so record those and rebuild the placeholders.
        state = self.__dict__.copy()
        state["_activity_losses"] = [loss.detach() for loss in self._activity_losses]
        params = dict(state["_parameters"])
        lazy = {}
        for name, param in params.items():
            if param is not None and is_lazy(param):
                lazy[name] = (param.dtype, str(param.device), param.requires_grad)
                params[name] = None
        state["_parameters"], state["_lazy_parameters"] = params, lazy
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        lazy = state.pop("_lazy_parameters", {})
        super().__setstate__(state)
        for name, (dtype, device, requires_grad) in lazy.items():
            self._parameters[name] = UninitializedParameter(requires_grad=requires_grad, device=device, dtype=dtype)

    def _drop_lazy_hooks(self) -> None:
        """Once built, torch's lazy-module hooks have nothing left to do: remove them."""
        for hook in ("_initialize_hook", "_load_hook"):
            handle = self.__dict__.pop(hook, None)
            if handle is not None:
                handle.remove()

    def _lazy_load_hook(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        if self.built:
            return
        shapes = []
        for name in self._weight_specs:
            value = state_dict.get(prefix + name)
            if value is None or is_lazy(value):
                return
            shapes.append(tuple(value.shape))
        try:
            self._build_from_weight_shapes(shapes)
        except ValueError as e:
            error_msgs.append(str(e))

    def _expected_weight_shapes(self, shapes: Sequence[tuple[int, ...]]) -> list[tuple[int, ...]]:
        """The weight shapes this layer would take if built for weights shaped ``shapes`` (pure)."""
        raise ValueError(f'Layer "{self.name}" cannot be built from weight shapes {list(shapes)}.')

    def _build_from_weight_shapes(self, shapes: Sequence[tuple[int, ...]]) -> None:
        raise ValueError(f'Layer "{self.name}" cannot be built from weight shapes {list(shapes)}.')

    def requires_grad_(self, requires_grad: bool = True) -> "Layer":
        # torch's own lazy modules refuse this before initialization; Keras layers don't.
        for param in self._parameters.values():
            if param is not None:
                param.requires_grad = requires_grad
        return self

    # ----- Keras API -----
    def build(self, input_shape: Sequence[int | None]) -> None:
        self.built = True

    def _check_input(self, inputs: torch.Tensor) -> None:
        """Validate an input before build (subclasses check rank and channels)."""

    @property
    def trainable(self) -> bool:
        params = [p for p in self._parameters.values() if p is not None]
        return all(p.requires_grad for p in params) if params else self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        self.requires_grad_(self._trainable)

    @property
    def dtype(self) -> str:
        """Variable dtype name, as Keras's ``layer.dtype``; follows ``module.to(dtype)``."""
        params = [p for p in self._parameters.values() if p is not None]
        if params and not self._dtype_policy.is_mixed:
            return dtype_policy.name_of(params[0].dtype)
        return dtype_policy.name_of(self._dtype_policy.variable_dtype)

    @property
    def compute_dtype(self) -> torch.dtype:
        if self._dtype_policy.is_mixed:
            return self._dtype_policy.compute_dtype
        params = [p for p in self._parameters.values() if p is not None]
        return params[0].dtype if params else self._dtype_policy.compute_dtype

    @property
    def weight_names(self) -> list[str]:
        """Names of the layer's weights in Keras order (``['kernel', 'bias']``), built or not."""
        return list(self._weight_specs)

    @property
    def weights(self) -> list[torch.nn.Parameter]:
        return [p for p in self._parameters.values() if p is not None and not is_lazy(p)]

    @property
    def trainable_weights(self) -> list[torch.nn.Parameter]:
        return [p for p in self.weights if p.requires_grad]

    @property
    def non_trainable_weights(self) -> list[torch.nn.Parameter]:
        return [p for p in self.weights if not p.requires_grad]

    def _record_activity(self, outputs: torch.Tensor) -> None:
        """tf.keras ``_handle_activity_regularization``: ``reg(outputs) / batch_size``."""
        if self.activity_regularizer is not None:
            loss = self.activity_regularizer(outputs)
            self._activity_losses = [loss.to(outputs.dtype) / outputs.shape[0]]

    @property
    def losses(self) -> list[torch.Tensor]:
        """Activity loss of the latest call, then weight-regularizer terms of the current weights."""
        out = list(self._activity_losses)
        for name, (regularizer, _) in self._weight_specs.items():
            param = self._parameters.get(name)
            if regularizer is not None and param is not None and not is_lazy(param):
                out.append(regularizer(param))
        return out

    def apply_constraints(self) -> None:
        """Project trainable weights onto their constraints now (what Keras does after each update)."""
        with torch.no_grad():
            for name, (_, constraint) in self._weight_specs.items():
                param = self._parameters.get(name)
                if constraint is not None and param is not None and not is_lazy(param) and param.requires_grad:
                    param.copy_(constraint(param))

    def get_weights(self) -> list[np.ndarray]:
        """Weights as numpy arrays in Keras layout and order (bfloat16 comes back as float32)."""
        out = []
        for p in self.weights:
            t = p.detach().cpu()
            if t.dtype == torch.bfloat16:
                t = t.float()
            out.append(np.ascontiguousarray(t.numpy()))
        return out

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Keras ``set_weights``: everything is checked before anything is copied.

        An unbuilt layer is built from the weight shapes first (Keras would refuse).
        """
        weights = list(weights)
        if not self.built and not weights:  # tf.keras: an unbuilt layer's get_weights() is [] and set_weights([]) accepts it
            return
        expected = self.weight_names
        if len(weights) != len(expected):
            raise ValueError(
                f'You called `set_weights(weights)` on layer "{self.name}" with a weight list of length '
                f"{len(weights)}, but the layer was expecting {len(expected)} weights."
            )
        arrays = [torch.as_tensor(np.asarray(w)) if not isinstance(w, torch.Tensor) else w for w in weights]
        given = [tuple(a.shape) for a in arrays]
        shapes = [tuple(self._parameters[n].shape) for n in expected] if self.built else self._expected_weight_shapes(given)
        for want, found in zip(shapes, given):
            if want != found:
                raise ValueError(
                    f'Layer "{self.name}" weight shape {want} is not compatible with provided weight shape {found}.'
                )
        if not self.built:
            self._build_from_weight_shapes(given)
        with torch.no_grad():
            for name, value in zip(expected, arrays):
                param = self._parameters[name]
                param.copy_(value.to(device=param.device, dtype=param.dtype))

    def get_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        config["dtype"] = self._dtype_policy.serialize() if self._dtype_policy.is_mixed else self.dtype
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Layer":
        return cls(**config)
