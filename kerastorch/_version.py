"""kerastorch's version (a module of its own, so that saving and the CLI read it without importing the package root)."""
__version__ = "0.1.0"
