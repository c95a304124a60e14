"""Recurrent layers: kerastorch LSTM / GRU vs torch.nn.LSTM / GRU and Keras 3's torch backend, same process.

For LSTM and GRU (Keras defaults: tanh/sigmoid, GRU reset_after=True; the configuration that runs torch's fused
kernel), batch 32, 100 steps, 32 input features, 128 and 512 units, float32 on the CPU:

- ``infer``: ``return_sequences=True`` forward under ``torch.no_grad()`` (eval mode);
- ``train``: forward, ``(y ** 2).mean()`` loss, backward, one SGD step;
- ``masked``: inference with a right-padded mask (lengths 100..50), kerastorch (packed sequences inside) vs
  torch.nn on the same padded batch packed and unpacked as a torch user does it (``pack_padded_sequence``,
  ``pad_packed_sequence``);
- ``loop``: kerastorch's step loop (LSTM with Keras 3's ``hard_sigmoid`` recurrent activation, which no torch
  kernel computes), for reference.

``torch.nn`` gets the same weights (LSTM: ``weight_ih = kernel.T``, ``bias_hh = 0``; GRU gate blocks reordered),
and the outputs are checked equal before timing. ``keras3`` runs ``keras.layers.LSTM``/``GRU`` (``KERAS_BACKEND=torch``)
when ``keras`` is importable (``.venv-bench``). Timings: median of ``--reps`` interleaved repetitions after a warm-up.

    .venv/bin/python benchmarks/bench_rnn.py                # kerastorch vs torch.nn
    KERAS_BACKEND=torch .venv-bench/bin/python benchmarks/bench_rnn.py   # + Keras 3 (torch backend)
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any, Callable

os.environ.setdefault("KERAS_BACKEND", "torch")

import torch  # noqa: E402
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402

import kerastorch.layers as L  # noqa: E402

BATCH, STEPS, FEATURES = 32, 100, 32


def torch_twin(layer: Any, kind: str, units: int) -> torch.nn.Module:
    """torch.nn.LSTM / GRU holding the kerastorch layer's weights."""
    cls = torch.nn.LSTM if kind == "LSTM" else torch.nn.GRU
    ref = cls(FEATURES, units, batch_first=True)
    k, r, b = (layer.keras_weight(n).detach() for n in ("kernel", "recurrent_kernel", "bias"))
    with torch.no_grad():
        if kind == "LSTM":
            ref.weight_ih_l0.copy_(k.T)
            ref.weight_hh_l0.copy_(r.T)
            ref.bias_ih_l0.copy_(b)
            ref.bias_hh_l0.zero_()
        else:
            u = units

            def perm(w: torch.Tensor) -> torch.Tensor:  # Keras [z, r, h] -> torch [r, z, n]
                return torch.cat([w[u:2 * u], w[:u], w[2 * u:]])

            ref.weight_ih_l0.copy_(perm(k.T))
            ref.weight_hh_l0.copy_(perm(r.T))
            ref.bias_ih_l0.copy_(perm(b[0]))
            ref.bias_hh_l0.copy_(perm(b[1]))
    return ref


def keras3_layer(kind: str, units: int, weights: list) -> Any:
    try:
        import keras
    except ImportError:
        return None
    if keras.backend.backend() != "torch":
        return None
    layer = getattr(keras.layers, kind)(units, return_sequences=True)
    layer.build((BATCH, STEPS, FEATURES))
    layer.set_weights([w.numpy() for w in weights])
    return layer


def timed(fn: Callable[[], Any], reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def train_step(module: torch.nn.Module, x: torch.Tensor, first: bool) -> Callable[[], None]:
    opt = torch.optim.SGD(module.parameters(), lr=1e-3)

    def step() -> None:
        y = module(x)
        y = y[0] if first else y
        loss = (y ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    opts = parser.parse_args()
    if opts.threads:
        torch.set_num_threads(opts.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}, {STEPS} steps, "
          f"{FEATURES} features; median ms of {opts.reps}")
    print("| layer | units | mode | kerastorch ms | torch.nn ms | kt/torch | Keras 3 ms | Keras 3/kt |")
    print("|---|---|---|---|---|---|---|---|")
    x = torch.randn(BATCH, STEPS, FEATURES)
    lengths = torch.linspace(STEPS, STEPS // 2, BATCH).long()
    mask = torch.arange(STEPS)[None] < lengths[:, None]
    for kind in ("LSTM", "GRU"):
        for units in (128, 512):
            kt = getattr(L, kind)(units, return_sequences=True)
            kt(x)
            ref = torch_twin(kt, kind, units)
            kt.eval()
            ref.eval()
            with torch.no_grad():
                torch.testing.assert_close(kt(x), ref(x)[0], rtol=1e-4, atol=1e-5)
            k3 = keras3_layer(kind, units, [kt.keras_weight(n).detach() for n in kt.weight_names])
            if k3 is not None:
                with torch.no_grad():
                    torch.testing.assert_close(torch.as_tensor(k3(x, training=False)).cpu(), kt(x), rtol=1e-4, atol=1e-4)

            def ref_masked() -> torch.Tensor:
                packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
                return pad_packed_sequence(ref(packed)[0], batch_first=True, total_length=STEPS)[0]
            loop = getattr(L, kind)(units, return_sequences=True, recurrent_activation="keras3>hard_sigmoid")
            loop(x)
            loop.eval()
            k3_train = None
            if k3 is not None:
                k3_train = keras3_train_step(k3, x)
            modes: dict[str, dict[str, Callable[[], Any]]] = {
                "infer": {"kt": lambda: kt(x), "torch": lambda: ref(x)},
                "train": {"kt": train_step(kt, x, False), "torch": train_step(ref, x, True)},
                "masked": {"kt": lambda: kt(x, mask=mask), "torch": ref_masked},
                "loop": {"kt": lambda: loop(x)},
            }
            if k3 is not None:
                modes["infer"]["k3"] = lambda: k3(x, training=False)
                modes["train"]["k3"] = k3_train
            for mode, fns in modes.items():
                grad = mode == "train"
                with torch.set_grad_enabled(grad):
                    for fn in fns.values():
                        fn()  # warm-up
                    times: dict[str, list[float]] = {name: [] for name in fns}
                    for _ in range(opts.reps):  # interleaved
                        for name, fn in fns.items():
                            times[name] += timed(fn, 1)
                med = {name: statistics.median(v) * 1e3 for name, v in times.items()}
                ktm, t, k3m = med["kt"], med.get("torch"), med.get("k3")
                cells = [kind, str(units), mode, f"{ktm:.1f}", "" if t is None else f"{t:.1f}",
                         "" if t is None else f"{ktm / t:.2f}", "" if k3m is None else f"{k3m:.1f}",
                         "" if k3m is None else f"{k3m / ktm:.1f}"]
                print("| " + " | ".join(cells) + " |", flush=True)


def keras3_train_step(layer: Any, x: torch.Tensor) -> Callable[[], None]:
    params = [v.value for v in layer.trainable_variables]
    opt = torch.optim.SGD(params, lr=1e-3)

    def step() -> None:
        y = layer(x, training=True)
        loss = (y ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


if __name__ == "__main__":
    main()
