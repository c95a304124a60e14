"""One registry pattern for initializers, regularizers, constraints and activations.

Reproduces Keras's `get` / `serialize` / `deserialize` trio: identifiers may be ``None``, a string
(snake_case alias or CamelCase class name), a serialized config dict (the new
``{'module', 'class_name', 'config', 'registered_name'}`` form or the legacy
``{'class_name', 'config'}`` form), an instance or a callable.
"""
from __future__ import annotations

from typing import Any, Callable


def describe(obj: Any) -> str:
    """A short, never-failing description of any object for reprs and messages."""
    try:
        if hasattr(obj, "get_config") and not isinstance(obj, type):
            return repr(obj)
        name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
        if name is not None:
            module = getattr(obj, "__module__", None)
            return f"{module}.{name}" if module and module != "builtins" else str(name)
        return f"<{type(obj).__module__}.{type(obj).__qualname__} object>"
    except Exception:  # a repr that raises must not break ours
        return f"<{type(obj).__qualname__} object>"


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

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._objects

    def name_of(self, obj: Any) -> str | None:
        """The canonical name of a registered object (``None`` when ``obj`` is not registered)."""
        try:
            return self._canonical.get(obj)
        except TypeError:  # unhashable
            return None

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
        """Keras's new serialized form of an object with ``get_config``.

        Anything else (a lambda, a torch function, a module without a config) cannot be named in a
        Keras config: a ``ValueError`` says so, naming the object.
        """
        if obj is None:
            return None
        get_config = getattr(obj, "get_config", None)
        if not callable(get_config):
            raise ValueError(
                f"Cannot serialize {self.kind} {describe(obj)}: it is a plain callable without `get_config`, "
                "which a Keras config cannot name."
            )
        out = {"module": self.module, "class_name": type(obj).__name__, "config": get_config(), "registered_name": None}
        build_config = getattr(obj, "get_build_config", lambda: None)()
        if build_config is not None:  # layers: Keras 3 records the built input shape
            out["build_config"] = build_config
        return out

    def deserialize(self, config: Any) -> Any:
        """Instantiate from a string or a new/legacy config dict."""
        if isinstance(config, str):
            obj = self.lookup(config)
            if not isinstance(obj, type):
                return obj
            try:
                return obj()
            except TypeError as e:  # a class that needs arguments cannot come from a bare name
                raise ValueError(f"{self.kind} {config!r} needs a config, not just its name: {e}") from None
        if isinstance(config, dict):
            if "class_name" not in config:
                raise ValueError(f"Improper config format for {self.kind}: {config}")
            cls = self.lookup(config["class_name"])
            inner = config.get("config") or {}
            if not isinstance(cls, type):
                return cls
            if not isinstance(inner, dict):
                raise ValueError(f"Improper config format for {self.kind} {config['class_name']!r}: {inner!r}")
            try:
                return cls.from_config(dict(inner)) if hasattr(cls, "from_config") else cls(**inner)
            except TypeError as e:  # wrong or mistyped arguments in a config are bad input, not a crash
                raise ValueError(f"Invalid config for {self.kind} {config['class_name']!r}: {e}") from None
        raise ValueError(f"Could not interpret {self.kind} identifier: {config!r}")

    def get(self, identifier: Any) -> Any:
        if identifier is None:
            return None
        if isinstance(identifier, (str, dict)):
            return self.deserialize(identifier)
        if callable(identifier):
            return identifier
        raise ValueError(f"Could not interpret {self.kind} identifier: {identifier!r}")


# Every kerastorch layer class, by its Keras class name. It lives here, beside the component registries,
# so that ``activations.get('ReLU')`` can build an activation layer without importing the layers package.
LAYERS = Registry("layer", "keras.layers")
