"""Speech to text (``transcribe`` / ``translate``) on OpenAI and Azure OpenAI, end to end through
the real FailoverConnector against the simulator, plus the request form (stub connector) and the
simulator's own upload checks (raw HTTP)."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
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
    UnsupportedOperationError,
)
from core.llms.interfaces.llm_interfaces import WireRequest, WireResponse
from core.llms.interfaces.messages import AudioPart
from core.llms.simulator import Fault, Simulator

KEY = "sk-sim-transcribe-secret-0123456789"
NO_RETRY = {"max_retries": 0}
MB = 1024 * 1024


def wav_bytes(seconds: float, rate: int = 16_000) -> bytes:
    """A silent mono 16-bit WAV file made with the standard library."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(2 * round(seconds * rate)))
    return out.getvalue()


AUDIO = wav_bytes(2.0)


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


def openai(sim: Simulator, name: str = "whisper-1", **fields: Any) -> Any:
    return create_llm(f"openai/{name}", api_key=KEY, endpoint=sim.url + "/v1", **fields)


# --------------------------------------------------------------------------- inputs


async def test_transcribe_bytes(sim: Simulator) -> None:
    async with openai(sim) as model:
        result = await model.transcribe(AUDIO)
    assert result.text and result.text.endswith(".")
    assert (result.model, result.provider, result.endpoint) == ("whisper-1", "openai", sim.url + "/v1")
    assert result.request_id == "req_sim_000001" and result.latency is not None and result.latency > 0
    assert result.segments == [] and result.words == []
    assert result.duration_seconds == 2.0  # billed seconds reported by the json answer's usage
    assert result.cost == pytest.approx(2.0 * 0.0001)
    request = sim.requests[0]
    assert request.path == "/v1/audio/transcriptions"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert request.headers["authorization"] == f"Bearer {KEY}"


async def test_the_transcript_follows_the_audio_length(sim: Simulator) -> None:
    async with openai(sim) as model:
        short = await model.transcribe(wav_bytes(1.0))
        long = await model.transcribe(wav_bytes(8.0))
    assert len(long.text.split()) > 4 * len(short.text.split())


async def test_transcribe_a_file_path(sim: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "meeting.wav"
    path.write_bytes(AUDIO)
    async with openai(sim) as model:
        from_str = await model.transcribe(str(path))
        from_path = await model.transcribe(path)
    assert from_str.text == from_path.text == (await _transcribe_bytes(sim, AUDIO))
    assert len(sim.requests) == 3


async def _transcribe_bytes(sim: Simulator, data: bytes) -> str:
    async with openai(sim) as model:
        return str((await model.transcribe(data)).text)


async def test_missing_file_is_refused(sim: Simulator, tmp_path: Path) -> None:
    async with openai(sim) as model:
        with pytest.raises(InvalidInputError, match=r"nothing-here\.wav") as info:
            await model.transcribe(tmp_path / "nothing-here.wav")
        with pytest.raises(InvalidInputError):
            await model.transcribe(str(tmp_path))  # a directory
    assert info.value.model == "whisper-1"
    assert sim.requests == []


async def test_audio_part_with_its_format(sim: Simulator) -> None:
    async with openai(sim) as model:
        result = await model.transcribe(AudioPart(data=AUDIO, format="audio/x-wav"))
        with pytest.raises(InvalidInputError, match=r"AudioPart\.format"):
            await model.transcribe(AudioPart(data=AUDIO, format="aiff"))
    assert result.text
    assert len(sim.requests) == 1


@pytest.mark.parametrize(
    ("audio", "words"),
    [
        (b"just some text, not audio", "cannot tell the format"),
        (b"", "empty"),
        (12345, "bytes, a file path or an AudioPart"),
        (["a.wav"], "bytes, a file path or an AudioPart"),
    ],
)
async def test_bad_audio_is_refused(sim: Simulator, audio: Any, words: str) -> None:
    async with openai(sim) as model:
        with pytest.raises(InvalidInputError, match=words) as info:
            await model.transcribe(audio)
    assert "not audio" not in repr(info.value)  # never the audio bytes
    assert sim.requests == []


async def test_more_than_25_mb_is_refused(sim: Simulator, tmp_path: Path) -> None:
    big = AUDIO + bytes(25 * MB - len(AUDIO) + 1)
    path = tmp_path / "big.wav"
    with open(path, "wb") as file:
        file.truncate(25 * MB + 1)  # sparse: nothing is written
    async with openai(sim) as model:
        for audio in (big, path, AudioPart(data=big, format="wav")):
            with pytest.raises(InvalidInputError, match="25 MB"):
                await model.transcribe(audio)
        result = await model.transcribe(big[: 25 * MB])  # the limit itself is fine
    assert result.text
    assert len(sim.requests) == 1


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\xc4" + bytes(413), "audio.mp3"),
        (b"\xff\xfb\x90\xc4" + bytes(413), "audio.mp3"),
        (b"OggS" + bytes(60), "audio.ogg"),
        (b"fLaC" + bytes(60), "audio.flac"),
        (b"\x00\x00\x00\x20ftypM4A " + bytes(60), "audio.m4a"),
        (b"\x00\x00\x00\x20ftypisom" + bytes(60), "audio.mp4"),
        (b"\x1a\x45\xdf\xa3" + bytes(60), "audio.webm"),
        (AUDIO, "audio.wav"),
    ],
)
async def test_format_sniffed_from_the_bytes(data: bytes, name: str) -> None:
    connector = StubConnector(json_response({"text": "ok"}))
    model = model_class("openai/whisper-1")(connector)
    await model.transcribe(data)
    form = connector.requests[0].form
    (upload,) = [f for f in form.fields if f.name == "file"]
    assert upload.filename == name and upload.value == data
    assert str(data[:8]) not in repr(form)


