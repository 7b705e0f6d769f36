"""Typed messages and content parts, and the one place where caller input is normalised.

Callers may hand over a plain string, typed :class:`Message` objects, or OpenAI-format dicts
(``{"role": "user", "content": [{"type": "text", ...}, {"type": "image_url", ...}]}``). Everything
is turned into ``list[Message]`` once, by :func:`normalize_messages`; provider code only ever
sees the typed form. Anything that cannot be mapped raises :class:`InvalidInputError` naming the
offending message and field: nothing is dropped silently. The typed objects check their own
fields when they are made (``Message.user(123)``, ``TextPart(None)``, ``Message("user",
[42])`` raise :class:`InvalidInputError` naming the field), so a bad value never travels on to
fail later as a bare Python error.

One shortcut, for the most common input: a list of plain text dicts (``{"role": ..., "content":
"..."}`` and nothing else) carries nothing a typed message would add. :func:`plain_text_messages`
recognises it (checking it as strictly: known role, string content, no other key) so that a
provider may write it on the wire without building typed messages first.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, TypeGuard, TypeVar, cast

from .errors import InvalidInputError

__all__ = [
    "AudioPart",
    "ContentPart",
    "FilePart",
    "FunctionCall",
    "ImagePart",
    "Message",
    "MessagesInput",
    "Role",
    "TextPart",
    "ToolCall",
    "normalize_messages",
    "plain_text_messages",
]

Role: TypeAlias = Literal["system", "developer", "user", "assistant", "tool"]
_ROLES: frozenset[str] = frozenset({"system", "developer", "user", "assistant", "tool"})
#: the roles of a plain text message (a tool message also needs its ``tool_call_id``).
_TEXT_ROLES: frozenset[str] = _ROLES - {"tool"}


@dataclass(frozen=True, slots=True)
class TextPart:
    """Plain text."""

    text: str
    type: Literal["text"] = "text"

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise InvalidInputError(f"TextPart.text must be a string, not {type(self.text).__name__}")
        if self.type != "text":
            _wrong_type("TextPart", self.type, "text")


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image, either by URL (``https://`` or ``data:``) or as raw bytes with a media type."""

    url: str | None = None
    data: bytes | None = None
    media_type: str | None = None
    detail: Literal["auto", "low", "high"] | None = None
    type: Literal["image"] = "image"

    def __post_init__(self) -> None:
        if (self.url is None) == (self.data is None):
            raise InvalidInputError("ImagePart needs exactly one of url= or data=")
        if self.url is not None and (not isinstance(self.url, str) or not self.url):
            raise InvalidInputError(f"ImagePart.url must be a non-empty string, not {_kind(self.url)}")
        _bytes_field(self, "ImagePart", "data")
        _optional_str(self.media_type, "ImagePart.media_type")
        if self.data is not None and not self.media_type:
            raise InvalidInputError(
                "ImagePart(data=...) needs media_type (e.g. 'image/png')",
                hint="pass media_type='image/png' or 'image/jpeg'",
            )
        if self.detail is not None and (not isinstance(self.detail, str) or self.detail not in _DETAILS):
            shown = repr(self.detail) if isinstance(self.detail, str) else type(self.detail).__name__
            raise InvalidInputError(
                f"ImagePart.detail must be 'auto', 'low', 'high' or None, not {shown[:40]}"
            )
        if self.type != "image":
            _wrong_type("ImagePart", self.type, "image")

    def as_data_url(self) -> str:
        """The image as a URL: the given URL, or a ``data:`` URL built from the bytes."""
        if self.url is not None:
            return self.url
        assert self.data is not None
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode('ascii')}"

    def __repr__(self) -> str:
        src = self.url[:60] if self.url else f"<{len(self.data or b'')} bytes {self.media_type}>"
        return f"ImagePart({src!r})"


