"""``Embedding``: tf.keras's lookup of dense vectors by integer id, as one ``F.embedding``.

Reproduces ``tf_keras/layers/core/embedding.py`` (and Keras 3's ``keras/src/layers/core/embedding.py``):
``input_dim``/``output_dim`` checks, the ``(input_dim, output_dim)`` ``embeddings`` weight (default
initializer ``uniform`` = RandomUniform(-0.05, 0.05)), ``mask_zero`` (the output mask is ``ids != 0``),
``input_length`` (tf.keras configs; checked by ``compute_output_shape``), floating ids cast to integers as
``tf.cast`` does (truncation), regularizer/constraint/activity regularizer, the ``batch_input_shape``
tf.keras always writes, and Keras 3's ``lora_rank``/``lora_alpha`` (a frozen ``embeddings`` plus
``lora_alpha / lora_rank * lora_embeddings_a @ lora_embeddings_b``).

Ids outside ``[0, input_dim)`` are a ``ValueError`` naming the layer (tf.keras raises
InvalidArgumentError for both ends; Keras 3 wraps negative ids on its TensorFlow backend). The check costs
nothing on the normal path: torch's lookup already refuses them, and only then are the ids inspected.
"""
from __future__ import annotations

import numbers
from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F

from ... import constraints, initializers, regularizers
from ..._registry import LAYERS
from ..input_spec import InputSpec, shape_str
from ..layer import Layer, WeightSpec


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"`{what}` must be a positive integer. Received: {what}={value!r}")
    return int(value)


