"""``TextVectorization`` (Keras 3 / tf.keras): text to token indices, multi-hot, counts or TF-IDF.

Reproduced from Keras (``keras/src/layers/preprocessing/text_vectorization.py``, which runs TF string ops):

- ``standardize``: ``"lower"`` is ``tf.strings.lower`` without an encoding, i.e. ASCII letters only (``É`` stays);
  ``"strip_punctuation"`` removes Keras's exact class ``[!"#$%&()\\*\\+,-\\./:;<=>?@\\[\\\\\\]^_`{|}~\\']`` (ASCII
  punctuation); ``"lower_and_strip_punctuation"`` does both; ``None`` nothing; a Python callable (user code only)
  gets and returns a NumPy array of ``str``;
- ``split``: ``"whitespace"`` is ``tf.strings.split`` (runs of the ASCII whitespace `` \\t\\n\\v\\f\\r``; no empty
  tokens), ``"character"`` is ``tf.strings.unicode_split`` (code points), ``None`` keeps the whole string;
- ``ngrams``: ``tf.strings.ngrams(tokens, widths, separator=" ")`` — all n-grams of the first width, then the next;
- the lookup is a ``StringLookup(mask_token="")`` child (``_lookup_layer``, as in Keras): index 0 is padding,
  1 the OOV token; ``int`` output pads each batch to its longest row (or to ``output_sequence_length``, cutting
  longer rows) with 0; ``multi_hot``/``count``/``tf_idf``/``one_hot`` encode each row.

Input: a list of ``str`` or a NumPy string array of shape ``(batch,)`` or ``(batch, 1)`` (a ``(batch, n)`` input
with ``n > 1`` is refused as Keras refuses it). The string work happens once, in Python, at the edge; the
output is an ordinary tensor on the layer's device.
"""
from __future__ import annotations

import itertools
import re
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch

from ..._registry import LAYERS
from ..layer import Layer
from ..utils.bounds import MAX_DIM
from ..utils.string_inputs import is_string_data
from .index_lookup import _listify
from .string_lookup import StringLayerMixin, StringLookup

__all__ = ["TextVectorization"]

_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')  # Keras's DEFAULT_STRIP_REGEX
_WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")  # TF's StringSplitV2 with an empty separator (absl::ascii_isspace)
_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


# str.translate deleting exactly the characters of Keras's punctuation class (equal to the regex, faster)
_STRIP = {c: None for c in range(128) if _PUNCTUATION.match(chr(c))}
_PY_ONLY_SPACE = ("\x1c", "\x1d", "\x1e", "\x1f")  # ASCII characters Python's str.split() splits on, TF's does not


def _lower(s: str) -> str:
    return s.lower() if s.isascii() else s.translate(_ASCII_LOWER)


def _split_whitespace(s: str) -> list[str]:
    if s.isascii() and not any(c in s for c in _PY_ONLY_SPACE):
        return s.split()  # the same split for these strings (C speed)
    return [t for t in _WHITESPACE.split(s) if t]


def _ngrams(tokens: list[str], widths: Sequence[int]) -> list[str]:
    out: list[str] = []
    for n in widths:
        out.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    return out


