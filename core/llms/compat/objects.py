"""OpenAI-shaped result objects, as LiteLLM returns them.

Each object has attribute *and* item access (``resp.choices[0].message.content`` and
``resp["choices"][0]["message"]["content"]``), ``get()``, ``model_dump()`` / ``to_dict()`` /
``dict()`` (plain dicts and lists, with the keys of the OpenAI SDK's objects), ``json()`` /
``model_dump_json()``, and iterates as ``(field, value)`` pairs like a pydantic model.

They are plain slotted classes, not pydantic models: one is built for every call and every
streamed chunk, from data the library has already checked, so nothing is validated again (the
constructors only turn nested dicts into the nested objects, so ``ModelResponse(**a_dict)``
works as LiteLLM's does). Keyword arguments a class has no field for are kept, and dumped, as
extra fields. Dumps are made on demand.
"""

from __future__ import annotations

import base64
import json
import os
import random
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

from ..interfaces.errors import InvalidInputError

__all__ = [
    "ChatCompletionDeltaToolCall",
    "ChatCompletionMessageToolCall",
    "Choices",
    "CompletionTokensDetails",
    "Delta",
    "Embedding",
    "EmbeddingResponse",
    "Function",
    "ImageObject",
    "ImageResponse",
    "Message",
    "ModelResponse",
    "ModelResponseStream",
    "OpenAIObject",
    "PromptTokensDetails",
    "SpeechResponse",
    "StreamingChoices",
    "TranscriptionResponse",
    "Usage",
    "new_id",
]


_random_bits = random.getrandbits


def new_id(prefix: str = "chatcmpl-") -> str:
    """An id in OpenAI's style (``chatcmpl-`` and 32 hex digits)."""
    return f"{prefix}{_random_bits(128):032x}"  # (not uuid4: no system call per response)


class OpenAIObject:
    """Base of the result objects (see the module docstring)."""

    __slots__ = ("_extra",)
    #: the fields, in the order the OpenAI SDK dumps them.
    _fields: ClassVar[tuple[str, ...]] = ()
    #: fields left out of dumps (and of ``in``) while they are None (LiteLLM's optional fields).
    _optional: ClassVar[frozenset[str]] = frozenset()

    def _keep(self, extra: dict[str, Any]) -> None:
        self._extra = extra or None

    def __getattr__(self, name: str) -> Any:  # (only called for a name that is not a field)
        if name != "_extra" and not name.startswith("__"):
            extra = self._extra
            if extra is not None and name in extra:
                return extra[name]
        raise AttributeError(f"{type(self).__name__} has no field {name!r}")

    def _present(self) -> Iterator[str]:
        optional = self._optional
        for name in self._fields:
            if name not in optional or getattr(self, name) is not None:
                yield name
        if self._extra:
            yield from self._extra

    def __getitem__(self, key: str) -> Any:
        if key in self._fields:
            return getattr(self, key)
        extra = self._extra
        if extra is not None and key in extra:
            return extra[key]
        raise KeyError(key)

    def __setitem__(self, key: str, value: Any) -> None:
        if key in self._fields:
            setattr(self, key, value)
        else:
            if self._extra is None:
                self._extra = {}
            self._extra[key] = value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in set(self._present())

    def get(self, key: str, default: Any = None) -> Any:
        """The field ``key``, or ``default`` when there is none (or it is None)."""
        try:
            value = self[key]
        except KeyError:
            return default
        return default if value is None else value

    def keys(self) -> list[str]:
        """The names of the fields a dump holds."""
        return list(self._present())

    def __iter__(self) -> Iterator[tuple[str, Any]]:  # (pydantic models iterate as pairs)
        return ((name, self[name]) for name in self._present())

    def model_dump(
        self,
        *,
        exclude_none: bool = False,
        exclude: set[str] | None = None,
        include: set[str] | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        """The object as plain dicts and lists (pydantic's name; ``exclude_none``,
        ``exclude`` and ``include`` apply to this level's fields)."""
        out: dict[str, Any] = {}
        for name in self._present():
            if (exclude and name in exclude) or (include is not None and name not in include):
                continue
            value = self[name]
            if value is None and exclude_none:
                continue
            out[name] = _dump(value, exclude_none)
        return out

    def to_dict(self, **options: Any) -> dict[str, Any]:
        """The object as plain dicts and lists (the OpenAI SDK's name)."""
        return self.model_dump(**options)

    def dict(self, **options: Any) -> dict[str, Any]:
        """The object as plain dicts and lists (pydantic v1's name)."""
        return self.model_dump(**options)

    def json(self, *, indent: int | None = None, **options: Any) -> str:
        """The object as JSON (``to_json``, ``model_dump_json`` too)."""
        return json.dumps(self.model_dump(**options), indent=indent, default=str)

    def model_dump_json(self, *, indent: int | None = None, **options: Any) -> str:
        """The object as JSON (pydantic's name)."""
        return self.json(indent=indent, **options)

    def to_json(self, *, indent: int | None = None, **options: Any) -> str:
        """The object as JSON (the OpenAI SDK's name)."""
        return self.json(indent=indent, **options)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, OpenAIObject)
        return self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]  # (mutable, as pydantic models)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={self[name]!r}" for name in self._present())
        return f"{type(self).__name__}({fields})"


