"""One registry pattern for initializers, regularizers, constraints and activations.

Reproduces Keras's `get` / `serialize` / `deserialize` trio: identifiers may be ``None``, a string
(snake_case alias or CamelCase class name), a serialized config dict (the new
``{'module', 'class_name', 'config', 'registered_name'}`` form or the legacy
``{'class_name', 'config'}`` form), an instance or a callable.
"""
from __future__ import annotations

from typing import Any, Callable


class Serializable:
    """Keras's config protocol for registry objects: ``get_config``, ``from_config``, a readable repr."""

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Any:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Registry:
    """Name -> object table for one kind of Keras object (e.g. ``'initializer'``)."""

    def __init__(self, kind: str, module: str):
        self.kind = kind  # used in error messages: "Unknown initializer: 'x'"
        self.module = module  # serialized 'module' field, e.g. 'keras.initializers'
        self._objects: dict[str, Any] = {}
        self._canonical: dict[Any, str] = {}

    def register(self, *names: str) -> Callable[[Any], Any]:
        """Decorator: register an object under its class/function name plus ``names``."""

        def wrap(obj: Any) -> Any:
            self._canonical.setdefault(obj, obj.__name__)
            for name in (obj.__name__, *names):
                self._objects[name] = obj
            return obj

        return wrap

    def alias(self, name: str, obj: Any) -> None:
        self._objects[name] = obj

    def names(self) -> list[str]:
        return sorted(self._objects)

    def lookup(self, name: str) -> Any:
        try:
            return self._objects[name]
        except (KeyError, TypeError):
            raise ValueError(
                f"Unknown {self.kind}: {name!r}. Please ensure you are using a "
                "`keras.utils.custom_object_scope` and that this object is included in the scope. "
                f"Known {self.kind}s: {', '.join(self.names())}."
            ) from None

    def serialize(self, obj: Any) -> Any:
        """Keras's new serialized form of an object with ``get_config``."""
        if obj is None:
            return None
        return {
            "module": self.module,
            "class_name": type(obj).__name__,
            "config": obj.get_config(),
            "registered_name": None,
        }

    def deserialize(self, config: Any) -> Any:
        """Instantiate from a string or a new/legacy config dict."""
        if isinstance(config, str):
            obj = self.lookup(config)
            return obj() if isinstance(obj, type) else obj
        if isinstance(config, dict):
            if "class_name" not in config:
                raise ValueError(f"Improper config format for {self.kind}: {config}")
            cls = self.lookup(config["class_name"])
            inner = config.get("config") or {}
            if not isinstance(cls, type):
                return cls
            return cls.from_config(dict(inner)) if hasattr(cls, "from_config") else cls(**inner)
        raise ValueError(f"Could not interpret {self.kind} identifier: {config!r}")

    def get(self, identifier: Any) -> Any:
        if identifier is None:
            return None
        if isinstance(identifier, (str, dict)):
            return self.deserialize(identifier)
        if callable(identifier):
            return identifier
        raise ValueError(f"Could not interpret {self.kind} identifier: {identifier!r}")
