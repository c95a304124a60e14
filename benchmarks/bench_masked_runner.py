"""Masked sequence models on the direct runner vs the checked masked loop (issue 22: masks ride on the runner).

Embedding(mask_zero=True) (or Masking) into a recurrent layer, optional Dense layers, GlobalAveragePooling1D and a
Dense head, as a Functional model and as a Sequential, batch 1, eval, ``torch.no_grad()``. Three ways, interleaved
(the order flips every repetition), per-call process CPU time, minimum over ``--reps``:

- ``direct``: the model's call (from the second call on: the recorded plan, ``engine/direct.py``);
- ``checked``: the same model through its checked masked loop (every layer through ``Layer.__call__``), forced by
  making ``direct.global_hooks()`` report a global hook;
- ``by hand``: the layers' ``call``/``compute_mask`` chained in plain Python (the floor a runner can approach).

    .venv/bin/python benchmarks/bench_masked_runner.py [--reps 400]
"""
from __future__ import annotations

import argparse
import time
from typing import Any, Callable

import torch

from kerastorch import layers as L
from kerastorch.engine import direct
from kerastorch.models import Input, Model, Sequential

_FORCE = [False]
_global_hooks = direct.global_hooks
direct.global_hooks = lambda: _FORCE[0] or _global_hooks()  # type: ignore[assignment]


def checked(model: torch.nn.Module, x: torch.Tensor) -> Any:
    _FORCE[0] = True
    try:
        return model(x)
    finally:
        _FORCE[0] = False


def interleaved(steps: dict[str, Callable[[], Any]], reps: int) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in steps}
    items = list(steps.items())
    for r in range(reps):
        for k, f in (items if r % 2 else items[::-1]):
            c = time.process_time()
            f()
            times[k].append((time.process_time() - c) * 1e6)
    return {k: min(v) for k, v in times.items()}


def case(kind: str, steps: int, units: int, extra: int, sequential: bool, reps: int) -> str:
    emb = L.Embedding(1000, units, mask_zero=True)
    rnn = getattr(L, kind)(units, return_sequences=True)
    mids = [L.Dense(units, activation="relu") for _ in range(extra)]
    pool, head = L.GlobalAveragePooling1D(), L.Dense(10, activation="softmax")
    if sequential:
        model = Sequential([Input((steps,), dtype="int64"), emb, rnn, *mids, pool, head])
    else:
        inp = Input((steps,), dtype="int64")
        h = rnn(emb(inp))
        for m in mids:
            h = m(h)
        model = Model(inp, head(pool(h)))
    model.eval()
    x = torch.randint(1, 1000, (1, steps))
    x[0, -3:] = 0

    def by_hand() -> torch.Tensor:
        e, m = emb.call(x), emb.compute_mask(x)
        h = rnn.call(e, mask=m, training=False)
        m = rnn.compute_mask(e, m)
        for layer in mids:
            h = layer.call(h)
        return head.call(pool.call(h, mask=m))

    with torch.no_grad():
        model(x)
        assert torch.equal(model(x), checked(model, x)) and torch.allclose(model(x), by_hand())
        t = interleaved({"direct": lambda: model(x), "checked": lambda: checked(model, x), "by hand": by_hand}, reps)
    return (f"| {'Sequential' if sequential else 'Functional'} | Embedding + {kind}({units}), T={steps}, +{extra} Dense "
            f"| {t['direct']:.0f} | {t['checked']:.0f} | {t['checked'] / t['direct']:.3f} | {t['by hand']:.0f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=400)
    args = p.parse_args()
    torch.set_num_threads(1)
    print("| model | layers | direct us | checked us | checked/direct | by hand us |\n|---|---|---|---|---|---|")
    for kind, steps, units, extra, sequential in [("LSTM", 20, 32, 0, False), ("GRU", 20, 32, 0, True),
                                                  ("LSTM", 20, 32, 6, False), ("GRU", 8, 16, 6, True)]:
        print(case(kind, steps, units, extra, sequential, args.reps), flush=True)


if __name__ == "__main__":
    main()
