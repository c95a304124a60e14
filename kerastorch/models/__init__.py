"""Whole Keras models (``Sequential``, ``Functional``, ``load_model``): the next milestone, not yet here."""
