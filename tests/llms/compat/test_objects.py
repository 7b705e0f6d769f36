"""The result objects: OpenAI's shapes (the keys of openai-python's models), attribute and item
access, dumps, construction from dicts (as LiteLLM's pydantic models allow)."""

from __future__ import annotations

import json

import pytest

from core.llms import compat
from core.llms.compat.build import model_response, stream_chunk_builder, usage_of
from core.llms.compat.calls import prepare_messages
from core.llms.interfaces.messages import FunctionCall, ToolCall
from core.llms.interfaces.types import LLMResponse, Usage

# the fields of openai-python's models (openai.types.chat.ChatCompletion and its parts)
CHAT_COMPLETION = {
    "id",
    "choices",
    "created",
    "model",
    "object",
    "service_tier",
    "system_fingerprint",
    "usage",
}
CHOICE = {"finish_reason", "index", "logprobs", "message"}
MESSAGE = {"content", "refusal", "role", "annotations", "audio", "function_call", "tool_calls"}
TOOL_CALL = {"id", "function", "type"}
FUNCTION = {"arguments", "name"}
USAGE = {
    "completion_tokens",
    "prompt_tokens",
    "total_tokens",
    "completion_tokens_details",
    "prompt_tokens_details",
}
CHUNK_CHOICE = {"delta", "finish_reason", "index", "logprobs"}
DELTA = {"content", "function_call", "refusal", "role", "tool_calls"}
DELTA_TOOL_CALL = {"index", "id", "function", "type"}
EMBEDDINGS = {"data", "model", "object", "usage"}
EMBEDDING = {"embedding", "index", "object"}
IMAGE = {"b64_json", "revised_prompt", "url"}


def _answer(**changes: object) -> LLMResponse:
    fields: dict[str, object] = {
        "text": "Paris.",
        "model": "gpt-4o-mini",
        "provider": "openai",
        "finish_reason": "stop",
        "usage": Usage(12, 3, cached_input_tokens=4, reasoning_tokens=1),
        "cost": 0.00042,
        "endpoint": "https://api.example/v1",
    }
    fields.update(changes)
    return LLMResponse(**fields)  # type: ignore[arg-type]


def test_model_response_has_openai_chat_completion_keys() -> None:
    resp = model_response(_answer(), "openai/gpt-4o-mini")
    dumped = resp.model_dump()
    assert set(dumped) == CHAT_COMPLETION
    assert dumped["object"] == "chat.completion"
    assert dumped["id"].startswith("chatcmpl-")
    assert isinstance(dumped["created"], int)
    assert set(dumped["choices"][0]) == CHOICE
    assert set(dumped["choices"][0]["message"]) == MESSAGE
    assert set(dumped["usage"]) == USAGE
    assert dumped["usage"] == {
        "completion_tokens": 3,
        "prompt_tokens": 12,
        "total_tokens": 15,
        "completion_tokens_details": {
            "accepted_prediction_tokens": None,
            "audio_tokens": None,
            "reasoning_tokens": 1,
            "rejected_prediction_tokens": None,
        },
        "prompt_tokens_details": {"audio_tokens": None, "cached_tokens": 4},
    }
    assert resp.to_dict() == dumped == json.loads(resp.json())
    assert resp._hidden_params["response_cost"] == 0.00042
    assert resp._hidden_params["model"] == "openai/gpt-4o-mini"
    assert "_hidden_params" not in dumped


def test_attribute_and_item_access() -> None:
    resp = model_response(_answer(), "openai/gpt-4o-mini")
    assert resp.choices[0].message.content == "Paris."
    assert resp["choices"][0]["message"]["content"] == "Paris."
    assert resp.get("usage")["total_tokens"] == 15
    assert resp.get("nothing", 7) == 7
    assert "choices" in resp and "nothing" not in resp
    assert dict(resp)["model"] == "gpt-4o-mini"  # (iterates as pydantic models do)
    with pytest.raises(KeyError):
        resp["nothing"]
    with pytest.raises(AttributeError):
        _ = resp.nothing
    resp["custom"] = 1  # an extra field: kept and dumped
    assert resp.custom == 1 and resp.model_dump()["custom"] == 1
    resp.choices[0].message.content = "changed"
    assert resp.model_dump(exclude_none=True)["choices"][0]["message"] == {
        "content": "changed",
        "role": "assistant",
    }


def test_tool_calls_and_reasoning() -> None:
    answer = _answer(
        text="",
        finish_reason="tool_calls",
        tool_calls=[ToolCall("call_1", FunctionCall("get_weather", '{"city": "Paris"}'))],
        reasoning="think",
    )
    message = model_response(answer, "openai/gpt-4o-mini").choices[0].message
    assert message.content is None  # (OpenAI: no text beside tool calls)
    assert message.reasoning_content == "think"
    call = message.tool_calls[0]
    assert call.id == "call_1" and call.type == "function"
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
    dumped = message.model_dump()
    assert set(dumped) == MESSAGE | {"reasoning_content"}
    assert set(dumped["tool_calls"][0]) == TOOL_CALL and set(dumped["tool_calls"][0]["function"]) == FUNCTION
    # without reasoning the field is left out, as LiteLLM does
    assert "reasoning_content" not in model_response(_answer(), "x/y").choices[0].message.model_dump()


