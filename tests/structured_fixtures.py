"""The recorded cases of ``compat_fixtures/gen/structured.py`` (issue 21's structured-data and audio layers), shared
by their test files: each case's layer (built from the config real Keras wrote, in that version's dialect), input
and recorded output."""
from __future__ import annotations

import contextlib
import json
import os
from typing import Any

import numpy as np
import torch

from kerastorch import layers as L
from kerastorch._dialect import keras_dialect
from kt_testing import DEVICE

ROOT = os.path.join(os.path.dirname(__file__), "..", "compat_fixtures", "structured")
VERSIONS = {"tf_keras": "2.21.0", "keras3": "3.15.1"}


def load(name: str) -> Any:
    with open(os.path.join(ROOT, name)) as f:
        return json.load(f)


_TENSORS: dict[str, dict[str, np.ndarray]] = {}


def tensors(name: str = "tensors.safetensors") -> dict[str, np.ndarray]:
    if name not in _TENSORS:
        from safetensors.numpy import load_file

        _TENSORS[name] = load_file(os.path.join(ROOT, name))
    return _TENSORS[name]


CASES = load("cases.json")


def cases(class_name: str, computed: bool = True) -> list[dict]:
    """The recorded cases of one class (``computed``: those Keras computed; else those it refused to call)."""
    return [c for c in CASES if c["class_name"] == class_name and ("call_error" not in c) == computed]


def dialect(case: dict) -> contextlib.AbstractContextManager:
    return keras_dialect(VERSIONS[case["source"]])


def layer(case: dict) -> Any:
    """The layer from the config Keras recorded, read as that Keras version's file would be."""
    with dialect(case):
        return L.deserialize({"class_name": case["class_name"], "config": case["config"]})


def layer_from_args(case: dict) -> Any:
    with dialect(case):
        return getattr(L, case["class_name"])(**case["args"])


def case_input(case: dict) -> Any:
    """The case's input: string data as recorded (lists of str), numbers as tensors on the test device."""
    if case["input_kind"] == "str":
        return case["input"]
    if case["input_kind"] == "list":
        return [torch.tensor(np.asarray(x, dtype=d)).to(DEVICE) for x, d in zip(case["input"], case["input_dtypes"])]
    if case["id"] + ".input" in tensors():
        return torch.from_numpy(tensors()[case["id"] + ".input"].copy()).to(DEVICE)
    return torch.tensor(np.asarray(case["input"], dtype=case["input_dtype"])).to(DEVICE)


def expected(case: dict) -> torch.Tensor:
    if case["id"] + ".output" in tensors():
        return torch.from_numpy(tensors()[case["id"] + ".output"].copy())
    return torch.tensor(np.asarray(case["output"], dtype=case["output_dtype"]))


def call(case: dict, lay: Any) -> torch.Tensor:
    kwargs = {k: torch.tensor(np.asarray(v, dtype="float32")).to(DEVICE) for k, v in case.get("call_kwargs", {}).items()}
    return lay(case_input(case), **kwargs)


def _normalize(value: Any) -> Any:
    """Keras 3's spellings of the same value: a DTypePolicy dict is its name; tuples are lists."""
    if isinstance(value, dict) and value.get("class_name") == "DTypePolicy":
        return value["config"]["name"]
    if isinstance(value, (list, tuple)):
        return [_normalize(v) for v in value]
    return value


#: (source, class, key): what kerastorch writes differently, on purpose, so that both Kerases read its configs.
#: tf.keras's int-mode Discretization says dtype 'int64'; kerastorch writes 'float32', which tf.keras reads as
#: int64 output and Keras 3 as its input dtype (given 'int64', Keras 3 casts the input and bins truncated values);
#: and no 'trainable' (Keras 3's Discretization constructor refuses it; tf.keras defaults it).
WRITTEN_DIFFERENTLY = {("tf_keras", "Discretization", "dtype"), ("tf_keras", "Discretization", "trainable")}


def assert_config_matches(case: dict, lay: Any) -> None:
    """Every key of Keras's config is in kerastorch's, with the same value (the ones above excepted); kerastorch
    adds no key tf.keras does not know."""
    ours = json.loads(json.dumps(lay.get_config()))
    for key, theirs in case["config"].items():
        if (case["source"], case["class_name"], key) in WRITTEN_DIFFERENTLY:
            continue
        assert key in ours, (case["id"], key)
        assert _normalize(ours[key]) == _normalize(theirs), (case["id"], key, ours[key], theirs)
    if case["source"] == "tf_keras":
        assert set(ours) <= set(case["config"]), (case["id"], set(ours) - set(case["config"]))


def default_configs(class_name: str) -> list[dict]:
    """The default configs of ``compat_fixtures/layer_configs.json`` (both versions) for one class."""
    with open(os.path.join(ROOT, "..", "layer_configs.json")) as f:
        doc = json.load(f)
    return [c for c in doc["cases"] if c["class_name"] == class_name and "input" not in c]


#: Contract checks that assume a float output with a gradient: integer-output layers (Keras's int64 bins) replace
#: them with ``assert_compiled_forward`` (torch.compile(fullgraph=True) gives the eager output) and the parity tests
#: (the output dtype is the layer's, e.g. int64, whatever ``.to(float64)`` does to the module).
GRADIENT_CHECKS = {"pickle_built", "pickle_unbuilt", "deepcopy_built", "deepcopy_unbuilt", "to_float64_built",
                   "to_float64_unbuilt", "compile"}


def assert_compiled_forward(lay: Any, x: Any) -> None:
    """``torch.compile(fullgraph=True)`` (the contract's ``aot_eager`` backend: the graph is captured whole) of a deep
    copy of the layer computes its eager output (forward only)."""
    import copy

    torch._dynamo.reset()
    try:
        compiled = torch.compile(copy.deepcopy(lay), fullgraph=True, backend="aot_eager")
        want = lay(x)
        got = compiled(x)
        assert got.dtype == want.dtype
        torch.testing.assert_close(got, want, rtol=0, atol=0)
    finally:
        torch._dynamo.reset()


def assert_parity(case: dict, **tol: Any) -> Any:
    """The layer from Keras's config computes Keras's output on the case's input (same dtype and shape; exactly,
    unless a tolerance is given), and writes Keras's config. Returns the layer."""
    from kt_testing import assert_close

    lay = layer(case).to(DEVICE)
    out = call(case, lay)
    want = expected(case)
    assert out.dtype == want.dtype and out.shape == want.shape, (out.dtype, want.dtype, out.shape, want.shape)
    if tol:
        assert_close(out, want, **tol)
    else:
        torch.testing.assert_close(out.cpu(), want, rtol=0, atol=0)
    assert_config_matches(case, lay)
    return lay
