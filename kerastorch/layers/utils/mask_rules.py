"""Which Keras wrote a layer's config, for the few mask rules where tf.keras and Keras 3 differ.

tf.keras ANDs the masks a merging layer gets (whichever exist), concatenates them with ``all``, and drops the
mask at ``Identity``/``Rescaling``/``Normalization``; Keras 3 ORs them only when every input has one, uses
``any``, and passes the mask through those layers (recorded in ``compat_fixtures/masks/masks.json``). A layer
built from a Keras 3 config (its ``dtype`` is a ``DTypePolicy`` dict) follows Keras 3, so that a ``.keras``
file computes what Keras 3 computes; every other layer follows tf.keras.
"""
from __future__ import annotations

from typing import Any


def keras3_config(kwargs: dict[str, Any]) -> bool:
    """Whether constructor ``kwargs`` come from a Keras 3 config (``dtype`` is a ``DTypePolicy`` dict)."""
    dtype = kwargs.get("dtype")
    return isinstance(dtype, dict) and "DTypePolicy" in str(dtype.get("class_name", ""))