# --------------------------------------------------------------------------- timestamps, formats


async def test_timestamps_give_segments_and_words(sim: Simulator) -> None:
    async with openai(sim) as model:
        result = await model.transcribe(wav_bytes(6.0), timestamps=True, language="de", prompt="Meeting.")
    assert result.language == "german"
    assert result.duration_seconds == pytest.approx(6.0)
    assert len(result.segments) >= 2 and len(result.words) >= 10
    assert [s.id for s in result.segments] == list(range(len(result.segments)))
    assert " ".join(s.text for s in result.segments) == result.text
    assert all(s.start < s.end for s in result.segments)
    assert all(a.end <= b.start + 1e-9 for a, b in zip(result.words, result.words[1:], strict=False))
    assert result.words[-1].end == pytest.approx(6.0, abs=0.01)
    assert result.cost == pytest.approx(6.0 * 0.0001)


async def test_word_timestamps_only(sim: Simulator) -> None:
    async with openai(sim) as model:
        result = await model.transcribe(AUDIO, timestamps="word")
    assert result.words and result.segments == []


@pytest.mark.parametrize(
    ("fmt", "start"), [("srt", "1\n00:00:00,000 --> 00:00:"), ("vtt", "WEBVTT\n\n00:00:00.000")]
)
async def test_subtitles_are_made_from_the_segments(sim: Simulator, fmt: str, start: str) -> None:
    async with openai(sim) as model:
        result = await model.transcribe(wav_bytes(5.0), response_format=fmt)
    assert result.text.startswith(start)
    assert result.segments and result.segments[0].text in result.text


async def test_verbose_json_and_text(sim: Simulator) -> None:
    async with openai(sim) as model:
        verbose = await model.transcribe(AUDIO, response_format="verbose_json")
        text = await model.transcribe(AUDIO, response_format="text")
    assert verbose.segments and verbose.language == "english" and verbose.words == []
    assert text.text == verbose.text and text.segments == []


# --------------------------------------------------------------------------- translation


async def test_translate_on_whisper(sim: Simulator) -> None:
    async with openai(sim, defaults={"language": "fr"}) as model:  # a transcribe default: skipped
        result = await model.translate(AUDIO, prompt="A talk.", temperature=0.2)
        with_times = await model.translate(AUDIO, timestamps=True)
    assert result.text and result.cost == pytest.approx(2.0 * 0.0001)
    assert with_times.segments and with_times.words == [] and with_times.language == "english"
    assert [r.path for r in sim.requests] == ["/v1/audio/translations"] * 2