def _dump(value: Any, exclude_none: bool) -> Any:
    if isinstance(value, OpenAIObject):
        return value.model_dump(exclude_none=exclude_none)
    if isinstance(value, list | tuple):
        return [_dump(v, exclude_none) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v, exclude_none) for k, v in value.items()}
    return value


def _many(values: Any, cls: type[Any]) -> Any:
    """A list of ``cls`` objects from dicts (objects kept as they are); None stays None."""
    if values is None:
        return None
    return [cls(**v) if type(v) is dict else v for v in values]


# -- chat completions --------------------------------------------------------------------------


class Function(OpenAIObject):
    """A tool call's function: ``name`` and ``arguments`` (a JSON string; a dict given is
    encoded)."""

    __slots__ = ("arguments", "name")
    _fields = ("arguments", "name")

    def __init__(self, arguments: Any = "", name: str | None = None, **extra: Any) -> None:
        self.arguments = (
            arguments if isinstance(arguments, str) or arguments is None else json.dumps(arguments)
        )
        self.name = name
        self._keep(extra)


def _function(value: Any) -> Any:
    return Function(**value) if type(value) is dict else value


class ChatCompletionMessageToolCall(OpenAIObject):
    """A tool call of an answer: ``id``, ``type`` (``"function"``), ``function``."""

    __slots__ = ("function", "id", "type")
    _fields = ("id", "function", "type")

    def __init__(
        self, function: Any = None, id: str | None = None, type: str = "function", **extra: Any
    ) -> None:
        self.id = id
        self.function = _function(function)
        self.type = type
        self._keep(extra)


class ChatCompletionDeltaToolCall(OpenAIObject):
    """A streamed piece of a tool call: ``index``, and on its first piece ``id`` and the
    function's ``name``; ``function.arguments`` pieces concatenate."""

    __slots__ = ("function", "id", "index", "type")
    _fields = ("index", "id", "function", "type")

    def __init__(
        self,
        index: int = 0,
        id: str | None = None,
        function: Any = None,
        type: str | None = None,
        **extra: Any,
    ) -> None:
        self.index = index
        self.id = id
        self.function = _function(function)
        self.type = type
        self._keep(extra)


class Message(OpenAIObject):
    """The assistant's message: ``content``, ``role``, ``tool_calls``, ``function_call`` (always
    None: tools replaced it), ``refusal``, and ``reasoning_content`` (the model's reasoning text,
    when it gave one; left out of dumps when None, as LiteLLM does). It can be appended to the
    messages of the next call as it is."""

    __slots__ = (
        "annotations",
        "audio",
        "content",
        "function_call",
        "reasoning_content",
        "refusal",
        "role",
        "tool_calls",
    )
    _fields = (
        "content",
        "refusal",
        "role",
        "annotations",
        "audio",
        "function_call",
        "tool_calls",
        "reasoning_content",
    )
    _optional = frozenset({"reasoning_content"})

    def __init__(
        self,
        content: Any = None,
        role: str = "assistant",
        tool_calls: Any = None,
        function_call: Any = None,
        reasoning_content: str | None = None,
        refusal: str | None = None,
        annotations: Any = None,
        audio: Any = None,
        **extra: Any,
    ) -> None:
        self.content = content
        self.refusal = refusal
        self.role = role
        self.annotations = annotations
        self.audio = audio
        self.function_call = function_call
        self.tool_calls = _many(tool_calls, ChatCompletionMessageToolCall)
        self.reasoning_content = reasoning_content
        self._keep(extra)


class Choices(OpenAIObject):
    """One choice of a completion: ``finish_reason``, ``index``, ``logprobs``, ``message``."""

    __slots__ = ("finish_reason", "index", "logprobs", "message")
    _fields = ("finish_reason", "index", "logprobs", "message")

    def __init__(
        self,
        finish_reason: str | None = "stop",
        index: int = 0,
        message: Any = None,
        logprobs: Any = None,
        **extra: Any,
    ) -> None:
        self.finish_reason = finish_reason
        self.index = index
        self.logprobs = logprobs
        self.message = (
            Message(**message) if type(message) is dict else message if message is not None else Message()
        )
        self._keep(extra)