@dataclass(frozen=True, slots=True)
class AudioPart:
    """Audio input as raw bytes; ``format`` is e.g. ``"wav"`` or ``"mp3"``."""

    data: bytes
    format: str
    type: Literal["audio"] = "audio"

    def __post_init__(self) -> None:
        _bytes_field(self, "AudioPart", "data", required=True)
        if not isinstance(self.format, str) or not self.format:
            raise InvalidInputError(f"AudioPart.format must be a non-empty string, not {_kind(self.format)}")
        if self.type != "audio":
            _wrong_type("AudioPart", self.type, "audio")

    def __repr__(self) -> str:
        return f"AudioPart(<{len(self.data)} bytes {self.format}>)"


@dataclass(frozen=True, slots=True)
class FilePart:
    """A document (e.g. a PDF) as bytes, a URL or a provider file id."""

    data: bytes | None = None
    url: str | None = None
    file_id: str | None = None
    media_type: str = "application/pdf"
    filename: str | None = None
    type: Literal["file"] = "file"

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.data, self.url, self.file_id)) != 1:
            raise InvalidInputError("FilePart needs exactly one of data=, url= or file_id=")
        _bytes_field(self, "FilePart", "data")
        _optional_str(self.url, "FilePart.url")
        _optional_str(self.file_id, "FilePart.file_id")
        _optional_str(self.filename, "FilePart.filename")
        if not isinstance(self.media_type, str) or not self.media_type:
            raise InvalidInputError(
                f"FilePart.media_type must be a non-empty string, not {_kind(self.media_type)}"
            )
        if self.type != "file":
            _wrong_type("FilePart", self.type, "file")

    def __repr__(self) -> str:
        src = self.file_id or (self.url or "")[:60] or f"<{len(self.data or b'')} bytes>"
        return f"FilePart({src!r}, media_type={self.media_type!r})"


