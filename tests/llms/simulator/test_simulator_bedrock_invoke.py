"""InvokeModel and InvokeModelWithResponseStream: Claude's Anthropic Messages body (chunk events
shaped like the recordings), Titan and Cohere embeddings, Nova Canvas / Titan images."""

from __future__ import annotations

import base64
import json
import math
import struct
import zlib
from typing import Any

import aiohttp
import pytest
from test_simulator_bedrock_support import (
    CLAUDE,
    HAIKU,
    Bedrock,
    anthropic_body,
    anthropic_events,
    decode_frames,
    recorded_frames,
)

from core.llms.simulator import Simulator

TOOL = {
    "name": "secret_retrieval_tool",
    "description": "A tool that requires a password to retrieve a secret.",
    "input_schema": {
        "type": "object",
        "properties": {"password": {"type": "string"}},
        "required": ["password"],
    },
}


@pytest.fixture
def bedrock(sim: Simulator, session: aiohttp.ClientSession) -> Bedrock:
    return Bedrock(sim, session)


def _recorded(name: str) -> list[dict[str, Any]]:
    out = []
    for frame in recorded_frames(name):
        payload = json.loads(frame.payload)
        assert set(payload) == {"bytes", "p"}
        out.append(json.loads(base64.b64decode(payload["bytes"])))
    return out


