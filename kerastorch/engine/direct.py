"""The direct runner of a Functional model: after one checked pass, each node's compute is called directly.

The first call of a model with inputs of a given (non-batch) shape and dtype runs the checked loop: every layer goes
through ``Layer.__call__`` (input spec, build, casts, per-shape plans). That pass is recorded into a
:class:`DirectPlan`; later calls with inputs of the same signature run the plan, which calls each layer's compute
(``call``, or the layout forms below) without checks: a layer's inputs are shaped and typed as in the checked pass
because the model's are. The checks happen on the model's inputs (their signature, and the input layers), not on
every edge.

Layouts. Keras's 4-D/5-D activations are channels-last; torch's convolution, batch norm and pooling kernels read
the channels-first view of them (``permute``, no copy). A layer that offers a ``"first"`` layout
(``Layer._layout_call``) takes and returns those views, an elementwise one (``"follow"``) computes in whichever
layout it is given, so between consecutive such layers no permute is issued at all: a value is kept as the
channels-first view from its producer to its consumers, and turned back into Keras's layout only where a consumer
(or the model's output) needs that.

In place. An elementwise layer with an in-place form (ReLU, ReLU6, swish) overwrites its input when the runner owns
it: a fresh tensor (``Layer._output_is_fresh``) that no other node reads and the model does not return, the memory
a torch.nn network saves with ``inplace=True`` (Keras's values and gradients are the same).

Each node also keeps a guard: its layer's call key must be the one recorded (a layer called elsewhere with other
shapes, moved with ``.to()`` or rebuilt has another), and no torch hook may be registered on it; otherwise the node
goes through ``Layer.__call__`` as in the checked loop and the plan is dropped after this call (the next call
records it again). Plain objects, rebuilt after unpickling (the model drops its plan in ``__getstate__``).
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from ..dtype_policy import autocast_enabled
from ..layers.call_pipeline import CallPipeline
from ..layers.layer import Layer
from .masking import MaskStep, store_masks

# Steps of a plan
ONE, LIST, OTHER = 0, 1, 2


def to_first(rank: int) -> tuple[int, ...]:
    """channels-last -> the channels-first view (``(N, C, *spatial)``)."""
    return (0, rank - 1, *range(1, rank - 1))


def to_last(rank: int) -> tuple[int, ...]:
    return (0, *range(2, rank), 1)


def direct_capable(module: Any) -> bool:
    """A kerastorch layer whose ``__call__``/``forward`` are the call pipeline's (not a model, not a layer with
    its own forward; a ``__call__`` that only rewrites its arguments, ``_kt_call_normalizes_args``, as the
    recurrent layers' ``[inputs, *states]``): the runner may call its compute."""
    cls = type(module)
    return (
        isinstance(module, Layer) and cls.forward is CallPipeline.forward
        and (cls.__call__ is CallPipeline.__call__ or getattr(cls, "_kt_call_normalizes_args", False))
        and not getattr(module, "_kt_is_model", False)
    )


def key_covers(module: Any, x: Any) -> bool:
    """Whether ``module``'s fast-path key (after the checked call) vouches for input ``x``: its next call with
    ``x`` would skip the checks, and no cast happened."""
    key = module._call_key
    if key is None:
        return False
    if isinstance(x, torch.Tensor):
        return x.dtype is key[2] and x.shape == key[0]
    if isinstance(x, list) and key[0] is list:
        return len(x) == len(key[1]) and all(
            isinstance(t, torch.Tensor) and t.dtype is d and t.shape == s for t, (s, d) in zip(x, key[1]))
    return False


class Record:
    """What the checked pass saw at one node (inputs' ranks/dtypes, the output's rank, whether the layer's key
    covers the inputs), for :func:`build_plan`."""

    __slots__ = ("key", "in_ranks", "in_float", "out_rank", "layout", "inplace", "fresh")

    def __init__(self, module: Any, x: Any, out: Any):
        self.key = None
        self.layout = self.inplace = None
        self.fresh = False
        self.in_ranks: list[int] = []
        self.in_float = False
        self.out_rank = out.dim() if isinstance(out, torch.Tensor) else -1
        if not (direct_capable(module) and module.activity_regularizer is None and key_covers(module, x)):
            return
        self.key = module._call_key
        xs = x if isinstance(x, list) else [x]
        self.in_ranks = [t.dim() for t in xs]
        self.in_float = all(t.is_floating_point() for t in xs)
        if len(set(self.in_ranks)) == 1:
            self.layout = module._layout_call(self.in_ranks[0])
        self.inplace = module._inplace_call() if not isinstance(x, list) else None
        self.fresh = module._output_is_fresh() and (not isinstance(x, list) or len(x) >= 2)


