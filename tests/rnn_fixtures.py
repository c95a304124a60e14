"""Reading compat_fixtures/rnn/ (recorded from real tf.keras 2.21 and Keras 3.15.1 by compat_fixtures/gen/rnn.py)."""
from __future__ import annotations

from typing import Any

import torch

import kerastorch.activations as A
import kerastorch.layers as L
from kt_testing import load_json, load_tensors

CASES = load_json("rnn/cases.json")
TENSORS = load_tensors("rnn/tensors.safetensors")


def build(spec: dict) -> Any:
    """The kerastorch layer of a fixture spec (``{"cls", "args"}``, Bidirectional ``layer``/``backward_layer``,
    RNN ``cells``)."""
    cls, args = spec["cls"], dict(spec["args"])
    if cls == "Bidirectional":
        back = build(spec["backward_layer"]) if "backward_layer" in spec else None
        return L.Bidirectional(build(spec["layer"]), backward_layer=back, **args)
    if cls == "RNN":
        cells = [build(c) for c in spec["cells"]]
        return L.RNN(cells[0] if len(cells) == 1 else cells, **args)
    return getattr(L, cls)(**args)


def keras3_activations(config: Any) -> Any:
    """A Keras 3 config with its activation names as kerastorch's registry spells them (hard_sigmoid's formula)."""
    if isinstance(config, dict):
        return {k: A.from_keras3(v) if k in ("activation", "recurrent_activation") else keras3_activations(v)
                for k, v in config.items()}
    if isinstance(config, list):
        return [keras3_activations(v) for v in config]
    return config


def flat(y: Any) -> list[torch.Tensor]:
    if isinstance(y, (list, tuple)):
        return [t for v in y for t in flat(v)]
    return [y]


def structure(y: Any) -> Any:
    return [structure(v) for v in y] if isinstance(y, (list, tuple)) else 0


def call_inputs(case: dict, requires_grad: bool = False) -> tuple[torch.Tensor, dict, list[torch.Tensor]]:
    cid = case["id"]
    x = TENSORS[f"{cid}.input"].clone().requires_grad_(requires_grad)
    kwargs: dict = {"training": False}
    if case["mask"]:
        kwargs["mask"] = TENSORS[f"{cid}.mask"]
    states = [TENSORS[f"{cid}.state.{i}"].clone().requires_grad_(requires_grad) for i in range(case["n_states"])]
    if states:
        kwargs["initial_state"] = states
    return x, kwargs, states


def weights(case: dict) -> list[torch.Tensor]:
    cid, out, i = case["id"], [], 0
    while f"{cid}.weight.{i}" in TENSORS:
        out.append(TENSORS[f"{cid}.weight.{i}"])
        i += 1
    return out
