"""Error events inside a 200 stream (OpenRouter and other gateways): an integer ``code`` is the
HTTP status it states, the finish reason and usage that arrived are kept on the error, and an error
event before the first chunk follows the 4xx rules (never retried, never failed over)."""

from __future__ import annotations

import json

import pytest

from core.llms import create_llm
from core.llms.interfaces.errors import BadRequestError, RateLimitError, StreamInterruptedError
from core.llms.interfaces.llm_interfaces import WireEvent
from core.llms.providers.dialects.openai_chat.errors import error_from_body
from core.llms.providers.dialects.openai_chat.streaming import ChatStreamParser
from core.llms.simulator import Fault, Simulator

TOKEN_LIMIT = {"error": {"code": 400, "message": "Token limit reached"}}


def event(obj: dict[str, object]) -> WireEvent:
    return WireEvent(json.dumps(obj))


def chunk(text: str = "", finish: str | None = None, usage: dict[str, int] | None = None) -> WireEvent:
    body: dict[str, object] = {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}
    if usage is not None:
        body["usage"] = usage
    return event(body)


@pytest.mark.parametrize(("code", "kind"), [(400, BadRequestError), (429, RateLimitError)])
def test_an_integer_code_is_the_status_it_states(code: int, kind: type[Exception]) -> None:
    error = error_from_body(None, {"error": {"code": code, "message": "m"}})
    assert isinstance(error, kind) and error.status == code and error.code == str(code)


def test_an_integer_code_outside_the_error_range_is_not_a_status() -> None:
    assert error_from_body(None, {"error": {"code": 7, "message": "m"}}).status == 500


def test_finish_reason_and_usage_that_arrived_are_kept_on_the_error() -> None:
    parser = ChatStreamParser("ep")
    parser.feed(chunk("Hello"))
    parser.feed(chunk("", finish="length", usage={"prompt_tokens": 5, "completion_tokens": 7}))
    with pytest.raises(BadRequestError) as info:
        parser.feed(event(TOKEN_LIMIT))
    assert info.value.status == 400 and info.value.finish_reason == "length"
    assert info.value.usage is not None and info.value.usage.output_tokens == 7


def test_finish_reason_and_usage_on_the_error_event_itself_are_kept() -> None:
    parser = ChatStreamParser("ep")
    parser.feed(chunk("Hello"))
    openrouter = {
        **TOKEN_LIMIT,
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4},
    }
    with pytest.raises(BadRequestError) as info:
        parser.feed(event(openrouter))
    assert info.value.finish_reason == "length" and info.value.usage.input_tokens == 3  # type: ignore[union-attr]


async def test_error_event_at_the_start_follows_the_4xx_rules() -> None:
    async with Simulator(flavor="openrouter") as sim, Simulator(flavor="openrouter") as backup:
        sim.set_default_fault(
            Fault(error_event=True, after_chunks=0, error_code=400, message="Token limit reached")
        )
        llm = create_llm(
            "openrouter/openai/gpt-4o-mini",
            endpoint=f"{sim.url}/api/v1",
            api_key="k",
            backups=[{"endpoint": f"{backup.url}/api/v1"}],
        )
        async with llm:
            with pytest.raises(BadRequestError) as info:
                async for _ in llm.stream_answer("hi"):
                    pass
    assert info.value.status == 400 and "Token limit reached" in info.value.message
    assert (len(sim.requests), len(backup.requests)) == (1, 0)  # not retried, not failed over


async def test_error_event_after_data_keeps_what_arrived() -> None:
    async with Simulator(flavor="openrouter") as sim:
        sim.set_default_fault(
            Fault(error_event=True, after_chunks=2, error_code=400, message="Token limit reached")
        )
        async with create_llm(
            "openrouter/openai/gpt-4o-mini", endpoint=f"{sim.url}/api/v1", api_key="k"
        ) as llm:
            texts: list[str] = []
            with pytest.raises(StreamInterruptedError) as info:
                async for piece in llm.stream_answer("one two three four"):
                    texts.append(piece.text)
    error = info.value
    assert isinstance(error.cause, BadRequestError) and error.cause.status == 400
    assert error.partial_text == "".join(texts) and error.partial_text
    assert len(sim.requests) == 1