class DirectStep:
    """One node of a plan. ``kind``: ONE (a tensor in, a tensor out), LIST (a list of tensors in), OTHER (any
    other call: the checked loop's step, on Keras-layout values)."""

    __slots__ = ("kind", "module", "fn", "arg", "out", "perm_in", "perm_out", "out_first", "key", "train", "train_kw",
                 "train_const", "free", "step", "guard", "in_first", "mask")

    def __init__(self, kind: int, module: Any, step: Any):
        self.kind = kind
        self.module = module
        self.step = step  # the checked loop's _Step
        self.fn: Callable[..., Any] | None = None
        self.arg: Any = None
        self.out = step.outputs[0] if len(step.outputs) == 1 else None
        self.perm_in: Any = None  # ONE: a permutation or None; LIST: one per input
        self.perm_out: tuple[int, ...] | None = None
        self.out_first = False  # the output slot holds the channels-first view
        self.key: Any = None
        self.train = False  # fn takes the training flag (positionally) ...
        self.train_kw = False  # ... or as the keyword of ``call``
        self.train_const: bool | None = None  # the node's own ``training=`` (a file's call argument), else None
        self.free = step.free
        self.guard: Any = None  # the producer whose output this step overwrites in place
        self.in_first: Any = False  # ONE: whether the input slot holds a channels-first view; LIST: one per input
        self.mask: MaskStep | None = None  # the node's mask work (a masked model's plan), on Keras-layout values


class DirectPlan:
    """A model's recorded plan for one input signature."""

    __slots__ = ("signature", "steps", "masked")

    def __init__(self, signature: list, steps: list[DirectStep], masked: tuple | None = None):
        self.signature = signature
        self.steps = steps
        self.masked = masked  # which inputs carried a mask (a masked run's plan), else None


def signature(flat: list) -> list | None:
    """The model inputs' (non-batch shape, dtype) and the autocast state; ``None`` for a non-tensor input."""
    sig = []
    for x in flat:
        if not isinstance(x, torch.Tensor):
            return None
        sig.append((x.shape[1:], x.dtype))
    sig.append(_autocast(flat))
    return sig


def _autocast(flat: list) -> bool:
    """Whether torch's autocast is on for the first input's device (``False`` for a device without autocast)."""
    return bool(flat) and autocast_enabled(flat[0].device)


def matches(plan: DirectPlan, flat: list) -> bool:
    sig = plan.signature
    if len(flat) + 1 != len(sig):
        return False
    for x, (shape, dtype) in zip(flat, sig):
        if not isinstance(x, torch.Tensor) or x.dtype is not dtype or x.shape[1:] != shape:
            return False
    return sig[-1] == _autocast(flat)


