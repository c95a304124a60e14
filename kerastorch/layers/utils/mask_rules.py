"""Which Keras wrote a layer's config, for the few mask rules where tf.keras and Keras 3 differ.

tf.keras ANDs the masks a merging layer gets (whichever exist), concatenates them with ``all``, and drops the
mask at ``Identity``/``Rescaling``/``Normalization``; Keras 3 ORs them only when every input has one, uses
``any``, and passes the mask through those layers (recorded in ``compat_fixtures/masks/masks.json``). A layer
read from a file follows the Keras that wrote the file (``kerastorch._dialect``); otherwise a layer built
from a Keras 3 config (its ``dtype`` is a ``DTypePolicy`` dict) follows Keras 3, and every other layer
follows tf.keras.
"""
from __future__ import annotations

from typing import Any

from ..._dialect import file_is_keras3


def keras3_config(kwargs: dict[str, Any]) -> bool:
    """Whether constructor ``kwargs`` follow Keras 3: the file being read says so, or (no file, or one that
    does not say) ``dtype`` is a ``DTypePolicy`` dict."""
    keras3 = file_is_keras3()
    if keras3 is not None:
        return keras3
    dtype = kwargs.get("dtype")
    return isinstance(dtype, dict) and "DTypePolicy" in str(dtype.get("class_name", ""))
