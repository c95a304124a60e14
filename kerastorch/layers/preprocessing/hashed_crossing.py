"""``HashedCrossing``: the hashed cross of two or more categorical columns (``tf.sparse.cross_hashed``).

TensorFlow's ``HashCrosser`` starts from the hash key ``0xDECAFCAFFE`` and folds each column's feature in with
``FingerprintCat64``: an integer column contributes its value, a string column ``Fingerprint64`` of its bytes;
the result's unsigned remainder by ``num_bins`` is the bin (``fingerprint.py``). Integer columns cross in torch;
string columns (lists of ``str``, numpy string arrays) are fingerprinted when they enter the layer.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from ..._registry import LAYERS
from ..utils.string_inputs import is_string_data
from .categorical import CategoricalLayer, check_dense, check_output_mode, check_size, encoded_shape, layer_label
from .encoding_utils import encode_categorical_inputs
from .fingerprint import CROSS_HASH_KEY, fingerprint_cat64, hash_strings, unsigned_mod


@LAYERS.register()
class HashedCrossing(CategoricalLayer):
    """Keras ``HashedCrossing(num_bins, output_mode='int', sparse=False)``, called on a list of columns of equal
    shape ``()``, ``(batch,)`` or ``(batch, 1)``; ``output_mode`` ``'int'`` (int64 bins) or ``'one_hot'``."""

    def __init__(self, num_bins: int, output_mode: str = "int", sparse: bool = False, **kwargs: Any):
        check_output_mode(layer_label("HashedCrossing", kwargs), output_mode, ("int", "one_hot"))
        kwargs = self._init_output(kwargs, output_mode, "int64")
        super().__init__(**kwargs)
        if isinstance(num_bins, bool) or not isinstance(num_bins, int) or num_bins < 1:
            raise self._error(f"`num_bins` must be a positive integer. Received: num_bins={num_bins!r}")
        check_size(layer_label("HashedCrossing", {"name": self.name}), "num_bins", num_bins)
        self.num_bins = num_bins
        self.output_mode = output_mode
        self.sparse = check_dense(layer_label("HashedCrossing", {"name": self.name}), sparse)
        self._finish_init()

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(inputs, (list, tuple)) and any(is_string_data(c) for c in inputs):
            self._check_count(inputs)
            features = []
            for column in inputs:
                if is_string_data(column):
                    try:
                        hashes, shape = hash_strings(column)
                    except ValueError as e:
                        raise self._error(str(e)) from None
                    features.append(hashes.reshape(shape))
                else:
                    features.append(torch.as_tensor(column).cpu())
            self._check_columns(features)
            return self._cross(features)
        return super().__call__(inputs, *args, **kwargs)

    def _check_count(self, inputs: Any) -> None:
        if not isinstance(inputs, (list, tuple)):
            raise self._error(f"`HashedCrossing` should be called on a list or tuple of inputs. Received: inputs={inputs}")
        if len(inputs) < 2:
            raise self._error(f"`HashedCrossing` should be called on at least two inputs. Received: {len(inputs)} input(s)")

    def _check_columns(self, columns: Sequence[torch.Tensor]) -> None:
        self._check_shapes([tuple(c.shape) for c in columns])
        if any(c.dtype.is_floating_point or c.is_complex() or c.dtype == torch.bool for c in columns):
            raise self._error(
                "All `HashedCrossing` inputs should have an integer or string dtype. Received dtypes "
                f"{[str(c.dtype).replace('torch.', '') for c in columns]}"
            )

    def _check_shapes(self, shapes: Sequence[tuple[int | None, ...]]) -> None:
        """Keras's checks of the columns' shapes (a ``None`` dim of a symbolic shape matches any size)."""
        shape = shapes[0]
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] is not None and shape[-1] != 1):
            raise self._error(
                f"All `HashedCrossing` inputs should have shape `()`, `(batch_size)` or `(batch_size, 1)`. Received "
                f"shapes {list(shapes)}"
            )
        if any(len(s) != len(shape) or any(a is not None and b is not None and a != b for a, b in zip(s, shape))
               for s in shapes[1:]):
            raise self._error(
                f"All `HashedCrossing` inputs should have equal shape. Received shapes {list(shapes)}"
            )

    def _cross(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        hashed = torch.full(features[0].shape, CROSS_HASH_KEY, dtype=torch.int64, device=features[0].device)
        for feature in features:
            hashed = fingerprint_cat64(hashed, feature.to(torch.int64))
        return encode_categorical_inputs(unsigned_mod(hashed, self.num_bins), self.output_mode, self.num_bins,
                                         dtype=self.output_dtype)

    def call(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        return self._cross(inputs)

    def _check_inputs(self, inputs: Any) -> None:
        self._check_count(inputs)
        if not all(isinstance(c, torch.Tensor) for c in inputs):
            raise self._error(f"expected tensors or string columns, received {[type(c).__name__ for c in inputs]}")
        self._check_columns(inputs)

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        if args:  # Keras's checks of the columns before anything is built (torch's lazy hook runs first)
            self._check_inputs(args[0])
        super().initialize_parameters(*args, **kwargs)

    def _prepare(self, inputs: Any) -> Any:
        self._check_inputs(inputs)
        return super()._prepare(inputs)

    def compute_output_shape(self, input_shape: Sequence[Sequence[int | None]]) -> tuple[int | None, ...]:
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) < 2 or not isinstance(input_shape[0], (list, tuple)):
            raise self._error(f"Expected as input a list/tuple of at least 2 shapes. Received input_shape={input_shape}")
        self._check_shapes([tuple(s) for s in input_shape])  # when the graph is built, as at the call
        return encoded_shape(tuple(input_shape[0]), self.output_mode, self.num_bins)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_bins": self.num_bins, "output_mode": self.output_mode,
                "sparse": self.sparse}

    def extra_repr(self) -> str:
        return f"num_bins={self.num_bins}, " + super().extra_repr()
