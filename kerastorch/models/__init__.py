"""Whole Keras models as torch modules (public API): ``Sequential``, ``Functional`` (``Model``), ``Input``,
model configs and model files.

A public API module, as Keras 3's ``keras/api/models``: it re-exports the implementation
(``kerastorch.engine``: models and configs; ``kerastorch.graph``: symbolic tensors; ``kerastorch.layers.ops``:
op layers) and the file readers and untrusted-config entry points (``kerastorch.saving``), so that no
implementation module ever imports upward. See ``kerastorch.engine.base_model`` for the state_dict naming
(``<layer>.<weight>``; ``'.'`` in a Keras layer name becomes ``'__'``).
"""
from ..engine import Functional, Input, Model, Sequential, module_name, register_torch_layer, serialize
from ..graph import KerasTensor
from ..layers.ops import OPS, OpLayer, register_op
from ..saving.model_configs import model_from_config, model_from_json
from ..saving.model_files import load_model, save_model
from ..layers.applications_layers import LayerScale, StochasticDepth

__all__ = [
    "Functional", "Input", "KerasTensor", "LayerScale", "Model", "OPS", "OpLayer", "Sequential", "StochasticDepth",
    "load_model", "model_from_config", "model_from_json", "module_name", "register_op", "register_torch_layer",
    "save_model", "serialize",
]
