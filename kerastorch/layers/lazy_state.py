"""Layer as a torch lazy module: the lazy-module protocol (build on the first call or ``load_state_dict``),
device/dtype moves of unbuilt weights, and pickling (a mixin of :class:`kerastorch.layers.layer.Layer`).

Unbuilt layers are torch lazy modules: their weights are ``UninitializedParameter``/``UninitializedBuffer``
placeholders that the first call, ``build``, ``set_weights`` or ``load_state_dict`` materializes in
place, so an optimizer made before the first call keeps working.
"""
from __future__ import annotations

from typing import Any, Callable

import torch
from torch.nn.parameter import UninitializedBuffer, UninitializedParameter, is_lazy

from .input_spec import assert_input_compatibility


class LazyState:
    """torch's lazy-module protocol, ``_apply`` and pickling for a Layer."""

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        """Called by torch's lazy-module hook before the first forward: build from the input.

        When every weight was supplied from outside (``torch.func.functional_call`` on an unbuilt
        layer) nothing is built: the call is stateless and the layer stays unbuilt.
        """
        if not self.built and args and self._weights_state() == "lazy":
            assert_input_compatibility(self.input_spec, args[0], self.name)
            x = args[0]
            self.build([tuple(t.shape) for t in x] if isinstance(x, (list, tuple)) else tuple(x.shape))

    def _infer_parameters(self, module: "Layer", args: Any, kwargs: Any = None) -> None:
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.built:
            module._drop_lazy_hooks()

    def has_uninitialized_params(self) -> bool:
        return any(is_lazy(t) for t in (*self._parameters.values(), *self._buffers.values()) if t is not None)

    def _drop_lazy_hooks(self) -> None:
        """Once built, torch's lazy-module hooks have nothing left to do: remove them."""
        for hook in ("_initialize_hook", "_load_hook"):
            handle = self.__dict__.pop(hook, None)
            if handle is not None:
                handle.remove()

    def _lazy_load_hook(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        """``load_state_dict`` into an unbuilt layer: build from whichever weights are given."""
        if self.built:
            return
        shapes = {}
        for name in self._specs:
            value = state_dict.get(prefix + name)
            if value is not None and not is_lazy(value):
                shapes[name] = tuple(value.shape)
        if not shapes:
            return
        try:
            self.build_from_weight_shapes(shapes, layout="storage")
        except ValueError as e:
            # Say once, clearly, why; and keep torch from adding its own size-0 copy error for these keys.
            error_msgs.append(f"{e} (unbuilt layer {self.name!r} is built from the state_dict's {sorted(shapes)})")
            for name in shapes:
                state_dict.pop(prefix + name, None)

    def _apply(self, fn: Callable[..., Any], recurse: bool = True) -> "Layer":
        # torch refuses .half()/.bfloat16()/... on uninitialized tensors; apply fn to an empty probe
        # and move the placeholder in place (same object, so optimizers keep it) where torch allows,
        # else (e.g. cpu <-> meta) replace it, as torch's own lazy modules do.
        self._call_key = None
        moved: dict[str, tuple[dict, torch.Tensor]] = {}
        for table in (self._parameters, self._buffers):
            for name, t in list(table.items()):
                if t is None or not is_lazy(t):
                    continue
                probe = fn(torch.empty(0, dtype=t.dtype, device=t.device))
                new = torch.empty(0, dtype=probe.dtype, device=probe.device)
                if torch._has_compatible_shallow_copy_type(t, new):
                    with torch.no_grad():
                        t.data = new
                elif isinstance(t, UninitializedParameter):
                    t = UninitializedParameter(requires_grad=t.requires_grad, device=new.device, dtype=new.dtype)
                else:
                    t = UninitializedBuffer(device=new.device, dtype=new.dtype)
                moved[name] = (table, t)
                del table[name]
        try:
            return super()._apply(fn, recurse)
        finally:
            for name, (table, t) in moved.items():
                table[name] = t
            order = list(self._specs)
            for table in (self._parameters, self._buffers):
                items = dict(table)
                table.clear()
                table.update({n: items[n] for n in order if n in items})
                table.update({n: v for n, v in items.items() if n not in table})

    def __getstate__(self) -> dict[str, Any]:
        # Pickle/deepcopy: activity losses are graph tensors (detach them); uninitialized tensors
        # pickle without their dtype/device, so record those and rebuild the placeholders.
        state = self.__dict__.copy()
        state["_activity_losses"] = [loss.detach() for loss in self._activity_losses]
        lazy = {}
        for table in ("_parameters", "_buffers"):
            entries = dict(state[table])
            for name, t in entries.items():
                if t is not None and is_lazy(t):
                    lazy[name] = (table, t.dtype, str(t.device), t.requires_grad)
                    entries[name] = None
            state[table] = entries
        state["_lazy_tensors"] = lazy
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        lazy = state.pop("_lazy_tensors", {})
        super().__setstate__(state)
        for name, (table, dtype, device, requires_grad) in lazy.items():
            if table == "_parameters":
                self._parameters[name] = UninitializedParameter(requires_grad=requires_grad, device=device, dtype=dtype)
            else:
                self._buffers[name] = UninitializedBuffer(device=device, dtype=dtype)
