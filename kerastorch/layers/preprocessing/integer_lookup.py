"""``IntegerLookup`` (Keras 3 / tf.keras): integer terms to vocabulary indices, or back with ``invert=True``.

All tensor ops, no per-element Python: the vocabulary is kept sorted (``_keys``, int64 buffers on the module's
device); a lookup is one ``torch.searchsorted`` and a gather, unknown terms go to the OOV index (or, with
several, to ``floormod(term, num_oov_indices)`` as Keras's default ``oov_method``), the mask token to 0 (int
mode) or out of the encoding. ``invert`` gathers from the index -> term table.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..._registry import LAYERS
from .index_lookup import IndexLookup

__all__ = ["IntegerLookup"]


@LAYERS.register()
class IntegerLookup(IndexLookup):
    """Keras ``IntegerLookup(max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1, vocabulary=None,
    vocabulary_dtype='int64', idf_weights=None, invert=False, output_mode='int', sparse=False,
    pad_to_max_tokens=False, oov_method='floormod', ...)``."""

    _vocabulary_dtype = "int64"
    _table_buffers = ("_keys", "_values", "_inverse_table", "_dense")
    #: a vocabulary whose values span at most this many times its size (and _DENSE_MAX) is looked up in a
    #: dense table (one gather) instead of by binary search
    _DENSE_RATIO, _DENSE_MAX = 8, 1 << 22

    def __init__(
        self,
        max_tokens: int | None = None,
        num_oov_indices: int = 1,
        mask_token: int | None = None,
        oov_token: int = -1,
        vocabulary: Any = None,
        vocabulary_dtype: str = "int64",
        idf_weights: Any = None,
        invert: bool = False,
        output_mode: str = "int",
        sparse: bool = False,
        pad_to_max_tokens: bool = False,
        oov_method: str = "floormod",
        salt: Any = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        if vocabulary_dtype != "int64":
            raise ValueError(
                f'IntegerLookup layer "{name or "integer_lookup"}": Only `vocabulary_dtype=\'int64\'` is supported '
                f"at this time. Received: vocabulary_dtype={vocabulary_dtype}"
            )
        if salt is not None and oov_method != "farmhash":
            raise ValueError(
                f'IntegerLookup layer "{name or "integer_lookup"}": `salt` can only be used when '
                f"`oov_method='farmhash'`. Received: oov_method={oov_method}"
            )
        super().__init__(
            max_tokens=max_tokens, num_oov_indices=num_oov_indices,
            mask_token=None if mask_token is None else int(mask_token),
            oov_token=None if oov_token is None else int(oov_token), vocabulary=vocabulary, idf_weights=idf_weights,
            invert=invert, output_mode=output_mode, sparse=sparse, pad_to_max_tokens=pad_to_max_tokens,
            oov_method=oov_method, salt=salt, name=name, **kwargs,
        )

    # ----- terms -----
    def _convert_token(self, token: Any) -> Any:
        if isinstance(token, (bool, np.bool_)) or not isinstance(token, (int, np.integer)):
            if isinstance(token, (float, np.floating)) and float(token).is_integer():
                return int(token)
            self._fail(f"the vocabulary of an IntegerLookup holds integers; received {token!r}.")
        return int(token)

    def _parse_line(self, line: str, where: str) -> Any:
        try:
            return int(line)
        except ValueError:
            self._fail(f"{where}: the line {line[:50]!r} is not an integer.")

    def _as_batch_array(self, data: Any) -> np.ndarray:
        arr = data.detach().cpu().numpy() if isinstance(data, torch.Tensor) else np.asarray(data)
        if arr.dtype.kind not in "iub" and not (arr.dtype.kind == "f" and arr.size == 0):
            self._fail(f"`adapt` takes integer data; received dtype {arr.dtype}.")
        return arr.astype(np.int64)

    def _rows(self, data: Any) -> list[list[Any]]:
        arr = self._as_batch_array(data)
        if arr.ndim <= 1:
            return [arr.reshape(-1).tolist()]
        return arr.reshape(arr.shape[0], -1).tolist()

    def update_state(self, data: Any) -> None:
        """Keras ``update_state``; the term counts of a batch by ``np.unique`` (vectorized)."""
        if self._has_input_vocabulary or self.output_mode == "tf_idf":
            return super().update_state(data)
        arr = self._as_batch_array(data)
        values, counts = np.unique(arr.reshape(-1), return_counts=True)
        self._token_counts.update(dict(zip(values.tolist(), counts.tolist())))

    def _on_vocabulary(self) -> None:
        device = self._device_probe.device
        tokens = torch.tensor(self._tokens, dtype=torch.int64, device=device)
        order = torch.argsort(tokens)
        self._keys = tokens[order].contiguous()
        self._values = (order + self._token_start_index()).to(torch.int64)
        if self.invert:
            fill = [0 if t is None else t for t in self.get_vocabulary()]
            self._inverse_table = torch.tensor(fill, dtype=torch.int64, device=device)
        self._dense = None
        if self._tokens:
            # a dense table over [lo - 1, hi + 1] (the mask token's place included): entry = the index, the mask
            # value, or the default (the OOV index; -1 when OOV terms need hashing or are refused); both ends hold
            # the default, so a clamped offset answers every input, wrapped int64 differences too
            terms = self._tokens + ([self.mask_token] if self.mask_token is not None else [])
            lo, hi = min(terms) - 1, max(terms) + 1
            span = hi - lo + 1
            if span <= min(max(self._DENSE_RATIO * len(terms), 1024), self._DENSE_MAX):
                default = self._oov_start_index() if self.num_oov_indices == 1 else -1
                dense = torch.full((span,), default, dtype=torch.int64, device=device)
                dense[tokens - lo] = torch.arange(len(self._tokens), device=device) + self._token_start_index()
                if self.mask_token is not None:
                    dense[self.mask_token - lo] = self._mask_value()
                self._dense = dense
                self._dense_base = lo

    # ----- call -----
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args and isinstance(args[0], (list, tuple)) and args[0] and not getattr(args[0][0], "_kt_symbolic", False):
            args = (torch.as_tensor(np.asarray(args[0])), *args[1:])  # Keras takes a list of integers
        x = args[0] if args else None
        floating = (x.dtype.kind in "fc" if isinstance(x, np.ndarray)
                    else isinstance(x, torch.Tensor) and (x.is_floating_point() or x.is_complex()))
        if floating:
            self._fail(f"expected integer inputs, received dtype {x.dtype}.")  # before anything is built
        return super().__call__(*args, **kwargs)

    def _lookup(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs if inputs.dtype == torch.int64 else inputs.to(torch.int64)
        if self._dense is not None:  # sub, clamp, one gather (mask and OOV are in the table)
            ids = self._dense[(x - self._dense_base).clamp_(0, self._dense.numel() - 1)]
            if self.num_oov_indices != 1:
                ids = self._oov_fallback(x, ids, ids < 0)
            return ids
        keys = self._keys
        if keys is None or keys.numel() == 0:
            found = torch.zeros(x.shape, dtype=torch.bool, device=x.device)
            ids = torch.zeros(x.shape, dtype=torch.int64, device=x.device)
        else:
            pos = torch.searchsorted(keys, x).clamp_(max=keys.numel() - 1)
            found = keys[pos] == x
            ids = self._values[pos]
        if self.num_oov_indices == 1:
            ids = torch.where(found, ids, self._oov_start_index())
        else:
            ids = self._oov_fallback(x, ids, ~found)
        if self.mask_token is not None:
            ids = torch.where(x == self.mask_token, self._mask_value(), ids)
        return ids

    def _oov_fallback(self, x: torch.Tensor, ids: torch.Tensor, missing: torch.Tensor) -> torch.Tensor:
        """``ids`` with the ``missing`` terms sent to Keras's OOV buckets (several OOV indices), or refused (none)."""
        if self.num_oov_indices > 1:
            if self.oov_method == "farmhash":  # FarmHash64 (SipHash with a salt) of the decimal string, as TF
                from . import fingerprint

                data, lengths = fingerprint.decimal_bytes(x)
                hashes = (fingerprint.fingerprint64(data, lengths) if self.salt is None
                          else fingerprint.siphash(data, lengths, self.salt))
                buckets = fingerprint.unsigned_mod(hashes, self.num_oov_indices).reshape(x.shape)
            else:
                buckets = torch.remainder(x, self.num_oov_indices)
            return torch.where(missing, buckets + self._oov_start_index(), ids)
        if self.mask_token is not None:
            missing = missing & (x != self.mask_token)
        if not (torch.compiler.is_compiling() or torch.jit.is_tracing()):
            # checked eagerly only (a host sync, as Keras's tf.Assert)
            if bool(missing.any()):
                self._fail(f"When `num_oov_indices=0` all inputs should be in vocabulary, found OOV values "
                           f"{x[missing][:10].tolist()}, consider setting `num_oov_indices=1`.")
        return torch.where(missing, -1, ids)

    def _invert(self, inputs: torch.Tensor) -> torch.Tensor:
        table = self._inverse_table
        x = inputs.to(torch.int64)
        if table is None or table.numel() == 0:
            return torch.full_like(x, self.oov_token)
        n = table.numel()
        valid = (x >= 0) & (x < n)
        picked = table[x.clamp(0, n - 1)]
        return torch.where(valid, picked, torch.full_like(picked, self.oov_token))

    def _prepare(self, inputs: Any) -> Any:
        if isinstance(inputs, torch.Tensor) and (inputs.is_floating_point() or inputs.is_complex()):
            self._fail(f"expected integer inputs, received a tensor of dtype {inputs.dtype}.")
        if not isinstance(inputs, torch.Tensor):
            self._fail(f"expected an integer tensor, NumPy array or list; received {type(inputs).__name__}.")
        return super()._prepare(inputs)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if self.invert:
            return self._invert(inputs)
        return self._encode(self._lookup(inputs))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["vocabulary"] = None if config["vocabulary"] is None else [int(v) for v in config["vocabulary"]]
        return config
