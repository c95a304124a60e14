"""``Hashing``: integers and strings into ``num_bins`` bins with TensorFlow's hash values, without TensorFlow.

Keras (both versions) hashes the *decimal string* of an integer (``tf.as_string``) and a string's UTF-8 bytes
with FarmHash ``Fingerprint64`` (``tf.strings.to_hash_bucket_fast``), or with SipHash-2-4 keyed by ``salt``
(``to_hash_bucket_strong``), then takes the unsigned remainder by the bin count (``fingerprint.py``). Integer
tensors hash in torch (any device, ``torch.compile``); strings (a ``str``, a list of them, a numpy string array:
torch has no string tensors) are hashed when they enter the layer and come out as an int64 tensor on the CPU.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from ..._registry import LAYERS
from ..input_spec import InputSpec
from ..utils.mask_rules import keras3_config
from ..utils.string_inputs import is_string_data
from .categorical import CategoricalLayer, check_dense, check_output_mode, check_size, encoded_shape, layer_label
from .encoding_utils import encode_categorical_inputs
from .fingerprint import hash_integers, hash_strings, unsigned_mod


@LAYERS.register()
class Hashing(CategoricalLayer):
    """Keras ``Hashing(num_bins, mask_value=None, salt=None, output_mode='int', sparse=False)``.

    ``mask_value`` maps to bin 0 and the rest to ``1 + hash % (num_bins - 1)``; ``salt`` (an int ``s``, meaning
    ``[s, s]``, or a pair) selects SipHash. ``output_mode`` ``'int'`` returns int64 indices (``dtype='int32'``
    for int32), the others a float vector per sample. Float inputs are truncated to int64 first (Keras 3; tf.keras
    refuses them).
    """

    def __init__(self, num_bins: int, mask_value: Any = None, salt: Any = None, output_mode: str = "int",
                 sparse: bool = False, **kwargs: Any):
        if num_bins is None or isinstance(num_bins, bool) or not isinstance(num_bins, int) or num_bins <= 0:
            raise ValueError(
                f"{layer_label('Hashing', kwargs)}: the `num_bins` for `Hashing` cannot be `None` or non-positive "
                "values. "
                f"Received: num_bins={num_bins!r}."
            )
        check_size(layer_label("Hashing", kwargs), "num_bins", num_bins)
        check_output_mode(layer_label("Hashing", kwargs), output_mode, ("int", "one_hot", "multi_hot", "count"))
        if output_mode == "int" and kwargs.get("dtype") is not None and "int" not in str(kwargs["dtype"]):
            if keras3_config(kwargs):
                raise ValueError(
                    f"{layer_label('Hashing', kwargs)}: when `output_mode=\"int\"`, `dtype` should be an integer type, 'int32' or "
                    f"'int64'. Received: dtype={kwargs['dtype']}"
                )
            kwargs["dtype"] = "int64"  # tf.keras replaces a floating dtype in int mode
        kwargs = self._init_output(kwargs, output_mode, "int64")
        super().__init__(**kwargs)
        if sparse and output_mode == "int":
            raise self._error(
                "`sparse` may only be true if `output_mode` is `\"one_hot\"`, `\"multi_hot\"`, or `\"count\"`. "
                f"Received: sparse={sparse} and output_mode={output_mode}"
            )
        self.sparse = check_dense(layer_label("Hashing", {"name": self.name}), sparse)
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.output_mode = output_mode
        if salt is None:
            self.salt = None
        elif isinstance(salt, (tuple, list)) and len(salt) == 2 and all(isinstance(s, int) for s in salt):
            self.salt = list(salt)
        elif isinstance(salt, int) and not isinstance(salt, bool):
            self.salt = [salt, salt]
        else:
            raise self._error(
                "The `salt` argument for `Hashing` can only be a tuple of size 2 integers, or a single integer. "
                f"Received: salt={salt!r}."
            )
        self.input_spec = InputSpec(float_only=False)
        self._finish_init()

    @property
    def strong_hash(self) -> bool:
        return self.salt is not None

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if is_string_data(inputs):
            return self.hash_strings(inputs)
        return super().__call__(inputs, *args, **kwargs)

    def _bins(self) -> tuple[int, bool]:
        """The hash bin count and whether bin 0 is the mask's (Keras: only when ``num_bins > 1``)."""
        masked = self.mask_value is not None and self.num_bins > 1
        return self.num_bins - 1 if masked else self.num_bins, masked

    def _finish(self, indices: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        if mask is not None:
            indices = torch.where(mask, torch.zeros_like(indices), indices + 1)
        return encode_categorical_inputs(indices, self.output_mode, self.num_bins, dtype=self.output_dtype)

    def hash_strings(self, values: Any) -> torch.Tensor:
        """The layer's output for a string column (a ``str``, a (nested) list of them, a numpy string array)."""
        try:
            hashes, shape = hash_strings(values, self.salt)
        except ValueError as e:
            raise self._error(str(e)) from None
        bins, masked = self._bins()
        mask = None
        if masked:
            flat = np.asarray(values, dtype=object).reshape(-1)
            target = self.mask_value
            equal = [(v.decode() if isinstance(v, bytes) else v) == target for v in flat.tolist()]
            mask = torch.tensor(equal, dtype=torch.bool).reshape(shape)
        return self._finish(unsigned_mod(hashes, bins).reshape(shape), mask)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dtype == torch.bool or inputs.is_complex():
            raise self._error(f"expected integer or string inputs, received a tensor of dtype {inputs.dtype}.")
        bins, masked = self._bins()
        mask = (inputs == self.mask_value) if masked and not isinstance(self.mask_value, (str, bytes)) else None
        if masked and mask is None:  # a string mask value never equals a number
            mask = torch.zeros(inputs.shape, dtype=torch.bool, device=inputs.device)
        hashes = hash_integers(inputs, self.salt)  # floats truncate to int64 first (Keras 3)
        return self._finish(unsigned_mod(hashes, bins).reshape(inputs.shape), mask)

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        return encoded_shape(input_shape, self.output_mode, self.num_bins)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_bins": self.num_bins, "salt": self.salt, "mask_value": self.mask_value,
                "output_mode": self.output_mode, "sparse": self.sparse}

    def extra_repr(self) -> str:
        parts = [f"num_bins={self.num_bins}"]
        if self.mask_value is not None:
            parts.append(f"mask_value={self.mask_value!r}")
        if self.salt is not None:
            parts.append(f"salt={self.salt}")
        return ", ".join(parts) + ", " + super().extra_repr()
