"""DistributedDataParallel over 2 processes (gloo; the model and data on the test device, KT_TEST_DEVICE) with a kerastorch model.

* Each rank gets half of the batch. Loss per rank = mean cross-entropy + ``regularization_loss``.
  DDP averages gradients over ranks, so: the mean CE of two equal halves averages to the mean CE
  of the whole batch; the activity regularizer (``reg(outputs) / batch_size`` per replica)
  averages to ``reg(all outputs) / full batch``; each rank adds the full weight-regularization
  term, and the average of two identical terms is that term. The all-reduced gradients on every
  rank must therefore equal a single-process step on the whole batch.
* ``attach_constraints`` projects the weights after ``optimizer.step()``: every rank ends with
  bitwise identical weights, equal to the single-process run.
* ``state_dict`` keys are identical across ranks and across instances (layer names, which come
  from global counters, never enter them).

Ranks write their results to files; the assertions run in the pytest process.
"""
from __future__ import annotations

import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

import kerastorch as kt
from kerastorch import constraints, regularizers
from kerastorch.layers import Conv2D
from kt_testing import DEVICE, assert_close

WORLD = 2
BATCH = 8
CLASSES = 5
STEPS = 2
LR = 0.5
def _keras(kernel):
    """A channels_last kernel as stored (out, kh, kw, in) -> Keras's (kh, kw, in, out)."""
    return kernel.permute(1, 2, 3, 0)


EXPECTED_KEYS = ["stem.kernel", "stem.bias", "body.kernel", "body.bias", "head.kernel", "head.bias"]
TOL = dict(kind="graph")  # whole graphs: see kt_testing

pytestmark = pytest.mark.slow


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = Conv2D(
            6, 3, strides=2, padding="same", activation="relu",
            kernel_regularizer=regularizers.L2(1e-2), activity_regularizer=regularizers.L1(1e-3),
            kernel_constraint=constraints.MaxNorm(0.3, axis=[0, 1, 2]), bias_constraint="non_neg",
        )
        self.body = Conv2D(6, 3, padding="same", groups=2, activation="tanh",
                           bias_regularizer="l2", kernel_constraint="unit_norm")
        self.head = Conv2D(CLASSES, 1, data_format="channels_first", activity_regularizer="l2")

    def forward(self, x):
        y = self.body(self.stem(x)).permute(0, 3, 1, 2)
        return self.head(y).mean(dim=(2, 3))


def _loss(model, logits, y):
    return F.cross_entropy(logits, y) + kt.regularization_loss(model)


def _train(model, step_model, x, y):
    """STEPS SGD steps with constraints; returns (first-step grads, first-step loss, final weights)."""
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    kt.attach_constraints(opt, model)
    grads = loss0 = None
    for step in range(STEPS):
        opt.zero_grad(set_to_none=True)
        loss = _loss(model, step_model(x), y)
        loss.backward()
        if step == 0:
            grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
            loss0 = loss.detach().clone()
        opt.step()
    return grads, loss0, {n: p.detach().clone() for n, p in model.named_parameters()}


