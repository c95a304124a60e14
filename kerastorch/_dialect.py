"""The Keras version that wrote the file being read, decided once per file (``keras_dialect``).

tf.keras and Keras 3 read some configs differently (``hard_sigmoid``'s formula, Keras 3-only activations, the
mask rules of merging and pass-through layers). A file says which Keras wrote it (``metadata.json`` /
the h5 ``keras_version`` attribute); everything that depends on it reads :func:`file_is_keras3` here.
"""
from __future__ import annotations

import contextlib
import contextvars
import re
from typing import Any, Iterator

# True for Keras 3, False for tf.keras / Keras 2, None when no file is being read or it does not say.
_KERAS3_FILE: contextvars.ContextVar[bool | None] = contextvars.ContextVar("kerastorch_keras3_file", default=None)


def is_keras3_version(version: Any) -> bool | None:
    """Whether a file's ``keras_version`` (``'3.15.1'``, ``b'2.21.0'``) is Keras 3; None if it says nothing."""
    if isinstance(version, bytes):
        version = version.decode("utf-8", "replace")
    match = re.match(r"\s*(\d+)\.", version) if isinstance(version, str) else None
    return None if match is None else int(match.group(1)) >= 3


def file_is_keras3() -> bool | None:
    """The dialect of the file being read: True (Keras 3), False (tf.keras / Keras 2) or None (unknown)."""
    return _KERAS3_FILE.get()


@contextlib.contextmanager
def keras_dialect(keras_version: Any) -> Iterator[None]:
    """Read the configs built in this block as the Keras version that wrote the file does: Keras 3 names and
    formulas (its ``hard_sigmoid``, ``hard_silu``, ...) and mask rules for a Keras 3 file, tf.keras's for a
    tf.keras / Keras 2 file, whatever keys each entry carries (tf.keras 2.13+ writes ``module``/
    ``registered_name`` too, and Keras 3's legacy ``.h5`` writer omits them). ``keras_version`` ``None`` or
    unreadable: each entry by its own form."""
    token = _KERAS3_FILE.set(is_keras3_version(keras_version))
    try:
        yield
    finally:
        _KERAS3_FILE.reset(token)
