"""Messages → Converse ``system`` blocks and ``messages[]`` of content blocks.

Pure functions: no I/O, no model state.

* ``system`` and ``developer`` messages become ``system`` text blocks, in order, wherever they are
  (Converse has no system message inside the conversation);
* a user message's parts become ``text``, ``image`` (``png``/``jpeg``/``gif``/``webp``: bytes,
  a ``data:`` URL, or an ``s3://`` URL as ``s3Location``), ``document`` (``pdf``, ``csv``,
  ``doc``, ``docx``, ``xls``, ``xlsx``, ``html``, ``txt``, ``md``: bytes or ``s3://``) and
  ``audio`` blocks. Converse does not fetch ``http(s)`` URLs: such a part is refused
  (:class:`InvalidInputError` with a hint), nothing is downloaded behind the caller's back;
* an assistant message's text is ``text`` blocks, its tool calls ``toolUse`` blocks (``input`` the
  arguments decoded: a JSON object);
* a tool message is a user message with a ``toolResult`` block (``toolUseId``, ``content``: its
  text, images and documents);
* consecutive messages of one role are merged into one message (Converse wants the roles to
  alternate; parallel tool results are one user message with several ``toolResult`` blocks);
* empty text parts are left out; a message left with nothing is refused.

**Converse blocks pass through.** Among a dict message's ``content``, a dict with a single key
naming a Converse block (``{"cachePoint": {"type": "default"}}``, ``{"reasoningContent": {...}}``,
``{"toolUse": {...}}``, ``{"guardContent": {...}}``, ``{"text": "..."}`` …; no ``"type"`` key) is
sent as it is, in its place; in a tool message, a tool result block (``{"json": {...}}`` …) goes
into the ``toolResult``. So a whole Converse message (``{"role": "assistant", "content": [...]}``,
as :func:`converse_message` returns from an answer, with its reasoning and signature) is sent back
as it came, and a cache point can be put after any part.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, assert_never

from ....interfaces.errors import InvalidInputError
from ....interfaces.messages import (
    AudioPart,
    ContentPart,
    FilePart,
    ImagePart,
    Message,
    MessagesInput,
    TextPart,
)

__all__ = [
    "CONTENT_BLOCKS",
    "block_tokens",
    "converse_message",
    "is_block",
    "messages_to_converse",
    "part_to_block",
    "separate_blocks",
    "text_messages_to_converse",
]

#: the keys of a Converse ``ContentBlock`` (a union: exactly one is set).
CONTENT_BLOCKS = frozenset(
    {
        "text",
        "image",
        "document",
        "video",
        "audio",
        "toolUse",
        "toolResult",
        "guardContent",
        "cachePoint",
        "reasoningContent",
        "citationsContent",
        "searchResult",
    }
)
#: the keys of a ``SystemContentBlock``.
SYSTEM_BLOCKS = frozenset({"text", "guardContent", "cachePoint"})
#: the keys of a ``ToolResultContentBlock``.
TOOL_RESULT_BLOCKS = frozenset({"text", "json", "image", "document", "video", "searchResult"})
_ANY_BLOCK = CONTENT_BLOCKS | TOOL_RESULT_BLOCKS
#: what stands in a message's content for a block taken out of it (see separate_blocks).
_PLACEHOLDER = {"type": "text", "text": ""}

IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/gif": "gif"}
IMAGE_FORMATS["image/webp"] = "webp"
#: document formats by media type, and by file name extension.
DOCUMENT_FORMATS: dict[str, str] = {
    "application/pdf": "pdf",
    "text/csv": "csv",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/html": "html",
    "text/plain": "txt",
    "text/markdown": "md",
}
_DOCUMENT_EXTENSIONS = frozenset(DOCUMENT_FORMATS.values())
_IMAGE_EXTENSIONS = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "gif": "gif", "webp": "webp"}
#: ``AudioBlock.format`` values.
AUDIO_FORMATS = frozenset(
    {
        "mp3",
        "opus",
        "wav",
        "aac",
        "flac",
        "mp4",
        "ogg",
        "mkv",
        "mka",
        "x-aac",
        "m4a",
        "mpeg",
        "mpga",
        "pcm",
        "webm",
    }
)
#: what a document name may hold (Converse: letters, digits, single spaces, - ( ) [ ]).
_NAME_INVALID = re.compile(r"[^A-Za-z0-9\s\-()\[\]]+")
#: the estimated tokens of an image (as ``BaseLLM`` estimates them).
_IMAGE_TOKENS = 765
_URL_HINT = (
    "Converse takes media as bytes or from S3: download it and pass data= (with media_type), "
    "or an s3:// URL the model's role may read"
)


# -- pass-through ----------------------------------------------------------------------------------


def is_block(value: Any) -> bool:
    """Is ``value`` a Converse content block (a dict with one key naming a block, no ``"type"``)?"""
    return isinstance(value, Mapping) and len(value) == 1 and next(iter(value)) in _ANY_BLOCK


def separate_blocks(
    messages: MessagesInput,
) -> tuple[MessagesInput, dict[int, list[tuple[int, dict[str, Any]]]]]:
    """``(messages, blocks)``: the messages with every Converse block of the dict messages'
    content replaced by an empty text part, and the blocks taken out, by message index:
    ``(position, block)`` in the content they came from. Input without any comes back as it is,
    with ``{}``."""
    items: Sequence[Any]
    if isinstance(messages, Mapping):
        items = [messages]
    elif isinstance(messages, str | bytes | Message) or not isinstance(messages, Sequence):
        return messages, {}
    else:
        items = messages
    blocks: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    replaced: list[Any] | None = None
    for i, message in enumerate(items):
        content = message.get("content") if isinstance(message, Mapping) else None
        if type(content) is not list or not any(is_block(part) for part in content):
            continue
        found = [(j, dict(part)) for j, part in enumerate(content) if is_block(part)]
        blocks[i] = found
        if replaced is None:
            replaced = list(items)
        # an empty text part in each block's place: the parts keep their indexes (in errors too)
        replaced[i] = {**message, "content": [_PLACEHOLDER if is_block(part) else part for part in content]}
    if replaced is None:
        return messages, {}
    return replaced, blocks


def converse_message(response: Any) -> dict[str, Any]:
    """The assistant message of a Converse answer, to append to the conversation of the next
    turn as it is: its content blocks in order, reasoning (``reasoningText`` with its
    ``signature``, or ``redactedContent``) and ``toolUse`` blocks included, which Claude needs
    back when it thought before calling a tool.

    ``response``: an :class:`~core.llms.interfaces.types.LLMResponse` (non-streamed, or
    accumulated from a stream), a stream's final chunk, or the decoded Converse body.
    :class:`InvalidInputError` when it carries no Converse message."""
    raw = response if isinstance(response, Mapping) else getattr(response, "raw", None)
    output = raw.get("output") if isinstance(raw, Mapping) else None
    message = output.get("message") if isinstance(output, Mapping) else None
    content = message.get("content") if isinstance(message, Mapping) else None
    if not isinstance(content, list):
        raise InvalidInputError(
            "this answer carries no Converse message",
            hint="pass the answer of a Bedrock Converse call (for a stream: its last chunk)",
        )
    return {"role": "assistant", "content": [dict(block) for block in content if is_block(block)]}


def block_tokens(block: Mapping[str, Any]) -> int:
    """A rough token count of a passed-through block (as ``BaseLLM._estimate_tokens`` counts:
    characters / 4, an image as 765 tokens); opaque data (signatures, redacted reasoning, bytes)
    is not counted."""
    key, value = next(iter(block.items()))
    if key == "text":
        return len(value) // 4 if isinstance(value, str) else 0
    if key == "image":
        return _IMAGE_TOKENS
    if not isinstance(value, Mapping):
        return 0
    if key == "reasoningContent":
        reasoning = value.get("reasoningText")
        text = reasoning.get("text") if isinstance(reasoning, Mapping) else None
        return len(text) // 4 if isinstance(text, str) else 0
    if key == "toolUse" or key == "toolResult":
        visible = value.get("input") if key == "toolUse" else value.get("content")
        try:
            return len(json.dumps(visible, ensure_ascii=False, default=str)) // 4
        except (TypeError, ValueError, RecursionError):
            raise InvalidInputError(f"a {key} block is not JSON") from None
    return 0


# -- messages ---------------------------------------------------------------------------------------


def text_messages_to_converse(
    messages: Sequence[tuple[str, str]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Plain text messages, ``(role, text)``, as ``(system, messages)``: what
    :func:`messages_to_converse` makes of the same messages."""
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    for i, (role, text) in enumerate(messages):
        if role == "system" or role == "developer":
            if text:
                system.append({"text": text})
            continue
        if not text:
            raise _empty(i)
        if out and out[-1]["role"] == role:
            out[-1]["content"].append({"text": text})
        else:
            out.append({"role": role, "content": [{"text": text}]})
    return system, out