class Delta(OpenAIObject):
    """What a stream chunk adds: ``content``, ``role`` (on the first chunk), ``tool_calls``
    fragments, ``refusal``, ``reasoning_content`` (left out of dumps when None)."""

    __slots__ = ("content", "function_call", "reasoning_content", "refusal", "role", "tool_calls")
    _fields = ("content", "function_call", "refusal", "role", "tool_calls", "reasoning_content")
    _optional = frozenset({"reasoning_content"})

    def __init__(
        self,
        content: str | None = None,
        role: str | None = None,
        tool_calls: Any = None,
        function_call: Any = None,
        refusal: str | None = None,
        reasoning_content: str | None = None,
        **extra: Any,
    ) -> None:
        self.content = content
        self.function_call = function_call
        self.refusal = refusal
        self.role = role
        self.tool_calls = _many(tool_calls, ChatCompletionDeltaToolCall)
        self.reasoning_content = reasoning_content
        self._keep(extra)


class StreamingChoices(OpenAIObject):
    """One choice of a stream chunk: ``delta``, ``finish_reason`` (on the last), ``index``."""

    __slots__ = ("delta", "finish_reason", "index", "logprobs")
    _fields = ("delta", "finish_reason", "index", "logprobs")

    def __init__(
        self,
        finish_reason: str | None = None,
        index: int = 0,
        delta: Any = None,
        logprobs: Any = None,
        **extra: Any,
    ) -> None:
        self.delta = Delta(**delta) if type(delta) is dict else delta if delta is not None else Delta()
        self.finish_reason = finish_reason
        self.index = index
        self.logprobs = logprobs
        self._keep(extra)


class PromptTokensDetails(OpenAIObject):
    """``cached_tokens``: prompt tokens read from the provider's prompt cache."""

    __slots__ = ("audio_tokens", "cached_tokens")
    _fields = ("audio_tokens", "cached_tokens")

    def __init__(self, cached_tokens: int | None = 0, audio_tokens: int | None = None, **extra: Any) -> None:
        self.audio_tokens = audio_tokens
        self.cached_tokens = cached_tokens
        self._keep(extra)


class CompletionTokensDetails(OpenAIObject):
    """``reasoning_tokens``: completion tokens spent reasoning."""

    __slots__ = (
        "accepted_prediction_tokens",
        "audio_tokens",
        "reasoning_tokens",
        "rejected_prediction_tokens",
    )
    _fields = ("accepted_prediction_tokens", "audio_tokens", "reasoning_tokens", "rejected_prediction_tokens")

    def __init__(
        self,
        reasoning_tokens: int | None = 0,
        audio_tokens: int | None = None,
        accepted_prediction_tokens: int | None = None,
        rejected_prediction_tokens: int | None = None,
        **extra: Any,
    ) -> None:
        self.accepted_prediction_tokens = accepted_prediction_tokens
        self.audio_tokens = audio_tokens
        self.reasoning_tokens = reasoning_tokens
        self.rejected_prediction_tokens = rejected_prediction_tokens
        self._keep(extra)


class Usage(OpenAIObject):
    """Token counts: ``prompt_tokens``, ``completion_tokens``, ``total_tokens``,
    ``prompt_tokens_details.cached_tokens``, ``completion_tokens_details.reasoning_tokens``."""

    __slots__ = (
        "completion_tokens",
        "completion_tokens_details",
        "prompt_tokens",
        "prompt_tokens_details",
        "total_tokens",
    )
    _fields = (
        "completion_tokens",
        "prompt_tokens",
        "total_tokens",
        "completion_tokens_details",
        "prompt_tokens_details",
    )

    def __init__(
        self,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        total_tokens: int | None = None,
        prompt_tokens_details: Any = None,
        completion_tokens_details: Any = None,
        **extra: Any,
    ) -> None:
        self.prompt_tokens = prompt_tokens or 0
        self.completion_tokens = completion_tokens or 0
        self.total_tokens = (
            self.prompt_tokens + self.completion_tokens if total_tokens is None else total_tokens
        )
        self.prompt_tokens_details = (
            PromptTokensDetails(**prompt_tokens_details)
            if type(prompt_tokens_details) is dict
            else prompt_tokens_details or PromptTokensDetails()
        )
        self.completion_tokens_details = (
            CompletionTokensDetails(**completion_tokens_details)
            if type(completion_tokens_details) is dict
            else completion_tokens_details or CompletionTokensDetails()
        )
        self._keep(extra)