ContentPart: TypeAlias = TextPart | ImagePart | AudioPart | FilePart


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """The function half of an OpenAI-shape tool call; ``arguments`` is a JSON string."""

    name: str
    arguments: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise InvalidInputError(f"FunctionCall.name must be a string, not {_kind(self.name)}")
        if not isinstance(self.arguments, str):
            raise InvalidInputError(
                f"FunctionCall.arguments must be a JSON string, not {_kind(self.arguments)}",
                hint="json.dumps() the arguments",
            )


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call in OpenAI shape: ``id``, ``type == "function"``, ``function.name`` and
    ``function.arguments`` (a JSON string, exactly as the model produced it)."""

    id: str
    function: FunctionCall
    type: Literal["function"] = "function"

    def __post_init__(self) -> None:
        if not isinstance(self.id, str):
            raise InvalidInputError(f"ToolCall.id must be a string, not {_kind(self.id)}")
        if not isinstance(self.function, FunctionCall):
            raise InvalidInputError(
                f"ToolCall.function must be a FunctionCall, not {_kind(self.function)}",
                hint="ToolCall(id, FunctionCall(name, arguments))",
            )
        if self.type != "function":
            _wrong_type("ToolCall", self.type, "function")

    @property
    def name(self) -> str:
        return self.function.name

    @property
    def arguments(self) -> str:
        return self.function.arguments

    def parse_arguments(self) -> Any:
        """The arguments decoded from JSON; raises :class:`InvalidInputError` if they are not."""
        try:
            return json.loads(self.function.arguments or "{}")
        except ValueError as exc:
            raise InvalidInputError(
                f"tool call {self.id!r} ({self.function.name}) has arguments that are not JSON"
            ) from exc

    def to_dict(self) -> dict[str, Any]:
        """The OpenAI wire shape."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.function.name, "arguments": self.function.arguments},
        }


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message. ``content`` is a tuple of typed parts (may be empty for an assistant
    message that only calls tools)."""

    role: Role
    content: tuple[ContentPart, ...] = ()
    name: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None

    def __post_init__(self) -> None:
        """Check every field; ``content`` may also be given as a string (one text part), a single
        part, or a list of parts and strings, and ``tool_calls`` as a list: both are stored as
        tuples."""
        role = self.role
        if not isinstance(role, str) or role not in _ROLES:
            shown = repr(role)[:40] if isinstance(role, str) else type(role).__name__
            raise InvalidInputError(f"Message.role must be one of {sorted(_ROLES)}, not {shown}")
        content = self.content
        if type(content) is tuple:
            for part in content:  # (a loop: the usual one or two parts cost least this way)
                if type(part) not in _PART_TYPES:
                    object.__setattr__(self, "content", _content_parts(content, "Message.content"))
                    break
        else:
            object.__setattr__(self, "content", _content_parts(content, "Message.content"))
        tool_calls = self.tool_calls
        if tool_calls or type(tool_calls) is not tuple:
            object.__setattr__(self, "tool_calls", _tool_calls(tool_calls))
        if self.name is not None and not isinstance(self.name, str):
            raise InvalidInputError(f"Message.name must be a string or None, not {_kind(self.name)}")
        if self.tool_call_id is not None and not isinstance(self.tool_call_id, str):
            raise InvalidInputError(
                f"Message.tool_call_id must be a string or None, not {_kind(self.tool_call_id)}"
            )

    @classmethod
    def system(cls, text: str) -> Message:
        return cls("system", (TextPart(text),))

    @classmethod
    def user(cls, *parts: str | ContentPart) -> Message:
        # (strings become text parts; anything else is checked by __post_init__)
        return cls("user", tuple([TextPart(p) if isinstance(p, str) else p for p in parts]))

    @classmethod
    def assistant(cls, text: str = "", tool_calls: Sequence[ToolCall] = ()) -> Message:
        return cls("assistant", (TextPart(text),) if text else (), tool_calls=_tool_calls(tool_calls))

    @classmethod
    def tool(cls, tool_call_id: str, content: str | Any) -> Message:
        if isinstance(content, str):
            text = content
        else:
            try:
                text = json.dumps(content)
            except (TypeError, ValueError, RecursionError) as exc:
                raise InvalidInputError(
                    f"Message.tool() content must be a string or a JSON value, not {_kind(content)}",
                    hint="pass the tool's result as a string, or as JSON-compatible data",
                ) from exc
        return cls("tool", (TextPart(text),), tool_call_id=tool_call_id)

    @property
    def text(self) -> str:
        """The concatenated text parts."""
        return "".join(p.text for p in self.content if isinstance(p, TextPart))


#: a ``("role", content)`` pair: ``("system", "Be brief.")``.
RoleAndContent: TypeAlias = tuple[str, Any]

MessagesInput: TypeAlias = (
    str
    | Message
    | Mapping[str, Any]
    | RoleAndContent
    | Sequence[Message | Mapping[str, Any] | RoleAndContent | str]
)

_DETAILS = frozenset({"auto", "low", "high"})
_PART_TYPES = frozenset({TextPart, ImagePart, AudioPart, FilePart})


def _kind(value: Any) -> str:
    """How an error names a rejected value: its type (never the value: it may be large or private)."""
    return type(value).__name__


def _wrong_type(cls: str, given: Any, expected: str) -> None:
    raise InvalidInputError(f"{cls}.type must be {expected!r}, not {repr(given)[:40]}")


def _optional_str(value: Any, where: str) -> None:
    if value is not None and not isinstance(value, str):
        raise InvalidInputError(f"{where} must be a string or None, not {_kind(value)}")


def _bytes_field(obj: Any, cls: str, name: str, *, required: bool = False) -> None:
    """Check a bytes field (bytearray and memoryview are stored as bytes)."""
    value = getattr(obj, name)
    if value is None and not required:
        return
    if isinstance(value, bytearray | memoryview):
        object.__setattr__(obj, name, bytes(value))
    elif not isinstance(value, bytes):
        raise InvalidInputError(f"{cls}.{name} must be bytes, not {_kind(value)}")


def _content_parts(content: Any, where: str) -> tuple[ContentPart, ...]:
    """Content given as a string, a part, or an iterable of parts and strings, as a tuple."""
    if isinstance(content, str):
        return (TextPart(content),)
    if type(content) in _PART_TYPES:
        return (content,)
    if isinstance(content, bytes | bytearray | memoryview | Mapping) or not isinstance(content, Iterable):
        raise InvalidInputError(
            f"{where} must be a string, a content part or a list of them, not {_kind(content)}",
            hint="e.g. Message.user('hello') or Message('user', (TextPart('hello'),))",
        )
    parts: list[ContentPart] = []
    for j, part in enumerate(content):
        if isinstance(part, str):
            parts.append(TextPart(part))
        elif isinstance(part, TextPart | ImagePart | AudioPart | FilePart):
            parts.append(part)
        else:
            raise InvalidInputError(
                f"{where}[{j}] must be a string or a content part (TextPart, ImagePart, AudioPart, "
                f"FilePart), not {_kind(part)}"
            )
    return tuple(parts)


def _tool_calls(calls: Any) -> tuple[ToolCall, ...]:
    if isinstance(calls, str | bytes | Mapping) or not isinstance(calls, Iterable):
        raise InvalidInputError(f"Message.tool_calls must be a list of ToolCall, not {_kind(calls)}")
    out = tuple(calls)
    for j, call in enumerate(out):
        if not isinstance(call, ToolCall):
            raise InvalidInputError(
                f"Message.tool_calls[{j}] must be a ToolCall, not {_kind(call)}",
                hint="ToolCall(id, FunctionCall(name, arguments)), or pass the messages as OpenAI dicts",
            )
    return out


def normalize_messages(messages: MessagesInput) -> list[Message]:
    """Turn any accepted message input into ``list[Message]``.

    Accepts a string (one user message), a single message, dict or ``("role", content)`` pair,
    or a sequence mixing :class:`Message` objects, OpenAI-format dicts, ``("role", content)``
    pairs and strings (each a user message). A top-level pair whose first item is a role
    (``("user", "hi")``) is one message, not two. Raises :class:`InvalidInputError` naming the
    message index and field for anything it cannot map.
    """
    if isinstance(messages, str):
        return [Message("user", (TextPart(messages),))]
    if isinstance(messages, Message):
        return [messages]
    if isinstance(messages, Mapping):
        return [_from_dict(messages, 0)]
    if _is_pair(messages):
        return [_from_pair(messages, 0)]
    if isinstance(messages, bytes | bytearray | memoryview) or not isinstance(messages, Iterable):
        raise InvalidInputError(
            f"messages must be a string, a Message, a dict or a list of them, not {type(messages).__name__}"
        )
    out: list[Message] = []
    for i, m in enumerate(messages):
        if isinstance(m, Message):
            out.append(m)
        elif isinstance(m, Mapping):
            out.append(_from_dict(m, i))
        elif isinstance(m, str):
            out.append(Message("user", (TextPart(m),)))
        elif isinstance(m, tuple):
            out.append(_from_pair(m, i))
        else:
            raise InvalidInputError(
                f"messages[{i}] must be a Message, a dict, a (role, content) pair or a string, "
                f"not {type(m).__name__}"
            )
    if not out:
        raise InvalidInputError("messages is empty: at least one message is needed")
    return out


def plain_text_messages(messages: MessagesInput) -> list[tuple[str, str]] | None:
    """``(role, text)`` of each message when ``messages`` is a non-empty list of dicts holding
    exactly ``role`` (any role but ``"tool"``) and a string ``content``: the same messages as
    :func:`normalize_messages` would make, each a single text part. None for any other input,
    which is then normalised (and checked) by :func:`normalize_messages`."""
    if type(messages) is not list or not messages:
        return None
    out: list[tuple[str, str]] = []
    for m in messages:
        if type(m) is not dict or len(m) != 2:
            return None
        role, content = m.get("role"), m.get("content")
        if type(content) is not str or type(role) is not str or role not in _TEXT_ROLES:
            return None
        out.append((role, content))
    return out


def _is_pair(value: Any) -> TypeGuard[tuple[Any, ...]]:
    return type(value) is tuple and len(value) == 2 and isinstance(value[0], str) and value[0] in _ROLES


def _from_pair(pair: tuple[Any, ...], i: int) -> Message:
    """A ``("role", content)`` pair as a message (content: a string or parts, as in a dict)."""
    if len(pair) != 2:
        raise InvalidInputError(f"messages[{i}] is a tuple of {len(pair)} items; expected (role, content)")
    role, content = pair
    if not isinstance(role, str) or role not in _ROLES:
        shown = repr(role) if isinstance(role, str) and len(role) < 40 else f"a {_kind(role)}"
        raise InvalidInputError(f"messages[{i}] role is {shown}; expected one of {sorted(_ROLES)}")
    if role == "tool":
        raise InvalidInputError(
            f"messages[{i}] is a ('tool', ...) pair; a tool result needs its tool_call_id",
            hint="use Message.tool(tool_call_id, content) or a dict with tool_call_id",
        )
    return Message(cast(Role, role), _parts(content, i))


def _from_dict(d: Mapping[str, Any], i: int) -> Message:
    role = d.get("role")
    if not isinstance(role, str) or role not in _ROLES:  # (an unhashable role cannot be looked up)
        raise InvalidInputError(f"messages[{i}].role is {role!r}; expected one of {sorted(_ROLES)}")
    known = {"role", "content", "name", "tool_calls", "tool_call_id", "refusal"}
    extra = set(d) - known
    if extra:
        raise InvalidInputError(f"messages[{i}] has unknown field(s) {sorted(extra)}")
    content = _parts(d.get("content"), i)
    raw_calls = d.get("tool_calls") or ()
    if isinstance(raw_calls, str | bytes | Mapping) or not isinstance(raw_calls, Iterable):
        raise InvalidInputError(f"messages[{i}].tool_calls must be a list, not {_kind(raw_calls)}")
    tool_calls = tuple(_tool_call(tc, i, j) for j, tc in enumerate(raw_calls))
    tool_call_id = d.get("tool_call_id")
    if role == "tool" and not tool_call_id:
        raise InvalidInputError(f"messages[{i}] has role 'tool' but no tool_call_id")
    name = d.get("name")
    if tool_call_id is not None and not isinstance(tool_call_id, str):
        raise InvalidInputError(f"messages[{i}].tool_call_id must be a string, not {_kind(tool_call_id)}")
    if name is not None and not isinstance(name, str):
        raise InvalidInputError(f"messages[{i}].name must be a string, not {_kind(name)}")
    return Message(cast(Role, role), content, name, tool_calls, tool_call_id)


def _parts(content: Any, i: int) -> tuple[ContentPart, ...]:
    if content is None:
        return ()
    if isinstance(content, str):
        return (TextPart(content),)
    if isinstance(content, TextPart | ImagePart | AudioPart | FilePart):
        return (content,)
    if isinstance(content, bytes | bytearray | memoryview) or not isinstance(content, Sequence):
        raise InvalidInputError(
            f"messages[{i}].content must be a string or a list of parts, not {type(content).__name__}"
        )
    return tuple(_part(p, i, j) for j, p in enumerate(content))


def _part(p: Any, i: int, j: int) -> ContentPart:
    where = f"messages[{i}].content[{j}]"
    if isinstance(p, TextPart | ImagePart | AudioPart | FilePart):
        return p
    if isinstance(p, str):
        return TextPart(p)
    if not isinstance(p, Mapping):
        raise InvalidInputError(f"{where} must be a dict or a part object, not {type(p).__name__}")
    kind = p.get("type")
    match kind:
        case "text" | "input_text":
            text = p.get("text")
            if not isinstance(text, str):
                raise InvalidInputError(f"{where}.text must be a string")
            return TextPart(text)
        case "image_url" | "input_image":
            spec = p.get("image_url")
            url = spec.get("url") if isinstance(spec, Mapping) else spec
            detail = spec.get("detail") if isinstance(spec, Mapping) else p.get("detail")
            if not isinstance(url, str) or not url:
                raise InvalidInputError(f"{where}.image_url.url must be a non-empty string")
            return _located(where, ImagePart, url=url, detail=detail)
        case "image":
            data = p.get("data")
            if isinstance(data, bytes | bytearray):
                return _located(where, ImagePart, data=bytes(data), media_type=p.get("media_type"))
            if isinstance(p.get("url"), str):
                return _located(where, ImagePart, url=p["url"], detail=p.get("detail"))
            raise InvalidInputError(f"{where} of type 'image' needs 'data' (bytes) or 'url'")
        case "input_audio":
            spec = p.get("input_audio") or {}
            if not isinstance(spec, Mapping):
                raise InvalidInputError(f"{where}.input_audio must be a dict, not {_kind(spec)}")
            try:
                raw = base64.b64decode(spec.get("data", ""), validate=True)
            except (binascii.Error, ValueError, TypeError) as exc:
                raise InvalidInputError(f"{where}.input_audio.data is not base64") from exc
            return AudioPart(raw, str(spec.get("format") or "wav"))
        case "file":
            spec = p.get("file") or {}
            if not isinstance(spec, Mapping):
                raise InvalidInputError(f"{where}.file must be a dict, not {_kind(spec)}")
            if spec.get("file_id"):
                return _located(where, FilePart, file_id=spec["file_id"], filename=spec.get("filename"))
            file_data = spec.get("file_data")
            if isinstance(file_data, str) and file_data.startswith("data:"):
                header, _, b64 = file_data.partition(",")
                media_type = header[5:].split(";")[0] or "application/pdf"
                try:
                    raw = base64.b64decode(b64, validate=True)
                except (binascii.Error, ValueError) as exc:
                    raise InvalidInputError(f"{where}.file.file_data is not base64") from exc
                return _located(
                    where, FilePart, data=raw, media_type=media_type, filename=spec.get("filename")
                )
            raise InvalidInputError(f"{where} of type 'file' needs file.file_id or file.file_data")
        case _:
            raise InvalidInputError(
                f"{where} has unsupported type {kind!r}",
                hint="supported: text, image_url, image, input_audio, file",
            )


def _tool_call(tc: Any, i: int, j: int) -> ToolCall:
    where = f"messages[{i}].tool_calls[{j}]"
    if isinstance(tc, ToolCall):
        return tc
    if not isinstance(tc, Mapping):
        raise InvalidInputError(f"{where} must be a dict")
    fn = tc.get("function") or {}
    if not isinstance(fn, Mapping):
        raise InvalidInputError(f"{where}.function must be a dict, not {_kind(fn)}")
    name, args = fn.get("name"), fn.get("arguments", "{}")
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"{where}.function.name must be a non-empty string")
    if not isinstance(args, str):
        try:
            args = json.dumps(args)
        except (TypeError, ValueError, RecursionError):
            raise InvalidInputError(
                f"{where}.function.arguments must be a JSON string or JSON data, not {_kind(args)}"
            ) from None
    tc_id = tc.get("id")
    if not isinstance(tc_id, str) or not tc_id:
        raise InvalidInputError(f"{where}.id must be a non-empty string")
    return ToolCall(tc_id, FunctionCall(name, args))


P = TypeVar("P", ImagePart, FilePart)


def _located(where: str, cls: type[P], **fields: Any) -> P:
    """``cls(**fields)``, its :class:`InvalidInputError` naming the message part it came from."""
    try:
        return cls(**fields)
    except InvalidInputError as exc:
        raise InvalidInputError(f"{where}: {exc.message}", hint=exc.hint) from None
