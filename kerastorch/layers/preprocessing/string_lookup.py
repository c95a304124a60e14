"""``StringLookup`` (Keras 3 / tf.keras): strings to vocabulary indices, or back with ``invert=True``.

Strings enter as a list of ``str`` or a NumPy ``str``/``bytes``/``object`` array (any shape Keras takes,
e.g. ``(batch,)`` or ``(batch, 1)``; :mod:`kerastorch.layers.utils.string_inputs`). One pass through a
``dict`` maps them to int64 indices on the layer's device; everything after that (the output modes) is
torch. ``invert=True`` maps an integer tensor/array back to a NumPy array of ``str``.
"""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import torch

from ..._registry import LAYERS
from ..utils.string_inputs import as_string_array, is_string_data
from .index_lookup import IndexLookup

__all__ = ["StringLookup", "StringLayerMixin"]


def _fingerprint() -> Any:
    """TF's string hashes (``.fingerprint``, written with the Hashing layer), imported when first needed."""
    from . import fingerprint

    return fingerprint


class StringLayerMixin:
    """``__call__`` of a layer whose input is strings: string data goes straight to torch's ``Module.__call__``
    (hooks run; the pipeline's tensor checks do not apply), symbolic inputs record a node, and a tensor is
    refused with a ValueError naming the layer."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args and is_string_data(args[0]) and self._takes_strings():
            return torch.nn.Module.__call__(self, *args, **kwargs)
        return super().__call__(*args, **kwargs)  # type: ignore[misc]

    def _takes_strings(self) -> bool:
        return True

    def _symbolic_check_arguments(self, args: tuple, kwargs: dict) -> None:
        """When the graph is built: an input straight from a model input of a non-string dtype can never be strings
        (that input layer refuses them, this layer refuses its tensors), so the call's refusal comes at load."""
        source = getattr(getattr(args[0] if args else None, "node", None), "layer", None)
        dtype = getattr(source, "dtype", "string") if hasattr(source, "_check_strings") else "string"
        if self._takes_strings() and dtype != "string":
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": expected strings (a list of str or a NumPy string '
                f'array; torch has no string tensors), received the model input "{source.name}" of dtype {dtype}.'
            )

    def _string_array(self, inputs: Any) -> np.ndarray:
        if not is_string_data(inputs):
            what = (f"a torch tensor of dtype {inputs.dtype}" if isinstance(inputs, torch.Tensor)
                    else f"{type(inputs).__name__}")
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": expected strings (a list of str or a NumPy string '
                f"array; torch has no string tensors), received {what}."
            )
        try:
            return as_string_array(inputs, getattr(self, "encoding", "utf-8"))
        except ValueError as e:
            raise ValueError(f'{type(self).__name__} layer "{self.name}": {e}') from None


