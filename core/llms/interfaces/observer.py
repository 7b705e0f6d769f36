"""Observation points: what a model reports about each call to metrics, tracing and log plugins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .context import RequestContext
from .errors import LLMError
from .types import LLMResponse

__all__ = ["CallInfo", "IObserver"]


@dataclass(slots=True)
class CallInfo:
    """One call as observers see it (no messages, no secrets)."""

    provider: str
    model: str
    ctx: RequestContext | None
    stream: bool
    #: :func:`time.perf_counter` when the call started.
    started: float


class IObserver(Protocol):
    """Receives call events. Implementations must be fast and must not raise."""

    def on_request(self, call: CallInfo) -> None: ...

    def on_response(self, call: CallInfo, response: LLMResponse) -> None: ...

    def on_error(self, call: CallInfo, error: LLMError) -> None: ...
