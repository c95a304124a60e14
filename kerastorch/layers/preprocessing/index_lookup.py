"""``IndexLookup``: the base of ``StringLookup`` and ``IntegerLookup`` (Keras 3's
``keras/src/layers/preprocessing/index_lookup.py``; tf.keras's is the same layer).

What is reproduced: the vocabulary layout ``[mask] + [oov] * num_oov_indices + tokens`` (the mask only in
``int`` mode), ``set_vocabulary``'s checks (special tokens allowed only at the start, no duplicates, no mask
token inside, ``max_tokens``, idf lengths), ``adapt`` (tokens by decreasing count, ties by decreasing
token — numpy ``lexsort`` then reversed, as Keras does; mask/OOV tokens removed; ``max_tokens`` cut;
tf_idf's ``log(1 + docs / (1 + doc_count))`` with the mean idf for the OOV slots), the lookup (unknown
tokens to the OOV index, ``floormod`` buckets for several integer OOV indices, the mask token to 0 in
``int`` mode and dropped in the other modes), ``invert`` (index -> token, unknown ids -> ``oov_token``),
the output modes (:mod:`.encoding_utils`), configs and the ``.keras`` assets (``vocabulary.txt``).

The vocabulary is host data, not a weight: ``state_dict`` holds no vocabulary (Keras keeps it in the
config or the archive's assets, never among the weights). Integer lookups run as tensor ops (a
``searchsorted`` on the sorted vocabulary and a gather); strings through one ``dict`` pass.
"""
from __future__ import annotations

import collections
import math
import os
from typing import Any, Iterable, Sequence

import numpy as np
import torch

from ..layer import Layer
from ..utils.mask_rules import keras3_config
from .encoding_utils import encode_categorical_inputs

__all__ = ["IndexLookup", "MAX_VOCABULARY_FILE_BYTES"]

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
#: A vocabulary file larger than this is refused before it is read (a file is untrusted input).
MAX_VOCABULARY_FILE_BYTES = 256 * 1024 * 1024
_INT64_MAX = torch.iinfo(torch.int64).max
_MAX_SIZE = 2**31 - 1  # kerastorch's bound on every size a config may ask for
_MAX_OOV = 2**20


