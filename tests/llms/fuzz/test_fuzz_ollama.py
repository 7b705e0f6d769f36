"""Fuzzing the Ollama plugin's readers: ``OllamaStreamParser`` (fed by the real ``NDJSONDecoder``),
``parse_message`` / ``usage_of`` / ``finish_reason``, the model class end to end over a fake
connector, ``OllamaAdapter.map_error`` and the 2xx-body error detectors of both adapters.

Property: well-typed results or the library's own ``LLMError`` subclasses, nothing else.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from core_llms_ollama.adapter import OllamaAdapter
from core_llms_ollama.parsing import OllamaStreamParser, finish_reason, parse_message, usage_of
from hypothesis import given
from hypothesis import strategies as st
from model_classes import model_class
from multidict import CIMultiDict, CIMultiDictProxy

from core.llms.interfaces.errors import LLMError
from core.llms.providers.base.ndjson import NDJSONDecoder
from core.llms.providers.openai.adapter import OpenAIAdapter

from .support import (
    FakeConnector,
    check_usage,
    decode,
    error_bodies,
    fuzz_settings,
    hostile_json,
    json_values,
    mutated_bytes,
    ollama_answer,
    ollama_lines,
    ran,
    retyped,
    run_model,
    run_parser,
    split,
    typed,
)

Llama32 = model_class("ollama/llama3.2")

MODEL = Llama32(FakeConnector())


@st.composite
def _mutated_stream(draw: st.DrawFn) -> bytes:
    lines: list[Any] = ollama_lines()
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(lines) - 1))
        match draw(st.sampled_from(["duplicate", "drop", "retype", "retype", "error"])):
            case "duplicate":
                lines.insert(i, lines[i])
            case "drop" if len(lines) > 1:
                del lines[i]
            case "error":
                lines.insert(i, {"error": draw(json_values)})
            case _:
                lines[i] = draw(retyped(lines[i]))
    raw = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    if draw(st.booleans()):
        raw = draw(mutated_bytes(raw))
    return raw


@fuzz_settings(300)
@given(data=st.data(), raw=_mutated_stream())
def test_stream_parser_mutated_streams(data: st.DataObject, raw: bytes) -> None:
    ran("ollama: NDJSONDecoder + OllamaStreamParser, mutated streams")
    events = decode(NDJSONDecoder(), data.draw(split(raw)))
    run_parser(OllamaStreamParser("http://fuzz.invalid:11434", "llama3.2", MODEL.cost), events)


@fuzz_settings(200)
@given(lines=st.lists(json_values.map(json.dumps) | hostile_json | st.text(max_size=30), max_size=6))
def test_stream_parser_arbitrary_lines(lines: list[str]) -> None:
    ran("ollama: OllamaStreamParser, arbitrary lines")
    events = decode(NDJSONDecoder(), ["\n".join(lines).encode()])
    run_parser(OllamaStreamParser("http://fuzz.invalid:11434", "llama3.2", MODEL.cost), events)


@fuzz_settings(300)
@given(answer=retyped(ollama_answer(), times=4) | json_values)
def test_whole_answer_readers(answer: Any) -> None:
    ran("ollama: parse_message + usage_of + finish_reason")
    result = typed(parse_message, answer, "http://fuzz.invalid:11434")
    if isinstance(result, LLMError) or not isinstance(answer, dict):
        return
    text, calls, thinking = result
    assert isinstance(text, str) and (thinking is None or isinstance(thinking, str))
    for call in calls:
        assert isinstance(call.id, str) and isinstance(call.function.arguments, str)
    usage = typed(usage_of, answer)
    if not isinstance(usage, LLMError):
        check_usage(usage)
    reason = finish_reason(answer.get("done_reason"), bool(calls))
    assert reason in (None, "stop", "length", "tool_calls")


@fuzz_settings(150)
@given(answer=retyped(ollama_answer(), times=3), raw=_mutated_stream(), structured=st.booleans())
def test_model_end_to_end(answer: Any, raw: bytes, structured: bool) -> None:
    ran("ollama: Llama32 get_answer + stream_answer over a fake connector")
    model = Llama32(FakeConnector(data=answer, events=decode(NDJSONDecoder(), [raw])))
    params = {"format": "json"} if structured else {}
    asyncio.run(run_model(model, **params))


_headers = st.dictionaries(
    st.sampled_from(["retry-after", "retry-after-ms", "x-request-id"]), st.text(max_size=20), max_size=3
).map(lambda h: CIMultiDictProxy(CIMultiDict(h)))


@fuzz_settings(200)
@given(
    status=st.integers(100, 999),
    headers=_headers,
    body=st.sampled_from(error_bodies()).flatmap(mutated_bytes) | st.binary(max_size=100)
    | hostile_json.map(str.encode) | json_values.map(lambda v: json.dumps({"error": v}).encode()),
)  # fmt: skip

def test_map_error(status: int, headers: Any, body: bytes) -> None:
    ran("ollama: map_error")
    error = OllamaAdapter().map_error(status, headers, body, "http://fuzz.invalid:11434")
    assert isinstance(error, LLMError)
    str(error)
    repr(error)


@fuzz_settings(200)
@given(data=json_values | st.dictionaries(st.sampled_from(["error", "choices", "message"]), json_values))
def test_error_in_2xx_body(data: Any) -> None:
    ran("openai/ollama: error_in_body")
    for adapter in (OpenAIAdapter(), OllamaAdapter()):
        detect = getattr(adapter, "error_in_body", None)
        if detect is None:
            continue
        error = typed(detect, data, CIMultiDictProxy(CIMultiDict()), "http://fuzz.invalid")
        assert error is None or isinstance(error, LLMError)
