"""Gemini text to speech (``core.llms.providers.gemini.media.speech``): request bodies, refusals
before anything is sent, WAV / PCM answers that the stdlib ``wave`` module reads, blocked and
broken answers, streams; end to end through the real adapter and connector against the
simulator's TTS answer (``respond_tts``, which the chat route calls for ``-tts`` models)."""

from __future__ import annotations

import base64
import io
import wave
from collections.abc import AsyncIterator
from typing import Any

import pytest
from test_gemini_media_kit import KEY, TOKEN, Scripted, make_model, row, sim_model, sse, wire

from core.llms.interfaces import (
    ContentFilterError,
    InvalidInputError,
    RateLimitError,
    ResponseParsingError,
    StreamInterruptedError,
)
from core.llms.providers.gemini.media.speech import VOICES
from core.llms.simulator import Fault, Simulator
from core.llms.simulator.audio_files import speech_seconds

MODEL = "gemini-2.5-flash-preview-tts"
MIME = "audio/L16;codec=pcm;rate=24000"
PCM = bytes(range(256)) * 8  # 2048 bytes: 1024 samples


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def answer(
    *pieces: bytes, mime: str = MIME, finish: str | None = "STOP", usage: bool = True
) -> dict[str, Any]:
    candidate: dict[str, Any] = {
        "content": {
            "role": "model",
            "parts": [{"inlineData": {"mimeType": mime, "data": b64(p)}} for p in pieces],
        },
        "index": 0,
    }
    if finish:
        candidate["finishReason"] = finish
    out: dict[str, Any] = {"candidates": [candidate], "modelVersion": MODEL}
    if usage:
        out["usageMetadata"] = {"promptTokenCount": 10, "candidatesTokenCount": 200, "totalTokenCount": 210}
    return out


def scripted(*answers: Any, sse_body: bytes = b"", name: str = MODEL, **defaults: Any):
    connector = Scripted(answers or [wire(answer(PCM))], sse=sse_body)
    return make_model(row(name), connector, defaults or None), connector


def read_wav(data: bytes) -> tuple[int, int, int, bytes]:
    with wave.open(io.BytesIO(data)) as file:
        return file.getnchannels(), file.getsampwidth(), file.getframerate(), file.readframes(10**9)


# -- requests ---------------------------------------------------------------------------------


async def test_the_request_asks_for_audio_in_the_default_voice() -> None:
    model, connector = scripted()
    await model.get_audio("Welcome aboard.")
    (request,) = connector.requests
    assert (request.operation, request.model, request.stream) == ("generate", MODEL, False)
    assert request.payload == {
        "contents": [{"role": "user", "parts": [{"text": "Welcome aboard."}]}],
        "generationConfig": {
            "responseModalities": ["AUDIO"],
            "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}},
        },
    }


async def test_a_voice_and_a_language() -> None:
    model, connector = scripted(voice="Puck")
    await model.get_audio("Hallo.", language="de-DE")
    speech = connector.requests[0].payload["generationConfig"]["speechConfig"]
    assert speech == {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Puck"}}, "languageCode": "de-DE"}


async def test_two_speakers_make_a_multi_speaker_config() -> None:
    model, connector = scripted()
    await model.get_audio("Joe: Hi!\nJane: Hello.", speakers={"Joe": "Charon", "Jane": "Aoede"})
    speech = connector.requests[0].payload["generationConfig"]["speechConfig"]
    assert speech == {
        "multiSpeakerVoiceConfig": {
            "speakerVoiceConfigs": [
                {"speaker": "Joe", "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Charon"}}},
                {"speaker": "Jane", "voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Aoede"}}},
            ]
        }
    }


@pytest.mark.parametrize(
    ("text", "params", "words"),
    [
        ("hi", {"voice": "alloy"}, ["voice='alloy'", "Kore", "Zephyr"]),
        ("hi", {"voice": "Kore", "speakers": {"a": "Puck", "b": "Kore"}}, ["not both"]),
        ("hi", {"speakers": {"a": "Puck"}}, ["speakers", "2"]),
        ("hi", {"speakers": {"a": "Puck", "b": "Nobody"}}, ["speakers['b']"]),
        ("hi", {"speakers": ["Puck", "Kore"]}, ["speakers"]),
        ("hi", {"format": "mp3"}, ["format='mp3'", "wav, pcm"]),
        ("hi", {"format": "wav", "response_format": "wav"}, ["only one"]),
        ("hi", {"language": "english please"}, ["language", "BCP-47"]),
        ("hi", {"speed": 1.5}, ["speed", "allowed"]),
        ("hi", {"read_timeout": 0}, ["read_timeout"]),
        ("", {}, ["text"]),
        (b"hi", {}, ["text must be a string"]),
        ("x" * (8_192 * 4 + 8), {}, ["text of", "8,192"]),
    ],
)
async def test_bad_input_is_refused_before_anything_is_sent(
    text: Any, params: dict[str, Any], words: list[str]
) -> None:
    model, connector = scripted()
    with pytest.raises(InvalidInputError) as caught:
        await model.get_audio(text, **params)
    for word in words:
        assert word in str(caught.value)
    assert connector.requests == []