async def test_translate_refuses_language_and_word_times(sim: Simulator) -> None:
    async with openai(sim) as model:
        with pytest.raises(InvalidInputError, match="language"):
            await model.translate(AUDIO, language="fr")
        with pytest.raises(InvalidInputError, match="word"):
            await model.translate(AUDIO, timestamps="word")
    assert sim.requests == []


@pytest.mark.parametrize("name", ["gpt-4o-transcribe", "gpt-4o-mini-transcribe"])
async def test_translate_on_gpt4o_transcribe_is_unsupported(sim: Simulator, name: str) -> None:
    async with openai(sim, name) as model:
        with pytest.raises(UnsupportedOperationError, match="translate") as info:
            await model.translate(AUDIO)
    assert info.value.hint is not None and "whisper-1" in info.value.hint
    assert sim.requests == []


# --------------------------------------------------------------------------- gpt-4o transcribe


@pytest.mark.parametrize(
    ("name", "prices"), [("gpt-4o-transcribe", (6.0, 10.0)), ("gpt-4o-mini-transcribe", (3.0, 5.0))]
)
async def test_gpt4o_transcribe_usage_and_cost(
    sim: Simulator, name: str, prices: tuple[float, float]
) -> None:
    async with openai(sim, name) as model:
        result = await model.transcribe(AUDIO, prompt="Names: Ada, Grace.")
    usage = result.usage
    assert usage is not None and usage.input_tokens > 0 and usage.output_tokens > 0
    assert result.cost == pytest.approx(
        (usage.input_tokens * prices[0] + usage.output_tokens * prices[1]) / 1e6
    )
    assert result.segments == [] and result.duration_seconds is None


@pytest.mark.parametrize(
    ("params", "error", "words"),
    [
        ({"timestamps": True}, UnsupportedOperationError, "timestamps"),
        ({"response_format": "verbose_json"}, InvalidInputError, "json, text"),
        ({"response_format": "srt"}, InvalidInputError, "response_format"),
    ],
)
async def test_gpt4o_transcribe_refuses_what_it_lacks(
    sim: Simulator, params: dict[str, Any], error: type, words: str
) -> None:
    async with openai(sim, "gpt-4o-transcribe") as model:
        with pytest.raises(error, match=words):
            await model.transcribe(AUDIO, **params)
    assert sim.requests == []


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"temperature": 2}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"timestamps": "sentence"}, "timestamps"),
        ({"timestamps": 3}, "timestamps"),
        ({"response_format": "xml"}, "response_format"),
        ({"language": ""}, "language"),
        ({"prompt": 5}, "prompt"),
        ({"speed": 1.0}, "speed"),
        ({"timeout": 0}, "timeout"),
        ({"model": ""}, "model"),
    ],
)
async def test_bad_parameters_are_refused_before_any_request(
    sim: Simulator, params: dict[str, Any], named: str
) -> None:
    async with openai(sim) as model:
        with pytest.raises(InvalidInputError, match=named):
            await model.transcribe(AUDIO, **params)
    assert sim.requests == []


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(status=400), BadRequestError),
        (Fault(status=429), RateLimitError),
        (Fault(status=500), ServiceUnavailableError),
    ],
)
async def test_server_errors_are_typed(sim: Simulator, fault: Fault, error: type) -> None:
    sim.enqueue(fault)
    async with openai(sim, retry=NO_RETRY) as model:
        with pytest.raises(error) as info:
            await model.transcribe(AUDIO)
    assert info.value.status == fault.status
    assert (info.value.provider, info.value.model) == ("openai", "whisper-1")
    for shown in (str(info.value), repr(info.value)):
        assert KEY not in shown and "RIFF" not in shown


async def test_server_error_is_retried_with_the_same_upload(sim: Simulator) -> None:
    sim.enqueue(Fault(status=503))
    async with openai(sim, retry={"max_retries": 1, "backoff_initial": 0.001, "backoff_max": 0.002}) as model:
        result = await model.transcribe(AUDIO)
    assert result.text and len(sim.requests) == 2