@LAYERS.register()
class TextVectorization(StringLayerMixin, Layer):
    """Keras ``TextVectorization(max_tokens=None, standardize='lower_and_strip_punctuation', split='whitespace',
    ngrams=None, output_mode='int', output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
    idf_weights=None, sparse=False, ragged=False, encoding='utf-8', ...)``."""

    def __init__(
        self,
        max_tokens: int | None = None,
        standardize: str | Callable[[np.ndarray], Any] | None = "lower_and_strip_punctuation",
        split: str | Callable[[np.ndarray], Any] | None = "whitespace",
        ngrams: int | Sequence[int] | None = None,
        output_mode: str = "int",
        output_sequence_length: int | None = None,
        pad_to_max_tokens: bool = False,
        vocabulary: Any = None,
        idf_weights: Any = None,
        sparse: bool = False,
        ragged: bool = False,
        encoding: str = "utf-8",
        name: str | None = None,
        **kwargs: Any,
    ):
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        dtype = kwargs.pop("dtype", None)
        self._config_dtype = dtype
        super().__init__(name=name, **kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        for arg, value, allowed in (("standardize", standardize, ("lower_and_strip_punctuation", "lower",
                                                                   "strip_punctuation")),
                                    ("split", split, ("whitespace", "character"))):
            if not (value is None or callable(value) or value in allowed):
                self._fail(f"Unknown value for `{arg}` argument of TextVectorization. Allowed values are: {allowed}. "
                           f"Received: {arg}={value}")
        if output_mode not in ("int", "one_hot", "multi_hot", "count", "tf_idf"):
            self._fail("Unknown value for `output_mode` argument of TextVectorization. Allowed values are: "
                       f"('int', 'one_hot', 'multi_hot', 'count', 'tf_idf'). Received: output_mode={output_mode}")
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)
        if not (ngrams is None or (isinstance(ngrams, int) and not isinstance(ngrams, bool))
                or (isinstance(ngrams, tuple) and all(isinstance(i, int) for i in ngrams))):
            self._fail(f"`ngrams` must be None, an integer, or a tuple of integers. Received: ngrams={ngrams}")
        if output_mode == "int" and not (output_sequence_length is None or isinstance(output_sequence_length, int)):
            self._fail("`output_sequence_length` must be either None or an integer when `output_mode` is 'int'. "
                       f"Received: output_sequence_length={output_sequence_length}")
        if isinstance(output_sequence_length, int) and not 0 <= output_sequence_length <= MAX_DIM:
            self._fail(f"`output_sequence_length` must be None or an integer in [0, {MAX_DIM}]. "
                       f"Received: output_sequence_length={output_sequence_length}")
        if output_mode != "int" and output_sequence_length is not None:
            self._fail("`output_sequence_length` must not be set if `output_mode` is not 'int'. Received "
                       f"output_sequence_length={output_sequence_length}.")
        if ragged:
            self._fail("`ragged=True` is not supported: torch has no ragged tensors (Keras 3 allows it only with "
                       "the TensorFlow backend).")
        if sparse:
            self._fail("`sparse=True` is not supported: torch has no sparse Keras tensors.")
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self.encoding = encoding
        self._has_input_vocabulary = bool(has_input_vocabulary)
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
            has_input_vocabulary=self._has_input_vocabulary, encoding=encoding, vocabulary_size=vocabulary_size,
            name=f"{self.name}_lookup", dtype=dtype,
        )
        self._finish_init()
        self.built = True

    def _fail(self, message: str) -> None:
        raise ValueError(f'TextVectorization layer "{self.name}": {message}')

    # ----- the vocabulary (Keras delegates to the lookup layer) -----
    def get_vocabulary(self, include_special_tokens: bool = True) -> list[str]:
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    def vocabulary_asset(self) -> str | None:
        return self._lookup_layer.vocabulary_asset()

    def load_vocabulary_asset(self, text: str, idf_weights: Any = None) -> None:
        self._lookup_layer.load_vocabulary_asset(text, idf_weights)

    @property
    def idf_weights(self) -> torch.Tensor | None:
        return self._lookup_layer.idf_weights

    # ----- preprocessing (Keras's _preprocess) -----
    def _standardized(self, arr: np.ndarray) -> list[str]:
        flat = arr.reshape(-1).tolist()
        mode = self._standardize
        if callable(mode):
            result = mode(np.asarray(flat, dtype=object))
            return [str(t) for t in np.asarray(result, dtype=object).reshape(-1).tolist()]
        if mode in ("lower", "lower_and_strip_punctuation"):
            flat = [_lower(s) for s in flat]
        if mode in ("strip_punctuation", "lower_and_strip_punctuation"):
            flat = [s.translate(_STRIP) for s in flat]
        return flat

    def _check_split_shape(self, shape: tuple) -> None:
        """Keras's check of the input's shape when splitting (a ``None`` last dim of a symbolic shape passes)."""
        if self._split is not None and len(shape) > 1 and shape[-1] is not None and shape[-1] != 1:
            self._fail("When using `TextVectorization` to tokenize strings, the input rank must be 1 or the "
                       f"last shape dimension must be 1. Received: inputs.shape={tuple(shape)} with rank={len(shape)}")

    def _symbolic_check_arguments(self, args: tuple, kwargs: dict) -> None:
        """When the graph is built (tf.keras runs the call there): the string source and the split shape checks."""
        super()._symbolic_check_arguments(args, kwargs)
        shape = getattr(args[0] if args else None, "shape", None)
        if isinstance(shape, tuple):
            self._check_split_shape(shape)

    def _token_rows(self, inputs: Any) -> tuple[list[list[str]] | list[str], tuple[int, ...]]:
        """The standardized, split, n-grammed rows of a batch (``split=None``: the strings themselves, with the
        input's shape)."""
        arr = self._string_array(inputs)
        if self._split is not None and arr.ndim > 1:
            self._check_split_shape(arr.shape)
            arr = arr.reshape(arr.shape[:-1])
        strings = self._standardized(arr)
        if self._split is None:
            return strings, arr.shape
        if self._split == "whitespace":
            rows = [_split_whitespace(s) for s in strings]
        elif self._split == "character":
            rows = [list(s) for s in strings]
        else:
            rows = [[str(t) for t in row] for row in self._split(np.asarray(strings, dtype=object))]
        if self._ngrams is not None:
            rows = [_ngrams(r, self._ngrams) for r in rows]
        return rows, arr.shape

    # ----- adapt -----
    def adapt(self, data: Any, batch_size: int | None = None, steps: int | None = None) -> None:
        """Keras ``adapt``: the vocabulary (and document frequencies) of ``data``: a list/array of strings (one
        batch, or ``batch_size`` rows at a time), or an iterable of such batches (a generator, a DataLoader)."""
        self.reset_state()
        if is_string_data(data):
            arr = self._string_array(data)
            if arr.ndim == 1:
                arr = arr.reshape(-1, 1)
            batches: Iterable[Any] = ([arr[i:i + batch_size] for i in range(0, len(arr), batch_size)]
                                      if batch_size else [arr])
        elif hasattr(data, "__iter__"):
            batches = iter(data)
        else:
            self._fail(f"`adapt` takes strings (a list or a NumPy array) or an iterable of batches of strings; "
                       f"received {type(data).__name__}.")
        for i, batch in enumerate(batches):
            if steps is not None and i >= steps:
                break
            self.update_state(batch)
        self.finalize_state()

    def update_state(self, data: Any) -> None:
        rows, shape = self._token_rows(data)
        if self._split is None:
            arr = np.asarray(rows, dtype=object).reshape(shape)
            rows = [arr.reshape(-1).tolist()] if arr.ndim <= 1 else arr.reshape(arr.shape[0], -1).tolist()
        lookup = self._lookup_layer
        if lookup._has_input_vocabulary:
            lookup.update_state(rows)  # raises Keras's message
        for row in rows:
            lookup._token_counts.update(row)
        if lookup.output_mode == "tf_idf":
            for row in rows:
                lookup._doc_counts.update(set(row))
            lookup._num_documents += len(rows)

    def finalize_state(self) -> None:
        self._lookup_layer.finalize_state()

    def reset_state(self) -> None:
        self._lookup_layer.reset_state()

    # ----- call -----
    def forward(self, inputs: Any, training: bool | None = None, mask: Any = None) -> torch.Tensor:
        lookup = self._lookup_layer
        rows, shape = self._token_rows(inputs)
        if self._split is None:
            ids = lookup._lookup(np.asarray(rows, dtype=object).reshape(shape))
            if self._output_mode != "int":
                return lookup._encode(ids)
            length = self._output_sequence_length
            if length is not None:
                ids = ids[..., :length]
                if ids.shape[-1] < length:
                    ids = torch.nn.functional.pad(ids, (0, length - ids.shape[-1]))
            return ids
        lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=len(rows))
        width = int(lengths.max()) if len(lengths) else 0
        if self._output_mode == "int" and self._output_sequence_length is not None:
            width = self._output_sequence_length
        flat = list(itertools.chain.from_iterable(rows))
        ids = lookup._lookup_list(flat)
        pad = 0 if self._output_mode == "int" else -1  # -1: dropped by the encoders
        out = np.full((len(rows), max(width, int(lengths.max()) if len(lengths) else 0)), pad, dtype=np.int64)
        if len(flat):
            row_of = np.repeat(np.arange(len(rows)), lengths)
            starts = np.cumsum(lengths) - lengths
            col_of = np.arange(len(flat)) - np.repeat(starts, lengths)
            out[row_of, col_of] = ids
        out = out[:, :width]
        tensor = torch.from_numpy(out).to(lookup._device_probe.device)
        if len(shape) == 0:
            tensor = tensor[0]
        if self._output_mode == "int":
            return tensor
        return lookup._encode(tensor)

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        """Keras 3's ``compute_output_shape`` (``(batch, output_sequence_length)`` in int mode)."""
        input_shape = tuple(input_shape)
        if self._output_mode == "int":
            if self._split is None:
                if self._output_sequence_length is None:
                    return input_shape
                return input_shape[:-1] + (self._output_sequence_length,)
            return (input_shape[0], self._output_sequence_length)
        lookup = self._lookup_layer
        depth = lookup.max_tokens if lookup.pad_to_max_tokens else lookup._frozen_vocab_size
        if self._output_mode == "one_hot" and self._split is None:
            return lookup.compute_output_shape(input_shape if len(input_shape) > 1 else input_shape + (1,))
        return (input_shape[0], depth)

    # ----- config -----
    def get_config(self) -> dict[str, Any]:
        lookup = self._lookup_layer
        base = super().get_config()
        if self._config_dtype is not None:
            base["dtype"] = self._config_dtype
        for key, value in (("standardize", self._standardize), ("split", self._split)):
            if callable(value):
                raise ValueError(
                    f'TextVectorization layer "{self.name}": a Python callable `{key}` cannot go into a config or '
                    "a file (Keras would serialize it as code, which kerastorch never loads)."
                )
        return {
            **base,
            "max_tokens": lookup.max_tokens,
            "standardize": self._standardize,
            "split": self._split,
            "ngrams": list(self._ngrams_arg) if isinstance(self._ngrams_arg, tuple) else self._ngrams_arg,
            "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": lookup.pad_to_max_tokens,
            "sparse": False,
            "ragged": False,
            "vocabulary": _listify(lookup.input_vocabulary),
            "idf_weights": _listify(lookup.input_idf_weights),
            "encoding": self._encoding,
            "vocabulary_size": lookup.vocabulary_size() if lookup._frozen_vocab_size is not None else None,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "TextVectorization":
        """Keras 3's ``from_config``; a serialized callable ``standardize``/``split`` (code) and a vocabulary
        file path are refused: a config is data."""
        config = dict(config)
        for key in ("standardize", "split"):
            if config.get(key) is not None and not isinstance(config.get(key), str):
                raise ValueError(
                    f'TextVectorization layer "{config.get("name")}": `{key}` is a serialized function '
                    f"({str(config[key])[:80]}); kerastorch never loads code from a config. Rebuild the layer in "
                    "Python with the callable."
                )
        if isinstance(config.get("vocabulary"), str):
            raise ValueError(
                f'TextVectorization layer "{config.get("name")}": Requested the loading of a vocabulary file outside '
                f"of the model archive ({config['vocabulary']!r}). A config may not name a file."
            )
        return cls(**config)

    def extra_repr(self) -> str:
        return (f"name={self.name!r}, standardize={self._standardize!r}, split={self._split!r}, "
                f"ngrams={self._ngrams_arg!r}, output_mode={self._output_mode!r}, "
                f"output_sequence_length={self._output_sequence_length}, "
                f"vocabulary_size={self.vocabulary_size()}")
