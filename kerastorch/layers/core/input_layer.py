"""``InputLayer``: the entry point of a Keras functional model, as a module that checks its input.

Reproduces tf.keras's constructor (``input_shape``/``batch_size``/``batch_input_shape``, ``dtype``,
``sparse``, ``ragged``, ``optional``; their checks and messages) and config (``batch_input_shape``,
``dtype``, ``sparse``, ``ragged``, ``name``, ``optional``), and loads Keras 3's config (``batch_shape``,
``shape``). Called, it is the identity after checking the input against the declared shape (``None``
dims free) with Keras's ``InputSpec`` messages; floating inputs are cast to a floating ``dtype``.
"""
from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np
import torch

from ... import dtype_policy
from ..._registry import LAYERS
from ..input_spec import InputSpec, check_shape, shape_str
from ..layer import Layer, _input_shape_arg
from ..utils.string_inputs import is_string_data

_OTHER_DTYPES = {
    "int8": torch.int8, "int16": torch.int16, "int32": torch.int32, "int64": torch.int64, "uint8": torch.uint8,
    "bool": torch.bool, "complex64": torch.complex64, "complex128": torch.complex128, "string": None,
}


def _dtype_name(dtype: Any) -> str:
    """Keras's dtype name of ``dtype`` (a name or a torch dtype); floating names go through the policy."""
    if isinstance(dtype, torch.dtype):
        for name, d in _OTHER_DTYPES.items():
            if d is dtype:
                return name
        return dtype_policy.name_of(dtype)
    if isinstance(dtype, str) and dtype in _OTHER_DTYPES:
        return dtype
    return dtype_policy.get(dtype).name


def _shape(value: Any, what: str) -> tuple[int | None, ...]:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    return _input_shape_arg(value, what)


@LAYERS.register()
class InputLayer(Layer):
    """A model's input: ``InputLayer(input_shape=(8,), batch_size=None, dtype=None, ...)`` (tf.keras) or
    ``InputLayer(shape=(8,))`` / ``batch_shape=(None, 8)`` (Keras 3). ``sparse``/``ragged`` must be falsy
    (torch has no such Keras tensors); ``input_tensor`` and ``type_spec`` (TF objects) are refused."""

    def __init__(
        self,
        input_shape: Sequence[int | None] | int | None = None,
        batch_size: int | None = None,
        dtype: Any = None,
        input_tensor: Any = None,
        sparse: bool | None = None,
        name: str | None = None,
        ragged: bool | None = None,
        type_spec: Any = None,
        optional: bool = False,
        shape: Sequence[int | None] | None = None,
        batch_shape: Sequence[int | None] | None = None,
        **kwargs: Any,
    ):
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        for key in ("trainable",):  # Keras 3 / old tf.keras configs may carry it
            kwargs.pop(key, None)
        super().__init__(name=name or None)
        try:
            if kwargs:
                raise ValueError(f"Unrecognized keyword arguments: {list(kwargs.keys())}")
            if input_tensor is not None or type_spec is not None:
                raise ValueError("`input_tensor` and `type_spec` (TensorFlow objects) are not supported.")
            for value in (shape, batch_shape, batch_input_shape):  # Keras 3's standardize_shape; tf.keras's subscript
                if isinstance(value, numbers.Integral):  # (tf.keras's `input_shape=3` alone is taken as (3,))
                    raise ValueError(f"Cannot convert '{value}' to a shape.")
            if shape is not None:
                if input_shape is not None:
                    raise ValueError("You cannot pass both `shape` and `input_shape` at the same time.")
                input_shape = shape
            if batch_shape is not None:
                if batch_input_shape is not None:
                    raise ValueError("You cannot pass both `batch_shape` and `batch_input_shape` at the same time.")
                batch_input_shape = batch_shape
            if input_shape and batch_input_shape:
                raise ValueError(
                    "Only provide the input_shape OR batch_input_shape argument to InputLayer, not both at the same time."
                )
            if sparse and ragged:
                raise ValueError("Cannot set both sparse and ragged to True in a TF-Keras input.")
            if sparse or ragged:
                raise ValueError("`sparse=True` and `ragged=True` inputs are not supported by torch.")
            if batch_input_shape:
                full = _shape(batch_input_shape, "batch_input_shape")
            elif input_shape is not None:
                if batch_size is not None and (not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool)
                                               or batch_size <= 0):
                    raise ValueError(f"`batch_size` must be a positive integer or None. Received: batch_size={batch_size!r}")
                full = (None if batch_size is None else int(batch_size),) + _shape(input_shape, "input_shape")
            else:
                full = None
            self._dtype_name = _dtype_name(dtype if dtype is not None else "float32")
        except ValueError as e:
            raise ValueError(f'InputLayer "{self.name}": {e}') from None
        floating = self._dtype_name in ("float16", "bfloat16", "float32", "float64")
        if floating and dtype is not None:  # floating inputs are cast to it, as a functional model's input is
            self._dtype_policy = dtype_policy.get(self._dtype_name)
            self._explicit_dtype = True
        self.batch_size = None if full is None else full[0]
        self.sparse = False
        self.ragged = False
        self.optional = bool(optional)
        self.input_spec = None if full is None else InputSpec(
            ndim=len(full), axes={i: d for i, d in enumerate(full) if d is not None}, float_only=False
        )
        self._declared_shape = full
        self._finish_init()
        self.built = True  # Keras's InputLayer is built at construction

    @property
    def batch_shape(self) -> tuple[int | None, ...] | None:
        """The declared input shape, batch dim included (Keras 3's name)."""
        return self._declared_shape

    @property
    def dtype(self) -> str:
        return self._dtype_name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._dtype_name == "string" and args and not getattr(args[0], "_kt_symbolic", False):
            return self._check_strings(args[0])
        return super().__call__(*args, **kwargs)

    def _check_strings(self, inputs: Any) -> Any:
        """A ``dtype="string"`` input takes string data as it is (torch has no string tensors: a list of str or a
        NumPy string array, checked against the declared rank); the model's string layers read it."""
        if not is_string_data(inputs):
            what = f"a tensor of dtype {inputs.dtype}" if isinstance(inputs, torch.Tensor) else type(inputs).__name__
            raise ValueError(
                f'InputLayer "{self.name}": this input has dtype "string": it takes a list of str or a NumPy string '
                f"array; received {what}."
            )
        shape = self._declared_shape
        if shape is not None:
            rank = np.ndim(inputs) if not isinstance(inputs, np.ndarray) else inputs.ndim
            if rank not in (len(shape), len(shape) - 1 if shape[-1] == 1 else len(shape)):
                raise ValueError(
                    f'Input 0 of layer "{self.name}" is incompatible with the layer: expected strings of shape '
                    f"{shape_str(shape)}, found ndim={rank}."
                )
        return inputs

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> tuple:
        check_shape(self.input_spec, tuple(input_shape), self.name)
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {
            "batch_input_shape": self._declared_shape,
            "dtype": self._dtype_name,
            "sparse": self.sparse,
            "ragged": self.ragged,
            "name": self.name,
            "optional": self.optional,
        }

    def get_build_config(self) -> None:
        return None

    def extra_repr(self) -> str:
        shape = "None" if self._declared_shape is None else shape_str(self._declared_shape)
        return f"name={self.name!r}, batch_input_shape={shape}, dtype={self._dtype_name!r}"