async def test_model_the_server_refuses(sim: Simulator) -> None:
    async with openai(sim, retry=NO_RETRY) as model:
        with pytest.raises(BadRequestError, match="gpt-4o"):
            await model.transcribe(AUDIO, model="gpt-4o")


async def test_malformed_answer_is_a_parsing_error(sim: Simulator) -> None:
    sim.enqueue(Fault(malformed_json=True))
    async with openai(sim, retry=NO_RETRY) as model:
        with pytest.raises(ResponseParsingError):
            await model.transcribe(AUDIO)


async def test_tts_model_cannot_transcribe(sim: Simulator) -> None:
    async with openai(sim, "tts-1") as model:
        with pytest.raises(UnsupportedOperationError, match="transcribe"):
            await model.transcribe(AUDIO)
        with pytest.raises(UnsupportedOperationError, match="translate"):
            await model.translate(AUDIO)
    assert sim.requests == []


# --------------------------------------------------------------------------- Azure


async def test_azure_deployment_route(sim: Simulator) -> None:
    async with create_llm(
        "azure/whisper-1", api_key=KEY, endpoint=sim.url, api_version="2024-06-01", deployment_name="stt"
    ) as model:
        result = await model.transcribe(AUDIO, timestamps=True)
        translated = await model.translate(AUDIO)
    assert result.provider == "azure" and result.words and translated.text
    assert result.request_id is not None and result.request_id.startswith("00000000-0000-4000-8000-")
    assert [r.path for r in sim.requests] == [
        "/openai/deployments/stt/audio/transcriptions",
        "/openai/deployments/stt/audio/translations",
    ]
    assert sim.requests[0].query == {"api-version": "2024-06-01"}
    assert sim.requests[0].headers["api-key"] == KEY


async def test_azure_v1_route(sim: Simulator) -> None:
    async with create_llm(
        "azure/gpt-4o-transcribe", api_key=KEY, endpoint=sim.url, api_version="v1"
    ) as model:
        result = await model.transcribe(AUDIO)
    assert result.usage is not None and result.cost is not None
    assert sim.requests[0].path == "/openai/v1/audio/transcriptions"


# --------------------------------------------------------------------------- the request form


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


def json_response(data: Any) -> WireResponse:
    headers = CIMultiDictProxy(CIMultiDict({"Content-Type": "application/json"}))
    return WireResponse(200, headers, b"{}", data, "stub", "req-1", 0.5)


def fields_of(request: WireRequest) -> list[tuple[str, Any]]:
    return [(f.name, f.value) for f in request.form.fields if f.name != "file"]


async def test_the_form_sent() -> None:
    connector = StubConnector(json_response({"text": "hi", "language": "english", "duration": 2.5}))
    model = model_class("openai/whisper-1")(connector, defaults={"temperature": 0.1})
    result = await model.transcribe(AUDIO, language="en", prompt="Hi.", timestamps=True, timeout=30)
    (request,) = connector.requests
    assert request.operation == "transcriptions" and request.total_timeout == 30
    assert request.model == "whisper-1" and not request.model_fixed
    assert fields_of(request) == [
        ("model", "whisper-1"),
        ("response_format", "verbose_json"),
        ("language", "en"),
        ("prompt", "Hi."),
        ("temperature", "0.1"),
        ("timestamp_granularities[]", "segment"),
        ("timestamp_granularities[]", "word"),
    ]
    upload = request.form.fields[0]
    assert (upload.name, upload.filename, upload.content_type) == ("file", "audio.wav", "audio/wav")
    assert result.duration_seconds == 2.5 and result.cost == pytest.approx(2.5 * 0.0001)
    assert result.latency == 0.5 and result.request_id == "req-1"


async def test_cost_from_the_upload_when_the_answer_has_no_duration() -> None:
    model = model_class("openai/whisper-1")(StubConnector(json_response({"text": "hi"})))
    result = await model.transcribe(wav_bytes(3.0))
    assert result.duration_seconds is None
    assert result.cost == pytest.approx(3.0 * 0.0001)


