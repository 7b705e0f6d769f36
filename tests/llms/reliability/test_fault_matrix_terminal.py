"""A stream that ends before it is complete is an error, never a success — per provider.

Real recorded streams (``tests/llms/wire``: OpenAI, Azure) and an Ollama NDJSON answer written from
Ollama's documented format are replayed whole (the control: a success), without their terminal
marker (``data: [DONE]`` / the ``"done": true`` line), cut before the finish reason, cut in the
middle of an event, and empty. Through real models made by ``create_llm``, with and without a
healthy backup.

The Chat Completions wire is complete once its finish reason and usage arrived: several
OpenAI-compatible hosts (Groq) close without ``[DONE]``, so a stream missing only the marker is a
success there. Ollama's ``"done": true`` line carries the finish reason and usage itself, so
without it the stream is cut.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from wire_corpus import WIRE

from core.llms.interfaces.errors import APIConnectionError, StreamInterruptedError
from core.llms.registry import ModelRegistry

from .fault_matrix_servers import ReplayServer
from .fault_matrix_support import PROVIDERS, Outcome, build_model, call_model

SSE = "text/event-stream; charset=utf-8"
NDJSON = "application/x-ndjson"
DONE_EVENT = b"data: [DONE]"


def _ollama_transcript() -> bytes:
    lines = [
        {"model": "llama3.2", "message": {"role": "assistant", "content": piece}, "done": False}
        for piece in ("The sky", " is blue", " because", " of Rayleigh scattering.")
    ]
    lines.append(
        {
            "model": "llama3.2",
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 26,
            "eval_count": 9,
        }
    )
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def transcript(provider: str) -> tuple[bytes, str]:
    """The full stream of ``provider`` and its content type."""
    match provider:
        case "openai" | "azure":
            name = {
                "openai": "openai/chat-stream-text-usage.sse",
                "azure": "azure/azure-chat-stream-content-filter-annotations.sse",
            }[provider]
            if not (WIRE / name).exists():
                pytest.skip(f"the recorded wire corpus is not here ({WIRE / name})")
            return (WIRE / name).read_bytes(), SSE
        case "ollama":
            return _ollama_transcript(), NDJSON
        case _:
            raise AssertionError(provider)


def without_marker(body: bytes, provider: str) -> bytes:
    """``body`` minus its terminal marker, everything before it intact."""
    if provider == "ollama":
        lines = body.splitlines(keepends=True)
        assert b'"done": true' in lines[-1]
        return b"".join(lines[:-1])
    cut = body.rindex(DONE_EVENT)
    assert body[cut:].strip() == DONE_EVENT
    return body[:cut]


def before_finish(body: bytes, provider: str) -> bytes:
    """``body`` cut just before the event that carries the finish reason (the content arrived)."""
    if provider == "ollama":
        return without_marker(body, provider)
    cut = body.index(b'"finish_reason":"stop"')
    return body[: body.rindex(b"data: ", 0, cut)]


def mid_event(body: bytes, provider: str) -> bytes:
    """``body`` cut in the middle of the event before its terminal marker."""
    head = without_marker(body, provider).rstrip(b"\n")
    return head[: len(head) - 20]


async def replay(
    provider: str, body: bytes, content_type: str, reg: ModelRegistry, *, backup: bool
) -> tuple[Outcome, int, int]:
    spec = PROVIDERS[provider]
    async with ReplayServer(body, content_type, piece=97) as server, spec.server() as spare:
        async with build_model(spec, server.url, spare.url if backup else None, reg) as llm:
            outcome = await call_model(llm, "stream_before")
        return outcome, server.request_count, spare.request_count


@pytest.fixture(params=sorted(PROVIDERS))
def provider(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_whole_transcript_is_a_success(provider: str, providers_registry: ModelRegistry) -> None:
    body, kind = transcript(provider)
    out, hits, _ = await replay(provider, body, kind, providers_registry, backup=False)
    assert out.error is None and out.text and hits == 1
    assert out.chunks[-1].finish_reason == "stop"


@pytest.mark.parametrize("backup", [False, True], ids=["alone", "backup"])
async def test_chat_completions_stream_without_done_is_complete(
    provider: str, providers_registry: ModelRegistry, backup: bool
) -> None:
    if provider == "ollama":
        pytest.skip("Ollama's done line carries the finish reason: see the next test")
    body, kind = transcript(provider)
    whole, _, _ = await replay(provider, body, kind, providers_registry, backup=False)
    out, hits, spare_hits = await replay(
        provider, without_marker(body, provider), kind, providers_registry, backup=backup
    )
    assert out.error is None and (hits, spare_hits) == (1, 0)
    assert out.text == whole.text
    final = out.chunks[-1]
    assert final.finish_reason == "stop" and final.usage == whole.chunks[-1].usage and final.usage is not None


@pytest.mark.parametrize("backup", [False, True], ids=["alone", "backup"])
@pytest.mark.parametrize(
    "cut", [without_marker, before_finish, mid_event], ids=["no-marker", "before-finish", "mid-event"]
)
async def test_stream_without_terminal_marker_is_an_error(
    provider: str, providers_registry: ModelRegistry, cut: Callable[[bytes, str], bytes], backup: bool
) -> None:
    if cut is without_marker and provider != "ollama":
        pytest.skip("complete without [DONE] on the Chat Completions wire: see the test above")
    body, kind = transcript(provider)
    whole, _, _ = await replay(provider, body, kind, providers_registry, backup=False)
    assert whole.text
    cut_body = cut(body, provider)
    out, hits, spare_hits = await replay(provider, cut_body, kind, providers_registry, backup=backup)
    error = out.error
    assert isinstance(error, StreamInterruptedError), f"{error!r} (text {out.text!r})"
    assert (hits, spare_hits) == (1, 0)  # chunks had reached the caller: never retried or failed over
    assert error.provider == provider and error.endpoint == out.endpoints[0] and error.status == 200
    assert error.partial_text and whole.text.startswith(error.partial_text)
    if cut is without_marker or cut is before_finish:
        assert error.partial_text == whole.text  # all the content arrived, still an error
        assert all(c.finish_reason is None for c in out.chunks)  # no final chunk was emitted


@pytest.mark.parametrize("backup", [False, True], ids=["alone", "backup"])
async def test_empty_stream_is_a_connection_error_and_fails_over(
    provider: str, providers_registry: ModelRegistry, backup: bool
) -> None:
    _, kind = transcript(provider)
    out, hits, spare_hits = await replay(provider, b"", kind, providers_registry, backup=backup)
    if backup:
        assert out.error is None and out.served_by == out.endpoints[1]
        assert (hits, spare_hits) == (1, 1)
    else:
        assert isinstance(out.error, APIConnectionError) and "ended before any data" in out.error.message
        assert (hits, spare_hits) == (3, 0)
        assert isinstance(out.error.__cause__, StreamInterruptedError)
