"""Old path of ``kerastorch.layers.ops`` (tests import ``OPS`` from here); new code imports kerastorch.layers.ops."""
from ..layers.ops import OPS, OpLayer, register_op

__all__ = ["OPS", "OpLayer", "register_op"]
