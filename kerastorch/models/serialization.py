"""Old path of ``kerastorch.engine.serialization``, kept because tests import it (and patch its registry of
user classes): this name is bound to that very module, so patches reach it."""
import sys

from ..engine import serialization as _implementation

sys.modules[__name__] = _implementation