def test_thirty_prebuilt_voices() -> None:
    assert len(VOICES) == len(set(VOICES)) == 30 and "Kore" in VOICES and "Sulafat" in VOICES


# -- answers ------------------------------------------------------------------------------------


async def test_the_pcm_answer_becomes_a_wav_file_the_wave_module_reads() -> None:
    model, _ = scripted(wire(answer(PCM[:1000], PCM[1000:])))
    clip = await model.get_audio("Welcome aboard.")
    assert clip.media_type == "audio/wav"
    assert clip.data[:4] == b"RIFF" and clip.data[8:12] == b"WAVE"
    assert read_wav(clip.data) == (1, 2, 24_000, PCM)
    assert clip.duration_seconds == pytest.approx(1024 / 24_000)
    assert clip.usage is not None and (clip.usage.input_tokens, clip.usage.output_tokens) == (10, 200)
    assert clip.cost == pytest.approx((10 * 0.50 + 200 * 10.00) / 1e6)
    assert (clip.model, clip.provider, clip.endpoint, clip.request_id) == (MODEL, "gemini", "ep", "rid-1")


async def test_format_pcm_is_the_raw_samples() -> None:
    model, _ = scripted(format="pcm")
    clip = await model.get_audio("Welcome aboard.")
    assert (clip.data, clip.media_type) == (PCM, "audio/pcm")


async def test_the_sample_rate_comes_from_the_media_type() -> None:
    model, _ = scripted(wire(answer(PCM, mime="audio/L16;codec=pcm;rate=16000")))
    clip = await model.get_audio("hi")
    assert read_wav(clip.data)[2] == 16_000
    assert clip.duration_seconds == pytest.approx(1024 / 16_000)


async def test_a_blocked_prompt_is_a_content_filter_error() -> None:
    blocked = {
        "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
        "usageMetadata": {"promptTokenCount": 3},
    }
    model, _ = scripted(wire(blocked))
    with pytest.raises(ContentFilterError) as caught:
        await model.get_audio("something")
    assert caught.value.code == "PROHIBITED_CONTENT" and caught.value.endpoint == "ep"
    assert caught.value.categories == {"PROHIBITED_CONTENT": {"filtered": True}}


async def test_speech_stopped_by_the_filters_is_a_content_filter_error() -> None:
    stopped = {"candidates": [{"content": {"role": "model", "parts": []}, "finishReason": "SAFETY"}]}
    model, _ = scripted(wire(stopped))
    with pytest.raises(ContentFilterError, match="SAFETY"):
        await model.get_audio("something")


@pytest.mark.parametrize(
    "body",
    [
        {
            "candidates": [
                {"content": {"role": "model", "parts": [{"text": "Sure!"}]}, "finishReason": "STOP"}
            ]
        },
        {"candidates": [{"content": {"parts": [{"inlineData": {"mimeType": MIME, "data": "%%%"}}]}}]},
        {
            "candidates": [
                {"content": {"parts": [{"inlineData": {"mimeType": "audio/mpeg", "data": b64(PCM)}}]}}
            ]
        },
        {"candidates": ["x"]},
        ["not an object"],
    ],
)
async def test_an_answer_without_readable_audio_is_a_parsing_error(body: Any) -> None:
    model, _ = scripted(wire(body))
    with pytest.raises(ResponseParsingError) as caught:
        await model.get_audio("hi")
    assert caught.value.model == MODEL


async def test_an_error_object_in_a_200_answer_is_its_typed_error() -> None:
    error = {"error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED"}}
    model, _ = scripted(wire(error))
    with pytest.raises(RateLimitError, match="Resource exhausted"):
        await model.get_audio("hi")


# -- streams ----------------------------------------------------------------------------------


async def test_a_stream_yields_the_audio_as_it_arrives_then_usage_and_cost() -> None:
    body = sse(answer(PCM[:1024], finish=None), answer(PCM[1024:], finish="STOP"))
    model, connector = scripted(sse_body=body)
    chunks = [chunk async for chunk in model.stream_audio("Welcome aboard.")]
    assert connector.requests[0].operation == "stream_generate" and connector.requests[0].stream
    assert [c.final for c in chunks] == [False, False, True]
    assert chunks[0].data[:4] == b"RIFF" and chunks[1].data == PCM[1024:]
    whole = b"".join(c.data for c in chunks)
    channels, width, rate, frames = read_wav(whole)
    assert (channels, width, rate, frames) == (1, 2, 24_000, PCM)
    assert chunks[-1].usage is not None and chunks[-1].usage.output_tokens == 200
    assert chunks[-1].cost == pytest.approx((10 * 0.50 + 200 * 10.00) / 1e6)


async def test_a_pcm_stream_is_the_raw_samples() -> None:
    model, _ = scripted(sse_body=sse(answer(PCM[:100], finish=None), answer(PCM[100:])))
    chunks = [chunk async for chunk in model.stream_audio("hi", format="pcm")]
    assert b"".join(c.data for c in chunks) == PCM


