"""``TimeDistributed``: tf.keras's wrapper that applies a layer to every timestep of its input.

Reproduces ``tf_keras/layers/rnn/time_distributed.py`` / Keras 3's: the input ``(batch, time, ...)`` is
viewed as ``(batch * time, ...)`` (no copy for a contiguous input), the inner layer runs once on it and the
output is viewed back as ``(batch, time, ...)``. Any inner layer works: Dense, Conv2D, a nested model.

Masks: a ``(batch, time, ...)`` mask is handed to an inner layer whose ``call`` takes one (reshaped the
same way); the output mask is the inner layer's ``compute_mask`` reshaped back when it has one (tf.keras:
``TimeDistributed(Embedding(mask_zero=True))`` gives ``(batch, time, steps)``), else the input mask. Where
tf.keras raises for an inner layer that does not support masks (Conv2D, Flatten), the input mask passes
through, as Keras 3 does (which always passes the input mask: a layer from a Keras 3 config does that). The weights are the inner layer's (``weights``, ``get_weights``, ``set_weights``).
"""
from __future__ import annotations

import inspect
from typing import Any, Sequence

import torch

from ..._registry import LAYERS
from ..input_spec import InputSpec, check_shape
from ..layer import Layer
from ..utils.mask_rules import keras3_config
from ..utils.nested_weights import NestedWeights, deserialize_sublayer


def _takes(module: Any, name: str) -> bool:
    call = getattr(module, "call", None) or module.forward
    try:
        return name in inspect.signature(call).parameters
    except (TypeError, ValueError):
        return False


