"""The Converse request body, messages and content blocks: every block, Converse blocks passed
through, and every refusal (made before anything is sent: the connector records no request).
The parameters are tested in ``test_bedrock_converse_parameters``."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from test_bedrock_converse_kit import (
    Claude,
    FakeConnector,
    Nova,
    Nova2,
    converse_body,
    refused,
    sent,
    weather_tool,
    wire_response,
)

from core.llms.interfaces import (
    AudioPart,
    ContextWindowExceededError,
    FilePart,
    FunctionCall,
    ImagePart,
    Message,
    TextPart,
    ToolCall,
    UnsupportedOperationError,
)
from core.llms.providers.dialects.bedrock_converse.content import document_name

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
PDF = b"%PDF-1.7 fake"


def user(*parts: Any) -> Message:
    return Message("user", tuple(parts))


# -- messages ------------------------------------------------------------------------------------------


async def test_plain_text_messages() -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    body = await sent(Nova, messages)
    assert body == {
        "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
        "system": [{"text": "Be brief."}],
    }


async def test_the_model_id_is_in_the_request_not_the_body() -> None:
    conn = FakeConnector([wire_response(converse_body()), wire_response(converse_body())])
    model = Nova(conn)
    await model.get_answer("Hi")
    await model.get_answer("Hi", model="us.amazon.nova-lite-v1:0")
    first, second = conn.requests
    assert (first.model, first.model_fixed) == ("us.amazon.nova-micro-v1:0", False)
    assert (second.model, second.model_fixed) == ("us.amazon.nova-lite-v1:0", True)
    assert "model" not in second.payload


async def test_typed_and_plain_messages_give_the_same_body() -> None:
    plain = [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "developer", "content": "D"},
        {"role": "user", "content": "c"},
        {"role": "user", "content": "d"},
    ]
    typed = [Message(m["role"], m["content"]) for m in plain]
    body = await sent(Nova, plain)
    assert body == await sent(Nova, typed)
    assert body["system"] == [{"text": "S"}, {"text": "D"}]
    assert body["messages"] == [
        {"role": "user", "content": [{"text": "a"}]},
        {"role": "assistant", "content": [{"text": "b"}]},
        {"role": "user", "content": [{"text": "c"}, {"text": "d"}]},  # merged: roles alternate
    ]


async def test_tool_calls_and_results() -> None:
    messages = [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "t1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city":"Paris"}'},
                },
                {"id": "t2", "type": "function", "function": {"name": "weather", "arguments": ""}},
            ],
        },
        {"role": "tool", "tool_call_id": "t1", "content": "18C"},
        Message.tool("t2", {"temp": 21}),
        {"role": "user", "content": "Thanks"},
    ]
    body = await sent(Nova, messages, tools=[weather_tool()])
    assert body["messages"][1] == {
        "role": "assistant",
        "content": [
            {"text": "Checking."},
            {"toolUse": {"toolUseId": "t1", "name": "weather", "input": {"city": "Paris"}}},
            {"toolUse": {"toolUseId": "t2", "name": "weather", "input": {}}},
        ],
    }
    assert body["messages"][2] == {
        "role": "user",
        "content": [
            {"toolResult": {"toolUseId": "t1", "content": [{"text": "18C"}]}},
            {"toolResult": {"toolUseId": "t2", "content": [{"text": '{"temp": 21}'}]}},
            {"text": "Thanks"},
        ],
    }


@pytest.mark.parametrize(("arguments", "words"), [("{not json", "is not JSON"), ("[1, 2]", "a JSON object")])
async def test_tool_call_arguments_must_be_an_object(arguments: str, words: str) -> None:
    call = ToolCall("t1", FunctionCall("weather", arguments))
    err = await refused(Nova, [Message.user("x"), Message.assistant(tool_calls=[call])])
    assert words in err.message and "messages[1].tool_calls[0]" in err.message


async def test_images() -> None:
    data_url = "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8\xffjpeg").decode()
    message = user(
        TextPart("What is this?"),
        ImagePart(data=PNG, media_type="image/png", detail="high"),
        ImagePart(url=data_url),
        ImagePart(url="s3://bucket/photos/cat.webp"),
        ImagePart(url="s3://bucket/photo", media_type="image/gif"),
    )
    body = await sent(Claude, [message])
    assert body["messages"][0]["content"] == [
        {"text": "What is this?"},
        {"image": {"format": "png", "source": {"bytes": base64.b64encode(PNG).decode()}}},
        {"image": {"format": "jpeg", "source": {"bytes": base64.b64encode(b"\xff\xd8\xffjpeg").decode()}}},
        {"image": {"format": "webp", "source": {"s3Location": {"uri": "s3://bucket/photos/cat.webp"}}}},
        {"image": {"format": "gif", "source": {"s3Location": {"uri": "s3://bucket/photo"}}}},
    ]


@pytest.mark.parametrize(
    ("part", "words"),
    [
        (ImagePart(url="https://example.com/cat.png?sig=SECRETSIG"), "cannot fetch an image by URL"),
        (ImagePart(data=b"BM..", media_type="image/bmp"), "PNG, JPEG, GIF or WebP"),
        (ImagePart(url="s3://bucket/photo"), "format is unknown"),
        (ImagePart(url="data:image/png,rawnotbase64"), "base64"),
        (ImagePart(url="data:image/png;base64,!!!"), "base64"),
    ],
)
async def test_images_refused(part: ImagePart, words: str) -> None:
    err = await refused(Claude, [user(TextPart("x"), part)])
    assert words in err.message and "messages[0].content[1]" in err.message
    assert "SECRETSIG" not in str(err)


async def test_an_image_url_refusal_says_what_to_do() -> None:
    err = await refused(Claude, [user(ImagePart(url="https://example.com/cat.png"))])
    assert "data=" in (err.hint or "") and "s3://" in (err.hint or "")


async def test_documents() -> None:
    message = user(
        FilePart(data=PDF, filename="My report (v2).final.pdf"),
        FilePart(data=b"a,b\n1,2", media_type="text/csv"),
        FilePart(data=b"PK..", media_type="application/octet-stream", filename="notes.docx"),
        FilePart(url="s3://bucket/docs/manual.md", media_type="text/markdown"),
        TextPart("Summarise"),
    )
    content = (await sent(Claude, [message]))["messages"][0]["content"]
    assert content[0] == {
        "document": {
            "format": "pdf",
            "name": "My report (v2)-final",
            "source": {"bytes": base64.b64encode(PDF).decode()},
        }
    }
    assert content[1]["document"]["format"] == "csv" and content[1]["document"]["name"] == "document"
    assert content[2]["document"]["format"] == "docx" and content[2]["document"]["name"] == "notes"
    assert content[3] == {
        "document": {
            "format": "md",
            "name": "manual",
            "source": {"s3Location": {"uri": "s3://bucket/docs/manual.md"}},
        }
    }


def test_document_names() -> None:
    assert document_name("a/b/c.tar.gz") == "c-tar"
    assert document_name("...") == "document"
    assert document_name("x  y\tz.pdf") == "x y z"
    assert len(document_name("a" * 300 + ".pdf")) == 200


@pytest.mark.parametrize(
    ("part", "words"),
    [
        (FilePart(file_id="file-123"), "no file ids"),
        (FilePart(url="https://example.com/a.pdf"), "cannot fetch a document by URL"),
        (FilePart(data=b"x", media_type="application/zip"), "Converse takes documents as"),
    ],
)
async def test_documents_refused(part: FilePart, words: str) -> None:
    err = await refused(Claude, [user(TextPart("x"), part)])
    assert words in err.message


async def test_audio() -> None:
    body = await sent(Nova2, [user(AudioPart(b"RIFF....", "wav"), TextPart("transcribe"))])
    assert body["messages"][0]["content"][0] == {
        "audio": {"format": "wav", "source": {"bytes": base64.b64encode(b"RIFF....").decode()}}
    }
    err = await refused(Nova2, [user(AudioPart(b"x", "aiff"))])
    assert "Converse takes audio as" in err.message


async def test_media_the_model_cannot_read_is_refused() -> None:
    await refused(
        Nova, [user(TextPart("x"), ImagePart(data=PNG, media_type="image/png"))], UnsupportedOperationError
    )


async def test_tool_results_with_media() -> None:
    message = Message(
        "tool", (TextPart("see"), ImagePart(data=PNG, media_type="image/png")), tool_call_id="t1"
    )
    call = ToolCall("t1", FunctionCall("shot", "{}"))
    body = await sent(
        Claude, [Message.user("x"), Message.assistant(tool_calls=[call]), message], tools=[weather_tool()]
    )
    (block,) = body["messages"][2]["content"]
    assert block["toolResult"]["content"] == [
        {"text": "see"},
        {"image": {"format": "png", "source": {"bytes": base64.b64encode(PNG).decode()}}},
    ]


async def test_an_empty_tool_result() -> None:
    call = ToolCall("t1", FunctionCall("noop", "{}"))
    messages = [Message.user("x"), Message.assistant(tool_calls=[call]), Message.tool("t1", "")]
    body = await sent(Nova, messages, tools=[weather_tool()])
    assert body["messages"][2]["content"] == [{"toolResult": {"toolUseId": "t1", "content": [{"text": ""}]}}]


@pytest.mark.parametrize(
    ("messages", "words"),
    [
        ([{"role": "user", "content": ""}], "messages[0] has no content"),
        ([Message.user("x"), Message("assistant", (TextPart(""),))], "messages[1] has no content"),
        ([{"role": "system", "content": "only"}], "needs a user message"),
        ([Message("user", (TextPart("x"),), name="bob")], "no message names"),
        ([Message("system", (ImagePart(data=PNG, media_type="image/png"),))], "carry text only"),
    ],
)
async def test_messages_refused(messages: Any, words: str) -> None:
    err = await refused(Claude, messages)
    assert words in err.message


async def test_a_prompt_too_long_for_the_window() -> None:
    await refused(Nova, "x" * 600_000, ContextWindowExceededError)


# -- Converse blocks pass through ----------------------------------------------------------------------

REASONING = {"reasoningContent": {"reasoningText": {"text": "Let me think.", "signature": "c2ln"}}}


async def test_a_converse_message_is_sent_as_it_is() -> None:
    assistant = {
        "role": "assistant",
        "content": [
            REASONING,
            {"text": "Calling."},
            {"toolUse": {"toolUseId": "t1", "name": "w", "input": {}}},
        ],
    }
    messages = [
        {"role": "user", "content": "Weather?"},
        assistant,
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"json": {"c": 18}}]}}]},
    ]
    body = await sent(Claude, messages, tools=[weather_tool()])
    assert body["messages"][1] == assistant
    assert body["messages"][2]["content"] == [
        {"toolResult": {"toolUseId": "t1", "content": [{"json": {"c": 18}}]}}
    ]


async def test_blocks_keep_their_place_among_parts() -> None:
    messages = [
        {
            "role": "system",
            "content": [{"type": "text", "text": "Long rules"}, {"cachePoint": {"type": "default"}}],
        },
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "a"},
                {"cachePoint": {"type": "default"}},
                "b",
                {"guardContent": {"text": {"text": "check this"}}},
                {"type": "text", "text": "c"},
            ],
        },
    ]
    body = await sent(Claude, messages)
    assert body["system"] == [{"text": "Long rules"}, {"cachePoint": {"type": "default"}}]
    assert body["messages"][0]["content"] == [
        {"text": "a"},
        {"cachePoint": {"type": "default"}},
        {"text": "b"},
        {"guardContent": {"text": {"text": "check this"}}},
        {"text": "c"},
    ]


async def test_tool_result_blocks_in_a_tool_message() -> None:
    call = ToolCall("t1", FunctionCall("w", "{}"))
    tool = {
        "role": "tool",
        "tool_call_id": "t1",
        "content": [{"json": {"c": 18}}, {"type": "text", "text": "ok"}, {"cachePoint": {"type": "default"}}],
    }
    body = await sent(
        Claude, [Message.user("x"), Message.assistant(tool_calls=[call]), tool], tools=[weather_tool()]
    )
    assert body["messages"][2]["content"] == [
        {"toolResult": {"toolUseId": "t1", "content": [{"json": {"c": 18}}, {"text": "ok"}]}},
        {"cachePoint": {"type": "default"}},
    ]


@pytest.mark.parametrize(
    ("messages", "words"),
    [
        (
            [{"role": "system", "content": [{"toolUse": {"name": "x"}}]}, {"role": "user", "content": "x"}],
            "system",
        ),
        ([{"role": "user", "content": [{"json": {"a": 1}}]}], "belong in a tool message"),
        (
            [{"role": "tool", "tool_call_id": "t", "content": [{"reasoningContent": {}}]}],
            "tool result blocks",
        ),
    ],
)
async def test_blocks_in_the_wrong_message(messages: Any, words: str) -> None:
    err = await refused(Claude, messages)
    assert words in err.message


async def test_errors_name_the_part_where_it_was_among_blocks() -> None:
    message = {
        "role": "user",
        "content": [
            {"cachePoint": {"type": "default"}},
            {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
        ],
    }
    err = await refused(Claude, [message])
    assert "messages[0].content[1]" in err.message


async def test_a_message_of_blocks_only() -> None:
    body = await sent(
        Claude, [{"role": "user", "content": [{"text": "raw"}, {"cachePoint": {"type": "default"}}]}]
    )
    assert body["messages"] == [
        {"role": "user", "content": [{"text": "raw"}, {"cachePoint": {"type": "default"}}]}
    ]


@pytest.mark.parametrize("params", [{}, {"tools": [weather_tool()], "tool_choice": "none"}])
async def test_a_conversation_with_tool_calls_needs_its_tools(params: dict[str, Any]) -> None:
    call = ToolCall("t1", FunctionCall("weather", "{}"))
    messages = [Message.user("x"), Message.assistant(tool_calls=[call]), Message.tool("t1", "18C")]
    err = await refused(Nova, messages, **params)
    assert "Converse then needs its tools" in err.message and "tools=" in (err.hint or "")
