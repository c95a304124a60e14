"""``python -m kerastorch``: the command line of :mod:`kerastorch.cli`."""
import sys

from .cli import main

sys.exit(main())
