"""Whole Keras models as torch modules: ``Sequential``, ``Functional`` (``Model``), ``Input``, model configs.

``Model(inputs, outputs)`` over symbolic tensors from ``Input``; ``model_from_config``/``model_from_json``
read tf.keras and Keras 3 configs; ``get_config`` writes Keras 3's. See ``functional.py`` for the
state_dict naming (``<layer>.<weight>``; ``'.'`` in a Keras layer name becomes ``'__'``).
"""
from .applications_layers import LayerScale, StochasticDepth
from .functional import Functional, Input, Model, Sequential, module_name
from .keras_tensor import KerasTensor
from .ops import OPS, OpLayer, register_op
from .serialization import model_from_config, model_from_json, register_torch_layer, serialize
from ..saving.model_files import load_model, save_model  # the file readers live in saving/

__all__ = [
    "Functional", "Input", "KerasTensor", "LayerScale", "Model", "OPS", "OpLayer", "Sequential", "StochasticDepth",
    "load_model", "model_from_config", "model_from_json", "module_name", "register_op", "register_torch_layer",
    "save_model", "serialize",
]
