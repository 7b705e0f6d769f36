"""Per-call context: identity, deadline, idempotency and labels that flow to logs and metrics."""

from __future__ import annotations

import math
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from .errors import InvalidInputError

__all__ = ["RequestContext", "check_context", "valid_trace_parent"]


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What a caller knows about one call, beyond the messages.

    ``deadline`` is an absolute :func:`time.monotonic` value: retries, backoff sleeps and
    failover together never run past it. ``idempotency_key`` is sent unchanged on every attempt
    of the call (retries and failover), so a provider that honours it never runs it twice.

    Every field is checked when the context is made: a value of the wrong type (a ``deadline``
    that is not a finite number, an ``idempotency_key`` with a line break, labels that are not
    strings …) raises :class:`~core.llms.interfaces.errors.InvalidInputError` naming the field.
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

    def __post_init__(self) -> None:
        # Cheap for the usual context (an id, perhaps a deadline and a key): one test per field.
        if not isinstance(self.request_id, str):
            _refuse("request_id", "a string", self.request_id)
        if self.tenant is not None and not isinstance(self.tenant, str):
            _refuse("tenant", "a string or None", self.tenant)
        if self.user is not None and not isinstance(self.user, str):
            _refuse("user", "a string or None", self.user)
        if self.trace_parent is not None and not valid_trace_parent(self.trace_parent):
            # it is sent as a header: only the W3C form may pass
            expected = "a W3C traceparent ('00-<32 hex>-<16 hex>-<2 hex>') or None"
            _refuse("trace_parent", expected, self.trace_parent)
        deadline = self.deadline
        if deadline is not None and not _finite_number(deadline):
            _refuse("deadline", "a finite time.monotonic() value (seconds) or None", deadline)
        key = self.idempotency_key
        if key is not None and (not isinstance(key, str) or not key.isprintable()):
            # it is sent as a header: a line break would be refused by the HTTP layer (or worse)
            _refuse("idempotency_key", "a printable string (it is sent as a header)", key, show=False)
        budget = self.budget_usd
        if budget is not None and not (_finite_number(budget) and budget >= 0):
            _refuse("budget_usd", "a number >= 0 or None", budget)
        labels = self.labels
        if (type(labels) is not dict or labels) and not _string_mapping(labels):  # ({}: nothing to check)
            _refuse("labels", "a dict of strings", labels, show=False)

    @classmethod
    def with_timeout(cls, seconds: float, **fields: object) -> RequestContext:
        """A context whose deadline is ``seconds`` from now."""
        if not _finite_number(seconds):
            _refuse("seconds", "a finite number", seconds, where="RequestContext.with_timeout")
        return cls(deadline=time.monotonic() + seconds, **_known(fields))  # type: ignore[arg-type]

    def remaining(self) -> float | None:
        """Seconds left before the deadline (may be negative), or None when there is none."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def evolve(self, **changes: object) -> RequestContext:
        """A copy with some fields changed."""
        return replace(self, **_known(changes))  # type: ignore[arg-type]


_FIELDS = frozenset(f.name for f in fields(RequestContext))


def _known(given: dict[str, object]) -> dict[str, object]:
    unknown = sorted(set(given) - _FIELDS)
    if unknown:
        raise InvalidInputError(
            f"RequestContext has no field(s) {unknown}", hint=f"its fields: {', '.join(sorted(_FIELDS))}"
        )
    return given


def _string_mapping(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def _finite_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


#: W3C Trace Context ``traceparent``: version, trace id, parent id, flags (lowercase hex);
#: a later version may append fields after a ``-``.
_TRACE_PARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-[\x21-\x7e]*)?")


def valid_trace_parent(value: object) -> bool:
    """Is ``value`` a W3C ``traceparent`` header value (version ``ff`` and all-zero ids are
    invalid; version ``00`` has exactly four fields)?"""
    if not isinstance(value, str):
        return False
    match = _TRACE_PARENT.fullmatch(value)
    if match is None:
        return False
    version, trace_id, parent_id, _, rest = match.groups()
    if version == "ff" or trace_id == "0" * 32 or parent_id == "0" * 16:
        return False
    return not (version == "00" and rest)


def _refuse(
    name: str, expected: str, value: Any, *, show: bool = True, where: str = "RequestContext"
) -> None:
    shown = f" ({value!r})" if show and isinstance(value, int | float | str) and len(repr(value)) < 60 else ""
    raise InvalidInputError(f"{where}.{name} must be {expected}, not {type(value).__name__}{shown}")


def check_context(ctx: object) -> RequestContext | None:
    """``ctx`` itself when it is a :class:`RequestContext` or None; anything else (a dict of its
    fields, say) raises :class:`~core.llms.interfaces.errors.InvalidInputError`. Call it where a
    public method receives ``ctx``: it costs one ``isinstance``."""
    if ctx is None or isinstance(ctx, RequestContext):
        return ctx
    hint = (
        "build one: RequestContext(**fields), or RequestContext.with_timeout(seconds)"
        if isinstance(ctx, Mapping)
        else "pass a RequestContext, or None"
    )
    raise InvalidInputError(f"ctx must be a RequestContext or None, not {type(ctx).__name__}", hint=hint)
