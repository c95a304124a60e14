"""``Pipeline`` (Keras 3): a plain layer (not a model) applying its layers in turn, passing ``training`` on;
inputs of any structure (image tensors or ``{"images", ...}`` dicts) go through unchanged in form."""
from __future__ import annotations

from typing import Any, Sequence

import torch

from ...._registry import LAYERS
from ...input_spec import InputSpec
from ...layer import Layer
from ...utils.nested_weights import deserialize_sublayer


@LAYERS.register()
class Pipeline(Layer):
    """Keras 3's ``Pipeline(layers, name=None)``. Its config is Keras's: ``{"layers": [...], "name"}``.

    The layers are torch submodules (``train()``/``eval()`` reach them); kerastorch saves a Pipeline's own layers'
    weights only for weight-free layers (Keras's augmentation layers), which is what Keras's examples hold."""

    _call_takes_training = True

    def __init__(self, layers: Sequence[Any], name: str | None = None, **kwargs: Any):
        kwargs.pop("trainable", None)  # Keras 3's Pipeline takes neither: tolerated in configs written by others
        kwargs.pop("dtype", None)
        super().__init__(name=name, **kwargs)
        if not isinstance(layers, (list, tuple)):
            raise ValueError(
                "`Pipeline` config must contain a `layers` key mapping to a list of serialized layers. "
                f"Received config with layers={layers}."
            )
        self._pipeline_layers = torch.nn.ModuleList([deserialize_sublayer(layer) for layer in layers])
        self.input_spec = InputSpec(float_only=False)
        self._finish_init()

    @property
    def layers(self) -> list[Any]:
        return list(self._pipeline_layers)

    def build(self, input_shape: Any) -> None:
        """Builds each layer from the shape the previous one gives (image tensors; a dict input builds each layer
        at its first call)."""
        for layer in self._pipeline_layers:
            if not layer.built:
                layer.build(input_shape)
            input_shape = layer.compute_output_shape(input_shape)

    def _prepare(self, inputs: Any) -> Any:
        if isinstance(inputs, dict):  # {"images", ...}: each layer checks its part
            self._call_key = None
            return inputs
        return super()._prepare(inputs)

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        if args and isinstance(args[0], dict):
            self.built = True  # nothing of its own to build: its layers build at their first call
            return
        super().initialize_parameters(*args, **kwargs)

    def call(self, inputs: Any, training: bool = True) -> Any:
        for layer in self._pipeline_layers:
            if getattr(layer, "_call_takes_training", False):
                inputs = layer(inputs, training=training)
            else:
                inputs = layer(inputs)
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        for layer in self._pipeline_layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = {"layers": [LAYERS.serialize(layer) for layer in self._pipeline_layers], "name": self.name}
        if self._batch_input_shape is not None:  # kerastorch's input_shape= (Keras's Pipeline takes none)
            config["batch_input_shape"] = self._batch_input_shape
        return config

    def extra_repr(self) -> str:
        return f"name={self.name!r}"
