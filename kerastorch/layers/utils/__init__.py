"""Pure helpers for layers: argument normalization, output shapes, TF padding."""
