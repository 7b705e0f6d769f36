"""Structured call logs: one record per call, and (at DEBUG) one per attempt.

:class:`CallLogObserver` is an observer plugin. For each call it writes one record,
``event="llm.call"``, with the provider, model, operation, endpoint, outcome, attempts,
latency, time to first byte / chunk, tokens, cost, the caller's ``ctx.request_id`` and the
provider's request id, the finish reason, whether it streamed, the context's labels, tenant and
user, and for a failure the error's type, status and (masked, shortened) message. Each attempt
(each try on an endpoint, each endpoint skipped) gets a record ``event="llm.attempt"`` at
``attempt_level`` (DEBUG by default): its endpoint, number, what followed it, its error type and
status, the backoff delay, its duration and the endpoint's circuit-breaker state.

Levels: an answered call is logged at ``level`` (INFO); a failed call at WARNING (or ``level``
when that is higher). A failed call is not an error *of this library*: the caller receives the
exception and decides how serious it is (a rate limit it retries later, a bad request it
reports), so ERROR, which alerting usually watches, is left to the caller; WARNING keeps
failures visible where INFO is filtered out.

No record holds message content, headers or credentials: every text value goes through
``call.mask`` (the model's credentials, and any piece of one, are masked), the error message is
masked and cut at :data:`MAX_ERROR_MESSAGE` characters.

With a :class:`logging.Logger` (or ``LoggerAdapter``) the fields go in ``extra=`` (they become
record attributes; none collides with a :class:`logging.LogRecord` attribute) and the message is
a short human line such as ``chat openai/gpt-4.1-mini ok 0.132s 1 attempt``. With a structlog
logger (anything else with ``bind``) the fields are keyword arguments of its level method:
``logger.info("llm.call", provider=..., ...)``; structlog is never imported here. When the
logger is not enabled for the level, nothing is computed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..hookspecs import hookimpl
from ..interfaces.errors import ConfigurationError, LLMError
from ..interfaces.observer import AttemptInfo, CallInfo
from ..providers.base.redact import cut
from .summary import CallSummary, EndpointNames, error_type, summarize

__all__ = ["ATTEMPT_FIELDS", "CALL_FIELDS", "DEFAULT_LOGGER", "MAX_ERROR_MESSAGE", "CallLogObserver"]

#: the logger used when none is given.
DEFAULT_LOGGER = "core.llms.calls"
#: longest error message a record carries (cut between words, see ``redact.cut``).
MAX_ERROR_MESSAGE = 300

#: the fields of a call record (``event`` is structlog's positional event instead of a field).
CALL_FIELDS: tuple[str, ...] = (
    "event",
    "provider",
    "model",
    "operation",
    "endpoint",
    "outcome",
    "attempts",
    "latency",
    "ttfb",
    "input_tokens",
    "output_tokens",
    "cost",
    "request_id",
    "provider_request_id",
    "finish_reason",
    "stream",
    "labels",
    "tenant",
    "user",
    "error_type",
    "error_message",
    "status",
)
#: the fields of an attempt record.
ATTEMPT_FIELDS: tuple[str, ...] = (
    "event",
    "provider",
    "model",
    "operation",
    "request_id",
    "endpoint",
    "attempt",
    "action",
    "error_type",
    "status",
    "delay",
    "duration",
    "breaker",
)

_internal = logging.getLogger("core.llms.observability")


class CallLogObserver:
    """Logs each call (``level``; failures at WARNING or above) and each attempt
    (``attempt_level``) to ``logger``: a :class:`logging.Logger`, a ``LoggerAdapter`` or a
    structlog logger; None: ``logging.getLogger("core.llms.calls")``. See the module docs."""

    def __init__(
        self, logger: Any = None, level: int = logging.INFO, attempt_level: int = logging.DEBUG
    ) -> None:
        for name, value in (("level", level), ("attempt_level", attempt_level)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigurationError(
                    f"CallLogObserver({name}=...) takes a logging level (an int such as logging.INFO), "
                    f"not {value!r}"
                )
        if logger is None:
            logger = logging.getLogger(DEFAULT_LOGGER)
        self.logger = logger
        self.level = level
        self.error_level = max(level, logging.WARNING)
        self.attempt_level = attempt_level
        self._stdlib = isinstance(logger, logging.Logger | logging.LoggerAdapter)
        self._endpoints = EndpointNames()
        if not self._stdlib and not callable(getattr(logger, "bind", None)):
            raise ConfigurationError(
                "CallLogObserver(logger=...) takes a logging.Logger, a LoggerAdapter or a structlog "
                f"logger, not {type(logger).__name__}"
            )

    # -- hooks -----------------------------------------------------------------------------
    @hookimpl
    def llms_on_response(self, call: CallInfo, response: Any) -> None:
        """One record for a call that answered, at ``level``."""
        if not self._enabled(self.level):
            return
        try:
            fields = self._call_fields(call, summarize(call, response=response), None)
            self._emit(self.level, fields, _call_message(fields))
        except Exception:  # an observer never breaks a call
            _internal.exception("CallLogObserver could not log a response")

    @hookimpl
    def llms_on_error(self, call: CallInfo, error: LLMError) -> None:
        """One record for a call that failed, at WARNING (or ``level`` when higher)."""
        if not self._enabled(self.error_level):
            return
        try:
            fields = self._call_fields(call, summarize(call, error=error), error)
            self._emit(self.error_level, fields, _call_message(fields))
        except Exception:
            _internal.exception("CallLogObserver could not log an error")

    @hookimpl
    def llms_on_attempt(self, call: CallInfo, attempt: AttemptInfo) -> None:
        """One record per attempt (or endpoint skipped), at ``attempt_level``."""
        if not self._enabled(self.attempt_level):
            return
        try:
            self._emit(self.attempt_level, *self._attempt_fields(call, attempt))
        except Exception:
            _internal.exception("CallLogObserver could not log an attempt")

    # -- internals -------------------------------------------------------------------------
    def _enabled(self, level: int) -> bool:
        logger = self.logger
        if self._stdlib:
            return bool(logger.isEnabledFor(level))
        check = getattr(logger, "is_enabled_for", None) or getattr(logger, "isEnabledFor", None)
        return True if check is None else bool(check(level))

    def _call_fields(self, call: CallInfo, summary: CallSummary, error: LLMError | None) -> dict[str, Any]:
        mask = call.mask
        ctx = call.ctx
        message = None
        if error is not None and error.message:
            message = cut(mask(str(error.message)), MAX_ERROR_MESSAGE)
        return {
            "event": "llm.call",
            "provider": mask(summary.provider),
            "model": mask(summary.model),
            "operation": mask(summary.operation),
            "endpoint": self._endpoints(call, summary.endpoint) if summary.endpoint else None,
            "outcome": summary.outcome,
            "attempts": summary.attempts,
            "latency": summary.duration,
            "ttfb": summary.ttfb,
            "input_tokens": summary.input_tokens,
            "output_tokens": summary.output_tokens,
            "cost": summary.cost,
            "request_id": _masked(mask, ctx.request_id) if ctx is not None else None,
            "provider_request_id": summary.request_id,  # (masked by summarize)
            "finish_reason": _masked(mask, summary.finish_reason),
            "stream": summary.stream,
            "labels": summary.labels,  # (values masked by summarize)
            "tenant": _masked(mask, ctx.tenant) if ctx is not None else None,
            "user": _masked(mask, ctx.user) if ctx is not None else None,
            "error_type": summary.error_type,
            "error_message": message,
            "status": summary.status,
        }

    def _attempt_fields(self, call: CallInfo, attempt: AttemptInfo) -> tuple[dict[str, Any], str]:
        mask = call.mask
        ctx = call.ctx
        kind = error_type(attempt.error) if attempt.error is not None else None
        endpoint = self._endpoints(call, attempt.endpoint)
        fields: dict[str, Any] = {
            "event": "llm.attempt",
            "provider": mask(call.provider),
            "model": mask(call.model),
            "operation": mask(call.operation),
            "request_id": _masked(mask, ctx.request_id) if ctx is not None else None,
            "endpoint": endpoint,
            "attempt": attempt.attempt,
            "action": attempt.action,
            "error_type": kind,
            "status": attempt.status,
            "delay": attempt.delay,
            "duration": attempt.duration,
            "breaker": mask(attempt.breaker),
        }
        parts = [f"attempt {attempt.attempt}", f"{fields['provider']}/{fields['model']}", endpoint]
        if kind is not None:
            parts.append(kind if attempt.status is None else f"{kind} {attempt.status}")
        if attempt.duration is not None:
            parts.append(f"{attempt.duration:.3f}s")
        parts.append(f"-> {attempt.action}")
        if attempt.delay is not None:
            parts.append(f"in {attempt.delay:.3f}s")
        return fields, " ".join(parts)

    def _emit(self, level: int, fields: dict[str, Any], message: str) -> None:
        logger = self.logger
        if not self._stdlib:
            event = fields.pop("event")
            method = getattr(logger, logging.getLevelName(level).lower(), None)
            if method is None:  # a custom level: structlog's generic log method
                logger.log(level, event, **fields)
            else:
                method(event, **fields)
            return
        if isinstance(logger, logging.LoggerAdapter):
            # (before Python 3.13 an adapter's process() replaces ``extra``: keep ours as well)
            message, kwargs = logger.process(message, {"extra": fields})
            extra = kwargs.get("extra")
            if extra is not fields:
                kwargs["extra"] = {**(extra or {}), **fields}
            logger.logger.log(level, message, **kwargs)
            return
        logger.log(level, message, extra=fields)


def _masked(mask: Callable[[str], str], value: str | None) -> str | None:
    return None if value is None else mask(value)


def _call_message(fields: dict[str, Any]) -> str:
    """``chat openai/gpt-4.1-mini ok 0.132s 1 attempt``, from a call record's (masked) fields."""
    head = f"{fields['operation']} stream" if fields["stream"] else fields["operation"]
    outcome = fields["outcome"]
    if fields["error_type"] is not None:
        outcome = f"{outcome} {fields['error_type']}"
    attempts = fields["attempts"]
    return (
        f"{head} {fields['provider']}/{fields['model']} {outcome} {fields['latency']:.3f}s "
        f"{attempts} attempt{'' if attempts == 1 else 's'}"
    )
