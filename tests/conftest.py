"""Every test starts from fresh Keras layer names (``conv2d``, ``conv2d_1``, ...)."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_names():
    import kerastorch

    kerastorch.clear_session()
    yield
