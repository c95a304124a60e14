"""Operation layers of functional graphs (Keras 3 ``keras.ops``, tf.keras ``TFOpLambda``/``SlicingOpLambda``).

``table`` maps op names to torch implementations; ``op_layer`` runs one as a weight-free layer. Importing this
package installs the recorder for python operators on KerasTensors (``kerastorch.graph``).
"""
from .op_layer import OpLayer, apply, is_op_class, keras3_op
from .table import OPS, register_op

__all__ = ["OPS", "OpLayer", "apply", "is_op_class", "keras3_op", "register_op"]
