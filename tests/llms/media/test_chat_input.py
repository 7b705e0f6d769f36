"""Chat input beyond text, on the catalogue's OpenAI and Azure rows, through the simulator:
images by URL, bytes, data URL and detail; PDFs and other files as file parts; audio input on an
audio model; a part a model cannot take is refused before any request is sent."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest

from core.llms import create_llm
from core.llms.interfaces import InvalidInputError, UnsupportedOperationError
from core.llms.interfaces.messages import AudioPart, FilePart, ImagePart, Message
from core.llms.simulator import Simulator

KEY = "chat-input-key"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 24
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF"
WAV = b"RIFF\x24\0\0\0WAVEfmt " + b"\0" * 28


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY) as simulator:
        yield simulator


def user_content(sim: Simulator) -> list[dict[str, object]]:
    (request,) = sim.requests
    content = request.json["messages"][-1]["content"]
    assert isinstance(content, list)
    return content


async def test_images_by_url_bytes_data_url_and_detail(sim: Simulator) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    message = Message.user(
        "what is in these?",
        ImagePart(url="https://example.test/cat.jpg", detail="low"),
        ImagePart(data=PNG, media_type="image/png", detail="high"),
        ImagePart(url=data_url),
    )
    async with create_llm("openai/gpt-4.1-mini", api_key=KEY, endpoint=sim.url + "/v1") as model:
        answer = await model.get_answer([message])
    assert answer.text and answer.usage is not None and answer.cost is not None
    assert user_content(sim)[1:] == [
        {"type": "image_url", "image_url": {"url": "https://example.test/cat.jpg", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": data_url, "detail": "high"}},
        {"type": "image_url", "image_url": {"url": data_url}},
    ]


async def test_vision_helper_sniffs_bytes(sim: Simulator) -> None:
    async with create_llm("openai/gpt-4o", api_key=KEY, endpoint=sim.url + "/v1") as model:
        await model.get_answer_with_vision("describe", [PNG, "https://example.test/dog.png"])
    urls = [part["image_url"]["url"] for part in user_content(sim)[1:]]  # type: ignore[index]
    assert urls == ["data:image/png;base64," + base64.b64encode(PNG).decode(), "https://example.test/dog.png"]


async def test_pdf_and_other_files_as_file_parts(sim: Simulator) -> None:
    message = Message.user(
        "summarise",
        FilePart(data=PDF, filename="report.pdf"),
        FilePart(data=b"a,b\n1,2\n", media_type="text/csv", filename="table.csv"),
        FilePart(file_id="file-abc123"),
    )
    async with create_llm("openai/gpt-5-mini", api_key=KEY, endpoint=sim.url + "/v1") as model:
        await model.get_answer([message])
    files = user_content(sim)[1:]
    assert files[0] == {
        "type": "file",
        "file": {
            "filename": "report.pdf",
            "file_data": "data:application/pdf;base64," + base64.b64encode(PDF).decode(),
        },
    }
    assert files[1]["file"]["file_data"].startswith("data:text/csv;base64,")  # type: ignore[index]
    assert files[2] == {"type": "file", "file": {"file_id": "file-abc123"}}


async def test_audio_input_on_an_audio_model(sim: Simulator) -> None:
    async with create_llm("openai/gpt-4o-audio-preview", api_key=KEY, endpoint=sim.url + "/v1") as model:
        await model.get_answer([Message.user("what is said?", AudioPart(WAV, "wav"))])
    assert user_content(sim)[1] == {
        "type": "input_audio",
        "input_audio": {"data": base64.b64encode(WAV).decode(), "format": "wav"},
    }


@pytest.mark.parametrize(
    ("model", "part", "what"),
    [
        ("openai/gpt-4.1-mini", AudioPart(WAV, "wav"), "audio"),
        ("openai/o3-mini", ImagePart(url="https://example.test/a.png"), "image"),
        ("openai/o3-mini", FilePart(data=PDF), "pdf"),
        ("azure/gpt-4o-audio-preview", ImagePart(url="https://example.test/a.png"), "image"),
    ],
)
async def test_a_part_the_model_cannot_take_is_refused_before_sending(
    sim: Simulator, model: str, part: object, what: str
) -> None:
    endpoint = sim.url if model.startswith("azure/") else sim.url + "/v1"
    extra = {"api_version": "2024-10-21"} if model.startswith("azure/") else {}
    async with create_llm(model, api_key=KEY, endpoint=endpoint, **extra) as llm:
        with pytest.raises(UnsupportedOperationError, match=f"does not accept {what} input") as caught:
            await llm.get_answer([Message.user("look", part)])  # type: ignore[arg-type]
        with pytest.raises(UnsupportedOperationError):
            async for _ in llm.stream_answer([Message.user("look", part)]):  # type: ignore[arg-type]
                pass
    assert caught.value.model == model.split("/", 1)[1] and caught.value.hint
    assert sim.requests == []


async def test_audio_in_a_format_chat_completions_cannot_take(sim: Simulator) -> None:
    async with create_llm("openai/gpt-4o-audio-preview", api_key=KEY, endpoint=sim.url + "/v1") as model:
        with pytest.raises(InvalidInputError, match="wav or mp3"):
            await model.get_answer([Message.user("hear", AudioPart(b"OggS\0\0", "ogg"))])
    assert sim.requests == []


async def test_a_file_by_url_is_refused_with_a_hint(sim: Simulator) -> None:
    async with create_llm("openai/gpt-4.1", api_key=KEY, endpoint=sim.url + "/v1") as model:
        with pytest.raises(InvalidInputError, match="cannot fetch a file by URL") as caught:
            await model.get_answer([Message.user(FilePart(url="https://example.test/a.pdf"))])
    assert "file_id" in (caught.value.hint or "")
    assert sim.requests == []