def messages_to_converse(
    messages: Sequence[Message],
    blocks: Mapping[int, list[tuple[int, dict[str, Any]]]] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Checked messages as ``(system, messages)``. ``blocks``: Converse blocks to put back into
    the content of the messages they were taken from (see :func:`separate_blocks`)."""
    blocks = blocks or {}
    system: list[dict[str, Any]] = []
    out: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if message.name:
            raise InvalidInputError(
                f"{where} has a name ({message.name[:40]!r}): Converse has no message names",
                hint="leave name out (or say who speaks in the text)",
            )
        passed = blocks.get(i, ())
        if message.role == "system" or message.role == "developer":
            system.extend(_system_blocks(message, passed, where))
            continue
        role = "assistant" if message.role == "assistant" else "user"
        content = (
            _tool_message(message, passed, where)
            if message.role == "tool"
            else _blocks(message, passed, where)
        )
        if not content:
            raise _empty(i)
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(content)
        else:
            out.append({"role": role, "content": content})
    return system, out


def _empty(i: int) -> InvalidInputError:
    return InvalidInputError(
        f"messages[{i}] has no content: Converse refuses empty messages",
        hint="leave the message out, or give it some text",
    )


def _merged(
    converted: list[dict[str, Any] | None], passed: Sequence[tuple[int, dict[str, Any]]]
) -> list[dict[str, Any]]:
    """The blocks of a message's parts (None: a part left out, such as the empty text part that
    holds a passed-through block's place) with the passed-through blocks put back in their
    places."""
    if passed:
        converted = list(converted)
        for at, block in passed:
            if at < len(converted):
                converted[at] = block
            else:  # (the parts were not made one for one: keep the block, last)
                converted.append(block)
    return [block for block in converted if block is not None]


def _system_blocks(
    message: Message, passed: Sequence[tuple[int, dict[str, Any]]], where: str
) -> list[dict[str, Any]]:
    converted: list[dict[str, Any] | None] = []
    for j, part in enumerate(message.content):
        if not isinstance(part, TextPart):
            raise InvalidInputError(
                f"{where}.content[{j}]: {message.role} messages carry text only, not {part.type} parts"
            )
        converted.append({"text": part.text} if part.text else None)
    for _, block in passed:
        if next(iter(block)) not in SYSTEM_BLOCKS:
            raise InvalidInputError(
                f"{where}: a {message.role} message takes text, guardContent and cachePoint blocks only, "
                f"not {next(iter(block))!r}"
            )
    return _merged(converted, passed)


def _blocks(
    message: Message, passed: Sequence[tuple[int, dict[str, Any]]], where: str
) -> list[dict[str, Any]]:
    """A user or assistant message's blocks: its parts, passed blocks, then its tool calls."""
    converted = [part_to_block(part, f"{where}.content[{j}]") for j, part in enumerate(message.content)]
    for _, block in passed:
        if next(iter(block)) not in CONTENT_BLOCKS:
            raise InvalidInputError(f"{where}: {next(iter(block))!r} blocks belong in a tool message")
    out = _merged(converted, passed)
    for j, call in enumerate(message.tool_calls):
        out.append(
            {
                "toolUse": {
                    "toolUseId": call.id,
                    "name": call.function.name,
                    "input": _tool_input(call.function.arguments, f"{where}.tool_calls[{j}]"),
                }
            }
        )
    return out


def _tool_input(arguments: str, where: str) -> Any:
    """A tool call's arguments as the ``toolUse.input`` object."""
    if not arguments.strip():
        return {}
    try:
        value = json.loads(arguments)
    except (ValueError, RecursionError):
        raise InvalidInputError(
            f"{where}.function.arguments is not JSON: Converse sends a tool call's input as an object"
        ) from None
    if not isinstance(value, dict):
        raise InvalidInputError(
            f"{where}.function.arguments must be a JSON object, not a JSON {type(value).__name__}"
        )
    return value


def _tool_message(
    message: Message, passed: Sequence[tuple[int, dict[str, Any]]], where: str
) -> list[dict[str, Any]]:
    """A tool message: one ``toolResult`` block, then any cache point given after it."""
    if not message.tool_call_id:
        raise InvalidInputError(f"{where} has role 'tool' but no tool_call_id")
    converted = [part_to_block(part, f"{where}.content[{j}]") for j, part in enumerate(message.content)]
    after = [block for _, block in passed if "cachePoint" in block]
    inside = [(at, block) for at, block in passed if "cachePoint" not in block]
    for _, block in inside:
        if next(iter(block)) not in TOOL_RESULT_BLOCKS:
            raise InvalidInputError(
                f"{where}: a tool message takes tool result blocks (text, json, image, document, video, "
                f"searchResult) and cachePoint, not {next(iter(block))!r}"
            )
    content = _merged(converted, inside)
    if any("audio" in block for block in content):
        raise InvalidInputError(f"{where}: a tool result cannot carry audio")
    result = {"toolUseId": message.tool_call_id, "content": content or [{"text": ""}]}
    return [{"toolResult": result}, *after]


# -- parts -------------------------------------------------------------------------------------------


def part_to_block(part: ContentPart, where: str) -> dict[str, Any] | None:
    """One content part as a Converse block (None for an empty text part, which is left out)."""
    match part:
        case TextPart():
            return {"text": part.text} if part.text else None
        case ImagePart():
            return {"image": _image(part, where)}
        case AudioPart():
            fmt = part.format.lower()
            if fmt not in AUDIO_FORMATS:
                raise InvalidInputError(
                    f"{where}: Converse takes audio as {', '.join(sorted(AUDIO_FORMATS))}, "
                    f"not {part.format[:20]!r}"
                )
            return {"audio": {"format": fmt, "source": {"bytes": _b64(part.data)}}}
        case FilePart():
            return {"document": _document(part, where)}
        case _:
            assert_never(part)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _image(part: ImagePart, where: str) -> dict[str, Any]:
    if part.data is not None:
        return {"format": _image_format(part.media_type, None, where), "source": {"bytes": _b64(part.data)}}
    url = part.url or ""
    if url.startswith("data:"):
        header, comma, encoded = url[5:].partition(",")
        media_type = header.split(";", 1)[0]
        if not comma or ";base64" not in header:
            raise InvalidInputError(f"{where}: an image data: URL must be base64 encoded")
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInputError(f"{where}: the image data: URL is not valid base64") from None
        return {"format": _image_format(media_type, None, where), "source": {"bytes": _b64(data)}}
    if url.startswith("s3://"):
        return {"format": _image_format(part.media_type, url, where), "source": {"s3Location": {"uri": url}}}
    raise InvalidInputError(
        f"{where}: Converse cannot fetch an image by URL ({_scheme(url)})", hint=_URL_HINT
    )


def _image_format(media_type: str | None, url: str | None, where: str) -> str:
    if media_type:
        fmt = IMAGE_FORMATS.get(media_type.lower())
        if fmt is not None:
            return fmt
        raise InvalidInputError(
            f"{where}: Converse takes PNG, JPEG, GIF or WebP images, not {media_type[:40]!r}",
            hint="convert the image to PNG or JPEG first",
        )
    fmt = _IMAGE_EXTENSIONS.get(_extension(url or ""))
    if fmt is None:
        raise InvalidInputError(
            f"{where}: the image's format is unknown", hint="pass media_type= (e.g. 'image/png') with the URL"
        )
    return fmt


def _document(part: FilePart, where: str) -> dict[str, Any]:
    fmt = DOCUMENT_FORMATS.get(part.media_type.lower().split(";", 1)[0].strip())
    if fmt is None and part.filename and _extension(part.filename) in _DOCUMENT_EXTENSIONS:
        fmt = _extension(part.filename)
    if fmt is None and part.url and _extension(part.url) in _DOCUMENT_EXTENSIONS:
        fmt = _extension(part.url)
    if fmt is None:
        raise InvalidInputError(
            f"{where}: Converse takes documents as {', '.join(sorted(_DOCUMENT_EXTENSIONS))}, "
            f"not {part.media_type[:60]!r}",
            hint="pass media_type= (e.g. 'application/pdf'), or a filename with one of these extensions",
        )
    if part.data is not None:
        source: dict[str, Any] = {"bytes": _b64(part.data)}
    elif part.url is not None and part.url.startswith("s3://"):
        source = {"s3Location": {"uri": part.url}}
    elif part.url is not None:
        raise InvalidInputError(
            f"{where}: Converse cannot fetch a document by URL ({_scheme(part.url)})", hint=_URL_HINT
        )
    else:
        raise InvalidInputError(
            f"{where}: Bedrock has no file ids", hint="pass the document's bytes (data=) or an s3:// URL"
        )
    return {"format": fmt, "name": document_name(part.filename or part.url), "source": source}


def document_name(filename: str | None) -> str:
    """A document's ``name`` as Converse accepts it (letters, digits, single spaces, ``-()[]``;
    up to 200 characters): the file name without its extension and path, other characters
    replaced by ``-``; ``"document"`` when nothing is left."""
    name = (filename or "").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    cleaned = " ".join(_NAME_INVALID.sub("-", stem).split()).strip("-")
    return cleaned[:200] or "document"


def _extension(path: str) -> str:
    tail = path.split("?", 1)[0].rsplit("/", 1)[-1]
    return tail.rsplit(".", 1)[-1].lower() if "." in tail else ""


def _scheme(url: str) -> str:
    """How a refused URL is named in an error: its scheme only (the rest may hold a signature)."""
    scheme = url.split(":", 1)[0] if ":" in url else ""
    return f"a {scheme[:10]}: URL" if scheme.isalnum() else "a URL"
