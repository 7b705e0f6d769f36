"""Replay of every recorded Converse file in ``tests/llms/wire/bedrock`` (``converse-*``).

* the ConverseStream recordings (``.bin``: raw event-stream bytes) go through the real
  :class:`EventStreamDecoder` — cut at seeded random offsets, and compared frame by frame with
  botocore's own reader — into :class:`ConverseStreamParser`; expectations are literal facts of
  the recordings plus an oracle that reads them with nothing but botocore and ``json``;
* ``converse-stream-decoded-reasoning.txt`` (events already decoded by its author, one JSON per
  line) goes straight into the parser;
* ``converse-nonstream-nova.json`` is answered to a model; ``converse-stream-400-invalid-model``
  is mapped by ``map_http_error``;
* each recording's request body (the ``.http.json`` sidecar: what a real SDK sent) is compared
  with the body the dialect builds for the same call;
* end to end: a loopback server answers with the recorded bytes (in random pieces) and status, a
  model reads them through the real ``FailoverConnector`` with a minimal Bedrock-shaped adapter.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import pytest
from local_http import serve_locally
from test_bedrock_converse_kit import (
    BEDROCK,
    CONVERSE_FILES,
    STREAM_FILES,
    FakeConnector,
    Nova,
    accumulate,
    botocore_events,
    event_frame,
    exception_frame,
    random_splits,
    replay,
    replay_events,
    run_parser,
    wire_response,
)

from core.llms.interfaces import (
    APIConnectionError,
    LLMError,
    NotFoundError,
    RateLimitError,
    StreamAccumulator,
    StreamInterruptedError,
    Usage,
    WireEvent,
)
from core.llms.interfaces.endpoint import EndpointConfig, join_url
from core.llms.interfaces.metadata import Capabilities, ModelMetadata, ParameterRules
from core.llms.providers.base.eventstream import EventStreamDecoder
from core.llms.providers.base.failover import FailoverConnector
from core.llms.providers.base.retry import RetryPolicy
from core.llms.providers.dialects.bedrock_converse import (
    BedrockConverseModel,
    ConverseStreamParser,
    converse_message,
    map_http_error,
)

SEEDS = (0, 1, 2, 3, 4)
DECODED = "converse-stream-decoded-reasoning.txt"
NONSTREAM = "converse-nonstream-nova.json"
ERROR_400 = "converse-stream-400-invalid-model.json"


def raw_of(name: str) -> bytes:
    return (BEDROCK / name).read_bytes()


def sidecar(name: str) -> dict[str, Any]:
    stem = name.rsplit(".", 1)[0]
    data: dict[str, Any] = json.loads((BEDROCK / f"{stem}.http.json").read_text())
    return data


def summary(acc: StreamAccumulator) -> tuple[Any, ...]:
    response = acc.to_response(model="", provider="")
    calls = [(c.id, c.name, c.arguments) for c in acc.tool_calls]
    return (acc.text, response.reasoning, acc.finish_reason, acc.usage, calls, acc.raw)


def oracle(raw: bytes) -> dict[str, Any]:
    """What a recording says, read with botocore and json only: text, reasoning, tool inputs by
    block, stop reason, usage."""
    out: dict[str, Any] = {"text": "", "reasoning": "", "tools": {}, "stop": None, "usage": None}
    for headers, payload in botocore_events(raw):
        event, body = headers[":event-type"], json.loads(payload)
        if event == "contentBlockDelta":
            delta = body["delta"]
            out["text"] += delta.get("text", "")
            out["reasoning"] += delta.get("reasoningContent", {}).get("text", "")
            if "toolUse" in delta:
                index = body["contentBlockIndex"]
                out["tools"][index] = out["tools"].get(index, "") + delta["toolUse"]["input"]
        elif event == "messageStop":
            out["stop"] = body["stopReason"]
        elif event == "metadata":
            out["usage"] = body["usage"]
    return out


# -- every file is replayed ----------------------------------------------------------------------------


def test_every_converse_recording_is_covered() -> None:
    covered = {*STREAM_FILES, DECODED, NONSTREAM, ERROR_400}
    data_files = {name for name in CONVERSE_FILES if not name.endswith(".http.json")}
    assert data_files == covered
    for name in covered - {DECODED}:
        assert sidecar(name)["request"]["uri"].startswith(
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/"
        )


@pytest.mark.parametrize("name", STREAM_FILES)
def test_decoded_frames_are_botocores(name: str) -> None:
    raw = raw_of(name)
    want = [(h[":event-type"], p.decode()) for h, p in botocore_events(raw)]
    for seed in SEEDS:
        assert [(e.event, e.data) for e in replay_events(raw, seed)] == want


@pytest.mark.parametrize("name", STREAM_FILES)
def test_random_splits_give_the_same_answer(name: str) -> None:
    raw = raw_of(name)
    whole = summary(accumulate(replay(raw, seed=None)))
    for seed in SEEDS:
        assert summary(accumulate(replay(raw, seed=seed))) == whole
    truth = oracle(raw)
    acc = accumulate(replay(raw))
    assert acc.text == truth["text"]
    assert (acc.to_response(model="", provider="").reasoning or "") == truth["reasoning"]
    assert acc.usage == Usage(truth["usage"]["inputTokens"], truth["usage"]["outputTokens"])
    assert acc.raw["stopReason"] == truth["stop"]
    assert acc.raw["usage"] == truth["usage"]


def test_text_nova() -> None:
    chunks = replay(raw_of("converse-stream-text-nova.bin"), seed=11, model="nova-micro", request_id="rq")
    acc = accumulate(chunks)
    assert acc.text.startswith("The capital of France is Paris. Paris is not only the capital city")
    assert acc.text.endswith('referred to as "The City of Light" or "The City of Love."')
    assert (acc.finish_reason, acc.usage, acc.tool_calls) == ("stop", Usage(13, 82), [])
    assert (chunks[0].endpoint, chunks[0].request_id, chunks[0].model, chunks[0].text) == (
        "replay",
        "rq",
        "nova-micro",
        "The",
    )
    assert len([c for c in chunks if c.text]) == 29
    assert acc.raw["metrics"] == {"latencyMs": 522}


def test_claude_reasoning() -> None:
    acc = accumulate(replay(raw_of("converse-stream-claude-reasoning.bin"), seed=5))
    response = acc.to_response(model="claude-sonnet-4", provider="bedrock")
    assert response.text == "Hello! It's nice to meet you. How can I help you today?"
    assert response.reasoning is not None
    assert response.reasoning.startswith('The user has greeted me with a simple "Hello".')
    assert response.reasoning.endswith("ask how I can help them today.")
    assert (response.finish_reason, response.usage) == ("stop", Usage(36, 73))
    reasoning, text = converse_message(response)["content"]
    assert reasoning["reasoningContent"]["reasoningText"]["text"] == response.reasoning
    assert reasoning["reasoningContent"]["reasoningText"]["signature"].startswith(
        "Eu0CCkgIBxABGAIqQJDccbDQkr81n7Qj"
    )
    assert text == {"text": response.text}


def test_tool_use() -> None:
    chunks = replay(raw_of("converse-stream-tool-use.bin"), seed=3)
    acc = accumulate(chunks)
    assert acc.text.startswith("<thinking> To find the temperature of the capital of France")
    assert acc.text.endswith(
        'I will use the "get_temperature" tool to find the current temperature in Paris.</thinking>\n'
    )
    (call,) = acc.tool_calls
    assert (call.id, call.name, call.parse_arguments()) == (
        "tooluse_lAG_zP8QRHmSYOwZzzaCqA",
        "get_temperature",
        {"city": "Paris"},
    )
    assert (acc.finish_reason, acc.usage) == ("tool_calls", Usage(471, 91))
    first_call = next(c for c in chunks if c.tool_calls)
    assert first_call.tool_calls is not None and first_call.tool_calls[0].index == 0


def test_nova2_server_tool_then_a_client_tool() -> None:
    raw = raw_of("converse-stream-nova2-code-execution.bin")
    acc = accumulate(replay(raw, seed=2))
    (call,) = acc.tool_calls  # the code interpreter ran on the server: not a call for the caller
    assert (call.name, call.parse_arguments()) == ("final_result", {"result": 7006652.0})
    assert (acc.text, acc.finish_reason, acc.usage) == ("", "tool_calls", Usage(1002, 59))
    server_use, server_result, client_use = acc.raw["output"]["message"]["content"]
    assert server_use["toolUse"]["type"] == "server_tool_use"
    assert server_use["toolUse"]["input"] == {"snippet": "1234 * 5678"}
    assert server_result["toolResult"]["content"] == [
        {"json": {"stdOut": "7006652", "stdErr": "", "exitCode": 0, "isError": False}}
    ]
    assert client_use["toolUse"]["name"] == "final_result"
    # the request forced final_result: as this dialect's structured output, it is the answer
    structured = accumulate(replay(raw, structured_tool="final_result"))
    assert (structured.text, structured.finish_reason, structured.tool_calls) == (
        '{"result":7006652.0}',
        "stop",
        [],
    )


def test_the_decoded_reasoning_chunks() -> None:
    events = []
    for line in raw_of(DECODED).decode().splitlines():
        if line.strip():
            ((name, body),) = json.loads(line).items()
            events.append(WireEvent(json.dumps(body), name, extra={"message_type": "event"}))
    acc = accumulate(run_parser(ConverseStreamParser("replay"), events))
    response = acc.to_response(model="m", provider="bedrock")
    assert response.reasoning == (
        'Let me count the r\'s in "strawberry":\n\ns-t-r-a-w-b-e-r-r-y\n\nr appears at positions 3, 8, '
        "and 9.\n\nSo there are 3 r's."
    )
    assert response.text == 'There are **3** r\'s in "strawberry":\n\n1. st**r**awbe**r****r**y'
    assert (response.finish_reason, response.usage) == ("stop", Usage(51, 94))
    block = converse_message(response)["content"][0]["reasoningContent"]["reasoningText"]
    assert block["signature"].startswith("Ep0CCkgICxABGAIqQOWPB6")
    assert acc.raw["additionalModelResponseFields"] == {"delta": {"stop_sequence": None}}


async def test_the_nonstreamed_answer() -> None:
    data = json.loads(raw_of(NONSTREAM))
    conn = FakeConnector([wire_response(data)])
    response = await Nova(conn).get_answer(
        [{"role": "system", "content": "You are a chatbot."}, {"role": "user", "content": "Hello!"}]
    )
    assert response.text == (
        "Hello! How can I assist you today? Whether you have questions, need information, or just want to "
        "chat, I'm here to help."
    )
    assert (response.finish_reason, response.usage, response.tool_calls) == ("stop", Usage(7, 30), [])
    assert response.cost == pytest.approx((7 * 0.035 + 30 * 0.14) / 1_000_000)
    assert response.raw == data


def test_the_recorded_400() -> None:
    side = sidecar(ERROR_400)
    err = map_http_error(
        side["response"]["status"], side["response"]["headers"], raw_of(ERROR_400), "ep", "r4"
    )
    assert isinstance(err, NotFoundError) and err.status == 400 and not err.retryable
    assert err.message == "The provided model identifier is invalid."


# -- the request bodies the recordings were answers to ------------------------------------------------------

_TOOLS_IN_OPENAI_SHAPE = [
    {
        "type": "function",
        "function": {
            "name": "get_capital",
            "description": "Get the capital of a country.",
            "parameters": {
                "properties": {
                    "country": {"description": "The country name.", "title": "Country", "type": "string"}
                },
                "required": ["country"],
                "type": "object",
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_temperature",
            "description": "Get the temperature in a city.",
            "parameters": {
                "properties": {"city": {"description": "The city name.", "title": "City", "type": "string"}},
                "required": ["city"],
                "type": "object",
                "additionalProperties": False,
            },
        },
    },
]


class Claude4(BedrockConverseModel):
    metadata = ModelMetadata(
        name="claude-sonnet-4",
        provider="bedrock",
        family="claude",
        wire_name="us.anthropic.claude-sonnet-4-20250514-v1:0",
        context_window=200_000,
        max_output_tokens=64_000,
        capabilities=Capabilities(tools=True, reasoning=True),
        parameters=ParameterRules(temperature_range=(0.0, 1.0)),
    )


class Nova2Lite(BedrockConverseModel):
    metadata = ModelMetadata(
        name="nova-2-lite",
        provider="bedrock",
        family="nova",
        wire_name="us.amazon.nova-2-lite-v1:0",
        capabilities=Capabilities(tools=True),
    )


def recorded_request(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(sidecar(name)["request"]["body"])
    return {k: v for k, v in body.items() if v not in ([], {})}  # the SDK's empty fields


async def our_request(model_cls: type[BedrockConverseModel], messages: Any, **params: Any) -> Any:
    conn = FakeConnector([wire_response({"output": {"message": {"content": []}}, "stopReason": "end_turn"})])
    with contextlib.suppress(LLMError):  # the stub answer does not matter here
        await model_cls(conn).get_answer(messages, **params)
    (request,) = conn.requests
    return request


@pytest.mark.parametrize(
    ("name", "model_cls", "messages", "params"),
    [
        (NONSTREAM, Nova, [("system", "You are a chatbot."), ("user", "Hello!")], {}),
        (
            "converse-stream-text-nova.bin",
            Nova,
            [("system", "You are a helpful chatbot."), ("user", "What is the capital of France?")],
            {"temperature": 0.0},
        ),
        (
            "converse-stream-tool-use.bin",
            Nova,
            [
                ("system", "You are a helpful chatbot."),
                ("user", "What is the temperature of the capital of France?"),
            ],
            {"top_p": 0.5, "tools": _TOOLS_IN_OPENAI_SHAPE},
        ),
        (ERROR_400, Nova, [("user", "hello")], {"model": "us.does-not-exist-model-v1:0"}),
    ],
)
async def test_our_body_is_the_recorded_one(
    name: str, model_cls: type[BedrockConverseModel], messages: list[tuple[str, str]], params: dict[str, Any]
) -> None:
    request = await our_request(model_cls, [{"role": r, "content": c} for r, c in messages], **params)
    assert request.payload == recorded_request(name)
    uri = sidecar(name)["request"]["uri"]
    assert uri.endswith(
        "/model/" + quote(request.model, safe="") + ("/converse" if name == NONSTREAM else "/converse-stream")
    )


async def test_claude_thinking_body() -> None:
    request = await our_request(Claude4, "Hello", thinking={"type": "enabled", "budget_tokens": 1024})
    recorded = recorded_request("converse-stream-claude-reasoning.bin")
    assert request.payload["messages"] == recorded["messages"]
    assert request.payload["additionalModelRequestFields"] == recorded["additionalModelRequestFields"]
    assert request.payload["inferenceConfig"] == {
        "maxTokens": 1024 + 4096
    }  # Claude needs room past the budget


async def test_code_execution_body() -> None:
    schema = {
        "properties": {"result": {"type": "number"}},
        "required": ["result"],
        "title": "Response",
        "type": "object",
    }
    request = await our_request(
        Nova2Lite,
        [
            {"role": "system", "content": "You are a helpful chatbot."},
            {"role": "user", "content": "What is 1234 * 5678?"},
        ],
        tools=[{"systemTool": {"name": "nova_code_interpreter"}}],
        response_format={
            "type": "json_schema",
            "json_schema": {
                "name": "final_result",
                "schema": schema,
                "description": "The final response which ends this conversation",
            },
        },
    )
    recorded = recorded_request("converse-stream-nova2-code-execution.bin")
    ours = request.payload
    assert ours["messages"] == recorded["messages"] and ours["system"] == recorded["system"]
    assert ours["toolConfig"]["toolChoice"] == recorded["toolConfig"]["toolChoice"] == {"any": {}}

    def key(tool: Any) -> str:
        return json.dumps(tool, sort_keys=True)

    assert sorted(map(key, ours["toolConfig"]["tools"])) == sorted(map(key, recorded["toolConfig"]["tools"]))


# -- end to end over HTTP ----------------------------------------------------------------------------------


class ReplayAdapter:
    """The least a Bedrock-shaped adapter does (URL by operation, event-stream decoder, the
    dialect's error mapping); no auth: the server is local."""

    provider = "bedrock"
    _PATHS: Mapping[str, str] = {"converse": "/converse", "converse_stream": "/converse-stream"}

    def url(self, endpoint: EndpointConfig, operation: str, model: str) -> str:
        return join_url(endpoint.endpoint, f"/model/{quote(model, safe='')}{self._PATHS[operation]}")

    async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        return {}

    def decoder(self, operation: str) -> EventStreamDecoder:
        return EventStreamDecoder()

    def map_error(self, status: int, headers: Mapping[str, str], body: bytes, endpoint: str) -> LLMError:
        return map_http_error(status, headers, body, endpoint, self.request_id(headers))

    def request_id(self, headers: Mapping[str, str]) -> str | None:
        return headers.get("x-amzn-RequestId")


class Server:
    """A loopback server answering every request with one recorded body, written in random pieces."""

    def __init__(self, body: bytes, *, status: int = 200, content_type: str, seed: int = 0) -> None:
        self.body, self.status, self.content_type = body, status, content_type
        self.rng = random.Random(seed)
        self.requests: list[dict[str, Any]] = []
        self.url = ""

    async def __aenter__(self) -> Server:
        from aiohttp import web

        async def handle(request: web.Request) -> web.StreamResponse:
            self.requests.append({"path": request.raw_path, "json": await request.json()})
            headers = {"Content-Type": self.content_type, "x-amzn-RequestId": "req-e2e"}
            response = web.StreamResponse(status=self.status, headers=headers)
            await response.prepare(request)
            for piece in random_splits(self.body, self.rng, max_piece=300):
                await response.write(piece)
            await response.write_eof()
            return response

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        self._runner, port = await serve_locally(app, access_log=None)
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()


@pytest.mark.parametrize("name", STREAM_FILES)
async def test_end_to_end_stream(name: str) -> None:
    async with Server(
        raw_of(name), content_type="application/vnd.amazon.eventstream", seed=len(name)
    ) as server:
        connector = FailoverConnector.from_endpoints(ReplayAdapter(), EndpointConfig(endpoint=server.url))
        async with Nova(connector) as model:
            acc = accumulate([chunk async for chunk in model.stream_answer("replay please")])
    assert summary(acc) == summary(accumulate(replay(raw_of(name))))
    assert (acc.endpoint, acc.request_id) == (server.url, "req-e2e")
    (request,) = server.requests
    assert request["path"] == "/model/us.amazon.nova-micro-v1:0/converse-stream"  # (yarl sends %3A as :)
    assert request["json"] == {"messages": [{"role": "user", "content": [{"text": "replay please"}]}]}


async def test_end_to_end_nonstreamed() -> None:
    async with Server(raw_of(NONSTREAM), content_type="application/json") as server:
        connector = FailoverConnector.from_endpoints(ReplayAdapter(), EndpointConfig(endpoint=server.url))
        async with Nova(connector) as model:
            response = await model.get_answer("Hello!")
    assert response.text.startswith("Hello! How can I assist you today?")
    assert (response.usage, response.request_id, response.endpoint) == (Usage(7, 30), "req-e2e", server.url)
    assert server.requests[0]["path"] == "/model/us.amazon.nova-micro-v1:0/converse"


async def test_end_to_end_recorded_400_is_not_retried() -> None:
    async with (
        Server(raw_of(ERROR_400), status=400, content_type="application/json") as server,
        Nova(connector_for(server)) as model,
    ):
        with pytest.raises(NotFoundError) as info:
            async for _ in model.stream_answer("hello", model="us.does-not-exist-model-v1:0"):
                pass
    err = info.value
    assert (err.status, err.request_id, err.provider, err.model) == (400, "req-e2e", "bedrock", "nova-micro")
    assert len(server.requests) == 1


FAST = RetryPolicy(backoff_initial=0.0, backoff_max=0.0)


def connector_for(server: Server) -> FailoverConnector:
    return FailoverConnector.from_endpoints(ReplayAdapter(), EndpointConfig(endpoint=server.url), policy=FAST)


async def test_end_to_end_cut_stream_before_any_chunk_is_retried() -> None:
    raw = raw_of("converse-stream-text-nova.bin")
    first = botocore_events(raw)[0]
    assert first[0][":event-type"] == "messageStart"  # emits no chunk
    async with (
        Server(raw[:150], content_type="application/vnd.amazon.eventstream") as server,
        Nova(connector_for(server)) as model,
    ):
        with pytest.raises(APIConnectionError) as info:
            async for _ in model.stream_answer("hi"):
                pass
    assert "in the middle of a frame" in str(info.value.__cause__)
    assert len(server.requests) == 3  # cut before the first chunk: retried like a dropped connection


async def test_end_to_end_exception_frame_before_the_first_chunk_is_retried() -> None:
    body = event_frame("messageStart", {"role": "assistant"}) + exception_frame(
        "throttlingException", {"message": "Too many requests, please wait before trying again."}
    )
    async with (
        Server(body, content_type="application/vnd.amazon.eventstream") as server,
        Nova(connector_for(server)) as model,
    ):
        with pytest.raises(RateLimitError) as info:
            async for _ in model.stream_answer("hi"):
                pass
    err = info.value
    assert (err.code, err.endpoint, err.provider) == ("ThrottlingException", server.url, "bedrock")
    assert len(server.requests) == 3


async def test_end_to_end_exception_frame_after_a_chunk_interrupts() -> None:
    raw = raw_of("converse-stream-text-nova.bin")
    frames = botocore_events(raw)
    cut = sum(len(frame_bytes) for frame_bytes in _frames(raw)[:3])  # messageStart + two text deltas
    assert [h[":event-type"] for h, _ in frames[:3]] == [
        "messageStart",
        "contentBlockDelta",
        "contentBlockDelta",
    ]
    body = raw[:cut] + exception_frame("modelStreamErrorException", {"message": "The model failed"})
    async with (
        Server(body, content_type="application/vnd.amazon.eventstream") as server,
        Nova(connector_for(server)) as model,
    ):
        seen = []
        with pytest.raises(StreamInterruptedError) as info:
            async for chunk in model.stream_answer("hi"):
                seen.append(chunk.text)
    err = info.value
    assert err.partial_text == "".join(seen) == "The capital of France is Paris."
    assert isinstance(err.cause, LLMError) and err.cause.code == "ModelStreamErrorException"
    assert len(server.requests) == 1  # never failed over once the caller had text


def _frames(raw: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(raw):
        size = int.from_bytes(raw[pos : pos + 4], "big")
        out.append(raw[pos : pos + size])
        pos += size
    return out
