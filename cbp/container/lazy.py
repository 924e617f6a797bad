"""Adapters built only where they are used, so a process imports only what it runs."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from typing import Any


def lazy(path: str) -> Callable[..., Any]:
    """The class or function at ``module:name``, imported the first time it is called.

    Adapters a process is not configured to use (a broker, Redis, HTTP
    clients, DNS discovery) are then never imported: they cost it no memory.
    """
    module, _, name = path.partition(":")

    def build(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    build.__qualname__ = build.__name__ = name
    return build


def lazy_lifetime(path: str) -> Callable[..., Iterator[Any]]:
    """The generator at ``module:name`` that opens and closes a connection, imported on first use.

    A container resource must be handed a generator function to know that
    what it yields is to be closed at shutdown; a plain function returning a
    generator would be taken for a coroutine, and the container would turn
    asynchronous.
    """
    build = lazy(path)

    def lifetime(*args: Any, **kwargs: Any) -> Iterator[Any]:
        yield from build(*args, **kwargs)

    lifetime.__qualname__ = lifetime.__name__ = build.__name__
    return lifetime


class OnFirstUse:
    """A port whose adapter is built the first time the port is used.

    For a port every process is handed and few use (the webhook sender):
    its HTTP client and library load only in a process that sends.
    """

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._adapter: Any = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        if self._adapter is None:
            with self._lock:
                if self._adapter is None:
                    self._adapter = self._build()
        return getattr(self._adapter, name)
