"""The symbolic graph: ``KerasTensor``, ``Node`` and ``symbolic_call`` (functional model construction).

Below ``kerastorch.layers``: it knows no layer class. Layers call :func:`symbolic_call` on symbolic inputs;
``kerastorch.layers.ops`` installs the op recorder for python operators on KerasTensors.
"""
from .keras_tensor import KerasTensor, set_operator_recorder
from .node import Node, flatten, is_symbolic, map_structure
from .symbolic import output_spec, symbolic_call

__all__ = ["KerasTensor", "Node", "flatten", "is_symbolic", "map_structure", "output_spec", "set_operator_recorder",
           "symbolic_call"]
