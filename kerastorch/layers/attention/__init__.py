"""Keras's attention layers: MultiHeadAttention and (Keras 3) GroupQueryAttention, on
``torch.nn.functional.scaled_dot_product_attention``."""
from .additive_attention import AdditiveAttention
from .attention import Attention
from .grouped_query_attention import GroupedQueryAttention, GroupQueryAttention
from .multi_head_attention import MultiHeadAttention

__all__ = ["AdditiveAttention", "Attention", "GroupQueryAttention", "GroupedQueryAttention", "MultiHeadAttention"]