def _worker(rank, init_file, out_dir, init_state, x, y):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD)
    try:
        result = {"rank": rank}
        # DDP refuses unbuilt (lazy) models; record what it says
        try:
            DDP(Net())
            result["ddp_unbuilt"] = None
        except Exception as e:  # noqa: BLE001 - the message is asserted in the parent
            result["ddp_unbuilt"] = f"{type(e).__name__}: {e}"

        model = Net()  # unbuilt: load_state_dict builds it with the parent's weights
        model.load_state_dict(init_state)
        result["keys"] = list(model.state_dict())
        other = Net()
        result["keys_other_instance"] = list(other.state_dict())
        result["names"] = [m.name for m in model.modules() if isinstance(m, Conv2D)]
        result["names_other_instance"] = [m.name for m in other.modules() if isinstance(m, Conv2D)]
        result["strides"] = {n: p.stride() for n, p in model.named_parameters()}

        ddp = DDP(model.to(DEVICE))  # every rank on the test device (gloo all-reduces CUDA tensors too)
        result["ddp_keys"] = list(ddp.module.state_dict())
        half = BATCH // WORLD
        xs, ys = x[rank * half:(rank + 1) * half].to(DEVICE), y[rank * half:(rank + 1) * half].to(DEVICE)
        grads, loss, weights = _train(model, ddp, xs, ys)
        result["grads"], result["loss"] = {n: g.cpu() for n, g in grads.items()}, loss.cpu()
        result["weights"] = {n: w.cpu() for n, w in weights.items()}
        torch.save(result, os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The single-process reference and the DDP results of both ranks."""
    tmp = tmp_path_factory.mktemp("ddp")
    torch.manual_seed(0)
    x = torch.randn(BATCH, 8, 8, 3) * 3  # large enough that the constraints bite
    y = torch.randint(0, CLASSES, (BATCH,))
    reference = Net()
    reference(x[:1])
    init_state = {k: v.detach().clone() for k, v in reference.state_dict().items()}

    ref = {"init": init_state}
    ref["grads"], ref["loss"], ref["weights"] = _train(reference, reference, x, y)
    # the same first step without constraints, to show that they matter
    free = Net()
    free.load_state_dict(init_state)
    opt = torch.optim.SGD(free.parameters(), lr=LR)
    _loss(free, free(x), y).backward()
    opt.step()
    ref["unconstrained"] = {n: p.detach().clone() for n, p in free.named_parameters()}
    ref["strides"] = {n: p.stride() for n, p in reference.named_parameters()}

    cpu_state = {k: v.cpu() for k, v in init_state.items()}
    mp.spawn(_worker, args=(str(tmp / "init"), str(tmp), cpu_state, x.cpu(), y.cpu()), nprocs=WORLD, join=True)
    ranks = [torch.load(tmp / f"rank{r}.pt", weights_only=False) for r in range(WORLD)]
    return ref, ranks



def test_allreduced_gradients_equal_single_process_on_whole_batch(run):
    ref, ranks = run
    for result in ranks:
        assert result["grads"].keys() == ref["grads"].keys()
        for name, grad in ref["grads"].items():
            assert_close(result["grads"][name], grad, **TOL, msg=f"rank {result['rank']} {name}")
    # the per-rank losses differ (different halves) but average to the whole-batch loss
    mean_loss = sum(r["loss"] for r in ranks) / WORLD
    assert_close(mean_loss, ref["loss"], **TOL)


def test_constraints_give_identical_weights_on_every_rank(run):
    ref, ranks = run
    first, *others = ranks
    for result in others:
        for name, w in first["weights"].items():
            assert torch.equal(result["weights"][name], w), name  # bitwise: same all-reduced grads
    for name, w in ref["weights"].items():
        assert_close(first["weights"][name], w, **TOL, msg=name)
    w = first["weights"]
    # the constraints hold after the steps ...
    norms = _keras(w["stem.kernel"]).square().sum(dim=(0, 1, 2)).sqrt()
    assert (norms <= 0.3 + 1e-6).all()
    assert (w["stem.bias"] >= 0).all()
    assert_close(_keras(w["body.kernel"]).square().sum(dim=0).sqrt(), torch.ones(3, 3, 6))
    # ... and did something: an unconstrained step breaks them
    free = ref["unconstrained"]
    assert (_keras(free["stem.kernel"]).square().sum(dim=(0, 1, 2)).sqrt() > 0.3 + 1e-3).any()
    assert not torch.allclose(_keras(free["body.kernel"]).square().sum(dim=0).sqrt(), torch.ones(3, 3, 6))


def test_state_dict_keys_identical_across_ranks_and_instances(run):
    ref, ranks = run
    assert list(ref["init"]) == EXPECTED_KEYS
    for result in ranks:
        assert result["keys"] == result["keys_other_instance"] == result["ddp_keys"] == EXPECTED_KEYS
        # layer names come from per-process counters and differ between instances; keys don't
        assert set(result["names"]).isdisjoint(result["names_other_instance"])
        # load_state_dict into the unbuilt model gives the memory layout a forward-built layer has
        assert result["strides"] == ref["strides"]


def test_ddp_refuses_an_unbuilt_model_with_a_clear_message(run):
    _, ranks = run
    for result in ranks:
        assert result["ddp_unbuilt"] is not None
        assert "uninitialized" in result["ddp_unbuilt"].lower()