def _shape(items: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    shape: list[tuple[str, ...]] = []
    for event in items:
        entry: tuple[str, ...] = (event["type"],)
        if event["type"] == "content_block_start":
            entry += (event["content_block"]["type"],)
        elif event["type"] == "content_block_delta":
            entry += (event["delta"]["type"],)
        if not shape or shape[-1] != entry:
            shape.append(entry)
    return shape


async def _invoke(bedrock: Bedrock, body: Any, model_id: str = HAIKU) -> dict[str, Any]:
    reply = await bedrock.post(model_id, "invoke", body)
    assert reply.status == 200, reply.raw
    assert reply.headers["Content-Type"] == "application/json"
    result: dict[str, Any] = reply.json()
    return result


# ---------------------------------------------------------------------------- Claude


async def test_claude_message(bedrock: Bedrock) -> None:
    reply = await bedrock.post(HAIKU, "invoke", anthropic_body("What is 4200 + 42?", system="Be brief."))
    assert reply.status == 200
    body = reply.json()
    assert body["type"] == "message" and body["role"] == "assistant"
    assert body["model"] == "claude-haiku-4-5-20251001"
    assert body["id"].startswith("msg_bdrk_")
    assert body["content"] == [{"type": "text", "text": "Simulated answer to: What is 4200 + 42?"}]
    assert body["stop_reason"] == "end_turn" and body["stop_sequence"] is None
    usage = body["usage"]
    assert set(usage) == {
        "input_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "output_tokens",
    }
    assert usage["output_tokens"] == 8
    assert reply.headers["X-Amzn-Bedrock-Output-Token-Count"] == "8"
    assert reply.headers["X-Amzn-Bedrock-Input-Token-Count"] == str(usage["input_tokens"])


async def test_claude_stream_shaped_like_the_recording(bedrock: Bedrock) -> None:
    reply = await bedrock.stream(anthropic_body(), model_id=HAIKU, operation="invoke-with-response-stream")
    assert reply.headers["X-Amzn-Bedrock-Content-Type"] == "application/json"
    frames, _ = decode_frames(reply.raw)
    assert all(set(json.loads(f.payload)) == {"bytes", "p"} for f in frames)
    got = anthropic_events(reply.raw)
    assert _shape(got) == _shape(_recorded("invoke-stream-claude-text.bin"))
    start = got[0]["message"]
    assert list(start) == list(_recorded("invoke-stream-claude-text.bin")[0]["message"])
    text = "".join(e["delta"]["text"] for e in got if e["type"] == "content_block_delta")
    assert text == "Simulated answer to: What is 4200 + 42?"
    assert got[-2]["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    metrics = got[-1]["amazon-bedrock-invocationMetrics"]
    assert set(metrics) == {"inputTokenCount", "outputTokenCount", "invocationLatency", "firstByteLatency"}
    assert metrics["outputTokenCount"] == got[-2]["usage"]["output_tokens"] == 8


async def test_claude_thinking_stream(bedrock: Bedrock) -> None:
    body = anthropic_body(
        "How many primes?", thinking={"type": "enabled", "budget_tokens": 1024}, max_tokens=2048
    )
    reply = await bedrock.stream(body, model_id=CLAUDE, operation="invoke-with-response-stream")
    got = anthropic_events(reply.raw)
    assert _shape(got) == _shape(_recorded("invoke-stream-claude-thinking.bin"))
    thinking = "".join(e["delta"].get("thinking", "") for e in got if e["type"] == "content_block_delta")
    assert thinking == "Simulated reasoning about: How many primes?"
    signature = next(
        e["delta"]["signature"] for e in got if e.get("delta", {}).get("type") == "signature_delta"
    )
    # the signature is checked when the thinking comes back
    plain = await _invoke(
        bedrock, {**body, "messages": [{"role": "user", "content": "How many primes?"}]}, CLAUDE
    )
    assert plain["content"][0] == {"type": "thinking", "thinking": thinking, "signature": signature}
    history = [
        {"role": "user", "content": "How many primes?"},
        {"role": "assistant", "content": plain["content"]},
        {"role": "user", "content": "and now?"},
    ]
    assert (await bedrock.post(CLAUDE, "invoke", {**body, "messages": history})).status == 200
    history[1]["content"][0]["signature"] = "forged"
    reply = await bedrock.post(CLAUDE, "invoke", {**body, "messages": history})
    assert reply.status == 400
    assert reply.json()["message"] == "messages.1.content.0: Invalid `signature` in `thinking` block"


async def test_claude_parallel_tool_use_stream(bedrock: Bedrock) -> None:
    body = anthropic_body(
        "Please retrieve the secrets",
        tools=[TOOL, {**TOOL, "name": "other_tool"}],
        system="Use parallel tool calling.",
    )
    body["messages"][0]["content"] = "call secret_retrieval_tool and other_tool"
    reply = await bedrock.stream(body, model_id=HAIKU, operation="invoke-with-response-stream")
    got = anthropic_events(reply.raw)
    assert _shape(got) == _shape(_recorded("invoke-stream-claude-tool-use.bin"))
    starts = [e["content_block"] for e in got if e["type"] == "content_block_start"]
    assert [s["name"] for s in starts] == ["secret_retrieval_tool", "other_tool"]
    assert all(s["id"].startswith("toolu_bdrk_") and s["input"] == {} for s in starts)
    for index in (0, 1):
        parts = [
            e["delta"]["partial_json"]
            for e in got
            if e["type"] == "content_block_delta" and e["index"] == index
        ]
        assert parts[0] == ""  # the first fragment is empty, as recorded
        assert json.loads("".join(parts)) == {"password": "sample password"}
    assert got[-2]["delta"]["stop_reason"] == "tool_use"


async def test_claude_tool_round_trip(bedrock: Bedrock) -> None:
    first = await _invoke(bedrock, anthropic_body("need the secret", tools=[TOOL]))
    assert first["stop_reason"] == "tool_use"
    (use,) = first["content"]
    assert use["type"] == "tool_use" and use["input"] == {"password": "sample password"}
    messages = [
        {"role": "user", "content": "need the secret"},
        {"role": "assistant", "content": first["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use["id"], "content": "42"}]},
    ]
    second = await _invoke(bedrock, {**anthropic_body(tools=[TOOL]), "messages": messages})
    assert second["content"] == [{"type": "text", "text": "Based on the tool result: 42"}]
    reply = await bedrock.post(HAIKU, "invoke", {**anthropic_body(tools=[TOOL]), "messages": messages[:2]})
    assert (
        reply.status == 400
        and "`tool_use` ids were found without `tool_result` blocks" in reply.json()["message"]
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"anthropic_version": None}, "#: required key [anthropic_version] not found"),
        ({"max_tokens": None}, "#: required key [max_tokens] not found"),
        ({"model": "claude"}, "#: extraneous key [model] is not permitted"),
        ({"stream": True}, "#: extraneous key [stream] is not permitted"),
        ({"anthropic_version": "2023-06-01"}, "2023-06-01 is not a valid enum value"),
        ({"thinking": {"type": "enabled", "budget_tokens": 2000}}, "`max_tokens` must be greater than"),
        ({"messages": [{"role": "assistant", "content": "hi"}]}, 'first message must use the "user" role'),
        ({"messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}]}, "must be non-empty"),
    ],
)
async def test_claude_validation(bedrock: Bedrock, change: dict[str, Any], message: str) -> None:
    body = {**anthropic_body(), **change}
    body = {k: v for k, v in body.items() if v is not None}
    reply = await bedrock.post(HAIKU, "invoke", body)
    assert reply.status == 400, reply.raw
    assert reply.error_type == "ValidationException"
    assert message in reply.json()["message"]


async def test_claude_stop_sequences_and_cache(bedrock: Bedrock) -> None:
    body = await _invoke(bedrock, anthropic_body("alpha STOP beta", stop_sequences=["STOP"]))
    assert body["stop_reason"] == "stop_sequence" and body["stop_sequence"] == "STOP"
    system = [{"type": "text", "text": "a b c d e f", "cache_control": {"type": "ephemeral"}}]
    first = await _invoke(bedrock, anthropic_body("x", system=system))
    second = await _invoke(bedrock, anthropic_body("y", system=system))
    assert (
        first["usage"]["cache_creation_input_tokens"] == 6 and first["usage"]["cache_read_input_tokens"] == 0
    )
    assert (
        second["usage"]["cache_read_input_tokens"] == 6
        and second["usage"]["cache_creation_input_tokens"] == 0
    )


async def test_invoke_of_a_model_not_served_there(bedrock: Bedrock) -> None:
    reply = await bedrock.post("amazon.nova-micro-v1:0", "invoke", {"messages": []})
    assert reply.status == 400 and "use Converse" in reply.json()["message"]
    reply = await bedrock.post("amazon.nova-reel-v1:0", "invoke", {})
    assert reply.status == 400 and "StartAsyncInvoke" in reply.json()["message"]


# ---------------------------------------------------------------------------- embeddings


async def test_titan_v2_embeddings(bedrock: Bedrock) -> None:
    body = await _invoke(bedrock, {"inputText": "hello world"}, "amazon.titan-embed-text-v2:0")
    assert set(body) == {"embedding", "inputTextTokenCount"}
    assert len(body["embedding"]) == 1024
    assert math.isclose(math.hypot(*body["embedding"]), 1.0, rel_tol=1e-6)
    assert body["inputTextTokenCount"] == 3
    again = await _invoke(bedrock, {"inputText": "hello world"}, "amazon.titan-embed-text-v2:0")
    assert again["embedding"] == body["embedding"]
    short = await _invoke(
        bedrock,
        {
            "inputText": "hello world",
            "dimensions": 256,
            "normalize": False,
            "embeddingTypes": ["float", "binary"],
        },
        "amazon.titan-embed-text-v2:0",
    )
    assert len(short["embedding"]) == 256
    assert not math.isclose(math.hypot(*short["embedding"]), 1.0)
    assert set(short["embeddingsByType"]) == {"float", "binary"}
    assert set(short["embeddingsByType"]["binary"]) <= {0, 1}


@pytest.mark.parametrize(
    ("model_id", "body", "message"),
    [
        ("amazon.titan-embed-text-v2:0", {}, "required key [inputText] not found"),
        ("amazon.titan-embed-text-v2:0", {"inputText": ""}, "expected minLength: 1"),
        (
            "amazon.titan-embed-text-v2:0",
            {"inputText": "x", "dimensions": 100},
            "100 is not a valid enum value",
        ),
        ("amazon.titan-embed-text-v1", {"inputText": "x", "dimensions": 256}, "extraneous key [dimensions]"),
        ("cohere.embed-english-v3", {"texts": ["x"]}, "required key [input_type] not found"),
        (
            "cohere.embed-english-v3",
            {"texts": ["x"] * 97, "input_type": "search_query"},
            "maximum item count: 96",
        ),
    ],
)
async def test_embedding_validation(
    bedrock: Bedrock, model_id: str, body: dict[str, Any], message: str
) -> None:
    reply = await bedrock.post(model_id, "invoke", body)
    assert reply.status == 400
    assert message in reply.json()["message"]


async def test_titan_v1_size(bedrock: Bedrock) -> None:
    body = await _invoke(bedrock, {"inputText": "x"}, "amazon.titan-embed-text-v1")
    assert len(body["embedding"]) == 1536


async def test_cohere_embeddings(bedrock: Bedrock) -> None:
    body = await _invoke(
        bedrock, {"texts": ["a", "b"], "input_type": "search_document"}, "cohere.embed-english-v3"
    )
    assert body["response_type"] == "embeddings_floats"
    assert body["texts"] == ["a", "b"] and body["id"]
    assert [len(v) for v in body["embeddings"]] == [1024, 1024]
    assert body["embeddings"][0] != body["embeddings"][1]
    typed = await _invoke(
        bedrock,
        {"texts": ["a"], "input_type": "search_query", "embedding_types": ["float", "int8", "ubinary"]},
        "cohere.embed-multilingual-v3",
    )
    assert typed["response_type"] == "embeddings_by_type"
    assert set(typed["embeddings"]) == {"float", "int8", "ubinary"}
    assert all(-128 <= v <= 127 for v in typed["embeddings"]["int8"][0])
    assert len(typed["embeddings"]["ubinary"][0]) == 1024 // 8
    v4 = await _invoke(
        bedrock,
        {"texts": ["a"], "input_type": "classification", "output_dimension": 256},
        "cohere.embed-v4:0",
    )
    assert len(v4["embeddings"][0]) == 256


async def test_embeddings_do_not_stream(bedrock: Bedrock) -> None:
    reply = await bedrock.post(
        "amazon.titan-embed-text-v2:0", "invoke-with-response-stream", {"inputText": "x"}
    )
    assert reply.status == 400 and reply.json()["message"] == "The model is unsupported for streaming."


# ---------------------------------------------------------------------------- images


def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    # every chunk's CRC holds and the pixels inflate
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, chunk = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0] == zlib.crc32(kind + chunk)
        if kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    assert len(zlib.decompress(idat)) == height * (1 + 3 * width)
    return width, height


async def test_nova_canvas_images(bedrock: Bedrock) -> None:
    body = {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": "a lighthouse"},
        "imageGenerationConfig": {
            "numberOfImages": 2,
            "width": 320,
            "height": 480,
            "quality": "standard",
            "seed": 7,
        },
    }
    answer = await _invoke(bedrock, body, "amazon.nova-canvas-v1:0")
    assert set(answer) == {"images"}
    images = [base64.b64decode(i) for i in answer["images"]]
    assert [_png_size(i) for i in images] == [(320, 480), (320, 480)]
    assert images[0] != images[1]
    assert answer == await _invoke(bedrock, body, "amazon.nova-canvas-v1:0")


async def test_titan_image_sizes(bedrock: Bedrock) -> None:
    body = {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": "x"},
        "imageGenerationConfig": {"width": 512, "height": 512},
    }
    answer = await _invoke(bedrock, body, "amazon.titan-image-generator-v2:0")
    assert _png_size(base64.b64decode(answer["images"][0])) == (512, 512)
    body["imageGenerationConfig"] = {"width": 500, "height": 512}
    reply = await bedrock.post("amazon.titan-image-generator-v2:0", "invoke", body)
    assert reply.status == 400 and "500x512 is not a supported image size" in reply.json()["message"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"taskType": "NOPE"}, "NOPE is not a valid enum value"),
        ({"textToImageParams": {"text": ""}}, "expected minLength: 1"),
        ({"textToImageParams": {"text": "x [[content_filter]]"}}, "blocked by our content filters"),
        ({"imageGenerationConfig": {"numberOfImages": 6}}, "6 is not between 1 and 5"),
        ({"imageGenerationConfig": {"width": 330, "height": 320}}, "330 is not a multiple of 16"),
        ({"imageGenerationConfig": {"width": 4096, "height": 4096}}, "total pixel count"),
        ({"imageGenerationConfig": {"width": 2048, "height": 320}}, "aspect ratio"),
    ],
)
async def test_image_validation(bedrock: Bedrock, change: dict[str, Any], message: str) -> None:
    body = {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "x"}, **change}
    reply = await bedrock.post("amazon.nova-canvas-v1:0", "invoke", body)
    assert reply.status == 400
    assert message in reply.json()["message"]