class ModelResponse(OpenAIObject):
    """A chat completion (``object="chat.completion"``): ``id``, ``choices``, ``created``,
    ``model``, ``object``, ``service_tier``, ``system_fingerprint``, ``usage``.

    ``_hidden_params`` (not dumped, as in LiteLLM): ``response_cost`` (USD, None without
    prices), ``custom_llm_provider``, ``model`` (the qualified core-llms name that served the
    call), ``api_base`` (the endpoint's name, never a key), ``request_id``, and
    ``llm_response``: the core :class:`~core.llms.LLMResponse` itself (``parsed``, ``raw`` …).
    """

    __slots__ = (
        "_hidden_params",
        "_response_ms",
        "choices",
        "created",
        "id",
        "model",
        "object",
        "service_tier",
        "system_fingerprint",
        "usage",
    )
    _fields = ("id", "choices", "created", "model", "object", "service_tier", "system_fingerprint", "usage")

    def __init__(
        self,
        id: str | None = None,
        choices: Any = None,
        created: int | None = None,
        model: str | None = None,
        object: str = "chat.completion",
        system_fingerprint: str | None = None,
        usage: Any = None,
        service_tier: str | None = None,
        **extra: Any,
    ) -> None:
        self.id = id or new_id()
        self.choices = _many(choices, Choices) if choices is not None else [Choices()]
        self.created = int(time.time()) if created is None else created
        self.model = model
        self.object = object
        self.service_tier = service_tier
        self.system_fingerprint = system_fingerprint
        self.usage = Usage(**usage) if type(usage) is dict else usage if usage is not None else Usage()
        self._hidden_params: dict[str, Any] = extra.pop("_hidden_params", None) or {}
        self._response_ms: float | None = extra.pop("_response_ms", None)
        self._keep(extra)


class ModelResponseStream(OpenAIObject):
    """A chat completion chunk (``object="chat.completion.chunk"``): ``id``, ``choices``,
    ``created``, ``model``, ``object``, ``system_fingerprint``, ``usage`` (set on the last chunk
    when ``stream_options={"include_usage": True}``)."""

    __slots__ = (
        "_hidden_params",
        "choices",
        "created",
        "id",
        "model",
        "object",
        "service_tier",
        "system_fingerprint",
        "usage",
    )
    _fields = ("id", "choices", "created", "model", "object", "service_tier", "system_fingerprint", "usage")

    def __init__(
        self,
        id: str | None = None,
        choices: Any = None,
        created: int | None = None,
        model: str | None = None,
        object: str = "chat.completion.chunk",
        system_fingerprint: str | None = None,
        usage: Any = None,
        service_tier: str | None = None,
        **extra: Any,
    ) -> None:
        self.id = id or new_id()
        self.choices = _many(choices, StreamingChoices) if choices is not None else [StreamingChoices()]
        self.created = int(time.time()) if created is None else created
        self.model = model
        self.object = object
        self.service_tier = service_tier
        self.system_fingerprint = system_fingerprint
        self.usage = Usage(**usage) if type(usage) is dict else usage
        self._hidden_params: dict[str, Any] = extra.pop("_hidden_params", None) or {}
        self._keep(extra)


# -- media ---------------------------------------------------------------------------------------


class Embedding(OpenAIObject):
    """One vector: ``embedding`` (floats, or a base64 string with ``encoding_format="base64"``),
    ``index``, ``object`` (``"embedding"``)."""

    __slots__ = ("embedding", "index", "object")
    _fields = ("embedding", "index", "object")

    def __init__(
        self, embedding: Any = None, index: int = 0, object: str = "embedding", **extra: Any
    ) -> None:
        self.embedding = embedding
        self.index = index
        self.object = object
        self._keep(extra)


class EmbeddingResponse(OpenAIObject):
    """Embeddings (``object="list"``): ``data`` (one :class:`Embedding` per input), ``model``,
    ``usage`` (``prompt_tokens``, ``total_tokens``); ``_hidden_params["response_cost"]``."""

    __slots__ = ("_hidden_params", "data", "model", "object", "usage")
    _fields = ("data", "model", "object", "usage")

    def __init__(
        self,
        data: Any = None,
        model: str | None = None,
        object: str = "list",
        usage: Any = None,
        **extra: Any,
    ) -> None:
        self.data = _many(data, Embedding) if data is not None else []
        self.model = model
        self.object = object
        self.usage = Usage(**usage) if type(usage) is dict else usage if usage is not None else Usage()
        self._hidden_params: dict[str, Any] = extra.pop("_hidden_params", None) or {}
        self._keep(extra)