@LAYERS.register()
class StringLookup(StringLayerMixin, IndexLookup):
    """Keras ``StringLookup(max_tokens=None, num_oov_indices=1, mask_token=None, oov_token='[UNK]',
    vocabulary=None, idf_weights=None, invert=False, output_mode='int', pad_to_max_tokens=False,
    sparse=False, encoding='utf-8', ...)``."""

    _vocabulary_dtype = "string"

    def __init__(
        self,
        max_tokens: int | None = None,
        num_oov_indices: int = 1,
        mask_token: str | None = None,
        oov_token: str = "[UNK]",
        vocabulary: Any = None,
        idf_weights: Any = None,
        invert: bool = False,
        output_mode: str = "int",
        pad_to_max_tokens: bool = False,
        sparse: bool = False,
        encoding: str = "utf-8",
        name: str | None = None,
        salt: Any = None,
        **kwargs: Any,
    ):
        kwargs.pop("vocabulary_dtype", None)
        self.encoding = encoding
        super().__init__(
            max_tokens=max_tokens, num_oov_indices=num_oov_indices, mask_token=mask_token, oov_token=oov_token,
            vocabulary=vocabulary, idf_weights=idf_weights, invert=invert, output_mode=output_mode,
            pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, name=name, salt=salt, **kwargs,
        )
        self.built = True  # no weights, no input shape to wait for: strings never reach the lazy build

    def _takes_strings(self) -> bool:
        return not self.invert

    # ----- terms -----
    def _convert_token(self, token: Any) -> Any:
        if isinstance(token, (bytes, np.bytes_)):
            return bytes(token).decode(self.encoding)
        return str(token)

    def _sort_keys(self, tokens: list[Any]) -> np.ndarray:
        return np.array([t.encode("utf-8") for t in tokens], dtype=object)  # TF's strings are bytes

    def _as_batch_array(self, data: Any) -> np.ndarray:
        return self._string_array(data)

    def _rows(self, data: Any) -> list[list[Any]]:
        arr = self._string_array(data)
        if arr.ndim <= 1:  # Keras: a scalar or a rank-1 batch is one document
            return [arr.reshape(-1).tolist()]
        return arr.reshape(arr.shape[0], -1).tolist()

    def _on_vocabulary(self) -> None:
        table = dict(self._index)
        if self.mask_token is not None:
            table[self.mask_token] = self._mask_value()
        self._table = table
        if self.invert:
            self._inverse = np.array(self.get_vocabulary(), dtype=object)

    # ----- call -----
    def _lookup(self, strings: np.ndarray) -> torch.Tensor:
        """Strings -> int64 indices (one dict pass), on the layer's device."""
        ids = self._lookup_list(strings.reshape(-1).tolist())
        return torch.from_numpy(ids.reshape(strings.shape)).to(self._device_probe.device)

    def _lookup_list(self, flat: list[str]) -> np.ndarray:
        """A flat list of terms -> their int64 indices (NumPy, on the host)."""
        get = getattr(self, "_table", {}).get
        default = self._oov_start_index() if self.num_oov_indices == 1 else -1
        ids = np.fromiter(map(get, flat, itertools.repeat(default, len(flat))), dtype=np.int64, count=len(flat))
        if self.num_oov_indices != 1 and len(ids):
            missing = np.flatnonzero(ids == -1)
            if len(missing) and self.num_oov_indices == 0:
                values = [flat[i] for i in missing[:10]]
                self._fail(f"When `num_oov_indices=0` all inputs should be in vocabulary, found OOV values "
                           f"{values}, consider setting `num_oov_indices=1`.")
            if len(missing):
                ids[missing] = self._hash_buckets([flat[i] for i in missing]) + self._oov_start_index()
        return ids

    def _hash_buckets(self, strings: list[str]) -> np.ndarray:
        """Keras's OOV buckets for ``num_oov_indices > 1``: FarmHash64 (SipHash with ``salt``) of the string
        modulo ``num_oov_indices`` (``tf.strings.to_hash_bucket_fast`` / ``_strong``)."""
        hashes, _ = _fingerprint().hash_strings(np.asarray(strings, dtype=object), self.salt)
        return _fingerprint().unsigned_mod(hashes, self.num_oov_indices).numpy()

    def forward(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        if self.invert:
            return self._invert(inputs)
        return self._encode(self._lookup(self._string_array(inputs)))

    def _invert(self, inputs: Any) -> np.ndarray:
        """Indices -> terms (Keras: an index outside the vocabulary gives ``oov_token``)."""
        if is_string_data(inputs):
            self._fail("with `invert=True` the input is integer indices, not strings.")
        ids = inputs.detach().cpu().numpy() if isinstance(inputs, torch.Tensor) else np.asarray(inputs)
        if ids.dtype.kind not in "iu":
            self._fail(f"with `invert=True` the input must be integer indices; received dtype {ids.dtype}.")
        table = getattr(self, "_inverse", np.array([], dtype=object))
        valid = (ids >= 0) & (ids < len(table))
        picked = table[np.where(valid, ids, 0)] if len(table) else np.full(ids.shape, None, dtype=object)
        out = np.where(valid, picked, self.oov_token)
        return out.astype(str)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["vocabulary_dtype"]
        config["encoding"] = self.encoding
        return config
