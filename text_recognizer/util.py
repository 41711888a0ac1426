"""Small helpers shared across the package."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any


def lookup(registry: Mapping[str, Any], name: str, kind: str) -> Any:
    """Return `registry[name]`, or raise a ValueError that lists the valid names."""
    if name not in registry:
        raise ValueError(f"Unknown {kind} {name!r}; valid {kind}s: {', '.join(sorted(registry))}")
    return registry[name]


def call_with_args(fn: Callable, args: Mapping[str, Any], kind: str, *positional: Any) -> Any:
    """Call `fn(*positional, **args)`, turning unknown or missing arguments into a ValueError naming the valid ones."""
    signature = inspect.signature(fn)
    try:
        signature.bind(*positional, **args)
    except TypeError as e:
        valid = list(signature.parameters)[len(positional) :]
        raise ValueError(f"Bad {kind} for {fn.__name__}: {e}; valid arguments: {', '.join(valid)}") from e
    return fn(*positional, **args)
