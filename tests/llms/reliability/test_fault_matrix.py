"""The fault matrix: every fault, where it strikes, with and without a backup, per provider.

Each case builds a real model with ``create_llm`` (OpenAI and Azure against the simulator,
Ollama against ``OllamaFaultServer``), makes the primary endpoint fail in one way — every time
(``always``) or only on the first request (``once``) — optionally adds a healthy backup, makes
one call, and checks against :data:`MATRIX`: the typed error that surfaced (class, status,
endpoint, attempt, provider; the cause and partial text of a broken stream), how many attempts
each endpoint received (counted by the client and by the server), whether the primary was
retried, whether the call failed over, and which endpoint served it.

``MATRIX`` is the one table of expectations. Its ``retried`` / ``failover`` columns use the words
of the rules table in ``docs/reliability.md``, and ``test_fault_matrix_docs.py`` checks the two
agree. Every other expectation is derived from a row by :func:`expected` (policy: 2 retries).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import aiohttp.connector
import pytest

from core.llms.interfaces.errors import (
    AllEndpointsFailedError,
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContentFilterError,
    ContextWindowExceededError,
    LLMError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ResponseParsingError,
    ServiceUnavailableError,
    StreamInterruptedError,
)
from core.llms.registry import ModelRegistry

from .fault_matrix_servers import NoDNSResolver
from .fault_matrix_support import (
    LONG_RETRY_AFTER,
    POLICY,
    PROVIDERS,
    WAIT,
    CaseResult,
    Mode,
    fault_for,
    run_case,
)

Retried = Literal["no", "yes", "last"]  # "last": only when it is the last endpoint left
Failover = Literal["no", "yes", "after_retries"]

CALL: Mode = "call"
BEFORE: Mode = "stream_before"
AFTER: Mode = "stream_after"


@dataclass(frozen=True)
class Row:
    """What one fault striking at one point must do."""

    fault: str  # see fault_matrix_support.fault_for
    mode: Mode
    error: type[LLMError]  # the typed error that surfaces (exact class)
    status: int | None  # its ``status``
    retried: Retried  # retried on the same endpoint?
    failover: Failover  # failed over to a backup?
    doc: str  # how the failure cell of its row in docs/reliability.md starts
    cause: type[LLMError] | None = None  # a StreamInterruptedError's cause (None: the parser's own)
    follow: str | None = None  # the docs row whose rule applies when ``doc``'s says "by that type"
    deadline: float | None = None  # the call's deadline (ctx), seconds
    wait: float = 0.0  # every retry waits at least this long (Retry-After)


CONN, TIMEOUT = "connection refused", "connect timeout"
HTTP_429, HTTP_429_LONG, HTTP_5XX = "HTTP 429, with", "HTTP 429 whose", "HTTP 500, 502"
HTTP_400, CONTEXT, FILTER = "HTTP 400 / 422", "HTTP 400 context length", "HTTP 400 content filter"
MALFORMED, EVENT, CUT = "malformed JSON", "an error event inside", "a stream that ends before"
BROKEN = "any failure after the first chunk"
# short names for the table's error column
SI = StreamInterruptedError
Connection, Timeout, Unavailable = APIConnectionError, RequestTimeoutError, ServiceUnavailableError
ContextWindow, ContentFilter, Parsing = ContextWindowExceededError, ContentFilterError, ResponseParsingError
Authentication, PermissionDenied = AuthenticationError, PermissionDeniedError

# fmt: off
MATRIX: tuple[Row, ...] = (
    #   fault            mode    error             status retried failover        docs row, cause…
    Row("refused",       CALL,   Connection,       None, "last", "yes",           CONN),
    Row("refused",       BEFORE, Connection,       None, "last", "yes",           CONN),
    Row("dns",           CALL,   Connection,       None, "last", "yes",           CONN),
    Row("dns",           BEFORE, Connection,       None, "last", "yes",           CONN),
    Row("tls",           CALL,   Connection,       None, "last", "yes",           CONN),
    Row("tls",           BEFORE, Connection,       None, "last", "yes",           CONN),
    Row("reset",         CALL,   Connection,       None, "last", "yes",           CONN),
    Row("reset",         BEFORE, Connection,       200,  "last", "yes",           CONN),
    Row("reset",         AFTER,  SI,               200,  "no",   "no",            BROKEN, Connection),
    Row("closed",        CALL,   Connection,       None, "last", "yes",           CONN),
    Row("closed",        BEFORE, Connection,       200,  "last", "yes",           CONN),
    Row("closed",        AFTER,  SI,               200,  "no",   "no",            BROKEN, Connection),
    Row("no_first_byte", CALL,   Timeout,          None, "last", "yes",           TIMEOUT),
    Row("no_first_byte", BEFORE, Timeout,          None, "last", "yes",           TIMEOUT),
    Row("stall",         CALL,   Timeout,          200,  "last", "yes",           TIMEOUT),
    Row("stall",         BEFORE, Timeout,          200,  "last", "yes",           TIMEOUT),
    Row("stall",         AFTER,  SI,               200,  "no",   "no",            BROKEN, Timeout),
    Row("408",           CALL,   Timeout,          408,  "last", "yes",           "HTTP 408"),
    Row("408",           BEFORE, Timeout,          408,  "last", "yes",           "HTTP 408"),
    Row("409",           CALL,   ConflictError,    409,  "yes",  "no",            "HTTP 409"),
    Row("409",           BEFORE, ConflictError,    409,  "yes",  "no",            "HTTP 409"),
    Row("429",           CALL,   RateLimitError,   429,  "yes",  "after_retries", HTTP_429),
    Row("429",           BEFORE, RateLimitError,   429,  "yes",  "after_retries", HTTP_429),
    Row("429_ra",        CALL,   RateLimitError,   429,  "yes",  "after_retries", HTTP_429, wait=WAIT),
    Row("429_ra",        BEFORE, RateLimitError,   429,  "yes",  "after_retries", HTTP_429, wait=WAIT),
    Row("429_ra_ms",     CALL,   RateLimitError,   429,  "yes",  "after_retries", HTTP_429, wait=WAIT),
    Row("429_ra_ms",     BEFORE, RateLimitError,   429,  "yes",  "after_retries", HTTP_429, wait=WAIT),
    Row("429_ra_long",   CALL,   RateLimitError,   429,  "no",   "yes",           HTTP_429_LONG, deadline=5),
    Row("429_ra_long",   BEFORE, RateLimitError,   429,  "no",   "yes",           HTTP_429_LONG, deadline=5),
    Row("500",           CALL,   Unavailable,      500,  "last", "yes",           HTTP_5XX),
    Row("500",           BEFORE, Unavailable,      500,  "last", "yes",           HTTP_5XX),
    Row("502",           CALL,   Unavailable,      502,  "last", "yes",           HTTP_5XX),
    Row("502",           BEFORE, Unavailable,      502,  "last", "yes",           HTTP_5XX),
    Row("503",           CALL,   Unavailable,      503,  "last", "yes",           HTTP_5XX),
    Row("503",           BEFORE, Unavailable,      503,  "last", "yes",           HTTP_5XX),
    Row("504",           CALL,   Unavailable,      504,  "last", "yes",           HTTP_5XX),
    Row("504",           BEFORE, Unavailable,      504,  "last", "yes",           HTTP_5XX),
    Row("529",           CALL,   Unavailable,      529,  "last", "yes",           HTTP_5XX),
    Row("529",           BEFORE, Unavailable,      529,  "last", "yes",           HTTP_5XX),
    Row("400",           CALL,   BadRequestError,  400,  "no",   "no",            HTTP_400),
    Row("400",           BEFORE, BadRequestError,  400,  "no",   "no",            HTTP_400),
    Row("400_context",   CALL,   ContextWindow,    400,  "no",   "no",            CONTEXT),
    Row("400_context",   BEFORE, ContextWindow,    400,  "no",   "no",            CONTEXT),
    Row("400_filter",    CALL,   ContentFilter,    400,  "no",   "no",            FILTER),
    Row("400_filter",    BEFORE, ContentFilter,    400,  "no",   "no",            FILTER),
    Row("401",           CALL,   Authentication,   401,  "no",   "no",            "HTTP 401"),
    Row("401",           BEFORE, Authentication,   401,  "no",   "no",            "HTTP 401"),
    Row("403",           CALL,   PermissionDenied, 403,  "no",   "no",            "HTTP 403"),
    Row("403",           BEFORE, PermissionDenied, 403,  "no",   "no",            "HTTP 403"),
    Row("404",           CALL,   NotFoundError,    404,  "no",   "no",            "HTTP 404"),
    Row("404",           BEFORE, NotFoundError,    404,  "no",   "no",            "HTTP 404"),
    Row("malformed",     CALL,   Parsing,          200,  "no",   "no",            MALFORMED),
    Row("malformed",     BEFORE, Parsing,          200,  "no",   "no",            MALFORMED),
    Row("malformed",     AFTER,  SI,               200,  "no",   "no",            BROKEN, Parsing),
    Row("cut",           CALL,   Connection,       200,  "last", "yes",           CUT),
    Row("cut",           BEFORE, Connection,       200,  "last", "yes",           CUT),
    Row("cut",           AFTER,  SI,               200,  "no",   "no",            BROKEN),
    Row("event_500",     CALL,   Unavailable,      500,  "last", "yes",           EVENT, follow=HTTP_5XX),
    Row("event_500",     BEFORE, Unavailable,      500,  "last", "yes",           EVENT, follow=HTTP_5XX),
    Row("event_500",     AFTER,  SI,               200,  "no",   "no",            BROKEN, Unavailable),
    Row("event_400",     CALL,   BadRequestError,  400,  "no",   "no",            EVENT, follow=HTTP_400),
    Row("event_400",     BEFORE, BadRequestError,  400,  "no",   "no",            EVENT, follow=HTTP_400),
    Row("event_400",     AFTER,  SI,               200,  "no",   "no",            BROKEN, BadRequestError),
)
# fmt: on

#: faults that cannot be made transient: nothing answers, so there is no "once" variant.
PERSISTENT = frozenset({"refused", "dns", "tls"})
#: faults a provider's wire cannot express, with the reason.
NOT_ON_WIRE: dict[str, dict[str, str]] = {
    "ollama": {
        "400_context": "Ollama truncates long prompts instead of answering a context-length error",
        "400_filter": "Ollama has no content filter",
        "event_400": "Ollama's in-stream error lines carry a message only, never a status",
    },
}
TOPOLOGIES = (("alone", "always"), ("alone", "once"), ("backup", "always"), ("backup", "once"))


@dataclass(frozen=True)
class Case:
    provider: str
    row: Row
    backup: bool
    once: bool

    def __str__(self) -> str:
        where = "backup" if self.backup else "alone"
        return f"{self.provider}-{self.row.fault}-{self.row.mode}-{where}-{'once' if self.once else 'always'}"


CASES: list[Case] = [
    Case(provider, row, where == "backup", how == "once")
    for provider in PROVIDERS
    for row in MATRIX
    if row.fault not in NOT_ON_WIRE.get(provider, {})
    for where, how in TOPOLOGIES
    if not (how == "once" and row.fault in PERSISTENT)
]


@dataclass(frozen=True)
class Expected:
    """What a case must show, derived from its row."""

    primary: int  # attempts on the primary
    backup: int  # attempts on the backup
    served_by: Literal["primary", "backup"] | None  # None: the call fails
    wrapped: bool  # the error is AllEndpointsFailedError around the row's error
    retries: int  # same-endpoint retries that had to wait ``row.wait``


def expected(case: Case) -> Expected:
    """The expectations of ``case`` from its row's rules (``POLICY.max_retries`` retries)."""
    row, tries = case.row, 1 + POLICY.max_retries
    retried = row.retried != "no"
    if not case.backup:
        if case.once:
            return Expected(2, 0, "primary", False, 1) if retried else Expected(1, 0, None, False, 0)
        return Expected(tries if retried else 1, 0, None, False, tries - 1 if retried else 0)
    match (row.failover, case.once):
        case ("yes", _):
            return Expected(1, 1, "backup", False, 0)
        case ("after_retries", False):
            return Expected(tries, 1, "backup", False, tries - 1)
        case ("after_retries", True):
            return Expected(2, 0, "primary", False, 1)
        case ("no", True) if row.retried == "yes":
            return Expected(2, 0, "primary", False, 1)
        case ("no", False) if row.retried == "yes":
            return Expected(tries, 0, None, True, tries - 1)
        case _:
            return Expected(1, 0, None, False, 0)