def test_a_returned_message_can_be_sent_back() -> None:
    answer = _answer(text="", tool_calls=[ToolCall("call_1", FunctionCall("f", "{}"))], reasoning="r")
    message = model_response(answer, "openai/gpt-4o-mini").choices[0].message
    sent = prepare_messages([{"role": "user", "content": "hi"}, message])
    assert sent[1] == {
        "content": None,
        "refusal": None,
        "role": "assistant",
        "tool_calls": [{"id": "call_1", "function": {"arguments": "{}", "name": "f"}, "type": "function"}],
    }
    plain = [{"role": "user", "content": "hi"}]
    assert prepare_messages(plain) is plain  # (the fast path: nothing copied)


def test_constructors_take_dicts_like_litellm() -> None:
    resp = compat.ModelResponse(
        choices=[
            {
                "message": {
                    "content": "x",
                    "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": {}}}],
                }
            }
        ],
        usage={"prompt_tokens": 1, "completion_tokens": 2},
        model="m",
    )
    assert resp.choices[0].message.content == "x"
    assert resp.choices[0].message.tool_calls[0].function.arguments == "{}"
    assert resp.usage.total_tokens == 3
    assert compat.ModelResponse().choices[0].message.role == "assistant"
    assert compat.Usage(prompt_tokens=2, completion_tokens=3) == compat.Usage(2, 3, 5)


def test_stream_chunks_have_openai_chunk_keys_and_build_back() -> None:
    from core.llms.compat.build import StreamConverter
    from core.llms.interfaces.types import LLMStreamChunk, ToolCallDelta

    conv = StreamConverter("gpt-4o-mini", "openai/gpt-4o-mini", "openai")
    first = conv.convert(LLMStreamChunk(text="Hel"))
    second = conv.convert(LLMStreamChunk(tool_calls=[ToolCallDelta(0, "call_1", "f", '{"a"')]))
    third = conv.convert(LLMStreamChunk(tool_calls=[ToolCallDelta(0, arguments=": 1}")]))
    last = conv.convert(LLMStreamChunk(finish_reason="tool_calls", usage=Usage(5, 7)))
    assert conv.convert(LLMStreamChunk(endpoint="x")) is None  # (nothing to show)
    chunks = [first, second, third, last]
    assert all(c is not None for c in chunks)
    dumped = first.model_dump()  # type: ignore[union-attr]
    assert set(dumped) == CHAT_COMPLETION and dumped["object"] == "chat.completion.chunk"
    assert set(dumped["choices"][0]) == CHUNK_CHOICE
    assert set(dumped["choices"][0]["delta"]) == DELTA
    assert dumped["choices"][0]["delta"]["role"] == "assistant"
    assert set(second.model_dump()["choices"][0]["delta"]["tool_calls"][0]) == DELTA_TOOL_CALL  # type: ignore[union-attr]
    assert len({c.id for c in chunks}) == 1  # type: ignore[union-attr]
    conv.hide_totals(last)  # type: ignore[arg-type]
    built = stream_chunk_builder(chunks)
    message = built.choices[0].message
    assert message.content == "Hel"
    assert message.tool_calls[0].function.arguments == '{"a": 1}'
    assert built.choices[0].finish_reason == "tool_calls"
    assert built.usage.prompt_tokens == 5 and built.usage.completion_tokens == 7
    # dicts work too, and without any usage it is estimated from the text
    again = stream_chunk_builder(
        [c.model_dump() for c in chunks[:1]], messages=[{"role": "user", "content": "x" * 40}]
    )  # type: ignore[union-attr]
    assert again.choices[0].message.content == "Hel" and again.usage.prompt_tokens == 10


def test_usage_of_missing_usage_is_zero() -> None:
    assert usage_of(None).model_dump()["total_tokens"] == 0


def test_media_objects_have_openai_keys() -> None:
    emb = compat.EmbeddingResponse(data=[{"embedding": [0.1], "index": 0}], model="m")
    assert set(emb.model_dump()) == EMBEDDINGS and set(emb.model_dump()["data"][0]) == EMBEDDING
    assert emb.data[0]["embedding"] == [0.1] and emb["data"][0].object == "embedding"
    img = compat.ImageResponse(data=[{"url": "https://x/y.png"}])
    assert set(img.model_dump()["data"][0]) == IMAGE
    tr = compat.TranscriptionResponse("hello")
    assert tr.model_dump() == {"text": "hello"}
    speech = compat.SpeechResponse(b"abc", "audio/mpeg")
    assert speech.read() == b"abc" and list(speech.iter_bytes(2)) == [b"ab", b"c"]
