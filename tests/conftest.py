"""Suite-wide setup: fresh Keras layer names for every test, and the test device.

``KT_TEST_DEVICE`` (``kt_testing.DEVICE``, default ``cpu``) is the one place the suite takes its device from. On
CUDA: tensors are created on the GPU by default (``torch.set_default_device``; the recorded fixtures move there in
``kt_testing.load_tensors``), TF32 is off for parity (matmul and cuDNN), and every forward of a module and every
backward run under ``torch.cuda.set_sync_debug_mode("error")``: a forward or backward pass that synchronizes with
the host (``.item()``, ``.tolist()``, a data-dependent Python branch, a copy to the CPU) fails the test.
On the CPU the same property is checked on the meta device, where any data-dependent host read raises
(``tests/torch_integration/test_device_path.py`` and the contract battery's meta checks).
"""
from __future__ import annotations

import pytest
import torch

from kt_testing import DEVICE


def _guard_host_syncs() -> None:
    """Sync-debug mode "error" around every module forward (outermost call) and every autograd backward."""
    depth = [0]

    def enter(*_args, **_kwargs):
        if depth[0] == 0:
            torch.cuda.set_sync_debug_mode("error")
        depth[0] += 1

    def leave(*_args, **_kwargs):
        depth[0] -= 1
        if depth[0] == 0:
            torch.cuda.set_sync_debug_mode("default")

    torch.nn.modules.module.register_module_forward_pre_hook(enter)
    torch.nn.modules.module.register_module_forward_hook(leave, always_call=True)

    def guarded(fn):
        def run(*args, **kwargs):
            enter()
            try:
                return fn(*args, **kwargs)
            finally:
                leave()
        return run

    torch.autograd.backward = guarded(torch.autograd.backward)
    torch.autograd.grad = guarded(torch.autograd.grad)


if DEVICE.type == "cuda":
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_default_device(DEVICE)
    _guard_host_syncs()


@pytest.fixture(autouse=True)
def _fresh_names():
    import kerastorch

    kerastorch.clear_session()
    yield
