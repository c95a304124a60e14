"""torch.export and ONNX export of models made of kerastorch layers.

The exported programs must compute what the eager module computes on new inputs, including a
dynamic batch dimension. ONNX: ``torch.onnx.export(..., dynamo=True)`` (the torch.export-based
exporter, which needs ``onnxscript``), run by onnxruntime. The opset is pinned so the test does
not silently change with the exporter's default.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import kerastorch as kt
from kerastorch.layers import Conv2D
from kt_testing import assert_close

onnx = pytest.importorskip("onnx")  # the [test] extra installs onnx, onnxscript and onnxruntime
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

ONNX_OPSET = 18
TOL = dict(kind="graph")  # whole graphs: see kt_testing
BATCH = torch.export.Dim("batch", min=1, max=64)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = Conv2D(8, 3, strides=2, padding="same", activation="relu",
                           activity_regularizer="l2", input_shape=(10, 8, 3))  # asymmetric TF padding
        self.grouped = Conv2D(8, 3, padding="same", groups=2, activation="tanh", input_shape=(5, 4, 8))
        self.dilated = Conv2D(6, 3, padding="same", dilation_rate=2, use_bias=False, input_shape=(5, 4, 8))
        self.cf = Conv2D(4, (2, 3), padding="same", data_format="channels_first", activation="sigmoid",
                         input_shape=(6, 5, 4))

    def forward(self, x):
        y = self.dilated(self.grouped(self.stem(x)))
        return self.cf(y.permute(0, 3, 1, 2))


def _x(batch):
    return torch.randn(batch, 10, 8, 3)


@pytest.fixture
def model():
    return Net().eval()


def _eager(model, x):
    with torch.no_grad():
        return model(x)


def test_export_static_shapes(model):
    x = _x(2)
    ep = torch.export.export(model, (x,))
    # parameters are lifted under their state_dict names
    assert set(ep.state_dict) == set(model.state_dict())
    assert_close(ep.module()(x), _eager(model, x), **TOL)
    x_new = _x(2)
    assert_close(ep.module()(x_new), _eager(model, x_new), **TOL)


def test_export_with_dynamic_batch(model):
    ep = torch.export.export(model, (_x(2),), dynamic_shapes=({0: BATCH},))
    exported = ep.module()
    for batch in (1, 3, 7):
        x = _x(batch)
        out = exported(x)
        assert out.shape == (batch, 4, 5, 4)
        assert_close(out, _eager(model, x), **TOL)


def test_export_leaves_the_module_state_alone(model):
    x = _x(2)
    model(x)
    losses = [loss.detach().clone() for loss in kt.collect_losses(model)]
    torch.export.export(model, (_x(4),), dynamic_shapes=({0: BATCH},))
    # tracing did not leave traced tensors behind in the layers (activity losses, caches)
    after = kt.collect_losses(model)
    assert len(after) == len(losses)
    for a, b in zip(after, losses):
        assert type(a) is torch.Tensor
        assert_close(a.detach(), b)
    # and the layers still run eagerly as before
    assert model(x).shape == (2, 4, 5, 4)


def test_export_of_an_unbuilt_model_after_a_first_call():
    """An unbuilt model is built by one eager call; export then sees ordinary parameters."""
    net = torch.nn.Sequential(Conv2D(4, 3, padding="same"), Conv2D(2, 3, strides=2, padding="same"))
    x = _x(2)
    net(x)
    ep = torch.export.export(net, (x,), dynamic_shapes=({0: BATCH},))
    x5 = _x(5)
    assert_close(ep.module()(x5), _eager(net, x5), **TOL)


def test_export_round_trip_through_save_and_load(model, tmp_path):
    ep = torch.export.export(model, (_x(2),), dynamic_shapes=({0: BATCH},))
    path = tmp_path / "net.pt2"
    torch.export.save(ep, path)
    loaded = torch.export.load(path)
    x = _x(3)
    assert_close(loaded.module()(x), _eager(model, x), **TOL)


def test_onnx_export_runs_in_onnxruntime(model, tmp_path):
    path = tmp_path / "net.onnx"
    x = _x(2)
    torch.onnx.export(
        model, (x,), str(path), dynamo=True, opset_version=ONNX_OPSET,
        input_names=["x"], output_names=["y"], dynamic_shapes=({0: BATCH},),
    )
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    assert {op.domain or "": op.version for op in proto.opset_import}[""] == ONNX_OPSET

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["x"]
    for batch in (2, 5):
        x_new = _x(batch)
        (out,) = session.run(["y"], {"x": x_new.numpy()})
        assert_close(torch.from_numpy(out), _eager(model, x_new), **TOL)