class ImageObject(OpenAIObject):
    """One generated image: ``b64_json`` or ``url``, and ``revised_prompt`` when the model
    rewrote the prompt."""

    __slots__ = ("b64_json", "revised_prompt", "url")
    _fields = ("b64_json", "revised_prompt", "url")

    def __init__(
        self,
        b64_json: str | None = None,
        revised_prompt: str | None = None,
        url: str | None = None,
        **extra: Any,
    ) -> None:
        self.b64_json = b64_json
        self.revised_prompt = revised_prompt
        self.url = url
        self._keep(extra)


class ImageResponse(OpenAIObject):
    """Generated images: ``created``, ``data`` (:class:`ImageObject`), ``usage`` (when the model
    reports tokens); ``_hidden_params["response_cost"]``."""

    __slots__ = ("_hidden_params", "created", "data", "usage")
    _fields = ("created", "data", "usage")

    def __init__(self, created: int | None = None, data: Any = None, usage: Any = None, **extra: Any) -> None:
        self.created = int(time.time()) if created is None else created
        self.data = _many(data, ImageObject) if data is not None else []
        self.usage = Usage(**usage) if type(usage) is dict else usage
        self._hidden_params: dict[str, Any] = extra.pop("_hidden_params", None) or {}
        self._keep(extra)


class TranscriptionResponse(OpenAIObject):
    """A transcript: ``text``; with ``response_format="verbose_json"`` (or timestamps) also
    ``task``, ``language``, ``duration``, ``segments`` and ``words`` (left out when None);
    ``_hidden_params["response_cost"]``."""

    __slots__ = ("_hidden_params", "duration", "language", "segments", "task", "text", "usage", "words")
    _fields = ("text", "task", "language", "duration", "segments", "words", "usage")
    _optional = frozenset({"task", "language", "duration", "segments", "words", "usage"})

    def __init__(
        self,
        text: str = "",
        task: str | None = None,
        language: str | None = None,
        duration: float | None = None,
        segments: list[dict[str, Any]] | None = None,
        words: list[dict[str, Any]] | None = None,
        usage: Any = None,
        **extra: Any,
    ) -> None:
        self.text = text
        self.task = task
        self.language = language
        self.duration = duration
        self.segments = segments
        self.words = words
        self.usage = usage
        self._hidden_params: dict[str, Any] = extra.pop("_hidden_params", None) or {}
        self._keep(extra)


class SpeechResponse:
    """Spoken audio, with the OpenAI SDK's binary-response methods: ``content`` (the bytes),
    ``read()``, ``iter_bytes()``, ``write_to_file(path)``, ``stream_to_file(path)``, and the
    async ``aread()`` / ``astream_to_file(path)``. ``media_type`` is the audio's type
    (``audio/mpeg`` …); ``_hidden_params["response_cost"]`` its cost."""

    __slots__ = ("_hidden_params", "content", "media_type")

    def __init__(self, content: bytes, media_type: str = "audio/mpeg") -> None:
        if not isinstance(content, bytes | bytearray):
            raise InvalidInputError(f"SpeechResponse content must be bytes, not {type(content).__name__}")
        self.content = bytes(content)
        self.media_type = media_type
        self._hidden_params: dict[str, Any] = {}

    def read(self) -> bytes:
        """The audio bytes."""
        return self.content

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The audio in pieces of ``chunk_size`` bytes (one piece without it)."""
        size = chunk_size or len(self.content) or 1
        for start in range(0, len(self.content), size):
            yield self.content[start : start + size]

    def write_to_file(self, file: str | os.PathLike[str]) -> None:
        """Write the audio to the file ``file``."""
        with open(file, "wb") as out:
            out.write(self.content)

    def stream_to_file(self, file: str | os.PathLike[str], *, chunk_size: int | None = None) -> None:
        """Write the audio to the file ``file`` (it has already arrived: the same as
        :meth:`write_to_file`)."""
        self.write_to_file(file)

    async def aread(self) -> bytes:
        """The audio bytes."""
        return self.content

    async def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The audio in pieces (async)."""
        for piece in self.iter_bytes(chunk_size):
            yield piece

    async def astream_to_file(self, file: str | os.PathLike[str], *, chunk_size: int | None = None) -> None:
        """Write the audio to the file ``file``."""
        self.write_to_file(file)

    @property
    def b64(self) -> str:
        """The audio as base64 text."""
        return base64.b64encode(self.content).decode()

    def __repr__(self) -> str:
        return f"SpeechResponse(<{len(self.content)} bytes {self.media_type}>)"
