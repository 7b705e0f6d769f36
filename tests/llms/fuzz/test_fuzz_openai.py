"""Fuzzing the OpenAI / Azure Chat Completions readers: ``parse_chat_completion``,
``ChatStreamParser`` (fed by the real ``SSEDecoder``), the model classes end to end over a fake
connector, and the error mappers (``OpenAIAdapter.map_error``, ``AzureAdapter.map_error``,
``error_from_body`` for in-stream errors).

Property: they return well-typed results or raise the library's own ``LLMError`` subclasses;
never ``KeyError`` / ``TypeError`` / ``AttributeError`` / ``RecursionError`` / JSON errors.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from model_classes import model_class
from multidict import CIMultiDict, CIMultiDictProxy
from pydantic import BaseModel

from core.llms.interfaces.errors import LLMError
from core.llms.interfaces.llm_interfaces import WireEvent
from core.llms.interfaces.types import LLMResponse
from core.llms.providers.azure.adapter import AzureAdapter
from core.llms.providers.base.connector import decode_json
from core.llms.providers.base.http_errors import parse_retry_after
from core.llms.providers.base.sse import SSEDecoder
from core.llms.providers.dialects.openai_chat.errors import error_from_body
from core.llms.providers.dialects.openai_chat.parsing import parse_chat_completion
from core.llms.providers.dialects.openai_chat.streaming import ChatStreamParser
from core.llms.providers.openai.adapter import OpenAIAdapter

from .support import (
    FakeConnector,
    chat_completion_bodies,
    chat_stream_transcripts,
    check_response,
    decode,
    error_bodies,
    fuzz_settings,
    hostile_json,
    json_values,
    mutated_bytes,
    mutated_sse,
    ran,
    retyped,
    run_model,
    run_parser,
    split,
    typed,
)

AzureGPT41 = model_class("azure/gpt-4.1")
GPT4o = model_class("openai/gpt-4o")

COST = GPT4o(FakeConnector()).cost


class Answer(BaseModel):
    city: str
    population: int


_formats = st.sampled_from([None, {"type": "json_object"}, {"type": "text"}, Answer])


def _parse(data: Any, response_format: Any = None) -> None:
    result = typed(
        parse_chat_completion,
        data,
        provider="openai",
        model="gpt-4o",
        cost=COST,
        response_format=response_format,
    )
    if isinstance(result, LLMResponse):
        check_response(result)


# -- non-streamed bodies -------------------------------------------------------------------------


@fuzz_settings(300)
@given(data=json_values | st.dictionaries(st.sampled_from(["choices", "usage", "model"]), json_values))
def test_chat_completion_arbitrary_json(data: Any) -> None:
    ran("openai: parse_chat_completion, arbitrary JSON")
    _parse(data)


@fuzz_settings(300)
@given(data=st.data(), which=st.integers(0, 3), response_format=_formats)
def test_chat_completion_retyped_recorded_bodies(
    data: st.DataObject, which: int, response_format: Any
) -> None:
    ran("openai: parse_chat_completion, retyped recorded bodies")
    body = data.draw(retyped(chat_completion_bodies()[which], times=4))
    _parse(body, response_format)


@fuzz_settings(200)
@given(data=st.data(), which=st.integers(0, 3), response_format=_formats, text=hostile_json)
def test_chat_completion_bytes_and_structured_output(
    data: st.DataObject, which: int, response_format: Any, text: str
) -> None:

    ran("openai: decode_json + parse_chat_completion, mutated bytes")
    body = chat_completion_bodies()[which]
    raw = data.draw(mutated_bytes(json.dumps(body).encode()))
    try:
        decoded = decode_json(raw)  # documented: ValueError when the body is not JSON
    except ValueError:
        decoded = None
    _parse(decoded, response_format)
    # Structured output whose text is hostile JSON.
    answer = json.loads(json.dumps(body))
    answer["choices"][0]["message"] = {"role": "assistant", "content": text}
    _parse(answer, response_format)


# -- streams -------------------------------------------------------------------------------------


@fuzz_settings(300)
@given(data=st.data(), which=st.integers(0, 100))
def test_stream_parser_mutated_transcripts(data: st.DataObject, which: int) -> None:
    ran("openai: SSEDecoder + ChatStreamParser, mutated transcripts")
    corpus = chat_stream_transcripts()
    raw = data.draw(mutated_sse(corpus[which % len(corpus)]))
    events = decode(SSEDecoder(), data.draw(split(raw)))
    run_parser(ChatStreamParser("https://fuzz.invalid/v1", cost=COST, request_id="req-1"), events)


_event_data = json_values.map(json.dumps) | hostile_json | st.text(max_size=40) | st.just("[DONE]")
_chunk_objects = st.fixed_dictionaries(
    {},
    optional={
        "choices": json_values
        | st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "index": json_values,
                    "delta": json_values
                    | st.fixed_dictionaries(
                        {},
                        optional={
                            "content": json_values,
                            "refusal": json_values,
                            "reasoning_content": json_values,
                            "tool_calls": json_values
                            | st.lists(
                                st.fixed_dictionaries(
                                    {},
                                    optional={
                                        "index": json_values,
                                        "id": json_values,
                                        "function": json_values
                                        | st.fixed_dictionaries(
                                            {}, optional={"name": json_values, "arguments": json_values}
                                        ),
                                    },
                                ),
                                max_size=3,
                            ),
                        },
                    ),
                    "finish_reason": json_values,
                    "content_filter_results": json_values,
                },
            ),
            max_size=3,
        ),
        "usage": json_values
        | st.fixed_dictionaries(
            {},
            optional={
                "prompt_tokens": json_values,
                "completion_tokens": json_values,
                "prompt_tokens_details": json_values,
                "completion_tokens_details": json_values,
            },
        ),
        "model": json_values,
        "prompt_filter_results": json_values,
        "error": json_values,
    },
)


@fuzz_settings(300)
@given(
    events=st.lists(
        st.tuples(_event_data | _chunk_objects.map(json.dumps), st.sampled_from([None, "error", "message"])),
        max_size=8,
    ),
    done=st.booleans(),
)
def test_stream_parser_arbitrary_events(events: list[tuple[str, str | None]], done: bool) -> None:
    ran("openai: ChatStreamParser, arbitrary events")
    wire = [WireEvent(data=d, event=e) for d, e in events]
    if done:
        wire.append(WireEvent(data="[DONE]"))
    run_parser(ChatStreamParser("https://fuzz.invalid/v1", cost=COST), wire)


# -- the model classes end to end ----------------------------------------------------------------


@fuzz_settings(150)
@given(
    data=st.data(),
    which=st.integers(0, 100),
    body=st.integers(0, 3),
    model=st.sampled_from([GPT4o, AzureGPT41]),
)
def test_models_end_to_end(data: st.DataObject, which: int, body: int, model: type[Any]) -> None:
    ran("openai/azure: GPT4o / AzureGPT41 get_answer + stream_answer over a fake connector")
    corpus = chat_stream_transcripts()
    raw = data.draw(mutated_sse(corpus[which % len(corpus)]))
    connector = FakeConnector(
        data=data.draw(retyped(chat_completion_bodies()[body])),
        events=decode(SSEDecoder(), [raw]),
    )
    asyncio.run(run_model(model(connector)))


# -- error mapping -------------------------------------------------------------------------------

_header_values = st.text(max_size=30) | st.sampled_from(
    ["1", "-1", "1e999", "nan", "inf", "Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT",
     "Mon, 01 Jan 0001 00:00:00 +9999", "0x10", " 5 "]
)  # fmt: skip
_headers = st.dictionaries(
    st.sampled_from(["retry-after", "Retry-After", "retry-after-ms", "x-request-id", "apim-request-id"]),
    _header_values,
    max_size=4,
).map(lambda h: CIMultiDictProxy(CIMultiDict(h)))
_statuses = st.sampled_from(
    [400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504, 529]
) | st.integers(100, 999)


@st.composite
def _error_body(draw: st.DrawFn) -> bytes:
    seed = draw(st.sampled_from(error_bodies()))
    match draw(st.sampled_from(["bytes", "retype", "arbitrary", "raw"])):
        case "bytes":
            return draw(mutated_bytes(seed))
        case "retype":
            try:
                value = json.loads(seed)
            except ValueError:
                return seed
            return json.dumps(draw(retyped(value))).encode()
        case "arbitrary":
            return draw(st.binary(max_size=200) | hostile_json.map(str.encode))
        case _:
            return seed


@fuzz_settings(300)
@given(status=_statuses, headers=_headers, body=_error_body(), azure=st.booleans())
def test_map_error_returns_a_typed_error(status: int, headers: Any, body: bytes, azure: bool) -> None:
    ran("openai/azure: map_error")
    adapter = AzureAdapter() if azure else OpenAIAdapter()
    error = adapter.map_error(status, headers, body, "https://fuzz.invalid/v1")
    assert isinstance(error, LLMError)
    assert isinstance(str(error), str) and isinstance(repr(error), str)
    retry_after = getattr(error, "retry_after", None)
    assert retry_after is None or retry_after >= 0


@fuzz_settings(200)
@given(data=st.data())
def test_in_stream_error_events(data: st.DataObject) -> None:
    ran("openai: error_from_body (in-stream errors)")
    seed = json.loads(data.draw(st.sampled_from(error_bodies()[:6])))
    error = error_from_body(None, data.draw(retyped(seed) | json_values), endpoint="https://fuzz.invalid/v1")
    assert isinstance(error, LLMError)
    assert isinstance(error.status, int)
    str(error)


@fuzz_settings(200)
@given(headers=_headers)
def test_parse_retry_after(headers: Any) -> None:
    ran("parse_retry_after")
    value = parse_retry_after(headers)
    assert value is None or value >= 0
