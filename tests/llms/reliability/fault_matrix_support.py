"""Helpers of the fault matrix and deadline tests: providers, the matrix's faults, a runner.

* :data:`PROVIDERS` — how to build an OpenAI, Azure or Ollama model (with ``create_llm``) against
  a server, and which fake server speaks its wire;
* :func:`fault_for` — the injection of each matrix fault at each point of the exchange;
* :func:`run_case` — builds a real model on a failing primary (plus an optional healthy backup),
  calls it (whole or streamed) and reports what happened: answer or typed error, attempts per
  endpoint seen by the client and by the servers, elapsed time.

The failing endpoints themselves are in ``fault_matrix_servers``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from core.llms.factory import create_llm
from core.llms.interfaces.context import RequestContext
from core.llms.interfaces.errors import LLMError
from core.llms.interfaces.types import LLMStreamChunk
from core.llms.plugins import build_plugin_manager
from core.llms.providers.base.implementation import BaseLLM
from core.llms.providers.base.retry import RetryPolicy
from core.llms.registry import ModelRegistry
from core.llms.simulator import Fault, Simulator
from core.llms.simulator.faults import DropPoint, StreamPoint
from core.llms.simulator.openai_wire import azure_content_filter_body, error_envelope

from .fault_matrix_servers import NoDNSResolver, OllamaFaultServer, TLSRejectingServer, closed_port

PLUGIN_DIR = Path(__file__).resolve().parents[3] / "plugins" / "core-llms-ollama"
if importlib.util.find_spec("core_llms_ollama") is None:  # the plugin distribution is not installed
    sys.path.insert(0, str(PLUGIN_DIR))

import core_llms_ollama.plugin as ollama_plugin  # noqa: E402

KEY = "sk-matrix-key-0000"
#: two retries per endpoint, tiny backoff, no jitter: the whole matrix runs in seconds.
POLICY = RetryPolicy(max_retries=2, backoff_initial=0.001, backoff_max=0.002, jitter=0.0)
#: the primary's read timeout: short, so a stall is detected fast, yet long enough that a healthy
#: answer never misses it on a loaded 2-core CI machine (at 0.05 s, and once at 0.1 s right after
#: the Ray tests, a full-suite run flaked: a GC pause or a busy core made a healthy attempt time
#: out and be retried). Faults stall for 4x it.
READ_TIMEOUT = 0.2
STALL = 0.8
TIMEOUTS = {"connect": 1.0, "read": READ_TIMEOUT, "total": 5.0}
#: the healthy backup is never the one that stalls: its read timeout has room to spare.
BACKUP_TIMEOUTS = {"read": 2.0}
PROMPT = "hello there friend"

Mode = Literal["call", "stream_before", "stream_after"]
Special = Literal["refused", "dns", "tls"]


def registry() -> ModelRegistry:
    """The built-in providers plus the Ollama plugin (independent of the environment)."""
    pm = build_plugin_manager(autoload=False, blocked=())
    pm.register(ollama_plugin, name="ollama")
    return ModelRegistry.from_plugins(pm)


# -- providers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    """How to build a model of one provider against a server base URL (``http://host:port``)."""

    name: str
    model: str
    path: str = ""  # appended to the base URL to make the endpoint (OpenAI: ``/v1``)
    fields: dict[str, Any] = field(default_factory=dict)
    answer: str = f"Simulated answer to: {PROMPT}"

    def server(self) -> Simulator | OllamaFaultServer:
        """A fresh healthy server speaking this provider's wire."""
        return OllamaFaultServer() if self.name == "ollama" else Simulator()


PROVIDERS: dict[str, Provider] = {
    "openai": Provider("openai", "openai/gpt-4.1-mini", path="/v1"),
    "azure": Provider(
        "azure", "azure/gpt-4.1-mini", fields={"deployment_name": "matrix", "api_version": "2024-10-21"}
    ),
    "ollama": Provider("ollama", "ollama/llama3.2", answer="Simulated answer from Ollama"),
}


def build_model(
    provider: Provider, primary: str, backup: str | None, reg: ModelRegistry, **kw: Any
) -> BaseLLM:
    """A model made by ``create_llm`` on ``primary`` (and ``backup``), with the matrix settings."""
    backups = (
        [{"endpoint": backup + provider.path, "timeouts": BACKUP_TIMEOUTS}] if backup is not None else []
    )
    settings: dict[str, Any] = {"retry": POLICY, "timeouts": TIMEOUTS, **provider.fields, **kw}
    return create_llm(
        provider.model,
        endpoint=primary + provider.path,
        api_key=KEY,
        backups=backups,
        registry=reg,
        **settings,
    )


# -- the faults of the matrix ------------------------------------------------------------------

#: Retry-After of the 429 cases that must be honoured (each retry waits at least this long).
WAIT = 0.02
#: Retry-After far beyond any deadline of the matrix: it must never be slept.
LONG_RETRY_AFTER = 30.0

_STATUS_FAULTS = ("400", "401", "403", "404", "408", "409", "500", "502", "503", "504", "529")
_CONTEXT_BODY = error_envelope(
    "This model's maximum context length is 1047576 tokens. However, your messages resulted in "
    "2000000 tokens. Please reduce the length of the messages.",
    param="messages",
    code="context_length_exceeded",
)
_OPENAI_FILTER_BODY = error_envelope(
    "Your request was rejected as a result of our safety system.", code="content_policy_violation"
)


def _point(mode: Mode) -> DropPoint:
    match mode:
        case "call":
            return "before_headers"
        case "stream_before":
            return "before_first_chunk"
        case "stream_after":
            return "after_first_chunk"


def fault_for(name: str, mode: Mode, provider: str) -> Fault | Special:
    """The injection of matrix fault ``name`` for ``mode`` (where in the exchange it strikes)."""
    at: StreamPoint = "before_first_chunk" if mode == "stream_before" else "after_first_chunk"
    match name:
        case "refused" | "dns" | "tls":
            return name
        case "reset":
            return Fault(drop=_point(mode), reset=True)
        case "closed":
            return Fault(drop=_point(mode))
        case "no_first_byte":
            return Fault(delay=STALL)
        case "stall":
            return Fault(stall=STALL, at=at)
        case "429":
            return Fault(status=429)
        case "429_ra":
            return Fault(status=429, retry_after=WAIT)
        case "429_ra_ms":
            return Fault(status=429, retry_after_ms=int(WAIT * 1000))
        case "429_ra_long":
            return Fault(status=429, retry_after=LONG_RETRY_AFTER)
        case "400_context":
            return Fault(status=400, body=_CONTEXT_BODY)
        case "400_filter":
            body = azure_content_filter_body() if provider == "azure" else _OPENAI_FILTER_BODY
            return Fault(status=400, body=body)
        case "malformed":
            return Fault(malformed_json=True, at=at)
        case "cut":
            return Fault(truncate_stream=True, at=at)
        case "event_500":
            return Fault(error_event=True, at=at)
        case "event_400":
            return Fault(error_event=True, status=400, at=at)
        case _ if name in _STATUS_FAULTS:
            return Fault(status=int(name))
        case _:
            raise AssertionError(f"unknown matrix fault {name!r}")


# -- running one case --------------------------------------------------------------------------


def count_attempts(llm: BaseLLM) -> dict[str, int]:
    """Count, per endpoint name, the attempts the client makes (wraps each Connector)."""
    counts: dict[str, int] = {}
    for conn in getattr(llm.connector, "connectors", ()):
        counts[conn.name] = 0
        for method in ("send_once", "open_stream"):
            real = getattr(conn, method)

            async def counted(*args: Any, _real: Any = real, _name: str = conn.name, **kw: Any) -> Any:
                counts[_name] += 1
                return await _real(*args, **kw)

            setattr(conn, method, counted)
    return counts


@dataclass
class Outcome:
    """What one call did."""

    text: str | None = None  # the answer on success
    served_by: str | None = None  # the endpoint that served it
    error: LLMError | None = None
    chunks: list[LLMStreamChunk] = field(default_factory=list)
    endpoints: list[str] = field(default_factory=list)  # [primary, backup?] display names
    client_attempts: list[int] = field(default_factory=list)  # per endpoint, as the client counted
    elapsed: float = 0.0


async def call_model(llm: BaseLLM, mode: Mode, ctx: RequestContext | None = None, **params: Any) -> Outcome:
    """Call ``llm`` once (whole answer, or a stream read to the end) and record the outcome."""
    out = Outcome(endpoints=list(getattr(llm.connector, "endpoints", [])))
    counts = count_attempts(llm)
    started = time.monotonic()
    try:
        if mode == "call":
            response = await llm.get_answer(PROMPT, ctx, **params)
            out.text, out.served_by = response.text, response.endpoint
        else:
            async for chunk in llm.stream_answer(PROMPT, ctx, **params):
                out.chunks.append(chunk)
            out.text = "".join(c.text for c in out.chunks)
            out.served_by = out.chunks[0].endpoint if out.chunks else None
    except LLMError as exc:
        out.error = exc
    out.elapsed = time.monotonic() - started
    out.client_attempts = [counts.get(name, 0) for name in out.endpoints]
    return out


@contextlib.asynccontextmanager
async def serving(
    provider: Provider, fault: Fault | Special, *, once: bool, cert: tuple[Path, Path] | None
) -> AsyncIterator[tuple[str, Callable[[], int | None]]]:
    """The primary endpoint for ``fault``: its base URL and a function giving the number of
    attempts the server side saw (None when nothing can listen: a refused port)."""
    match fault:
        case "refused":
            with closed_port() as port:
                yield f"http://127.0.0.1:{port}", lambda: None
        case "dns":
            NoDNSResolver.lookups = 0
            yield "http://llm.invalid:8080", lambda: NoDNSResolver.lookups
        case "tls":
            assert cert is not None
            async with TLSRejectingServer(*cert) as tls:
                yield tls.url, lambda: tls.connections
        case Fault():
            async with provider.server() as server:
                if once:
                    server.enqueue(fault)
                else:
                    server.set_default_fault(fault)
                yield server.url, lambda: server.request_count
        case _:
            raise AssertionError(f"unknown fault {fault!r}")


@dataclass
class CaseResult:
    """An :class:`Outcome` plus the server-side attempt counts."""

    outcome: Outcome
    primary_hits: int | None
    backup_hits: int


async def run_case(
    provider: Provider,
    fault: Fault | Special,
    mode: Mode,
    *,
    backup: bool,
    once: bool,
    deadline: float | None,
    reg: ModelRegistry,
    cert: tuple[Path, Path] | None = None,
) -> CaseResult:
    """One matrix case: the primary fails with ``fault`` (every time, or ``once``), an optional
    healthy backup of the same provider, one call in ``mode``."""
    async with (
        serving(provider, fault, once=once, cert=cert) as (primary_url, primary_hits),
        provider.server() as spare,
    ):
        llm = build_model(provider, primary_url, spare.url if backup else None, reg)
        async with llm:
            ctx = RequestContext.with_timeout(deadline) if deadline is not None else None
            outcome = await call_model(llm, mode, ctx)
        return CaseResult(outcome, primary_hits(), spare.request_count)