def _listify(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().tolist()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    return value


class IndexLookup(Layer):
    """Keras's ``IndexLookup(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary_dtype, vocabulary=None,
    idf_weights=None, invert=False, output_mode='int', sparse=False, pad_to_max_tokens=False, ...)``."""

    _vocabulary_dtype = "string"  # or "int64" (IntegerLookup)
    _table_buffers: tuple[str, ...] = ()  # non-persistent tensors a subclass keeps its tables in

    def __init__(
        self,
        max_tokens: int | None,
        num_oov_indices: int,
        mask_token: Any,
        oov_token: Any,
        vocabulary: Any = None,
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
        frozen_size = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("has_static_table", None)  # old tf.keras configs
        dtype = kwargs.pop("dtype", None)
        self._keras3 = keras3_config({"dtype": dtype})
        self._config_dtype = dtype
        # tf.keras: dtype int64 for int output, floatx otherwise (the encoded outputs' dtype)
        float_dtype = dtype if isinstance(dtype, (str, dict, torch.dtype)) and output_mode != "int" else None
        if isinstance(float_dtype, str) and not float_dtype.startswith(("float", "bfloat", "mixed")):
            float_dtype = None
        super().__init__(name=name, dtype=float_dtype, **kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        if max_tokens is not None and (not isinstance(max_tokens, int) or isinstance(max_tokens, bool)
                                       or max_tokens > _MAX_SIZE):
            self._fail(f"`max_tokens` must be None or an integer of at most {_MAX_SIZE}. Received: max_tokens={max_tokens!r}")
        if isinstance(num_oov_indices, int) and num_oov_indices > _MAX_OOV:
            self._fail(f"`num_oov_indices` must be at most {_MAX_OOV} (kerastorch's bound: each OOV index is a "
                       f"vocabulary slot). Received: num_oov_indices={num_oov_indices}")
        if max_tokens is not None and max_tokens <= 1:
            self._fail(f"If set, `max_tokens` must be greater than 1. Received: max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            self._fail(f"If pad_to_max_tokens is True, must set `max_tokens`. Received: max_tokens={max_tokens}")
        if not isinstance(num_oov_indices, int) or num_oov_indices < 0:
            self._fail(f"`num_oov_indices` must be greater than or equal to 0. Received: num_oov_indices={num_oov_indices}")
        if oov_method not in ("floormod", "farmhash"):
            self._fail(f"Unknown value for `oov_method` argument of {type(self).__name__}. Allowed values "
                       f"are: ('floormod', 'farmhash'). Received: oov_method={oov_method}")
        if output_mode not in _MODES:
            self._fail(f"Unknown value for `output_mode` argument of {type(self).__name__}. Allowed values "
                       f"are: {_MODES}. Received: output_mode={output_mode}")
        if invert and output_mode != "int":
            self._fail(f"`output_mode` must be `'int'` when `invert` is true. Received: output_mode={output_mode}")
        if sparse:
            self._fail("`sparse=True` is not supported: torch has no sparse Keras tensors (Keras 3 allows it only "
                       "with the TensorFlow backend).")
        if idf_weights is not None and output_mode != "tf_idf":
            self._fail(f"`idf_weights` should only be set if `output_mode` is `'tf_idf'`. Received: "
                       f"idf_weights={idf_weights} and output_mode={output_mode}")
        if salt is not None:
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                salt = list(salt)
            elif isinstance(salt, int):
                salt = [salt, salt]
            else:
                self._fail(f"The `salt` argument for `IndexLookup` can only be a tuple of 2 integers, or a single "
                           f"integer. Received: salt={salt}.")
        self.invert = bool(invert)
        self.max_tokens = max_tokens
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = False
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.oov_method = oov_method
        self.salt = salt
        self._frozen_vocab_size = frozen_size
        self.input_vocabulary = vocabulary if not isinstance(vocabulary, (str, os.PathLike)) else None
        self.input_idf_weights = idf_weights
        self._has_input_vocabulary = bool(has_input_vocabulary)
        self._tokens: list[Any] = []  # the learned/given tokens, without special tokens
        self._index: dict[Any, int] = {}  # token -> index (string lookups, and the host side of integer ones)
        self.register_buffer("idf_weights", None, persistent=False)  # tf_idf: moves with the module
        # an empty buffer: where the module lives (.to(device) moves it), so outputs made from host data
        # (strings, vocabularies) land on the module's device
        # (float32: `.to(float64)` moves the encoded outputs' dtype too, as for any torch module)
        self.register_buffer("_device_probe", torch.empty(0, dtype=torch.float32), persistent=False)
        for buf in self._table_buffers:
            self.register_buffer(buf, None, persistent=False)
        self._reset_adapt_state()
        if output_mode == "tf_idf" and self._has_input_vocabulary and idf_weights is None:
            self._fail("When specifying the `vocabulary` argument, in TF-IDF output mode, the `idf_weights` "
                       "argument must also be provided.")
        self._finish_init()
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # ----- helpers -----
    def _fail(self, message: str) -> None:
        raise ValueError(f'{type(self).__name__} layer "{self.name}": {message}')

    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    def _convert_token(self, token: Any) -> Any:
        """A vocabulary term in the layer's type (str / int)."""
        return token

    # ----- vocabulary -----
    def vocabulary_size(self) -> int:
        """Keras's ``vocabulary_size()``: the tokens plus the mask and OOV indices."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[Any]:
        """Keras's ``get_vocabulary``: a term's position is its index when ``include_special_tokens``."""
        if not include_special_tokens:
            return list(self._tokens)
        if not self._tokens and self._frozen_vocab_size is None:
            specials: list[Any] = []
        else:
            specials = [self.mask_token] * self._oov_start_index() + [self.oov_token] * self.num_oov_indices
        return specials + list(self._tokens)

    def _read_vocabulary_file(self, path: str) -> list[Any]:
        """One term per line (TF's ``TextFileInitializer``), size bounded before reading."""
        if not os.path.isfile(path):
            self._fail(f"Vocabulary file {path} does not exist.")
        size = os.path.getsize(path)
        if size > MAX_VOCABULARY_FILE_BYTES:
            self._fail(f"Vocabulary file {path} is {size} bytes, more than the limit of {MAX_VOCABULARY_FILE_BYTES}.")
        with open(path, "rb") as f:
            data = f.read(MAX_VOCABULARY_FILE_BYTES + 1)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            self._fail(f"Vocabulary file {path} is not UTF-8 text: {e}")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return [self._parse_line(line, path) for line in lines]

    def _parse_line(self, line: str, where: str) -> Any:
        return line

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Keras's ``set_vocabulary``: a list/tuple/array/tensor of terms (special tokens only at the start,
        in Keras's order), or a path to a text file with one term per line (from user code only: a config
        naming a file is refused, see ``from_config``). ``idf_weights`` for ``tf_idf``."""
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                self._fail("`idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            self._fail(f"`idf_weights` should only be set if output_mode is `'tf_idf'`. Received: "
                       f"output_mode={self.output_mode} and idf_weights={idf_weights}")
        from_file = isinstance(vocabulary, (str, os.PathLike))
        if from_file:
            if self.output_mode == "tf_idf":
                self._fail("output_mode `'tf_idf'` does not support loading a vocabulary from file.")
            terms = self._read_vocabulary_file(os.fspath(vocabulary))
        else:
            if isinstance(vocabulary, torch.Tensor):
                vocabulary = vocabulary.detach().cpu().numpy()
            if isinstance(vocabulary, np.ndarray):
                if vocabulary.ndim != 1:
                    self._fail(f"`vocabulary` must be 1-D; received an array of shape {vocabulary.shape}.")
                vocabulary = vocabulary.tolist()
            if not isinstance(vocabulary, (list, tuple)):
                self._fail(f"`vocabulary` must be a list, tuple, 1-D array or tensor, or a file path. Received: "
                           f"{type(vocabulary).__name__}")
            terms = [self._convert_token(t) for t in vocabulary]
        if not terms:
            self._fail(f"Cannot set an empty vocabulary. Received: vocabulary={terms}")
        token_start = self._token_start_index()
        specials = [self.mask_token] * self._oov_start_index() + [self.oov_token] * self.num_oov_indices
        found_specials = not from_file and terms[:token_start] == specials
        tokens = terms[token_start:] if found_specials else terms
        counts = collections.Counter(tokens)
        repeated = [t for t, c in counts.items() if c > 1]
        if repeated:
            self._fail("The passed vocabulary has at least one repeated term. Please uniquify your dataset. The "
                       f"repeated terms are: {repeated[:20]}")
        if self.mask_token is not None and self.mask_token in counts:
            index = len(terms) - 1 - terms[::-1].index(self.mask_token)
            self._fail("Found reserved mask token at unexpected location in `vocabulary`. Note that passed "
                       "`vocabulary` does not need to include the OOV and mask tokens. Either remove all mask and "
                       "OOV tokens, or include them only at the start of the vocabulary in precisely this order: "
                       f"{specials}. Received: mask_token={self.mask_token} at vocabulary index [{index}]")
        if self.oov_token is not None and self.invert and self.oov_token in counts:
            index = len(terms) - 1 - terms[::-1].index(self.oov_token)
            self._fail("Found reserved OOV token at unexpected location in `vocabulary`. Note that passed "
                       "`vocabulary` does not need to include the OOV and mask tokens. Either remove all mask and "
                       "OOV tokens, or include them only at the start of the vocabulary in precisely this order: "
                       f"{specials}. Received: oov_token={self.oov_token} at vocabulary index [{index}]")
        new_size = token_start + len(tokens)
        if self.max_tokens is not None and new_size > self.max_tokens:
            self._fail(f"Attempted to set a vocabulary larger than the maximum vocab size. Received vocabulary size "
                       f"is {new_size}; `max_tokens` is {self.max_tokens}.")
        weights = None
        if self.output_mode == "tf_idf":
            weights = np.asarray(idf_weights.detach().cpu().numpy() if isinstance(idf_weights, torch.Tensor)
                                 else idf_weights, dtype=np.float64)
            if weights.ndim != 1:
                self._fail(f"TF-IDF data must be a 1-index array. Received: type(idf_weights)={type(idf_weights)}")
            if len(weights) != len(terms):
                self._fail(f"`idf_weights` must be the same length as vocabulary. len(idf_weights) is "
                           f"{len(weights)}; len(vocabulary) is {len(terms)}")
            front = 0 if found_specials else token_start
            front_value = 0.0 if found_specials else float(np.average(weights)) if len(weights) else 0.0
            back = self.max_tokens - front - len(weights) if self.pad_to_max_tokens else 0
            weights = np.pad(weights, (front, back), "constant", constant_values=(front_value, 0.0))
        self._check_size_unchanged(new_size)
        self._install(tokens, weights)

    def _check_size_unchanged(self, new_size: int) -> None:
        if self.output_mode == "int" or self.pad_to_max_tokens:
            return
        if self._frozen_vocab_size is not None and new_size != self._frozen_vocab_size:
            self._fail(f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, the vocabulary "
                       f"size cannot be changed after the layer is called. Old vocab size is "
                       f"{self._frozen_vocab_size}, new vocab size is {new_size}")

    def _install(self, tokens: list[Any], idf_weights: np.ndarray | None) -> None:
        """Make the lookup state of ``tokens`` (checked), and the idf weights (already padded)."""
        self._tokens = list(tokens)
        start = self._token_start_index()
        self._index = {t: i + start for i, t in enumerate(self._tokens)}
        self._frozen_vocab_size = self.vocabulary_size()
        if idf_weights is not None:
            self._idf_host = np.asarray(idf_weights, dtype=np.float32)
        self._make_tables()

    def _make_tables(self) -> None:
        """The device-side state of the vocabulary (idf weights, a subclass's tables) on the module's device."""
        host = getattr(self, "_idf_host", None)
        if host is not None:
            self.idf_weights = torch.tensor(host, dtype=self._device_probe.dtype, device=self._device_probe.device)
        self._on_vocabulary()

    def reset_parameters(self) -> None:
        """The vocabulary tables again from the host vocabulary (after ``to_empty``: a module made under
        ``torch.device('meta')`` computes on the real device)."""
        super().reset_parameters()
        if self._frozen_vocab_size is not None:
            self._make_tables()

    def _on_vocabulary(self) -> None:
        """Subclass hook: build the tensor tables after the vocabulary changed."""

    # ----- adapt (Keras's token_counts / finalize_state) -----
    def _reset_adapt_state(self) -> None:
        self._token_counts: collections.Counter = collections.Counter()
        self._doc_counts: collections.Counter = collections.Counter()
        self._num_documents = 0

    def reset_state(self) -> None:
        """Keras ``reset_state``: forget the counts of an adapt in progress."""
        if not self._has_input_vocabulary:
            self._reset_adapt_state()

    def _rows(self, data: Any) -> list[list[Any]]:
        """A batch as rows of terms (Keras: a scalar is one row of one, a rank-1 batch ONE document)."""
        raise NotImplementedError

    def update_state(self, data: Any) -> None:
        """Keras ``update_state``: count the terms of one batch (and, for tf_idf, the documents holding each)."""
        if self._has_input_vocabulary:
            self._fail(f"Cannot adapt layer '{self.name}' after setting a static vocabulary via `vocabulary` "
                       "argument or `set_vocabulary()` method.")
        rows = self._rows(data)
        counts = self._token_counts
        for row in rows:
            counts.update(row)
        if self.output_mode == "tf_idf":
            for row in rows:
                self._doc_counts.update(set(row))
            self._num_documents += len(rows)

    def finalize_state(self) -> None:
        """Keras ``finalize_state``: the vocabulary by decreasing count, ties by decreasing term."""
        if self._has_input_vocabulary or not self._token_counts:
            return
        counts = self._token_counts
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                counts.pop(special, None)
        tokens = list(counts.keys())
        freq = np.fromiter((counts[t] for t in tokens), dtype=np.int64, count=len(tokens))
        keys = self._sort_keys(tokens)
        order = np.lexsort((keys, freq))[::-1]
        if self.max_tokens:
            order = order[: self.max_tokens - self._token_start_index()]
        chosen = [tokens[i] for i in order]
        weights = None
        if self.output_mode == "tf_idf":
            doc = np.array([self._doc_counts[t] for t in chosen], dtype=np.float64)
            idf = np.log(1.0 + self._num_documents / (1.0 + doc)).astype(np.float32)
            mean = float(np.mean(idf, dtype=np.float32)) if len(idf) else math.nan
            weights = np.pad(idf, (self._token_start_index(), 0), constant_values=mean)
            if self.pad_to_max_tokens and self.max_tokens is not None:
                weights = np.pad(weights, (0, self.max_tokens - len(weights)))
        self._check_size_unchanged(self._token_start_index() + len(chosen))
        self._install(chosen, weights)
        self._reset_adapt_state()

    def _sort_keys(self, tokens: list[Any]) -> np.ndarray:
        """What Keras's numpy ``lexsort`` compares ties by (UTF-8 bytes for strings, values for integers)."""
        return np.array(tokens)

    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Keras ``adapt``: a vocabulary from ``data`` — an array, tensor or list (one batch; rank 1 is a
        column of single terms), or any other iterable of batches (a generator, a ``torch`` DataLoader),
        counted batch by batch (``steps`` limits them)."""
        self.reset_state()
        for i, batch in enumerate(self._batches(data, batch_size)):
            if steps is not None and i >= steps:
                break
            self.update_state(batch)
        self.finalize_state()

    def _is_one_batch(self, data: Any) -> bool:
        return isinstance(data, (list, tuple, np.ndarray, torch.Tensor, str, bytes, int))

    def _batches(self, data: Any, batch_size: int | None) -> Iterable[Any]:
        if self._is_one_batch(data):
            arr = self._as_batch_array(data)
            if arr.ndim == 1:  # Keras: a rank-1 array is a column of single-term rows
                arr = arr.reshape(-1, 1)
            if batch_size:
                return (arr[i:i + batch_size] for i in range(0, len(arr), batch_size))
            return [arr]
        if not hasattr(data, "__iter__"):
            self._fail(f"`adapt` takes an array, a tensor, a list or an iterable of batches; received "
                       f"{type(data).__name__}.")
        return iter(data)  # a generator, a DataLoader: one batch at a time, never materialized

    def _as_batch_array(self, data: Any) -> np.ndarray:
        raise NotImplementedError

    # ----- call -----
    def _depth(self) -> int:
        if self.pad_to_max_tokens:
            return int(self.max_tokens)
        if self._frozen_vocab_size is None:
            self._fail(f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, you must set "
                       "the layer's vocabulary before calling it. Either pass a `vocabulary` argument to the layer, "
                       "or call `adapt` with some sample data.")
        return int(self._frozen_vocab_size)

    def _mask_value(self) -> int:
        return 0 if self.output_mode == "int" else _INT64_MAX

    def _encode(self, indices: torch.Tensor) -> torch.Tensor:
        """``int`` indices -> the layer's output mode (Keras's ``encode_categorical_inputs``)."""
        if self.output_mode == "int":
            return indices
        depth = self._depth()
        if self._keras3:  # Keras 3: the lookup's int64 values; tf_idf in floatx
            dtype = self._device_probe.dtype if self.output_mode == "tf_idf" else torch.int64
        else:  # tf.keras: the layer's (floating) compute dtype
            dtype = self.compute_dtype
        idf = None
        if self.output_mode == "tf_idf":
            if self.idf_weights is None:
                self._fail("When `output_mode` is `'tf_idf'`, `idf_weights` must be provided.")
            idf = self.idf_weights.to(device=indices.device, dtype=dtype)
        mode = "count" if self.output_mode == "tf_idf" and idf is None else self.output_mode
        return encode_categorical_inputs(indices, mode, depth, dtype=dtype, idf_weights=idf)

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        """Keras 3's ``compute_output_shape``."""
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        return input_shape[:-1] + (depth,)

    # ----- config and assets -----
    def get_config(self) -> dict[str, Any]:
        base = super().get_config()
        if self._config_dtype is not None and not isinstance(self._config_dtype, (str, dict)):
            base["dtype"] = str(self._config_dtype).replace("torch.", "")
        elif self._config_dtype is not None:
            base["dtype"] = self._config_dtype
        return {
            **base,
            "invert": self.invert,
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "oov_token": self.oov_token,
            "mask_token": self.mask_token,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary_dtype": self._vocabulary_dtype,
            "idf_weights": _listify(self.input_idf_weights),
            "vocabulary": _listify(self.input_vocabulary),
            "vocabulary_size": self._frozen_vocab_size,
            "oov_method": self.oov_method,
            "salt": self.salt,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "IndexLookup":
        """A config never names a vocabulary file (Keras 3's safe mode refuses it too): a config is data,
        possibly from an untrusted model file, and must not make us read the disk."""
        vocabulary = config.get("vocabulary")
        if isinstance(vocabulary, str):
            raise ValueError(
                f'{cls.__name__} layer "{config.get("name")}": Requested the loading of a vocabulary file outside of '
                f"the model archive ({vocabulary!r}). A config may not name a file; pass `vocabulary=` a path in "
                "your own code, or a list."
            )
        return cls(**config)

    def vocabulary_asset(self) -> str | None:
        """Keras 3's ``save_assets``: the ``vocabulary.txt`` text (special tokens included, one term per line), or
        ``None`` when the vocabulary is in the config (given as ``vocabulary=``)."""
        if self.input_vocabulary is not None:
            return None
        return "\n".join(str(t) for t in self.get_vocabulary(include_special_tokens=True))

    def load_vocabulary_asset(self, text: str, idf_weights: Any = None) -> None:
        """Keras 3's ``load_assets``: the terms of a ``vocabulary.txt`` (its trailing empty lines dropped), with
        the file's ``idf_weights`` for tf_idf. Checked as any vocabulary (duplicates, mask token inside,
        ``max_tokens``, idf length); a ValueError naming the layer otherwise."""
        if self.input_vocabulary is not None:
            return
        if self.max_tokens is not None:  # a file's term count against max_tokens before any term is parsed
            end = len(text)
            while end and text[end - 1] in "\r\n":
                end -= 1
            at_least = text.count("\n", 0, end) + 1 if end else 0  # <= the lines splitlines() finds
            if at_least > self.max_tokens:
                self._fail(f"the vocabulary.txt asset holds at least {at_least} terms, more than `max_tokens` "
                           f"({self.max_tokens}).")
        lines = text.splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        terms = [self._parse_line(line, "vocabulary.txt") for line in lines]
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                self._fail("the file holds no `idf_weights` for this tf_idf layer.")
            self.set_vocabulary(terms, idf_weights=idf_weights)
        else:
            self.set_vocabulary(terms)

    def extra_repr(self) -> str:
        size = self.vocabulary_size() if self._tokens else None
        return (f"name={self.name!r}, output_mode={self.output_mode!r}, vocabulary_size={size}, "
                f"num_oov_indices={self.num_oov_indices}, mask_token={self.mask_token!r}, invert={self.invert}")