def build_plan(model: Any, sig: list, records: list[Record], mask_plan: list | None = None,
               masked: tuple | None = None) -> DirectPlan:
    """The plan of ``model`` (a Functional or a :class:`Chain`) from its checked pass's records; ``mask_plan``:
    the masked run's mask work per step (``engine/masking.py``), for the inputs' mask flags ``masked``."""
    steps = model._steps
    mask_steps = mask_plan if mask_plan is not None else [None] * len(steps)
    modules = model._modules
    n = model._n_slots
    out_slots = set(model._out_slots)
    # Readers of each slot; values read by an OTHER step must be in Keras's layout.
    readers = [0] * n
    kinds = []
    for step, rec, ms in zip(steps, records, mask_steps):
        g = step.gather
        direct = (rec.key is not None and len(step.outputs) == 1 and step.flat_out.kind == "one"
                  and not g.consts.keys() - {"training"}  # a node's own training= is the only constant allowed
                  and (ms is None or not (ms.joint or ms.named)))  # a nested model's masks, named masks: checked
        if direct and g.kind == "one":
            kind = ONE
        elif direct and g.kind == "list":
            kind = LIST
        else:
            kind = OTHER
        kinds.append(kind)
        for s in _read_slots(step):
            readers[s] += 1
    logical_only = set(out_slots)
    for step, kind, ms in zip(steps, kinds, mask_steps):
        if kind == OTHER or ms is not None:  # mask work (call with mask=, compute_mask) reads Keras's layout
            logical_only.update(_read_slots(step))
    first = [False] * n  # the slot holds the channels-first view of a channels-last value
    rank = [-1] * n
    producer: list[Any] = [None] * n  # (module, record) of the node that made a slot
    plan: list[DirectStep] = []
    for step, kind, rec, ms in zip(steps, kinds, records, mask_steps):
        module = modules[step.key]
        d = DirectStep(kind, module, step)
        d.mask = ms
        for s in step.outputs:
            rank[s] = rec.out_rank
        if kind == OTHER:
            plan.append(d)
            continue
        d.key = rec.key
        const = step.gather.consts.get("training")
        d.train_const = None if const is None else bool(const)
        layout = rec.layout if ms is None else None  # mask work: ``call`` on Keras's layout
        takes_training = module._call_takes_training
        if kind == ONE:
            s = d.arg = step.gather.index
            r = rec.in_ranks[0]
            if layout is not None and layout[0] == "first":
                d.fn, d.train = layout[1], takes_training
                d.perm_in = to_first(r) if r >= 3 and not first[s] else None
                d.out_first = rec.out_rank >= 3
            elif r >= 3 and layout is not None:  # "follow": the output in the input's layout
                d.fn, d.train = layout[1], takes_training
                d.out_first = first[s]
            else:
                d.fn, d.train_kw = module.call, takes_training
                d.perm_in = to_last(r) if first[s] else None
            made = producer[s]
            if (ms is None and rec.inplace is not None and rec.in_float and readers[s] == 1 and s not in out_slots
                    and made is not None and made[1].fresh and d.perm_in is None):
                d.fn, d.train, d.train_kw = rec.inplace, False, False  # elementwise: any layout
                d.guard = made[0]
            d.in_first = first[s]
        else:  # LIST
            slots = d.arg = list(step.gather.index)
            r = rec.in_ranks[0] if rec.in_ranks else -1
            if r >= 3 and layout is not None and layout[0] == "follow":
                to_cf = any(first[s] for s in slots)  # one layout for all: the channels-first one if any has it
                d.perm_in = [to_first(r) if to_cf and not first[s] else None for s in slots]
                d.out_first = to_cf
                d.fn, d.train = layout[1], False
            else:
                d.perm_in = [to_last(rank[s]) if first[s] else None for s in slots]
                d.fn, d.train_kw = module.call, takes_training
            if not any(p is not None for p in d.perm_in):
                d.perm_in = None
            d.in_first = [first[s] for s in slots]
        if d.out_first and d.out in logical_only:
            d.perm_out, d.out_first = to_last(rec.out_rank), False
        first[d.out] = d.out_first
        producer[d.out] = (module, rec)
        plan.append(d)
    return DirectPlan(sig, plan, masked)


class _ChainGather:
    """A chain node's argument: the value in slot ``index`` (the interface of ``plan._Gather``)."""

    __slots__ = ("index",)
    kind = "one"
    consts: dict = {}

    def __init__(self, index: int):
        self.index = index

    def __call__(self, values: list) -> tuple:
        return (values[self.index],), {}


class _OneOut:
    __slots__ = ()
    kind = "one"

    def __call__(self, out: Any) -> list:
        return [out]


class _ChainStep:
    """Node ``i`` of a chain: slot ``i`` in, slot ``i + 1`` out (the interface of ``plan._Step``)."""

    __slots__ = ("key", "gather", "outputs", "flat_out", "free", "pass_training")

    def __init__(self, key: str, i: int, module: Any):
        self.key = key
        self.gather = _ChainGather(i)
        self.outputs = [i + 1]
        self.flat_out = _OneOut()
        self.free = [i]
        self.pass_training = isinstance(module, Layer)


class Chain:
    """A Sequential model's layers as a graph of single-input nodes (what :func:`build_plan` reads)."""

    def __init__(self, keys: list[str], modules: Any):
        self._modules = modules
        self._steps = [_ChainStep(k, i, modules[k]) for i, k in enumerate(keys)]
        self._n_slots = len(keys) + 1
        self._out_slots = [len(keys)]


def _read_slots(step: Any) -> list[int]:
    g = step.gather
    if g.kind == "one":
        return [g.index]
    if g.kind == "list":
        return list(g.index)
    refs: list[int] = []
    _collect(g.targs, refs)
    _collect(g.tkwargs, refs)
    return refs


def _collect(template: Any, out: list[int]) -> None:
    if hasattr(template, "i") and type(template).__name__ == "_Ref":
        out.append(template.i)
    elif isinstance(template, dict):
        for v in template.values():
            _collect(v, out)
    elif isinstance(template, (list, tuple)):
        for v in template:
            _collect(v, out)


_hooks = torch.nn.modules.module


def global_hooks() -> bool:
    """Whether torch's global module hooks are registered (they must see every layer's call)."""
    return bool(_hooks._global_forward_hooks or _hooks._global_forward_pre_hooks or _hooks._global_backward_hooks
                or _hooks._global_backward_pre_hooks)


def checked_only() -> bool:
    """Whether a model call must take the checked path, recording nothing: ``torch.compile`` / ``jit.trace``
    tracing (no state read), or global module hooks (they must see every layer's call)."""
    return torch.compiler.is_compiling() or torch.jit.is_tracing() or global_hooks()


