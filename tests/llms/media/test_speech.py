"""Text to speech (``get_audio`` / ``stream_audio``) on OpenAI and Azure OpenAI, end to end through
the real FailoverConnector against the simulator, plus a few checks against a stub connector."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator
from typing import Any

import pytest
from model_classes import model_class
from multidict import CIMultiDict, CIMultiDictProxy

from core.llms import create_llm
from core.llms.interfaces import (
    BadRequestError,
    InvalidInputError,
    RateLimitError,
    ResponseParsingError,
    ServiceUnavailableError,
    StreamInterruptedError,
    UnsupportedOperationError,
)
from core.llms.interfaces.llm_interfaces import WireRequest, WireResponse
from core.llms.simulator import Fault, Simulator

KEY = "sk-sim-speech-secret-0123456789"
TEXT = "Hello there, this is the simulator speaking."
NO_RETRY = {"max_retries": 0}
FAST_RETRY = {"max_retries": 2, "backoff_initial": 0.001, "backoff_max": 0.002}


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


def openai(sim: Simulator, name: str = "tts-1", **fields: Any) -> Any:
    return create_llm(f"openai/{name}", api_key=KEY, endpoint=sim.url + "/v1", **fields)


async def chunks_of(model: Any, text: str = TEXT, **params: Any) -> list[Any]:
    return [chunk async for chunk in model.stream_audio(text, **params)]


# --------------------------------------------------------------------------- formats


async def test_wav_decodes_with_the_right_rate_and_length(sim: Simulator) -> None:
    async with openai(sim) as model:
        short = await model.get_audio("Hi there.", voice="nova", format="wav")
        long = await model.get_audio(TEXT, voice="nova", format="wav")
    for response in (short, long):
        assert response.media_type == "audio/wav"
        with wave.open(io.BytesIO(response.data)) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (24_000, 1, 2)
            frames = w.getnframes()
            assert len(w.readframes(frames)) == frames * 2
        assert response.duration_seconds == pytest.approx(frames / 24_000)
    assert long.duration_seconds > 2 * short.duration_seconds  # the length scales with the text
    assert (long.model, long.provider, long.endpoint) == ("tts-1", "openai", sim.url + "/v1")
    assert long.request_id == "req_sim_000002"
    request = sim.requests[-1]
    assert request.path == "/v1/audio/speech"
    assert request.json == {"model": "tts-1", "input": TEXT, "voice": "nova", "response_format": "wav"}
    assert request.headers["authorization"] == f"Bearer {KEY}"


async def test_mp3_is_the_default_and_starts_with_a_frame_header(sim: Simulator) -> None:
    async with openai(sim) as model:
        response = await model.get_audio(TEXT)
    data = response.data
    assert response.media_type == "audio/mpeg"
    assert data[0] == 0xFF and data[1] & 0xE0 == 0xE0  # frame sync
    assert (data[1] >> 3) & 3 == 3 and (data[1] >> 1) & 3 == 1  # MPEG-1, Layer III
    assert 0 < data[2] >> 4 < 15 and (data[2] >> 2) & 3 != 3  # a bitrate and a sample rate
    assert response.duration_seconds is not None and response.duration_seconds > 2
    assert sim.requests[-1].json == {
        "model": "tts-1",
        "input": TEXT,
        "voice": "alloy",
        "response_format": "mp3",
    }


@pytest.mark.parametrize(
    ("fmt", "media_type", "magic"),
    [
        ("flac", "audio/flac", b"fLaC"),
        ("opus", "audio/opus", b"OggS"),
        ("aac", "audio/aac", b"\xff\xf1"),
    ],
)
async def test_other_formats(sim: Simulator, fmt: str, media_type: str, magic: bytes) -> None:
    async with openai(sim) as model:
        response = await model.get_audio(TEXT, response_format=fmt)
    assert response.media_type == media_type
    assert response.data.startswith(magic)
    if fmt == "flac":
        assert response.duration_seconds == pytest.approx(len(TEXT) * 0.06, abs=0.01)
    else:
        assert response.duration_seconds is None


async def test_pcm_duration_from_its_size(sim: Simulator) -> None:
    async with openai(sim, "tts-1-hd") as model:
        response = await model.get_audio(TEXT, format="pcm", speed=2.0)
    assert response.media_type == "audio/pcm"
    assert response.duration_seconds == pytest.approx(len(response.data) / 48_000)
    assert response.duration_seconds == pytest.approx(len(TEXT) * 0.06 / 2, abs=0.01)
    assert sim.requests[-1].json["speed"] == 2.0


# --------------------------------------------------------------------------- streaming


async def test_stream_yields_pieces_that_make_up_the_whole_file(sim: Simulator) -> None:
    async with openai(sim) as model:
        whole = await model.get_audio(TEXT, voice="echo", format="wav")
        chunks = await chunks_of(model, voice="echo", format="wav")
    data_chunks = [c for c in chunks if c.data]
    assert len(data_chunks) >= 3
    assert chunks[-1].final and chunks[-1].data == b"" and not any(c.final for c in chunks[:-1])
    assert b"".join(c.data for c in chunks) == whole.data
    assert chunks[-1].cost == whole.cost == pytest.approx(len(TEXT) * 15.00 / 1_000_000)  # tts-1
    assert data_chunks[0].data.startswith(b"RIFF")  # playable from the first piece
    request = sim.requests[-1]
    assert request.headers["accept"] == "*/*"  # not text/event-stream: raw audio
    assert "stream" not in request.json and "stream_format" not in request.json


async def test_gpt4o_mini_tts_streams_server_sent_events(sim: Simulator) -> None:
    async with openai(sim, "gpt-4o-mini-tts") as model:
        whole = await model.get_audio(TEXT, voice="verse", format="mp3", instructions="Cheerful.")
        chunks = await chunks_of(model, voice="verse", format="mp3", instructions="Cheerful.")
        raw = await chunks_of(model, voice="verse", format="mp3", stream_format="audio")
    assert len([c for c in chunks if c.data]) >= 3 and chunks[-1].final
    assert b"".join(c.data for c in chunks) == whole.data == b"".join(c.data for c in raw)
    usage = chunks[-1].usage  # speech.audio.done reports the tokens: usage and cost on the last chunk
    assert usage is not None and usage.output_tokens > 0
    assert chunks[-1].cost == pytest.approx((usage.input_tokens * 0.60 + usage.output_tokens * 12.00) / 1e6)
    assert raw[-1].usage is None and raw[-1].cost is None  # a raw stream reports no tokens
    sse_request, raw_request = sim.requests[-2:]
    assert sse_request.json["stream_format"] == "sse"
    assert sse_request.json["instructions"] == "Cheerful."
    assert "stream_format" not in raw_request.json
    assert whole.cost is None  # billed by tokens, which a raw audio answer does not report


async def test_sse_stream_without_done_is_interrupted(sim: Simulator) -> None:
    sim.enqueue(Fault(truncate_stream=True))
    async with openai(sim, "gpt-4o-mini-tts", retry=NO_RETRY) as model:
        received: list[Any] = []
        with pytest.raises(StreamInterruptedError) as info:
            async for chunk in model.stream_audio(TEXT):
                received.append(chunk)
    assert received and all(not c.final for c in received)
    assert "speech.audio.done" in info.value.message
    assert (info.value.provider, info.value.model) == ("openai", "gpt-4o-mini-tts")


@pytest.mark.parametrize("name", ["tts-1", "gpt-4o-mini-tts"])
async def test_cut_stream_is_interrupted(sim: Simulator, name: str) -> None:
    sim.enqueue(Fault(drop="after_first_chunk"))
    async with openai(sim, name, retry=NO_RETRY) as model:
        received: list[Any] = []
        with pytest.raises(StreamInterruptedError):
            async for chunk in model.stream_audio(TEXT):
                received.append(chunk)
    assert received


async def test_cleanly_truncated_raw_stream_cannot_be_detected(sim: Simulator) -> None:
    """The documented limit of raw audio: no end marker, so a clean early end looks complete."""
    async with openai(sim, retry=NO_RETRY) as model:
        whole = await model.get_audio(TEXT, format="pcm")
        sim.enqueue(Fault(truncate_stream=True))
        chunks = await chunks_of(model, format="pcm")
    assert chunks[-1].final
    assert 0 < len(b"".join(c.data for c in chunks)) < len(whole.data)


async def test_cut_before_any_audio_is_retried(sim: Simulator) -> None:
    sim.enqueue(Fault(drop="before_first_chunk"))
    async with openai(sim, retry=FAST_RETRY) as model:
        chunks = await chunks_of(model, format="wav")
    assert chunks[-1].final and b"".join(c.data for c in chunks).startswith(b"RIFF")
    assert len(sim.requests) == 2


# --------------------------------------------------------------------------- checks before sending

BAD_PARAMS = [
    ({"voice": "bogus"}, "voice", "alloy"),
    ({"voice": "ballad"}, "voice", "shimmer"),  # gpt-4o-mini-tts only
    ({"voice": 3}, "voice", "alloy"),
    ({"speed": 5}, "speed", "0.25"),
    ({"speed": 0.1}, "speed", "0.25"),
    ({"speed": "fast"}, "speed", "0.25"),
    ({"speed": True}, "speed", "0.25"),
    ({"format": "ogg"}, "format", "mp3"),
    ({"response_format": "wave"}, "format", "pcm"),
    ({"instructions": "Whisper."}, "instructions", "gpt-4o-mini-tts"),
    ({"pitch": 2}, "pitch", "voice"),
    ({"stream_format": "sse"}, "stream_format", None),  # get_audio takes none
    ({"format": "wav", "response_format": "wav"}, "format", None),
    ({"timeout": -1}, "timeout", None),
    ({"read_timeout": "slow"}, "read_timeout", None),
]


@pytest.mark.parametrize(("params", "named", "allowed"), BAD_PARAMS)
async def test_bad_parameters_are_refused_before_any_request(
    sim: Simulator, params: dict[str, Any], named: str, allowed: str | None
) -> None:
    async with openai(sim) as model:
        with pytest.raises(InvalidInputError) as info:
            await model.get_audio(TEXT, **params)
    text = str(info.value)
    assert named in text
    if allowed is not None:
        assert allowed in text
    assert info.value.model == "tts-1"
    assert sim.requests == []


@pytest.mark.parametrize(("params", "named", "allowed"), BAD_PARAMS[:10])
async def test_bad_parameters_are_refused_by_the_stream_too(
    sim: Simulator, params: dict[str, Any], named: str, allowed: str
) -> None:
    async with openai(sim) as model:
        with pytest.raises(InvalidInputError) as info:
            await chunks_of(model, **params)
    assert named in str(info.value) and allowed in str(info.value)
    assert sim.requests == []


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("tts-1", "", "empty"),
        ("tts-1", "   ", "empty"),
        ("tts-1", b"bytes", "string"),
        ("tts-1", "x" * 4097, "4,096"),
        ("gpt-4o-mini-tts", "x" * 4097, "4,096"),
    ],
)
async def test_bad_text_is_refused(sim: Simulator, name: str, text: Any, words: str) -> None:
    async with openai(sim, name) as model:
        with pytest.raises(InvalidInputError, match=words):
            await model.get_audio(text)
    assert sim.requests == []


async def test_longest_text_is_sent(sim: Simulator) -> None:
    async with openai(sim) as model:
        response = await model.get_audio("x" * 4096, format="pcm")
    assert response.duration_seconds == pytest.approx(4096 * 0.06, abs=0.01)


async def test_gpt4o_mini_tts_takes_its_own_voices_and_instructions(sim: Simulator) -> None:
    async with openai(sim, "gpt-4o-mini-tts") as model:
        await model.get_audio(TEXT, voice="ballad", instructions="Speak like a pirate.", speed=0.5)
        with pytest.raises(InvalidInputError, match="instructions"):
            await model.get_audio(TEXT, instructions="x" * 4097)
    assert sim.requests[0].json["voice"] == "ballad"
    assert len(sim.requests) == 1


async def test_defaults_apply_under_call_parameters(sim: Simulator) -> None:
    async with openai(sim, defaults={"voice": "onyx", "format": "wav", "stream_format": "audio"}) as model:
        await model.get_audio(TEXT)
        await model.get_audio(TEXT, voice="sage", response_format="flac")
        await model.get_audio(TEXT, voice=None)  # None removes the default
    assert [(r.json["voice"], r.json["response_format"]) for r in sim.requests] == [
        ("onyx", "wav"),
        ("sage", "flac"),
        ("alloy", "wav"),
    ]


async def test_bad_default_is_refused_at_the_call(sim: Simulator) -> None:
    async with openai(sim, defaults={"voice": "robot"}) as model:
        with pytest.raises(InvalidInputError, match="voice"):
            await model.get_audio(TEXT)
    assert sim.requests == []


# --------------------------------------------------------------------------- cost, errors, routes


@pytest.mark.parametrize(("name", "per_million"), [("tts-1", 15.0), ("tts-1-hd", 30.0)])
async def test_cost_by_characters(sim: Simulator, name: str, per_million: float) -> None:
    async with openai(sim, name) as model:
        response = await model.get_audio(TEXT)
    assert response.cost == pytest.approx(len(TEXT) * per_million / 1_000_000)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(status=400), BadRequestError),
        (Fault(status=429), RateLimitError),
        (Fault(status=500), ServiceUnavailableError),
    ],
)
@pytest.mark.parametrize("streamed", [False, True])
async def test_server_errors_are_typed(sim: Simulator, fault: Fault, error: type, streamed: bool) -> None:
    sim.enqueue(fault)
    async with openai(sim, retry=NO_RETRY) as model:
        with pytest.raises(error) as info:
            if streamed:
                await chunks_of(model)
            else:
                await model.get_audio(TEXT)
    assert info.value.status == fault.status
    assert (info.value.provider, info.value.model) == ("openai", "tts-1")
    assert KEY not in str(info.value) and KEY not in repr(info.value)


async def test_server_error_is_retried(sim: Simulator) -> None:
    sim.enqueue(Fault(status=503))
    async with openai(sim, retry=FAST_RETRY) as model:
        response = await model.get_audio(TEXT, format="wav")
    assert response.data.startswith(b"RIFF") and len(sim.requests) == 2


async def test_json_instead_of_audio_is_a_parsing_error(sim: Simulator) -> None:
    sim.enqueue(Fault(body={"result": "not audio"}))
    async with openai(sim, retry=NO_RETRY) as model:
        with pytest.raises(ResponseParsingError, match="instead of audio"):
            await model.get_audio(TEXT)


@pytest.mark.parametrize("streamed", [False, True])
async def test_error_in_a_200_body_is_raised(sim: Simulator, streamed: bool) -> None:
    sim.enqueue(Fault(error_event=True))
    async with openai(sim, retry=NO_RETRY) as model:
        with pytest.raises(ServiceUnavailableError):
            if streamed:
                await chunks_of(model)
            else:
                await model.get_audio(TEXT)


async def test_chat_model_cannot_speak(sim: Simulator) -> None:
    async with openai(sim, "gpt-4o-mini") as model:
        with pytest.raises(UnsupportedOperationError, match="get_audio"):
            await model.get_audio(TEXT)
        with pytest.raises(UnsupportedOperationError, match="stream_audio"):
            await chunks_of(model)
    async with openai(sim, "whisper-1") as model:
        with pytest.raises(UnsupportedOperationError) as info:
            await model.get_audio(TEXT)
    assert info.value.hint is not None and "transcribe()" in info.value.hint
    assert sim.requests == []


async def test_azure_deployment_route(sim: Simulator) -> None:
    async with create_llm(
        "azure/tts-1", api_key=KEY, endpoint=sim.url, api_version="2025-03-01-preview"
    ) as model:
        response = await model.get_audio(TEXT, voice="coral", format="wav")
        chunks = await chunks_of(model, voice="coral", format="wav")
    assert response.provider == "azure" and response.data.startswith(b"RIFF")
    assert b"".join(c.data for c in chunks) == response.data
    assert response.request_id is not None and response.request_id.startswith("00000000-0000-4000-8000-")
    request = sim.requests[0]
    assert request.path == "/openai/deployments/tts-1/audio/speech"
    assert request.query == {"api-version": "2025-03-01-preview"}
    assert request.headers["api-key"] == KEY


async def test_azure_v1_route_sends_the_deployment_as_model(sim: Simulator) -> None:
    async with create_llm(
        "azure/gpt-4o-mini-tts", api_key=KEY, endpoint=sim.url, api_version="v1", deployment_name="voice-prod"
    ) as model:
        chunks = await chunks_of(model, instructions="Calm.")
    assert chunks[-1].final
    request = sim.requests[0]
    assert request.path == "/openai/v1/audio/speech"
    assert request.json["model"] == "voice-prod" and request.json["stream_format"] == "sse"


async def test_azure_bad_api_version(sim: Simulator) -> None:
    async with create_llm("azure/tts-1", api_key=KEY, endpoint=sim.url, api_version="latest") as model:
        with pytest.raises(BadRequestError, match="API version"):
            await model.get_audio(TEXT)


# --------------------------------------------------------------------------- stub connector


class StubConnector:
    """Answers every ``send`` with ``response``; remembers the requests."""

    def __init__(self, response: WireResponse) -> None:
        self.response = response
        self.requests: list[WireRequest] = []

    async def send(self, request: WireRequest, ctx: Any = None) -> WireResponse:
        self.requests.append(request)
        return self.response

    def stream(self, request: WireRequest, parser_factory: Any, ctx: Any = None) -> Any:
        raise AssertionError("not streamed")

    async def aclose(self) -> None:
        pass


def audio_response(body: bytes, content_type: str = "audio/mpeg") -> WireResponse:
    headers = CIMultiDictProxy(CIMultiDict({"Content-Type": content_type}))
    return WireResponse(200, headers, body, None, "stub")


async def test_empty_audio_body_is_a_parsing_error() -> None:
    model = model_class("openai/tts-1")(StubConnector(audio_response(b"")))
    with pytest.raises(ResponseParsingError, match="empty audio"):
        await model.get_audio(TEXT)


async def test_request_options_and_repr() -> None:
    connector = StubConnector(audio_response(b"\xff\xfb\x90\xc4" + bytes(413)))
    model = model_class("openai/tts-1")(connector)
    response = await model.get_audio(TEXT, timeout=12, read_timeout=3, model="tts-1-1106")
    (request,) = connector.requests
    assert (request.operation, request.stream, request.total_timeout, request.read_timeout) == (
        "speech",
        False,
        12,
        3,
    )
    assert request.model == "tts-1-1106" and request.model_fixed and request.payload["model"] == "tts-1-1106"
    assert repr(response) == "LLMAudioResponse(<417 bytes audio/mpeg>, model='tts-1')"
    assert response.duration_seconds == pytest.approx(1152 / 44_100)


async def test_streamed_wav_of_unknown_size() -> None:
    """OpenAI's streamed WAV may not know its data size; the rest of the file is the data."""
    header = bytearray(b"RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00")
    header += (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + (24_000).to_bytes(4, "little")
    header += (48_000).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
    body = bytes(header) + b"data\xff\xff\xff\xff" + bytes(48_000)
    model = model_class("openai/tts-1")(StubConnector(audio_response(body, "audio/wav")))
    response = await model.get_audio(TEXT, format="wav")
    assert response.duration_seconds == pytest.approx(1.0)