@LAYERS.register()
class TimeDistributed(NestedWeights, Layer):
    """tf.keras ``TimeDistributed(layer)``: ``layer`` applied to each ``inputs[:, t]``."""

    supports_masking = True

    def __init__(self, layer: Any, **kwargs: Any):
        self._keras3_masks = keras3_config(kwargs)
        super().__init__(**kwargs)
        if not isinstance(layer, torch.nn.Module):
            raise ValueError(
                f'TimeDistributed layer "{self.name}": Please initialize `TimeDistributed` layer with a '
                f"`tf.keras.layers.Layer` instance. Received: {layer!r}"
            )
        self.layer = layer
        self._inner_mask = _takes(layer, "mask")
        self._inner_is_layer = isinstance(layer, Layer)
        self.input_spec = InputSpec(min_ndim=3, float_only=False)
        self._finish_init()

    # ----- build / shapes -----
    def _child_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        shape = tuple(None if d is None else int(d) for d in input_shape)
        if len(shape) < 3:
            raise ValueError(
                f'TimeDistributed layer "{self.name}": `TimeDistributed` Layer should be passed an `input_shape` '
                f"with at least 3 dimensions, received: {shape}"
            )
        return (None, *shape[2:])

    def build(self, input_shape: Any) -> None:
        child = self._child_shape(input_shape)
        check_shape(self.input_spec, input_shape, self.name)
        inner = self.layer
        if isinstance(inner, Layer) and not inner.built and getattr(inner, "_weights_state", lambda: "lazy")() == "lazy":
            inner.build(child)

    def _symbolic_sublayers(self, shapes: Any) -> list[tuple[Any, Any]]:
        return [(self.layer, self._child_shape(shapes))]  # the wrapped layer sees one timestep

    def compute_output_shape(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        child = self._child_shape(input_shape)
        out = tuple(self.layer.compute_output_shape(child))
        return (input_shape[0], input_shape[1], *out[1:])

    # ----- call -----
    def call(self, inputs: torch.Tensor, mask: Any = None, training: bool = False) -> Any:
        b, t = inputs.shape[0], inputs.shape[1]
        kwargs: dict[str, Any] = {}
        if mask is not None:
            mask = self._check_mask(inputs, mask)
            if self._inner_mask:
                kwargs["mask"] = mask.reshape(b * t, *mask.shape[2:])
        if self._inner_is_layer:
            kwargs["training"] = training
        if self._fixed_batch is not None and self._fixed_batch != b * t:
            # an inner model built for a fixed batch (Keras 3 configs record one): one call per timestep,
            # as Keras 3's TimeDistributed runs
            steps = []
            for i in range(t):
                step_kwargs = dict(kwargs)
                if "mask" in step_kwargs:
                    step_kwargs["mask"] = mask[:, i]
                steps.append(self.layer(inputs[:, i], **step_kwargs))
            return torch.stack(steps, 1)
        y = self.layer(inputs.reshape(b * t, *inputs.shape[2:]), **kwargs)
        return y.reshape(b, t, *y.shape[1:])

    @property
    def _fixed_batch(self) -> int | None:
        """The batch size an inner model's input layer fixes (``None``: any batch)."""
        shape = getattr(self.layer, "input_shape", None) if getattr(self.layer, "_kt_is_model", False) else None
        if shape is None and getattr(self.layer, "_kt_is_model", False) and getattr(self.layer, "inputs", None):
            shape = getattr(self.layer.inputs[0], "shape", None)
        return shape[0] if isinstance(shape, (tuple, list)) and shape and isinstance(shape[0], int) else None

    def _check_mask(self, inputs: torch.Tensor, mask: Any) -> torch.Tensor:
        if not isinstance(mask, torch.Tensor):
            mask = torch.as_tensor(mask, device=inputs.device)
        if mask.dim() < 2 or tuple(mask.shape[:2]) != tuple(inputs.shape[:2]):
            raise ValueError(
                f'TimeDistributed layer "{self.name}": the mask must start with the input\'s (batch, timesteps) = '
                f"{tuple(inputs.shape[:2])}. Received: mask.shape={tuple(mask.shape)}"
            )
        return mask

    def produces_mask(self, input_masked: Any) -> bool:
        inner = getattr(self.layer, "produces_mask", None)
        return bool(input_masked) or (not self._keras3_masks and inner is not None and bool(inner(False)))

    def compute_mask(self, inputs: torch.Tensor, mask: Any = None) -> torch.Tensor | None:
        """The inner layer's mask reshaped to ``(batch, time, ...)`` if it has one, else the input mask (Keras 3
        configs: always the input mask, as Keras 3's TimeDistributed)."""
        inner_compute = getattr(self.layer, "compute_mask", None)
        if inner_compute is not None and not self._keras3_masks:
            b, t = inputs.shape[0], inputs.shape[1]
            inner_mask = None if mask is None else mask.reshape(b * t, *mask.shape[2:])
            out = inner_compute(inputs.reshape(b * t, *inputs.shape[2:]), inner_mask)
            if out is not None:
                return out.reshape(b, t, *out.shape[1:])
        return mask

    # ----- the inner layer's weights (NestedWeights: Keras files name them as the wrapper's) -----
    def _weight_owners(self) -> list[tuple[str, Layer]]:
        inner = self.layer
        if getattr(inner, "_kt_is_model", False):  # a nested model: its layers, in its order
            return [(f"layer.{k}", m) for k, m in inner._modules.items() if isinstance(m, Layer) and m.weight_names]
        return [("layer", inner)] if isinstance(inner, Layer) else []

    def keras_sublayer_paths(self) -> list[tuple[str, str, Any]]:
        """Keras 3 keeps the inner layer's variables in the group ``layer`` of the wrapper's."""
        return [("layer", "layer", self.layer)]

    def _first_weight(self) -> torch.Tensor | None:
        return None  # the inner layer casts its own input

    # ----- config -----
    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "layer": LAYERS.serialize(self.layer)}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> "TimeDistributed":
        config = dict(config)
        layer = deserialize_sublayer(config.pop("layer"))
        return cls(layer, **config)

    def extra_repr(self) -> str:
        return ", ".join([f"name={self.name!r}"] + self._repr_common())
