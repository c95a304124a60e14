"""Old path of ``kerastorch.engine.functional`` (tests import ``_Model`` from here); new code imports kerastorch.engine."""
from ..engine.base_model import _Model
from ..engine.functional import Functional, Model
from ..engine.sequential import Sequential

__all__ = ["Functional", "Model", "Sequential", "_Model"]
