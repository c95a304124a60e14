"""Attention: a 4-layer transformer encoder as a kerastorch functional model vs the same encoder written by hand
on ``F.scaled_dot_product_attention``, same process, same weights (outputs checked equal before timing).

Encoder: d_model 256, 8 heads (key_dim 32), feed-forward 1024 (relu), post-norm residual blocks (keras.io's
TransformerBlock: MultiHeadAttention -> Add -> LayerNormalization -> Dense -> Dense -> Add -> LayerNormalization),
batch 8, sequence 128, float32.

- ``infer``: forward under ``torch.no_grad()`` (eval mode);
- ``train``: forward, ``(y ** 2).mean()``, backward, one SGD step;
- ``padded``: the batch right-padded (lengths 128..72); kerastorch gets the padding as Keras does (a ``Masking``
  layer; the mask reaches MultiHeadAttention through the graph: query and value masks), the hand-written encoder
  gets the same mask as the additive bias Keras computes (``-1e9`` where query or key is padding).

``keras3``: the same encoder in Keras 3 on its torch backend (same weights, checked equal), when ``keras`` is
importable (``.venv-bench``). Timings: median of ``--reps`` interleaved repetitions after a warm-up.

    .venv/bin/python benchmarks/bench_attention.py [--device cuda] [--reps 10] [--threads 1]
    KERAS_BACKEND=torch .venv-bench/bin/python benchmarks/bench_attention.py --threads 1   # + Keras 3
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any, Callable

os.environ.setdefault("KERAS_BACKEND", "torch")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import kerastorch as kt  # noqa: E402
import kerastorch.layers as L  # noqa: E402

BATCH, SEQ, D, HEADS, FF, LAYERS = 8, 128, 256, 8, 1024, 4


def keras_encoder(masked: bool) -> Any:
    x_in = kt.models.Input((SEQ, D))
    x = L.Masking(0.0)(x_in) if masked else x_in
    for i in range(LAYERS):
        a = L.MultiHeadAttention(HEADS, D // HEADS, name=f"mha{i}")(x, x)
        x = L.LayerNormalization(epsilon=1e-6, name=f"ln_a{i}")(L.Add()([x, a]))
        f = L.Dense(FF, activation="relu", name=f"ff1_{i}")(x)
        f = L.Dense(D, name=f"ff2_{i}")(f)
        x = L.LayerNormalization(epsilon=1e-6, name=f"ln_b{i}")(L.Add()([x, f]))
    return kt.models.Model(x_in, x)


class HandBlock(torch.nn.Module):
    """One encoder block, as a torch user writes it (fused QKV-free: separate projections as Keras has them)."""

    def __init__(self) -> None:
        super().__init__()
        self.q, self.k, self.v, self.o = (torch.nn.Linear(D, D) for _ in range(4))
        self.ln1, self.ln2 = torch.nn.LayerNorm(D, eps=1e-6), torch.nn.LayerNorm(D, eps=1e-6)
        self.ff1, self.ff2 = torch.nn.Linear(D, FF), torch.nn.Linear(FF, D)

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        b, t, _ = x.shape
        q, k, v = (m(x).view(b, t, HEADS, D // HEADS).transpose(1, 2) for m in (self.q, self.k, self.v))
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        x = self.ln1(x + self.o(a.transpose(1, 2).reshape(b, t, D)))
        return self.ln2(x + self.ff2(F.relu(self.ff1(x))))


class HandEncoder(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = torch.nn.ModuleList(HandBlock() for _ in range(LAYERS))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        bias = None
        if mask is not None:
            keep = mask[:, None, :, None] & mask[:, None, None, :]
            bias = (~keep).to(x.dtype) * -1e9
        for blk in self.blocks:
            x = blk(x, bias)
        return x


def copy_weights(model: Any, hand: HandEncoder) -> None:
    with torch.no_grad():
        for i, blk in enumerate(hand.blocks):
            mha = model.get_layer(f"mha{i}")
            for lin, sub in ((blk.q, mha.query_dense), (blk.k, mha.key_dense), (blk.v, mha.value_dense)):
                lin.weight.copy_(sub.kernel.reshape(D, D).T)
                lin.bias.copy_(sub.bias.reshape(D))
            blk.o.weight.copy_(mha.output_dense.kernel.reshape(D, D).T)
            blk.o.bias.copy_(mha.output_dense.bias)
            for ln, name in ((blk.ln1, f"ln_a{i}"), (blk.ln2, f"ln_b{i}")):
                layer = model.get_layer(name)
                ln.weight.copy_(layer.gamma)
                ln.bias.copy_(layer.beta)
            for lin, name in ((blk.ff1, f"ff1_{i}"), (blk.ff2, f"ff2_{i}")):
                layer = model.get_layer(name)
                lin.weight.copy_(layer.keras_weight("kernel").T)
                lin.bias.copy_(layer.bias)


def keras3_encoder(masked: bool, model: Any) -> Any:
    """The same encoder in Keras 3 (torch backend) holding ``model``'s weights, or None without Keras 3."""
    try:
        import keras
    except ImportError:
        return None
    if keras.backend.backend() != "torch":
        return None
    K = keras.layers
    x_in = keras.Input((SEQ, D))
    x = K.Masking(0.0)(x_in) if masked else x_in
    for i in range(LAYERS):
        a = K.MultiHeadAttention(HEADS, D // HEADS, name=f"mha{i}")(x, x)
        x = K.LayerNormalization(epsilon=1e-6, name=f"ln_a{i}")(K.Add()([x, a]))
        f = K.Dense(FF, activation="relu", name=f"ff1_{i}")(x)
        f = K.Dense(D, name=f"ff2_{i}")(f)
        x = K.LayerNormalization(epsilon=1e-6, name=f"ln_b{i}")(K.Add()([x, f]))
    k3 = keras.Model(x_in, x)
    for layer in k3.layers:
        if layer.weights:
            layer.set_weights(model.get_layer(layer.name).get_weights())
    return k3


def timeit(fn: Callable[[], Any], device: str) -> float:
    if device == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cpu")
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = args.device
    torch.manual_seed(0)
    x = torch.randn(BATCH, SEQ, D, device=dev)
    lengths = torch.linspace(SEQ, SEQ * 0.56, BATCH).long()
    mask = torch.arange(SEQ)[None, :] < lengths[:, None]
    x_pad = x * mask.to(dev)[..., None]
    mask = mask.to(dev)
    rows = []
    for padded in (False, True):
        model = keras_encoder(padded).to(dev)
        model(x[:1])
        hand = HandEncoder().to(dev)
        copy_weights(model, hand)
        inp = x_pad if padded else x
        hmask = mask if padded else None
        model.eval()
        hand.eval()
        k3 = keras3_encoder(padded, model)
        with torch.no_grad():
            ref = model(inp)
            diff = (ref - hand(inp, hmask)).abs().max().item()
            # Keras 3 with padding computes something else: its MultiHeadAttention clears the masks of the tensors
            # it is called on, so the residual Add after it (Keras 3 merges masks only when every input has one)
            # drops the mask and the later blocks attend to the padding (recorded, not asserted)
            k3_diff = None if k3 is None else (torch.as_tensor(k3(inp, training=False)) - ref).abs().max().item()
        assert diff < 1e-3, diff
        assert padded or k3_diff is None or k3_diff < 1e-3, k3_diff
        for mode in ("infer", "train"):
            if mode == "infer":
                model.eval()
                hand.eval()

                def run_kt() -> None:
                    with torch.no_grad():
                        model(inp)

                def run_hand() -> None:
                    with torch.no_grad():
                        hand(inp, hmask)

                def run_k3() -> None:
                    with torch.no_grad():
                        k3(inp, training=False)
            else:
                model.train()
                hand.train()
                opt_kt = torch.optim.SGD(model.parameters(), lr=1e-4)
                opt_hand = torch.optim.SGD(hand.parameters(), lr=1e-4)

                def run_kt() -> None:
                    opt_kt.zero_grad()
                    (model(inp) ** 2).mean().backward()
                    opt_kt.step()

                def run_hand() -> None:
                    opt_hand.zero_grad()
                    (hand(inp, hmask) ** 2).mean().backward()
                    opt_hand.step()

                opt_k3 = None if k3 is None else torch.optim.SGD([v.value for v in k3.trainable_variables], lr=1e-4)

                def run_k3() -> None:
                    opt_k3.zero_grad()
                    (k3(inp, training=True) ** 2).mean().backward()
                    opt_k3.step()
            for _ in range(2):
                run_kt()
                run_hand()
                if k3 is not None:
                    run_k3()
            t_kt, t_hand, t_k3 = [], [], []
            for _ in range(args.reps):
                t_kt.append(timeit(run_kt, dev))
                t_hand.append(timeit(run_hand, dev))
                if k3 is not None:
                    t_k3.append(timeit(run_k3, dev))
            a, b = statistics.median(t_kt), statistics.median(t_hand)
            c = statistics.median(t_k3) if t_k3 else None
            rows.append((("padded " if padded else "") + mode, a, b, a / b, c, diff, k3_diff))
    print(f"device={dev} torch={torch.__version__} threads={torch.get_num_threads()} batch={BATCH} seq={SEQ} d={D} "
          f"heads={HEADS} layers={LAYERS}")
    print("| mode | kerastorch ms | hand-written SDPA ms | kt/hand | Keras 3 (torch) ms | Keras 3/kt | max abs diff hand | "
          "max abs diff Keras 3 |")
    print("|---|---|---|---|---|---|---|---|")
    for mode, a, b, r, c, d, k in rows:
        k3 = f"{c:.1f} | {c / a:.2f}" if c is not None else " | "
        print(f"| {mode} | {a:.1f} | {b:.1f} | {r:.2f} | {k3} | {d:.1e} | {'' if k is None else f'{k:.1e}'} |")


if __name__ == "__main__":
    main()
