"""Keras's categorical output modes as one torch function: ``encode_categorical_inputs``.

Keras 3 shares ``keras.src.utils.numerical_utils.encode_categorical_inputs`` between ``IntegerLookup``,
``StringLookup``, ``TextVectorization``, ``CategoryEncoding``, ``Hashing``, ``HashedCrossing`` and
``Discretization`` (tf.keras: ``preprocessing_utils.encode_categorical_inputs``); this is its torch
equal, for every one of those layers (owned by the vocabulary layers of issue 21; the other
preprocessing layers may import it).

Semantics reproduced (both Kerases on the TensorFlow backend, whose bincount path runs for rank <= 2):

- a scalar input is one sample of one element;
- ``one_hot``: each element becomes a ``depth`` vector; a trailing axis of size 1 is replaced by it;
- ``multi_hot`` / ``count`` / ``tf_idf``: the last axis is the sample (a rank-1 input is ONE sample, so
  its output has shape ``(depth,)``), and an element's index gets 1 / its count / its count times
  ``idf_weights[index]``; ``count_weights`` (same shape as the input) are summed instead of 1;
- an index outside ``[0, depth)`` contributes nothing (TF's bincount drops it: the lookups' mask value
  ``int64.max`` relies on this). Layers that must refuse such indices (``CategoryEncoding``) check first.

Rank > 2 for multi_hot/count: Keras 3's general path reduces over axis 1 (``(b, n, m) -> (b, m, depth)``);
tf.keras refuses it. Both are available: ``high_rank="keras3"`` or ``"error"``.

Everything is batched tensor ops (one ``scatter_add_`` per call): no host sync, ``torch.compile``-able.
"""
from __future__ import annotations

import torch

__all__ = ["encode_categorical_inputs", "OUTPUT_MODES"]

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def _bincount_rows(rows: torch.Tensor, depth: int, weights: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor:
    """``rows`` (n, m) of indices -> (n, depth) sums of ``weights`` (or 1) per index; out-of-range dropped."""
    valid = (rows >= 0) & (rows < depth)
    # invalid indices go to an extra column that is cut off afterwards
    idx = torch.where(valid, rows, torch.full_like(rows, depth))
    src = torch.ones(rows.shape, dtype=dtype, device=rows.device) if weights is None else weights.to(dtype)
    out = torch.zeros((rows.shape[0], depth + 1), dtype=dtype, device=rows.device)
    out.scatter_add_(1, idx.long(), src)
    return out[:, :depth]


def encode_categorical_inputs(
    inputs: torch.Tensor,
    output_mode: str,
    depth: int,
    dtype: torch.dtype = torch.float32,
    count_weights: torch.Tensor | None = None,
    idf_weights: torch.Tensor | None = None,
    high_rank: str = "keras3",
) -> torch.Tensor:
    """Encode integer indices as Keras's ``output_mode`` does (see the module docstring).

    ``dtype`` is the output dtype (``count_weights``' dtype wins for ``count``, as in Keras); ``tf_idf``
    multiplies the counts by ``idf_weights`` (shape ``(depth,)``) and returns ``idf_weights``' dtype.
    """
    if output_mode not in OUTPUT_MODES:
        raise ValueError(f"Unknown `output_mode` {output_mode!r}; expected one of {OUTPUT_MODES}.")
    if output_mode == "int":
        return inputs.to(dtype)
    if inputs.dim() == 0:
        inputs = inputs.reshape(1)
        if count_weights is not None:
            count_weights = count_weights.reshape(1)
    if output_mode == "one_hot":
        if inputs.dim() > 1 and inputs.shape[-1] == 1:
            inputs = inputs.squeeze(-1)
        classes = torch.arange(depth, device=inputs.device, dtype=inputs.dtype)
        return (inputs.unsqueeze(-1) == classes).to(dtype)
    if output_mode == "multi_hot":
        count_weights = None  # TF's binary bincount: presence only
    if count_weights is not None:
        dtype = count_weights.dtype
    if output_mode == "tf_idf" and idf_weights is not None:
        dtype = idf_weights.dtype
    rank = inputs.dim()
    if rank > 2:
        if high_rank == "error":
            raise ValueError(
                f"When output_mode is not `'int'`, maximum supported output rank is 2. Received output_mode "
                f"{output_mode} and input shape {tuple(inputs.shape)}, which would result in output rank {rank}."
            )
        # Keras 3's general path: one_hot then reduce over axis 1
        moved = inputs.movedim(1, -1)
        w = None if count_weights is None else count_weights.movedim(1, -1)
        lead = moved.shape[:-1]
        out = _bincount_rows(moved.reshape(-1, moved.shape[-1]), depth, None if w is None else w.reshape(-1, w.shape[-1]), dtype)
        out = out.reshape(*lead, depth)
    else:
        rows = inputs.reshape(1, -1) if rank == 1 else inputs
        w = None if count_weights is None else count_weights.reshape(rows.shape)
        out = _bincount_rows(rows, depth, w, dtype)
        if rank == 1:
            out = out.reshape(depth)
    if output_mode == "multi_hot":
        out = out.clamp(max=1)
    elif output_mode == "tf_idf":
        if idf_weights is None:
            raise ValueError("When output mode is `'tf_idf'`, idf_weights must be provided.")
        out = out * idf_weights.to(device=out.device)
    return out
