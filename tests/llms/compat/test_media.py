"""``embedding``, ``image_generation``, ``speech`` and ``transcription`` (and their async forms)
through the simulator."""

from __future__ import annotations

import asyncio
import base64
import io
import struct
import wave
from pathlib import Path

import pytest

import core.llms as core
from core.llms import compat
from core.llms.simulator import Fault, Simulator

from .support import openai_at


def _wav(seconds: float = 1.0) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * int(8000 * seconds))
    return out.getvalue()


async def test_embeddings(sim: Simulator) -> None:
    resp = await compat.aembedding("openai/text-embedding-3-small", input=["a", "b"], **openai_at(sim))
    assert resp.object == "list" and len(resp.data) == 2
    assert resp.data[1]["index"] == 1 and resp.data[0].object == "embedding"
    vector = resp.data[0]["embedding"]
    assert len(vector) == 1536 and isinstance(vector[0], float)
    assert resp.usage.prompt_tokens == resp.usage.total_tokens > 0
    assert compat.completion_cost(resp) > 0
    encoded = await compat.aembedding(
        "text-embedding-3-small", input="a", encoding_format="base64", dimensions=8, **openai_at(sim)
    )
    raw = base64.b64decode(encoded.data[0].embedding)
    assert len(raw) == 8 * 4
    assert sum(v * v for v in struct.unpack("<8f", raw)) == pytest.approx(1.0, abs=1e-3)  # (unit vectors)
    blocking = await asyncio.to_thread(
        compat.embedding, "openai/text-embedding-3-small", input="x", **openai_at(sim)
    )
    assert len(blocking.data) == 1


async def test_embedding_errors(sim: Simulator) -> None:
    sim.enqueue(Fault(status=429))
    with pytest.raises(compat.RateLimitError):
        await compat.aembedding("openai/text-embedding-3-small", input="a", num_retries=0, **openai_at(sim))
    with pytest.raises(compat.UnsupportedParamsError):
        await compat.aembedding("openai/text-embedding-3-small", input="a", top_k=1, **openai_at(sim))
    with pytest.raises(compat.BadRequestError) as caught:
        await compat.aembedding("openai/gpt-4o-mini", input="a", **openai_at(sim))
    assert isinstance(caught.value, core.UnsupportedOperationError)


async def test_image_generation(sim: Simulator) -> None:
    resp = await compat.aimage_generation(
        "a red square", model="openai/dall-e-3", size="1024x1024", **openai_at(sim)
    )
    assert len(resp.data) == 1 and (resp.data[0].url or resp.data[0].b64_json)
    assert set(resp.model_dump()) == {"created", "data", "usage"}
    as_bytes = await compat.aimage_generation(
        "a red square", model="openai/dall-e-3", response_format="b64_json", **openai_at(sim)
    )
    assert base64.b64decode(as_bytes.data[0]["b64_json"]).startswith(b"\x89PNG")
    assert compat.completion_cost(as_bytes) > 0
    default = await asyncio.to_thread(compat.image_generation, "x", **openai_at(sim))  # (dall-e-3)
    assert default.data and sim.requests[-1].json["model"] == "dall-e-3"


async def test_speech(sim: Simulator, tmp_path: Path) -> None:
    resp = await compat.aspeech("openai/tts-1", input="hello there", voice="alloy", **openai_at(sim))
    assert isinstance(resp.content, bytes) and len(resp.content) > 0
    resp.stream_to_file(tmp_path / "a.mp3")
    assert (tmp_path / "a.mp3").read_bytes() == resp.content
    wav = await asyncio.to_thread(
        compat.speech, "openai/tts-1", input="hi", voice="alloy", response_format="wav", **openai_at(sim)
    )
    assert wav.content.startswith(b"RIFF") and wav.media_type == "audio/wav"
    assert compat.completion_cost(wav) > 0


async def test_transcription(sim: Simulator, tmp_path: Path) -> None:
    audio = _wav(2.0)
    path = tmp_path / "speech.wav"
    path.write_bytes(audio)
    with path.open("rb") as file:
        resp = await compat.atranscription("openai/whisper-1", file=file, **openai_at(sim))
    assert isinstance(resp.text, str) and resp.text
    assert resp.model_dump() == {"text": resp.text}
    verbose = await compat.atranscription(
        "openai/whisper-1", file=("speech.wav", audio), response_format="verbose_json",
        timestamp_granularities=["word", "segment"], **openai_at(sim),
    )  # fmt: skip
    assert verbose.duration == pytest.approx(2.0, abs=0.1)
    assert verbose.segments and {"id", "start", "end", "text"} <= set(verbose.segments[0])
    assert verbose.words and set(verbose.words[0]) == {"word", "start", "end"}
    blocking = await asyncio.to_thread(compat.transcription, "openai/whisper-1", file=audio, **openai_at(sim))
    assert blocking.text
    assert compat.completion_cost(blocking) > 0
    with pytest.raises(compat.BadRequestError):
        await compat.atranscription("openai/whisper-1", file=12, **openai_at(sim))
