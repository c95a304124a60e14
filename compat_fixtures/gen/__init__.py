"""The fixture generators, one module per concern, run by ``compat_fixtures/generate.py``::

    .venv-keras/bin/python compat_fixtures/generate.py

* ``common``      -- helpers shared by all of them (imports, sessions / seeding, JSON and
  safetensors writing, error-message canonicalization, versions)
* ``conv``        -- Conv1D / Conv2D / Conv3D forward/backward cases and error cases
* ``components``  -- activations, regularizers, constraints, initializers, Conv2D configs
* ``keras_files`` -- real Keras weight files (tf.keras 2.21 / Keras 3) and their layouts
"""