@LAYERS.register()
class Embedding(Layer):
    """tf.keras ``Embedding(input_dim, output_dim, embeddings_initializer='uniform', embeddings_regularizer=None,
    activity_regularizer=None, embeddings_constraint=None, mask_zero=False, input_length=None)``.

    Input: ids of any shape (integers, or floats truncated to integers); output ``ids.shape + (output_dim,)``
    in the compute dtype. ``compute_mask(ids)`` is ``ids != 0`` with ``mask_zero=True``, else ``None``.
    Keras 3's ``lora_rank``/``lora_alpha`` are supported (``quantization_config`` only when unset).
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        activity_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool = False,
        input_length: Any = None,
        sparse: bool = False,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        quantization_config: Any = None,
        **kwargs: Any,
    ):
        kwargs.pop("autocast", None)
        # tf.keras sets input_shape=(input_length,) on every Embedding and writes it into the config as
        # batch_input_shape; that default builds nothing here (the weight does not depend on it).
        default_shape = (None, *(input_length if isinstance(input_length, (list, tuple)) else (input_length,)))
        given = kwargs.get("batch_input_shape")
        if given is not None and tuple(given) == default_shape and kwargs.get("input_shape") is None:
            kwargs.pop("batch_input_shape")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        prefix = f'{type(self).__name__} layer "{self.name}": '
        try:
            for value in (input_dim, output_dim):
                if isinstance(value, numbers.Real) and not isinstance(value, bool) and value <= 0:
                    raise ValueError("Both `input_dim` and `output_dim` should be positive, "
                                     f"Received input_dim = {input_dim} and output_dim = {output_dim}")
            self.input_dim = _positive_int(input_dim, "input_dim")
            self.output_dim = _positive_int(output_dim, "output_dim")
            self.embeddings_initializer = initializers.get(embeddings_initializer)
            self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
            self.embeddings_constraint = constraints.get(embeddings_constraint)
            if sparse and mask_zero:
                raise ValueError("`mask_zero` cannot be enabled when `tf.keras.layers.Embedding` is used with "
                                 "`tf.SparseTensor` input.")
            if sparse:
                raise ValueError("sparse outputs (`sparse=True`, tf.SparseTensor) are not supported.")
            if quantization_config is not None:
                raise ValueError(f"Keras 3's quantization is not supported. Received: quantization_config={quantization_config}")
            if lora_rank is not None:
                lora_rank = _positive_int(lora_rank, "lora_rank")
                if self.embeddings_constraint is not None:
                    raise ValueError("Lora is incompatible with embedding constraints. In order to enable lora on this "
                                     "layer, remove the `embeddings_constraint` argument.")
        except ValueError as e:
            raise ValueError(prefix + str(e)) from None
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.input_length = list(input_length) if isinstance(input_length, tuple) else input_length
        self._default_batch_shape = default_shape
        self.lora_rank = lora_rank
        # Keras 3.15 enables LoRA at build with enable_lora(rank), which resets lora_alpha to the rank:
        # the scale is always 1 once built (its config then says lora_alpha == lora_rank).
        self.lora_alpha = lora_rank if lora_rank else lora_alpha
        self.input_spec = InputSpec(float_only=False)
        self._finish_init()

    # ----- weights -----
    def weight_specs(self, input_shape: Any) -> list[WeightSpec]:
        if not self.lora_rank:
            return [WeightSpec("embeddings", (self.input_dim, self.output_dim), self.embeddings_initializer,
                               self.embeddings_regularizer, self.embeddings_constraint)]
        return [
            WeightSpec("embeddings", (self.input_dim, self.output_dim), self.embeddings_initializer,
                       self.embeddings_regularizer, trainable=False),
            WeightSpec("lora_embeddings_a", (self.input_dim, self.lora_rank), "he_uniform", self.embeddings_regularizer),
            WeightSpec("lora_embeddings_b", (self.lora_rank, self.output_dim), "zeros", self.embeddings_regularizer),
        ]

    def input_shape_from_weights(self, shapes: Mapping[str, tuple[int, ...]]) -> Any:
        emb = tuple(shapes.get("embeddings", (self.input_dim, self.output_dim)))
        if emb != (self.input_dim, self.output_dim):
            raise ValueError(
                f'Layer "{self.name}": embeddings shape {emb} does not match the layer configuration '
                f"(expected ({self.input_dim}, {self.output_dim}))."
            )
        return (None, None)

    def effective_embeddings(self) -> torch.Tensor:
        """The table the lookup reads: ``embeddings`` (+ the scaled LoRA product when ``lora_rank``)."""
        table = self.embeddings
        if self.lora_rank:
            table = table + (self.lora_alpha / self.lora_rank) * (self.lora_embeddings_a @ self.lora_embeddings_b)
        return table

    # ----- call -----
    def _ids(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dtype in (torch.int64, torch.int32):
            return inputs
        return inputs.to(torch.int64)  # floats truncate toward zero, bools become 0/1 (tf.cast)

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        ids = self._ids(inputs)
        table = self.effective_embeddings()
        if torch.compiler.is_compiling():
            out = F.embedding(ids, table)
        else:
            out = self._lookup(ids, table)
        if self._dtype_policy.is_mixed:
            out = out.to(self._dtype_policy.compute_dtype)
        return out

    def _lookup(self, ids: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        try:
            out = F.embedding(ids, table)
        except (IndexError, RuntimeError) as e:
            raise self._range_error(ids) or e from None
        return out

    def _range_error(self, ids: torch.Tensor) -> ValueError | None:
        bad = (ids < 0) | (ids >= self.input_dim)
        if not bool(bad.any()):
            return None
        where = tuple(int(i) for i in bad.nonzero()[0].tolist())
        return ValueError(
            f'{type(self).__name__} layer "{self.name}": ids must be in [0, {self.input_dim}) (input_dim={self.input_dim}). '
            f"Received id {int(ids[where])} at index {list(where)} (ids range from {int(ids.min())} to {int(ids.max())})."
        )

    def produces_mask(self, input_masked: Any) -> bool:
        return self.mask_zero

    def compute_mask(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor | None:
        """tf.keras: ``inputs != 0`` with ``mask_zero``, else ``None`` (an input mask is not passed on)."""
        if not self.mask_zero:
            return None
        return inputs != 0

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        """``input_shape + (output_dim,)``; with ``input_length``, tf.keras's check and fill-in of the steps."""
        input_shape = tuple(None if d is None else int(d) for d in input_shape)
        if self.input_length is None:
            return (*input_shape, self.output_dim)
        lens = list(self.input_length) if isinstance(self.input_length, (list, tuple)) else [self.input_length]
        if len(lens) != len(input_shape) - 1:
            raise ValueError(f'"input_length" is {self.input_length}, but received input has shape {shape_str(input_shape)}')
        for i, (s1, s2) in enumerate(zip(lens, input_shape[1:])):
            if s1 is not None and s2 is not None and s1 != s2:
                raise ValueError(
                    f'"input_length" is {self.input_length}, but received input has shape {shape_str(input_shape)}'
                )
            if s1 is None:
                lens[i] = s2
        return (input_shape[0], *lens, self.output_dim)

    # ----- config / repr -----
    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        if "batch_input_shape" not in config and self.lora_rank is None:
            config["batch_input_shape"] = self._default_batch_shape  # what tf.keras writes
        config.update({
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "input_length": self.input_length,
        })
        if self.lora_rank:
            config.update({"lora_rank": self.lora_rank, "lora_alpha": self.lora_alpha})
        return config

    def extra_repr(self) -> str:
        parts = [f"name={self.name!r}", f"input_dim={self.input_dim}", f"output_dim={self.output_dim}"]
        if self.mask_zero:
            parts.append("mask_zero=True")
        if self.lora_rank:
            parts.append(f"lora_rank={self.lora_rank}")
        return ", ".join(parts + self._repr_common())