def check_error(error: LLMError, case: Case, primary: str, attempt: int) -> None:
    """The surfaced error (or the last cause of AllEndpointsFailedError) against the row."""
    row = case.row
    assert type(error) is row.error, f"{type(error).__name__}: {error}"
    assert (error.status, error.endpoint, error.attempt) == (row.status, primary, attempt)
    if row.cause is not None or row.error is StreamInterruptedError:
        assert isinstance(error, StreamInterruptedError)
        cause = error.cause
        assert (type(cause) if cause is not None else None) is row.cause, repr(cause)
    if row.fault == "429_ra_long":
        assert isinstance(error, RateLimitError) and error.retry_after == LONG_RETRY_AFTER
    if row.fault == "400_filter" and case.provider == "azure":
        assert isinstance(error, ContentFilterError) and error.filter_results


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_fault_matrix(
    case: Case,
    providers_registry: ModelRegistry,
    certificate: tuple[Path, Path] | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    row, provider = case.row, PROVIDERS[case.provider]
    if row.fault == "tls" and certificate is None:
        pytest.skip("needs the openssl command to make a certificate")
    if row.fault == "dns":
        monkeypatch.setattr(aiohttp.connector, "DefaultResolver", NoDNSResolver)
    result: CaseResult = await run_case(
        provider,
        fault_for(row.fault, row.mode, case.provider),
        row.mode,
        backup=case.backup,
        once=case.once,
        deadline=row.deadline,
        reg=providers_registry,
        cert=certificate,
    )
    out, want = result.outcome, expected(case)
    primary = out.endpoints[0]

    # attempts: as the client counted them, and as the servers saw them
    assert out.client_attempts == [want.primary, want.backup][: len(out.endpoints)]
    if result.primary_hits is not None:
        assert result.primary_hits == want.primary
    assert result.backup_hits == want.backup

    # timing: Retry-After honoured, nothing slept past the deadline or a long Retry-After
    assert out.elapsed >= want.retries * row.wait
    # (the bound catches a 30 s Retry-After slept or a 5 s deadline passed; a loaded CI machine
    # can take over a second for the fast cases, so it is not tighter)
    assert out.elapsed < 4.0, f"took {out.elapsed:.2f}s"

    if want.served_by is not None:
        assert out.error is None, f"{type(out.error).__name__}: {out.error}"
        assert out.text == provider.answer
        assert out.served_by == out.endpoints[0 if want.served_by == "primary" else 1]
        if row.mode != "call":  # the last chunk carries the finish reason: a complete stream
            assert out.chunks[-1].finish_reason == "stop"
        return

    error = out.error
    assert error is not None, f"expected {row.error.__name__}, got an answer from {out.served_by}"
    assert (error.provider, error.model) == (case.provider, provider.model.split("/")[1])
    if want.wrapped:
        assert isinstance(error, AllEndpointsFailedError)
        assert [(a.endpoint, a.attempt) for a in error.attempts] == [
            (primary, n) for n in range(1, want.primary + 1)
        ]
        assert error.last_error is not None
        check_error(error.last_error, case, primary, want.primary)
    else:
        check_error(error, case, primary, want.primary)
    if row.mode == AFTER:  # what had arrived is kept, and nothing was failed over
        assert isinstance(error, StreamInterruptedError)
        assert out.chunks and error.partial_text == "".join(c.text for c in out.chunks) != ""
    else:
        assert not out.chunks  # a failed stream never yields before the error


def test_matrix_shape() -> None:
    """The matrix covers every fault of the issue, in every mode where it can strike."""
    faults = {row.fault for row in MATRIX}
    assert len({(row.fault, row.mode) for row in MATRIX}) == len(MATRIX)
    for fault in faults:
        modes = {row.mode for row in MATRIX if row.fault == fault}
        assert {CALL, BEFORE} <= modes, fault
    in_body = {"reset", "closed", "stall", "malformed", "cut", "event_500", "event_400"}
    assert {row.fault for row in MATRIX if row.mode == AFTER} == in_body
    assert len(CASES) == 692
