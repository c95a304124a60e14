"""Whole models, implementation: ``Functional``/``Sequential`` over ``kerastorch.layers``, their configs and
summaries. The public names are in ``kerastorch.models`` (which also re-exports the file readers from
``kerastorch.saving``, a layer above this one)."""
from .base_model import module_name
from .construction import Input, input_tensor_of
from .functional import Functional, Model
from .sequential import Sequential
from .serialization import deserialize_layer, register_torch_layer, serialize

__all__ = ["Functional", "Input", "Model", "Sequential", "deserialize_layer", "input_tensor_of", "module_name",
           "register_torch_layer", "serialize"]
