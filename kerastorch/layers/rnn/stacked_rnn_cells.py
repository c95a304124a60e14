"""Keras's ``StackedRNNCells``: several cells as one cell (``keras/src/layers/rnn/stacked_rnn_cells.py``)."""
from __future__ import annotations

from typing import Any, Sequence

import torch

from ..._registry import LAYERS
from ..layer import Layer
from .cells import _as_list
from ..utils.nested_weights import NestedWeights, deserialize_sublayer as deserialize


@LAYERS.register()
class StackedRNNCells(NestedWeights, Layer):
    """Keras's ``StackedRNNCells``: cells run one after the other in each step; states are the cells'
    states in order (each cell's output is the next one's input)."""

    supports_masking = True

    def __init__(self, cells: Sequence[Any], **kwargs: Any):
        super().__init__(**kwargs)
        cells = [deserialize(c) for c in cells]
        for c in cells:
            if not hasattr(c, "state_size"):
                raise ValueError(
                    f'StackedRNNCells layer "{self.name}": all cells must have a `state_size` attribute. Received: cells={cells}'
                )
        self.cells = torch.nn.ModuleList(cells)
        self._finish_init()

    @property
    def state_size(self) -> list[int]:
        return [s for c in self.cells for s in (c.state_sizes if hasattr(c, "state_sizes") else _as_list(c.state_size))]

    @property
    def state_sizes(self) -> list[int]:
        return self.state_size

    @property
    def output_size(self) -> int:
        last = self.cells[-1]
        return getattr(last, "output_size", _as_list(last.state_size)[0])

    def get_initial_state(self, inputs: torch.Tensor | None = None, batch_size: int | None = None, dtype: Any = None):
        return [s for c in self.cells for s in c.get_initial_state(inputs, batch_size, dtype)]

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        for c in self.cells:
            if isinstance(c, Layer) and not c.built:
                c.build(shape)
            shape = (shape[0], getattr(c, "output_size", _as_list(c.state_size)[0]))

    def _weight_owners(self) -> list[tuple[str, Layer]]:
        return [(f"cells.{i}", c) for i, c in enumerate(self.cells) if isinstance(c, Layer)]

    def keras_sublayer_paths(self) -> list[tuple[str, str, Layer]]:
        """Where Keras keeps the cells' weights: Keras 3 groups ``cells/<snake class>[_n]`` (``*``: the saving code's
        per-class counter), state_dict prefixes ``cells.<i>``."""
        return [("cells/*", f"cells.{i}", c) for i, c in enumerate(self.cells)]

    def call(self, inputs: torch.Tensor, states: Any = None, training: bool = False):
        states = list(states) if isinstance(states, (list, tuple)) else ([] if states is None else [states])
        if not states:
            states = self.get_initial_state(inputs)
        new_states, i, x = [], 0, inputs
        for c in self.cells:
            n = len(c.state_sizes) if hasattr(c, "state_sizes") else len(_as_list(c.state_size))
            x, s = c(x, list(states[i:i + n]), training=training)
            new_states += _as_list(s)
            i += n
        return x, new_states

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["cells"] = [LAYERS.serialize(c) for c in self.cells]
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "StackedRNNCells":
        config = dict(config)
        config["cells"] = [deserialize(c) for c in config.get("cells", [])]
        return cls(**config)