async def test_a_stream_that_ends_before_its_finish_reason_is_interrupted() -> None:
    model, _ = scripted(sse_body=sse(answer(PCM, finish=None)))
    received = []
    with pytest.raises(StreamInterruptedError, match="before its finish reason"):
        async for chunk in model.stream_audio("hi"):
            received.append(chunk)
    assert len(received) == 1  # the audio that arrived reached the caller first


async def test_a_blocked_prompt_in_a_stream_is_a_content_filter_error() -> None:
    model, _ = scripted(sse_body=sse({"promptFeedback": {"blockReason": "SAFETY"}}))
    with pytest.raises(ContentFilterError):
        async for _ in model.stream_audio("hi"):
            pass


async def test_an_error_event_in_a_stream_is_its_typed_error() -> None:
    error = {"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}}
    model, _ = scripted(sse_body=sse(error))
    with pytest.raises(RateLimitError, match="slow down"):
        async for _ in model.stream_audio("hi"):
            pass


# -- end to end: the simulator (the chat route answers -tts models with respond_tts) ---------


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


async def test_spoken_text_is_a_wav_of_its_length(sim: Simulator) -> None:
    text = "The quick brown fox jumps over the lazy dog."
    async with sim_model(sim.url, MODEL) as model:
        clip = await model.get_audio(text, voice="Leda")
    channels, width, rate, frames = read_wav(clip.data)
    assert (channels, width, rate) == (1, 2, 24_000)
    assert clip.duration_seconds == pytest.approx(speech_seconds(text), abs=0.001)
    assert len(frames) == round(speech_seconds(text) * 24_000) * 2
    assert clip.usage is not None and clip.usage.input_tokens == 11 and clip.cost is not None
    (request,) = sim.requests
    assert (
        request.path == f"/v1beta/models/{MODEL}:generateContent" and request.headers["x-goog-api-key"] == KEY
    )
    assert (
        request.json["generationConfig"]["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"]["voiceName"]
        == "Leda"
    )


async def test_streamed_speech_arrives_in_pieces_and_decodes_whole(sim: Simulator) -> None:
    text = "A longer text, long enough for several pieces of audio to be sent one after the other."
    async with sim_model(sim.url, "gemini-2.5-pro-preview-tts") as model:
        chunks = [chunk async for chunk in model.stream_audio(text)]
    (request,) = sim.requests
    assert request.path == "/v1beta/models/gemini-2.5-pro-preview-tts:streamGenerateContent"
    assert request.query == {"alt": "sse"}
    assert len(chunks) > 3 and chunks[-1].final and not chunks[-1].data
    _, _, rate, frames = read_wav(b"".join(c.data for c in chunks))
    assert rate == 24_000 and len(frames) == round(speech_seconds(text) * 24_000) * 2
    assert chunks[-1].cost == pytest.approx((22 * 1.00 + round(speech_seconds(text) * 32) * 20.00) / 1e6)


async def test_vertex_ai_speech_with_two_speakers() -> None:
    async with Simulator(api_key=TOKEN) as sim:
        async with sim_model(sim.url, MODEL, vertex=True, token=TOKEN) as model:
            clip = await model.get_audio("Joe: Hi.\nJane: Hello!", speakers={"Joe": "Kore", "Jane": "Puck"})
        (request,) = sim.requests
    assert request.path.endswith(f"/publishers/google/models/{MODEL}:generateContent")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert read_wav(clip.data)[2] == 24_000 and clip.provider == "vertex"


async def test_the_simulators_blocked_prompt(sim: Simulator) -> None:
    async with sim_model(sim.url, MODEL) as model:
        with pytest.raises(ContentFilterError):
            await model.get_audio("say this [sim:blocked]")
        with pytest.raises(ContentFilterError):
            async for _ in model.stream_audio("say this [sim:blocked]"):
                pass


async def test_a_503_before_the_stream_is_retried(sim: Simulator) -> None:
    sim.enqueue(Fault(status=503))
    async with sim_model(sim.url, MODEL) as model:
        chunks = [chunk async for chunk in model.stream_audio("Hello there.")]
    assert chunks[-1].final and len(sim.requests) == 2


async def test_a_stream_cut_after_audio_arrived_is_interrupted(sim: Simulator) -> None:
    sim.enqueue(Fault(truncate_stream=True))
    received = []
    async with sim_model(sim.url, MODEL) as model:
        with pytest.raises(StreamInterruptedError):
            async for chunk in model.stream_audio(
                "A text long enough for a few pieces of audio, at least four."
            ):
                received.append(chunk)
    assert received and not any(c.final for c in received)


async def test_an_error_event_mid_stream_interrupts_it(sim: Simulator) -> None:
    sim.enqueue(Fault(error_event=True, error_code="RESOURCE_EXHAUSTED", message="quota"))
    async with sim_model(sim.url, MODEL) as model:
        with pytest.raises(StreamInterruptedError) as caught:
            async for _ in model.stream_audio("A text long enough for a few pieces of audio, at least four."):
                pass
    assert isinstance(caught.value.cause, RateLimitError) and "quota" in str(caught.value.cause)
