"""Connections and circuit breakers shared per endpoint, across model objects.

Two model objects on one endpoint (say ``gpt-4.1-mini`` and ``gpt-4o`` on the same Azure resource,
or two ``create_llm`` calls with the same settings) share one :class:`Connector` — one aiohttp
session, one connection pool — and one :class:`CircuitBreaker`, so they share one view of the
endpoint's health: when one model finds the endpoint dead, the other skips it too.

"The same endpoint" means the same adapter kind and provider, and equal endpoint settings (URL,
credentials, headers, timeouts, TLS, proxy, limits, name, model id, provider settings), and the
same thread making the model: an aiohttp session belongs to one event loop and a loop to one
thread, so a model made in another thread (the worker loop of ``LLMClient.sync`` or of the
LiteLLM-compatible blocking calls, a thread running its own ``asyncio.run``) gets its own
connector and breaker. A model whose settings differ in any of these gets its own connector.

The pool keeps weak references: a connector lives while a model (its ``FailoverConnector``) holds
it. Each holder counts; ``aclose()`` of one model releases its hold, and the session closes when
the last holder lets go. The breaker's ``failure_threshold``, ``cooldown`` and ``failure_rate`` are
those of the first model that made the shared connector.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Hashable

from ...interfaces.endpoint import ENDPOINT_FIELDS, EndpointConfig
from ...interfaces.provider import ProviderAdapter
from .breaker import DEFAULT_FAILURE_RATE, CircuitBreaker, FailureRate
from .connector import Connector

__all__ = ["EndpointPool", "default_pool"]


class EndpointPool:
    """Shared connectors and breakers, by endpoint (see the module docstring). Thread-safe."""

    def __init__(self) -> None:
        self._connectors: weakref.WeakValueDictionary[Hashable, Connector] = weakref.WeakValueDictionary()
        self._lock = threading.Lock()

    def connector(
        self,
        endpoint: EndpointConfig,
        adapter: ProviderAdapter,
        failure_threshold: int,
        cooldown: float,
        *,
        failure_rate: FailureRate | None = DEFAULT_FAILURE_RATE,
    ) -> Connector:
        """A connector for ``endpoint`` held once more by the caller (release it with
        ``Connector.release``): the shared one when an open one exists, else a new one."""
        key = _key(endpoint, adapter)
        with self._lock:
            conn = self._connectors.get(key) if key is not None else None
            if conn is None or conn.closed:
                breaker = CircuitBreaker(failure_threshold, cooldown, failure_rate=failure_rate)
                conn = Connector(endpoint, adapter, breaker=breaker)
                if key is not None:
                    self._connectors[key] = conn
            conn.hold()
        return conn

    def __len__(self) -> int:
        """How many endpoints have a live shared connector."""
        return len(self._connectors)


def _key(endpoint: EndpointConfig, adapter: ProviderAdapter) -> Hashable | None:
    """What identifies an endpoint for sharing; None when a setting cannot be compared (an
    unhashable token provider or settings object: such an endpoint is not shared)."""
    values: list[object] = [threading.get_ident(), type(adapter), getattr(adapter, "provider", None)]
    for name in ENDPOINT_FIELDS:
        value = getattr(endpoint, name)
        if name == "headers":
            value = tuple(sorted(value.items()))
        values.append(value)
    key = tuple(values)
    try:
        hash(key)
    except TypeError:
        return None
    return key


_default = EndpointPool()


def default_pool() -> EndpointPool:
    """The process-wide pool the factory (``create_llm``, ``LLMFactory``) uses."""
    return _default
