"""What Keras's categorical preprocessing layers share (``CategoryEncoding``, ``Discretization``, ``Hashing``,
``HashedCrossing``): a ``dtype`` that is the *output* dtype and may be an integer dtype (``'int64'`` for
``output_mode='int'``), the output-mode and ``sparse`` checks with the layer named, the output shape of an
encoding, and the range check of indices before they are encoded.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch

from ..layer import Layer
from ..utils.bounds import MAX_DIM

_DTYPES = {"int32": torch.int32, "int64": torch.int64, "float16": torch.float16, "bfloat16": torch.bfloat16,
           "float32": torch.float32, "float64": torch.float64}


def dtype_name(dtype: Any) -> str | None:
    """A layer's ``dtype`` argument as a name: a string, a torch dtype, or a ``DTypePolicy``/``Policy`` dict."""
    if dtype is None:
        return None
    if isinstance(dtype, torch.dtype):
        return str(dtype).replace("torch.", "")
    if isinstance(dtype, dict):
        dtype = (dtype.get("config") or {}).get("name")
    if not isinstance(dtype, str):
        raise ValueError(f"Could not interpret dtype: {dtype!r}")
    return dtype


class CategoricalLayer(Layer):
    """A weight-free layer whose ``dtype`` is its output dtype (an integer one allowed), as Keras's categorical
    preprocessing layers. Subclasses call ``_init_output(kwargs, output_mode, int_default)`` first."""

    def _init_output(self, kwargs: dict[str, Any], output_mode: str, int_default: str | None) -> dict[str, Any]:
        """Take ``dtype`` out of ``kwargs``: ``None`` becomes ``int_default`` (``output_mode='int'``) or floatx;
        a floating name goes to ``Layer`` as the compute dtype. Returns the remaining kwargs."""
        name = dtype_name(kwargs.pop("dtype", None))
        if name is None:
            name = int_default if (output_mode == "int" and int_default) else "float32"
        if name not in _DTYPES:
            raise ValueError(f'{type(self).__name__} layer: unsupported dtype {name!r}; expected one of {sorted(_DTYPES)}.')
        self._dtype_name = name
        self._out_dtype = _DTYPES[name]
        if self._out_dtype.is_floating_point:
            kwargs["dtype"] = name
        return kwargs

    def _error(self, message: str) -> ValueError:
        return ValueError(f'{type(self).__name__} layer "{self.name}": {message}')

    @property
    def dtype(self) -> str:
        return self._dtype_name

    @property
    def output_dtype(self) -> torch.dtype:
        return self._out_dtype

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["dtype"] = self._dtype_name
        return config

    def extra_repr(self) -> str:
        parts = [f"name={self.name!r}", f"output_mode={getattr(self, 'output_mode', 'int')!r}"]
        if self._dtype_name not in ("float32", "int64"):
            parts.append(f"dtype={self._dtype_name!r}")
        return ", ".join(parts)


def layer_label(cls: str, kwargs: dict[str, Any]) -> str:
    """How a message names a layer before ``Layer.__init__`` ran: ``Hashing layer "name"`` (just the class when
    no ``name`` was given)."""
    name = kwargs.get("name")
    return f'{cls} layer "{name}"' if isinstance(name, str) else f"{cls} layer"


def check_output_mode(layer: str, output_mode: Any, allowed: Sequence[str]) -> str:
    """Keras's ``validate_string_arg`` for ``output_mode``; ``layer`` names the layer (``layer_label``)."""
    if output_mode not in allowed:
        raise ValueError(
            f"{layer}: invalid value for argument `output_mode`. Expected one of {tuple(allowed)}. "
            f"Received: output_mode={output_mode!r}"
        )
    return output_mode


def check_size(layer: str, name: str, value: Any) -> None:
    """kerastorch's bound on a size (``num_bins``, ``num_tokens``): an integer above ``MAX_DIM`` from a damaged
    config would be an output axis, a one-hot depth or a table no call can allocate (Keras takes any int)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > MAX_DIM:
        raise ValueError(f"{layer}: `{name}` must be <= {MAX_DIM}. Received: {name}={value}.")


def check_dense(layer: str, sparse: Any) -> bool:
    """``sparse=True`` has no torch counterpart here: refused with the layer named (``layer_label``)."""
    if sparse:
        raise ValueError(
            f"{layer}: `sparse=True` (a tf.SparseTensor output) is not supported by kerastorch; the output is "
            "dense. Received: sparse=True"
        )
    return False


def encoded_shape(input_shape: Sequence[int | None], output_mode: str, depth: int) -> tuple[int | None, ...]:
    """The output shape of ``encode_categorical_inputs`` for an input shape (rank 0 is one sample)."""
    shape = tuple(input_shape)
    if output_mode == "int":
        return shape
    if not shape:
        return (depth,)
    if output_mode == "one_hot":
        if len(shape) > 1 and shape[-1] == 1:
            return (*shape[:-1], depth)
        return (*shape, depth)
    if len(shape) > 2:  # Keras 3 reduces axis 1 (tf.keras refuses)
        return (shape[0], *shape[2:], depth)
    return (*shape[:-1], depth)


def check_range(layer: "CategoricalLayer", indices: torch.Tensor, depth: int) -> None:
    """Refuse indices outside ``[0, depth)`` with a ValueError naming the layer, without a host sync: an
    ``index_select`` from a ``(depth, 0)`` tensor bounds-checks every index inside the kernel (CPU: raises; an
    accelerator: a device-side assert, as an embedding lookup). Skipped while compiling."""
    if torch.compiler.is_compiling():
        return
    try:
        torch.empty((depth, 0), device=indices.device).index_select(0, indices.reshape(-1).long())
    except (IndexError, RuntimeError):
        raise range_error(layer, indices, depth) from None


def range_error(layer: CategoricalLayer, indices: torch.Tensor, depth: int) -> ValueError | None:
    """The ValueError for indices outside ``[0, depth)`` (``None`` when all are in range). Reads the values:
    call it where a sync is acceptable (eager CPU tensors, or after a failed op)."""
    bad = (indices < 0) | (indices >= depth)
    if not bool(bad.any()):
        return None
    where = tuple(int(i) for i in bad.nonzero()[0].tolist())
    return layer._error(
        f"input values must be in the range 0 <= values < num_tokens with num_tokens={depth}. Received value "
        f"{int(indices[where])} at index {list(where)}."
    )