@pytest.mark.parametrize(
    "data",
    [
        ["not an object"],
        {"no": "text"},
        {"text": 5},
        {"text": "hi", "segments": "nope"},
        {"text": "hi", "segments": [{"text": "hi", "start": "0", "end": 1}]},
        {"text": "hi", "words": [{"start": 0, "end": 1}]},
    ],
)
async def test_unreadable_answers(data: Any) -> None:
    model = model_class("openai/whisper-1")(StubConnector(json_response(data)))
    with pytest.raises(ResponseParsingError):
        await model.transcribe(AUDIO)


# --------------------------------------------------------------------------- the simulator's checks


async def _post(sim: Simulator, path: str, form: aiohttp.FormData | bytes, **headers: str) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            sim.url + path, data=form, headers={"Authorization": f"Bearer {KEY}", **headers}
        ) as resp,
    ):
        return resp.status, await resp.json(content_type=None)


def form(**fields: Any) -> aiohttp.FormData:
    data = aiohttp.FormData(default_to_multipart=True)
    for name, value in fields.items():
        if isinstance(value, tuple):
            upload = io.BytesIO(value[1])  # (raw bytes of a large file would warn)
            data.add_field(name, upload, filename=value[0], content_type="application/octet-stream")
        else:
            data.add_field(name, value)
    return data


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"model": "whisper-1"}, 400, "'file'"),
        ({"file": ("a.wav", AUDIO)}, 400, "'model'"),
        ({"model": "gpt-4o", "file": ("a.wav", AUDIO)}, 400, "gpt-4o"),
        ({"model": "whisper-1", "file": ("a.txt", AUDIO)}, 400, "Invalid file format"),
        ({"model": "whisper-1", "file": ("a.wav", b"hello")}, 400, "corrupted"),
        ({"model": "whisper-1", "file": ("a.wav", AUDIO), "response_format": "csv"}, 400, "csv"),
        ({"model": "gpt-4o-transcribe", "file": ("a.wav", AUDIO), "response_format": "srt"}, 400, "srt"),
        (
            {"model": "whisper-1", "file": ("a.wav", AUDIO), "timestamp_granularities[]": "word"},
            400,
            "verbose",
        ),
        ({"model": "whisper-1", "file": ("a.wav", AUDIO), "language": "English"}, 400, "ISO-639-1"),
        ({"model": "whisper-1", "file": ("a.wav", AUDIO), "temperature": "3"}, 400, "temperature"),
    ],
)
async def test_simulator_validates_uploads(
    sim: Simulator, fields: dict[str, Any], status: int, words: str
) -> None:
    got, body = await _post(sim, "/v1/audio/transcriptions", form(**fields))
    assert got == status
    assert words in body["error"]["message"]


async def test_simulator_refuses_a_json_body_and_translation_on_gpt4o(sim: Simulator) -> None:
    status, body = await _post(sim, "/v1/audio/transcriptions", b"{}", **{"Content-Type": "application/json"})
    assert status == 400 and "multipart/form-data" in body["error"]["message"]
    status, body = await _post(
        sim, "/v1/audio/translations", form(model="gpt-4o-transcribe", file=("a.wav", AUDIO))
    )
    assert status == 400 and "translation" in body["error"]["message"]


async def test_simulator_answers_text_formats_as_text(sim: Simulator) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            sim.url + "/v1/audio/transcriptions",
            data=form(model="whisper-1", file=("a.wav", AUDIO), response_format="vtt"),
            headers={"Authorization": f"Bearer {KEY}"},
        ) as resp,
    ):
        assert resp.status == 200 and resp.content_type == "text/plain"
        assert (await resp.text()).startswith("WEBVTT\n")


async def test_simulator_refuses_more_than_25_mb(sim: Simulator) -> None:
    status, body = await _post(
        sim, "/v1/audio/transcriptions", form(model="whisper-1", file=("a.wav", AUDIO + bytes(25 * MB)))
    )
    assert status == 413 and "Maximum content size" in body["error"]["message"]