def _train_value(d: "DirectStep", m: Any, training: bool | None) -> bool:
    """A direct node's training flag: the model call's ``training=``, else the node's own constant, else the
    layer's mode."""
    return bool(training) if training is not None else m.training if d.train_const is None else d.train_const


def _hooked(module: Any) -> bool:
    return bool(module._forward_hooks or module._forward_pre_hooks or module._backward_hooks
                or module._backward_pre_hooks)


def run(model: Any, plan: DirectPlan, values: list, training: bool | None, masks: list | None = None) -> bool:
    """Run ``plan`` over ``values`` (the model inputs in their slots, after the input layers) and, for a masked
    run's plan, ``masks`` (the inputs' masks in their slots); returns whether every node ran directly (``False``:
    some node went through its checks; the caller drops the plan)."""
    clean = True
    for d in plan.steps:
        m = d.module
        kind = d.kind
        if kind != OTHER and m._call_key is d.key and not (
                m._forward_hooks or m._forward_pre_hooks or m._backward_hooks or m._backward_pre_hooks):
            if kind == ONE:
                x = values[d.arg]
                if d.perm_in is not None:
                    x = x.permute(d.perm_in)
            else:
                perms = d.perm_in
                x = [values[s] for s in d.arg] if perms is None else [
                    values[s] if p is None else values[s].permute(p) for s, p in zip(d.arg, perms)]
            if d.mask is not None:  # ``call`` with the node's mask, on Keras's layout; then its output mask
                y = _masked_direct(d, m, x, masks, training)
            elif d.train:
                y = d.fn(x, _train_value(d, m, training))
            elif d.train_kw:
                y = d.fn(x, training=_train_value(d, m, training))
            elif d.guard is not None and _hooked(d.guard):  # a hook saw the producer's output: not in place
                y = m.call(x)  # elementwise, in any layout
            else:
                y = d.fn(x)
            if d.perm_out is not None:
                y = y.permute(d.perm_out)
            values[d.out] = y
        else:
            step = d.step
            if kind != OTHER:
                clean = False
                args, kwargs = _logical_args(d, values), step.gather.consts
            else:
                args, kwargs = step.gather(values)
            if training is not None and step.pass_training:
                kwargs = {**kwargs, "training": training}
            module = model._modules[step.key]
            out = module(*args, **kwargs) if d.mask is None else masked_call(module, d.mask, step, args, kwargs, masks)
            if kind != OTHER and d.out_first:
                out = out.permute(to_first(out.dim()))
            for s, o in zip(step.outputs, step.flat_out(out)):
                values[s] = o
        for s in d.free:
            values[s] = None
            if masks is not None:
                masks[s] = None
    return clean


def _masked_direct(d: DirectStep, m: Any, x: Any, masks: list, training: bool | None) -> Any:
    """A direct node's ``call`` with its mask (what ``Layer.forward`` hands it) and its output mask."""
    ms = d.mask
    in_mask = ms.input_mask(masks)
    kwargs: dict[str, Any] = {}
    if d.train_kw:
        kwargs["training"] = _train_value(d, m, training)
    if ms.pass_mask and in_mask is not None:
        kwargs["mask"] = in_mask
    y = m.call(x, **kwargs)
    if ms.produce:
        store_masks(masks, (d.out,), m.compute_mask(x, in_mask))
    return y


def masked_call(module: Any, ms: MaskStep, step: Any, args: tuple, kwargs: dict, masks: list) -> Any:
    """One node through its checks with its mask work (the masked loops' step): ``call(..., mask=)`` of the
    input's masks, a nested model's joint run, ``<argument>_mask`` parameters, and the output masks stored in
    ``masks``."""
    in_mask = ms.input_mask(masks)
    if ms.joint:
        kwargs = dict(kwargs)
        recorded = kwargs.pop("mask", None)
        out, out_mask = module.run_with_masks(args[0], in_mask if ms.pass_mask else recorded,
                                              training=kwargs.get("training"))
        out_mask = step.flat_out(out_mask)
    else:
        if ms.pass_mask:
            kwargs = {**kwargs, "mask": in_mask}
        for param, s in ms.named:
            kwargs = {**kwargs, param: masks[s]}
        out = module(*args, **kwargs)
        out_mask = module.compute_mask(args[0], in_mask) if ms.produce else None
    if ms.produce:
        store_masks(masks, step.outputs, out_mask)
    return out


def _logical_args(d: DirectStep, values: list) -> tuple:
    """A direct step's arguments in Keras's layout, for its checked call."""
    if d.kind == ONE:
        x = values[d.arg]
        return (x.permute(to_last(x.dim())) if d.in_first else x,)
    return ([values[s].permute(to_last(values[s].dim())) if f else values[s] for s, f in zip(d.arg, d.in_first)],)
