"""``SpectralNormalization(layer, power_iterations=1)`` (tf.keras and Keras 3 ``layers.SpectralNormalization``).

A wrapper around a layer with a ``kernel`` (or ``embeddings``): in training, before the wrapped layer runs,
``power_iterations`` steps of the power iteration on the kernel reshaped to ``(-1, kernel.shape[-1])``
update the non-trainable ``vector_u`` (``(1, kernel.shape[-1])``, truncated normal 0.02) and replace the
kernel by ``kernel / sigma`` in place, as Keras's ``assign`` does (gradients then flow to the replaced
kernel through the wrapped layer only). An all-zero kernel is left as it is. In inference the wrapped layer
runs unchanged. The weights are the wrapped layer's then ``vector_u`` (tf.keras's order and names, so tf.keras
``.h5`` files load; Keras 3 lists ``[kernel, vector_u, bias]`` and stores the kernel twice: its files are not
read yet).
"""
from __future__ import annotations

import numbers
from typing import Any

import torch

from ... import initializers
from ..._registry import LAYERS
from ..layer import Layer, WeightSpec
from ..utils.nested_weights import NestedWeights, deserialize_sublayer


def _l2_normalize(x: torch.Tensor) -> torch.Tensor:
    """``tf.math.l2_normalize`` over every element."""
    return x * torch.rsqrt(torch.clamp_min((x * x).sum(), 1e-12))


class _PowerIterationState(Layer):
    """The wrapper's non-trainable ``vector_u`` (``(1, units)``), a sublayer so that the wrapper's weights are
    its sublayers' in Keras's order: the wrapped layer's, then ``vector_u``."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._finish_init()

    def weight_specs(self, input_shape: Any) -> list[WeightSpec]:
        units = None if input_shape is None else input_shape[-1]
        return [WeightSpec("vector_u", (1, units), initializers.TruncatedNormal(stddev=0.02), trainable=False)]

    def input_shape_from_weights(self, shapes: Any) -> tuple[int | None, ...]:
        return (int(tuple(shapes["vector_u"])[-1]),)


@LAYERS.register()
class SpectralNormalization(NestedWeights, Layer):
    """Keras's ``SpectralNormalization`` wrapper (see the module docstring)."""

    _call_takes_training = True

    def __init__(self, layer: Any, power_iterations: int = 1, **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise ValueError(
                f'SpectralNormalization layer "{self.name}": `layer` must be a kerastorch layer with a `kernel` '
                f"or `embeddings` weight. Received: layer={layer!r}"
            )
        if isinstance(power_iterations, bool) or not isinstance(power_iterations, numbers.Integral) or power_iterations <= 0:
            raise ValueError(
                f'SpectralNormalization layer "{self.name}": `power_iterations` should be greater than zero. '
                f"Received: `power_iterations={power_iterations!r}`"
            )
        self.layer = layer
        self.power = _PowerIterationState(name=f"{self.name}_vector_u", dtype=kwargs.get("dtype"))
        self.power_iterations = int(power_iterations)
        self._kernel_name = next((n for n in ("kernel", "embeddings") if n in layer.weight_names), None)
        if self._kernel_name is None:
            raise ValueError(
                f'SpectralNormalization layer "{self.name}": {type(layer).__name__} object has no attribute '
                "'kernel' nor 'embeddings'"
            )
        self._finish_init()

    # ----- weights: the wrapped layer's, then vector_u (tf.keras's order; Keras 3 lists kernel, vector_u, bias) -----
    def _weight_owners(self) -> list[tuple[str, Any]]:
        return [("layer", self.layer), ("power", self.power)]

    def keras3_var_groups(self) -> list[tuple[str, str, list[str]]]:
        """Keras 3's weight-file groups: the wrapper's own ``vars`` are the wrapped kernel (Keras 3 tracks
        ``self.kernel = self.layer.kernel`` again) and ``vector_u``; the wrapped layer's under ``layer/vars``."""
        return [("", self.name, [f"layer.{self._kernel_name}", "power.vector_u"]),
                ("layer", self.layer.name, [f"layer.{n}" for n in self.layer.weight_names])]

    @property
    def vector_u(self) -> torch.Tensor:
        return self.power.vector_u

    def build(self, input_shape: Any) -> None:
        if not self.layer.built:
            self.layer.build(input_shape)
        if not self.power.built:
            self.power.build((int(self.layer.keras_weight(self._kernel_name).shape[-1]),))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return self.layer.compute_output_shape(input_shape)

    def _symbolic_sublayers(self, shapes: Any) -> list[tuple[Any, Any]]:
        return [(self.layer, shapes)]  # the wrapped layer sees the wrapper's input

    def _first_weight(self) -> torch.Tensor | None:
        return None  # the wrapped layer casts its own input

    # ----- call -----
    def normalized_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Keras's power iteration: ``(vector_u, kernel / sigma)`` (the kernel in Keras's layout)."""
        kernel = self.layer.keras_weight(self._kernel_name)
        w = kernel.reshape(-1, kernel.shape[-1])
        u = self.vector_u
        v = u
        for _ in range(self.power_iterations):
            v = _l2_normalize(u @ w.T)
            u = _l2_normalize(v @ w)
        sigma = (v @ w) @ u.T
        return u, (w / sigma).reshape(kernel.shape)

    def call(self, inputs: Any, training: bool = False) -> Any:
        if training:
            with torch.no_grad():
                kernel = self.layer.keras_weight(self._kernel_name)
                u, new = self.normalized_weights()
                keep = (kernel == 0).all()  # Keras leaves an all-zero kernel (and u) as they are
                self.power.vector_u.copy_(torch.where(keep, self.power.vector_u, u))
                kernel.copy_(torch.where(keep, kernel, new))
        return self.layer(inputs)

    # ----- config -----
    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "layer": LAYERS.serialize(self.layer), "power_iterations": self.power_iterations}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> "SpectralNormalization":
        config = dict(config)
        layer = deserialize_sublayer(config.pop("layer"))
        return cls(layer, **config)

    def extra_repr(self) -> str:
        return ", ".join([f"name={self.name!r}", f"power_iterations={self.power_iterations}"] + self._repr_common())
