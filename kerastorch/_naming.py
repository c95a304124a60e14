"""Keras-style unique layer names ('conv2d', 'conv2d_1', ...). Names never enter state_dict keys."""
from __future__ import annotations

import itertools
import re
import threading
from collections import defaultdict

_lock = threading.Lock()
_counters: defaultdict[str, itertools.count] = defaultdict(itertools.count)


def to_snake_case(name: str) -> str:
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    insecure = re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    return insecure if insecure[0] != "_" else "private" + insecure


def unique_name(base: str) -> str:
    with _lock:
        n = next(_counters[base])
    return base if n == 0 else f"{base}_{n}"


def clear_session() -> None:
    """Reset the name counters, as ``keras.backend.clear_session()`` does."""
    with _lock:
        _counters.clear()
