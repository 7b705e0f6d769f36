"""Per-call context: identity, deadline, idempotency and labels that flow to logs and metrics."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace

__all__ = ["RequestContext"]


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What a caller knows about one call, beyond the messages.

    ``deadline`` is an absolute :func:`time.monotonic` value: retries, backoff sleeps and
    failover together never run past it. ``idempotency_key`` is sent unchanged on every attempt
    of the call (retries and failover), so a provider that honours it never runs it twice.
    """

    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    tenant: str | None = None
    user: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    deadline: float | None = None
    idempotency_key: str | None = None
    #: maximum spend in USD for this call (checked against the model's prices).
    budget_usd: float | None = None
    #: W3C ``traceparent`` of the caller's span.
    trace_parent: str | None = None

    @classmethod
    def with_timeout(cls, seconds: float, **fields: object) -> RequestContext:
        """A context whose deadline is ``seconds`` from now."""
        return cls(deadline=time.monotonic() + seconds, **fields)  # type: ignore[arg-type]

    def remaining(self) -> float | None:
        """Seconds left before the deadline (may be negative), or None when there is none."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def evolve(self, **changes: object) -> RequestContext:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]
