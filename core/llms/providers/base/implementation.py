"""``BaseLLM``: the helpers every model class shares. Helpers, not behaviour.

A model class (``ILLM`` ← ``BaseLLM`` ← ``<Provider>BaseLLM`` ← ``<Model>``) implements
``get_answer`` / ``stream_answer`` by calling these helpers:

* :meth:`BaseLLM._validate_messages` — normalise caller input, refuse media the model cannot read;
* :meth:`BaseLLM._merge_parameters` — defaults + call parameters, checked against the model's
  :class:`~core.llms.interfaces.metadata.ParameterRules`;
* :meth:`BaseLLM._validate_token_limits` — refuse a prompt that cannot fit before sending it;
* :meth:`BaseLLM._observe_call` / :meth:`BaseLLM._observe_stream` — fill ``provider`` / ``model``
  on every escaping :class:`LLMError`, keep a stream's partial output on
  :class:`StreamInterruptedError`, and report to the observer when one is set.

Media methods (``get_image`` … ``embed``, ``transcribe``, ``rerank``) call the function the class
names for them in :attr:`BaseLLM.media_functions` (imported on first use); without one, or for an
output the model does not produce, they raise :class:`UnsupportedOperationError` with a hint that
names the method that would work.
"""

from __future__ import annotations

import functools
import importlib
import logging
import math
import warnings
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, Self, TypeVar, assert_never

from ...interfaces.context import RequestContext, check_context
from ...interfaces.endpoint import Timeouts
from ...interfaces.errors import (
    ContextWindowExceededError,
    InvalidInputError,
    LLMError,
    UnsupportedOperationError,
)
from ...interfaces.llm_interfaces import IConnector, WireResponse
from ...interfaces.messages import (
    AudioPart,
    ContentPart,
    FilePart,
    ImagePart,
    Message,
    MessagesInput,
    TextPart,
    normalize_messages,
)
from ...interfaces.metadata import MediaType, ModelMetadata
from ...interfaces.observer import IObserver
from ...interfaces.types import LLMResponse, LLMStreamChunk, Usage
from .observing import MediaStreamSeen, ObservedCalls
from .redact import redact_with

if TYPE_CHECKING:  # annotations only: the media classes are created on first use
    from ...interfaces.media import (
        EmbeddingResponse,
        LLMAudioChunk,
        LLMAudioResponse,
        LLMImageChunk,
        LLMImageResponse,
        LLMVideoChunk,
        LLMVideoResponse,
        RerankResponse,
        Transcription,
    )

__all__ = ["BaseLLM", "failed_call", "sniff_image_media_type"]

logger = logging.getLogger("core.llms.models")

_R = TypeVar("_R")

#: Rough token cost of one image (OpenAI's figure for a 1024x1024 image at high detail).
IMAGE_TOKEN_ESTIMATE = 765
#: Tokens of framing per message (role, separators) in the chat formats.
MESSAGE_OVERHEAD_TOKENS = 4
#: Tokens priming the assistant's reply.
REPLY_PRIMING_TOKENS = 3

#: Which methods produce which output, for hints.
_METHODS_FOR: dict[MediaType, str] = {
    "text": "get_answer() or stream_answer()",
    "image": "get_image() or stream_image()",
    "audio": "get_audio() or stream_audio()",
    "video": "get_video() or stream_video()",
    "embedding": "embed()",
    "transcription": "transcribe() or translate()",
    "rerank": "rerank()",
}
#: the output each media method produces.
_MEDIA_OF_METHOD: dict[str, MediaType] = {
    "get_image": "image",
    "stream_image": "image",
    "get_audio": "audio",
    "stream_audio": "audio",
    "get_video": "video",
    "stream_video": "video",
    "embed": "embedding",
    "transcribe": "transcription",
    "translate": "transcription",
    "rerank": "rerank",
}
#: the operation name observers see for each media method (``"chat"`` for get/stream_answer).
_OPERATION_OF_METHOD: dict[str, str] = {
    "get_image": "image_generation",
    "stream_image": "image_generation",
    "get_audio": "speech",
    "stream_audio": "speech",
    "get_video": "video_generation",
    "stream_video": "video_generation",
    "embed": "embeddings",
    "transcribe": "transcription",
    "translate": "translation",
    "rerank": "rerank",
}
_OUTPUT_ORDER: tuple[MediaType, ...] = (
    "text",
    "image",
    "audio",
    "video",
    "embedding",
    "transcription",
    "rerank",
)


def sniff_image_media_type(data: bytes) -> str:
    """The media type of image bytes from their magic number (PNG, JPEG, GIF, WebP).

    Raises :class:`InvalidInputError` for anything else.
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise InvalidInputError(
        f"image bytes ({len(data)} bytes) are not PNG, JPEG, GIF or WebP",
        hint="pass ImagePart(data=..., media_type=...) to name the type yourself",
    )


def _part_media(part: ContentPart) -> MediaType | None:
    """The input media a content part needs (None for text, which every model reads)."""
    match part:
        case TextPart():
            return None
        case ImagePart():
            return "image"
        case AudioPart():
            return "audio"
        case FilePart():
            return "pdf"
        case _:
            assert_never(part)


def estimate_prompt_tokens(messages: Sequence[Message]) -> int:
    """A cheap over-the-thumb token count of a prompt: characters / 4, a per-message overhead,
    a fixed count per image (audio and files are not guessed). Used before sending: the context
    window check and the budgets (:mod:`core.llms.budget`)."""
    chars = 0
    images = 0
    for message in messages:
        for part in message.content:
            match part:
                case TextPart():
                    chars += len(part.text)
                case ImagePart():
                    images += 1
                case AudioPart() | FilePart():
                    pass  # their token cost depends on duration / pages; not guessed here
        for call in message.tool_calls:
            chars += len(call.function.name) + len(call.function.arguments)
    return (
        chars // 4
        + images * IMAGE_TOKEN_ESTIMATE
        + (len(messages) * MESSAGE_OVERHEAD_TOKENS + REPLY_PRIMING_TOKENS)
    )


async def failed_call(error: LLMError) -> NoReturn:
    """A coroutine that raises ``error`` when awaited (for a method that returns the coroutine
    of the call it hands over to, and must fail the way an ``async def`` would: on await)."""
    raise error


class _FailingStream:
    """An async iterator that raises ``error`` on first use (lazy, like a generator)."""

    __slots__ = ("_error",)

    def __init__(self, error: LLMError) -> None:
        self._error = error

    def __aiter__(self) -> _FailingStream:
        return self

    async def __anext__(self) -> NoReturn:
        raise self._error


class BaseLLM(ObservedCalls, ABC):
    """Base class of the built-in model classes: shared validation, observation and media stubs.

    Subclasses set ``metadata`` and implement :meth:`get_answer` and :meth:`stream_answer`.
    Construct with a connector (usually a ``FailoverConnector``)::

        model = MyModel(connector, defaults={"temperature": 0.2}, drop_unsupported=False)
        async with model:
            answer = await model.get_answer("Hello")
    """

    metadata: ClassVar[ModelMetadata]
    #: The media methods this class serves (``get_image``, ``stream_image``, ``get_audio``,
    #: ``stream_audio``, ``get_video``, ``stream_video``, ``embed``, ``transcribe``,
    #: ``translate``, ``rerank``), each as ``"module:function"``: imported on the method's first
    #: call (a program that only chats never loads media code) and called as
    #: ``function(model, <the method's arguments>, ctx, params)``. A method not named here, or
    #: whose output the model's ``output_media`` lacks, raises :class:`UnsupportedOperationError`.
    media_functions: ClassVar[Mapping[str, str]] = {}
    #: Parameters the provider understands (beyond ``max_tokens``); the provider base sets this.
    provider_parameters: ClassVar[frozenset[str]] = frozenset()
    #: Other spellings callers may use for a parameter, mapped to the generic name.
    parameter_aliases: ClassVar[Mapping[str, str]] = {}

    def __init__(
        self,
        connector: IConnector,
        *,
        defaults: Mapping[str, Any] | None = None,
        drop_unsupported: bool = False,
        observer: IObserver | None = None,
    ) -> None:
        self._connector = connector
        self._defaults: dict[str, Any] = dict(defaults or {})
        self._drop_unsupported = drop_unsupported
        self._observer = observer
        self._dropped_logged: set[str] = set()
        if self._defaults:
            self._check_defaults()  # a typo in the defaults fails here, not at the first call

    def _check_defaults(self) -> None:
        """Check the model's ``defaults`` (raise :class:`InvalidInputError` naming a bad one)
        against the chat parameters; a model that does not chat (images, embeddings …) has its
        defaults checked by each media call, against that call's parameters."""
        if self.metadata.supports_output("text"):
            self._merge_parameters({})

    # -- identity -------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The model's name in the catalogue (e.g. ``"gpt-4.1-mini"``)."""
        return self.metadata.name

    @property
    def provider(self) -> str:
        """The provider's name (e.g. ``"openai"``)."""
        return self.metadata.provider

    @property
    def connector(self) -> IConnector:
        """The connector this model sends through (read-only).

        For a model made by ``create_llm`` (or an ``LLMFactory``) it is a
        :class:`~core.llms.providers.base.failover.FailoverConnector`: its ``endpoints`` are the
        endpoint display names (primary first), ``breaker(name)`` the circuit breaker of one
        (``.state``: ``"closed"``, ``"open"`` or ``"half_open"``)::

            connector = model.connector
            if isinstance(connector, FailoverConnector):
                print(connector.breaker(connector.endpoints[0]).state)
        """
        return self._connector

    def __repr__(self) -> str:
        endpoints = self._endpoint_names()
        return f"{type(self).__name__}(model={self.metadata.qualified_name!r}, endpoints={endpoints!r})"

    def _endpoint_names(self) -> list[str]:
        """Display names (never keys or query strings) of the connector's endpoints, when it
        exposes them as ``endpoints`` (names or :class:`EndpointConfig` objects)."""
        endpoints = getattr(self._connector, "endpoints", None) or ()
        return [e if isinstance(e, str) else str(getattr(e, "display_name", "?")) for e in endpoints]

    # -- lifecycle ------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close the connector (and its sessions); idempotent. A call made afterwards raises
        :class:`~core.llms.interfaces.errors.ConfigurationError`: create a new model instead."""
        await self._connector.aclose()

    @property
    def closed(self) -> bool:
        """True once :meth:`aclose` was called (when the connector reports it)."""
        return bool(getattr(self._connector, "closed", False))

    # Un-closed detection (package-internal): garbage-collected while its connector still holds an
    # open session, a model closes it at once and warns once (unless its factory already warned,
    # ``_reported``); the connector then has nothing left to warn about, and neither has aiohttp.
    _reported = False

    def _unclosed(self) -> bool:
        check = getattr(self._connector, "_unclosed", None)
        return bool(check()) if check is not None else False

    def __del__(self, _warn: Any = warnings.warn) -> None:
        close_now = getattr(getattr(self, "_connector", None), "_close_now", None)
        if close_now is not None and close_now() and not self._reported:
            _warn(f"unclosed {self!r}: call aclose() or use 'async with'", ResourceWarning, source=self)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- the ILLM methods -----------------------------------------------------------------------

    @abstractmethod
    async def get_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> LLMResponse:
        """Send ``messages`` and return the whole answer."""

    @abstractmethod
    def stream_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMStreamChunk]:
        """Send ``messages`` and yield the answer as it is produced."""

    async def get_answer_with_vision(
        self,
        prompt: str,
        images: Sequence[bytes | str | ImagePart] | bytes | str | ImagePart,
        ctx: RequestContext | None = None,
        **params: Any,
    ) -> LLMResponse:
        """Ask about images: one user message with ``prompt`` and each image.

        An image is raw bytes (PNG, JPEG, GIF or WebP, recognised from their first bytes), a URL
        (``https://`` or ``data:``) or an :class:`ImagePart`; ``images`` is a list of them, or a
        single one. Raises :class:`UnsupportedOperationError` when the model cannot read images,
        :class:`InvalidInputError` naming the image that is none of these.
        """
        try:
            check_context(ctx)
            message = self._vision_message(prompt, images)
        except LLMError as exc:
            exc.fill(provider=self.provider, model=self.name)
            raise
        return await self.get_answer([message], ctx, **params)

    def _vision_message(self, prompt: str, images: Any) -> Message:
        if not self.metadata.supports_input("image"):
            raise UnsupportedOperationError(
                f"{self.name} cannot read images",
                hint="use a vision model (one whose metadata.input_media includes 'image')",
            )
        if not isinstance(prompt, str):
            raise InvalidInputError(f"prompt must be a string, not {type(prompt).__name__}")
        if isinstance(images, str | bytes | bytearray | memoryview | ImagePart):
            images = (images,)  # one image, not a sequence of characters or byte values
        elif not isinstance(images, Iterable) or isinstance(images, Mapping):
            raise InvalidInputError(
                f"images must be a list of images (bytes, URLs or ImageParts) or one image, "
                f"not {type(images).__name__}"
            )
        parts: list[TextPart | ImagePart] = [TextPart(prompt)]
        for i, image in enumerate(images):
            match image:
                case ImagePart():
                    parts.append(image)
                case bytes() | bytearray() | memoryview():
                    data = bytes(image)
                    parts.append(ImagePart(data=data, media_type=sniff_image_media_type(data)))
                case str() if image.startswith(("http://", "https://", "data:")):
                    parts.append(ImagePart(url=image))
                case _:
                    raise InvalidInputError(
                        f"images[{i}] must be bytes, an http(s)/data: URL or an ImagePart, "
                        f"not {type(image).__name__}"
                    )
        return Message("user", tuple(parts))

    # -- media outputs: served by the functions a model class names ------------------------------

    async def get_image(
        self, prompt: str, ctx: RequestContext | None = None, **params: Any
    ) -> LLMImageResponse:
        """Generate images from ``prompt``."""
        return await self._serve("get_image", ctx, (prompt,), params)  # type: ignore[no-any-return]

    def stream_image(
        self, prompt: str, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMImageChunk]:
        """Generate an image, yielding partial images as they are refined."""
        return self._serve_stream("stream_image", ctx, prompt, params)

    async def get_audio(
        self, text: str, ctx: RequestContext | None = None, **params: Any
    ) -> LLMAudioResponse:
        """Speak ``text`` (text to speech)."""
        return await self._serve("get_audio", ctx, (text,), params)  # type: ignore[no-any-return]

    def stream_audio(
        self, text: str, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMAudioChunk]:
        """Speak ``text``, yielding audio as it is produced."""
        return self._serve_stream("stream_audio", ctx, text, params)

    async def get_video(
        self, prompt: str, ctx: RequestContext | None = None, **params: Any
    ) -> LLMVideoResponse:
        """Generate a video from ``prompt``."""
        return await self._serve("get_video", ctx, (prompt,), params)  # type: ignore[no-any-return]

    def stream_video(
        self, prompt: str, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMVideoChunk]:
        """Generate a video, yielding progress; the final chunk carries the video."""
        return self._serve_stream("stream_video", ctx, prompt, params)

    async def embed(
        self, texts: str | Sequence[str], ctx: RequestContext | None = None, **params: Any
    ) -> EmbeddingResponse:
        """Embed ``texts`` as vectors."""
        return await self._serve("embed", ctx, (texts,), params)  # type: ignore[no-any-return]

    async def transcribe(self, audio: Any, ctx: RequestContext | None = None, **params: Any) -> Transcription:
        """Turn speech (``audio``: bytes, a path or an ``AudioPart``) into text."""
        return await self._serve("transcribe", ctx, (audio,), params)  # type: ignore[no-any-return]

    async def translate(self, audio: Any, ctx: RequestContext | None = None, **params: Any) -> Transcription:
        """Turn speech in any language into English text."""
        return await self._serve("translate", ctx, (audio,), params)  # type: ignore[no-any-return]

    async def rerank(
        self, query: str, documents: Sequence[str], ctx: RequestContext | None = None, **params: Any
    ) -> RerankResponse:
        """Order ``documents`` by relevance to ``query``."""
        return await self._serve("rerank", ctx, (query, documents), params)  # type: ignore[no-any-return]

    def _media_function(self, method: str) -> Callable[..., Any]:
        """The function serving ``method`` (from :attr:`media_functions`, imported now), or
        :class:`UnsupportedOperationError` when the class names none or the model does not
        produce that output."""
        media = _MEDIA_OF_METHOD[method]
        target = self.media_functions.get(method)
        if target is None or not self.metadata.supports_output(media):
            raise self._unsupported_output(media, method)
        module, _, name = target.partition(":")
        function: Callable[..., Any] = getattr(importlib.import_module(module), name)
        return function

    async def _serve(
        self, method: str, ctx: RequestContext | None, args: tuple[Any, ...], params: dict[str, Any]
    ) -> Any:
        """A media call: ``function(model, *args, ctx, params)`` through :meth:`_observe_call`,
        reported to observers as the ``method``'s operation."""
        function = self._media_function(method)
        work = function(self, *args, ctx, params)
        return await self._observe_call(ctx, work, None, params, _OPERATION_OF_METHOD[method])

    def _serve_stream(
        self, method: str, ctx: RequestContext | None, subject: Any, params: dict[str, Any]
    ) -> AsyncIterator[Any]:
        """A streamed media call: ``function(model, subject, ctx, params)`` through
        :meth:`_observed_stream`, reported to observers as the ``method``'s operation (an
        unsupported one fails on first use, like a generator)."""
        try:
            function = self._media_function(method)
        except UnsupportedOperationError as exc:
            return _FailingStream(exc)
        return self._observed_stream(
            ctx,
            lambda: function(self, subject, ctx, params),
            MediaStreamSeen(),
            None,
            params,
            _OPERATION_OF_METHOD[method],
        )

    def _stamp_response(
        self, wire: WireResponse, parse: Callable[..., LLMResponse], **kwargs: Any
    ) -> LLMResponse:
        """A non-streamed response → :class:`LLMResponse` with endpoint, request id and timings.
        ``parse`` (the dialect's parser) reads the body as ``parse(wire.data, provider=, model=,
        cost=self.cost, **kwargs)`` (``kwargs`` may give another ``cost``); a parse error is filled
        with where it came from and masked of the endpoints' credentials (a server may echo them
        in the body it quotes)."""
        kwargs.setdefault("cost", self.cost)
        try:
            response = parse(wire.data, provider=self.provider, model=self.name, **kwargs)
        except LLMError as exc:
            exc.fill(endpoint=wire.endpoint, request_id=wire.request_id, status=wire.status)
            redact_with(self._connector, exc)
            raise
        response.endpoint = wire.endpoint
        response.request_id = wire.request_id
        response.latency = wire.latency
        response.ttfb = wire.ttfb
        response.headers = wire.headers
        return response

    def _unsupported_output(self, media: MediaType, method: str) -> UnsupportedOperationError:
        if self.metadata.supports_output(media):
            message = f"{self.name} lists {media} output but its class does not implement {method}()"
        else:
            message = f"{self.name} cannot produce {media}: {method}() is not supported"
        return UnsupportedOperationError(
            message, provider=self.provider, model=self.name, hint=self._output_hint()
        )

    def _output_hint(self) -> str:
        outputs = [m for m in _OUTPUT_ORDER if m in self.metadata.output_media]
        if not outputs:
            return "this model declares no output media"
        produces = " and ".join(outputs)
        return f"this model produces {produces}: use " + ", ".join(_METHODS_FOR[m] for m in outputs)

    def _check_text_output_support(self) -> None:
        """Raise :class:`UnsupportedOperationError` unless the model answers with text."""
        if not self.metadata.supports_output("text"):
            raise UnsupportedOperationError(
                f"{self.name} does not produce text: get_answer()/stream_answer() are not supported",
                provider=self.provider,
                model=self.name,
                hint=self._output_hint(),
            )

    # -- input validation -----------------------------------------------------------------------

    def _validate_messages(self, messages: MessagesInput) -> list[Message]:
        """Normalise ``messages`` and refuse parts whose media the model does not accept."""
        msgs = normalize_messages(messages)
        accepted = self.metadata.input_media
        for i, message in enumerate(msgs):
            for j, part in enumerate(message.content):
                media = _part_media(part)
                if media is not None and media not in accepted:
                    raise UnsupportedOperationError(
                        f"messages[{i}].content[{j}] ({part.type} part): {self.name} "
                        f"does not accept {media} input",
                        provider=self.provider,
                        model=self.name,
                        hint=f"{self.name} accepts: {', '.join(sorted(accepted))}",
                    )
        return msgs

    @functools.cached_property
    def _known_parameters(self) -> frozenset[str]:
        """The parameter names this model accepts (made once per model)."""
        return self.provider_parameters | self.metadata.parameters.extra_allowed | {"max_tokens"}

    def _merge_parameters(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Metadata defaults, then the model's defaults, then ``params``; checked and renamed.

        A ``None`` value means "send nothing" (it also removes a default). ``max_tokens`` is sent
        under the model's ``max_tokens_param``. Unsupported parameters raise
        :class:`InvalidInputError` (or are dropped and logged once with ``drop_unsupported``);
        unknown ones raise :class:`InvalidInputError` listing the allowed names.
        """
        rules = self.metadata.parameters
        aliases = self.parameter_aliases
        merged: dict[str, Any] = {}
        for source in (rules.defaults, self._defaults, params):
            if not source:  # (usually none of the defaults)
                continue
            for key, value in source.items():
                name = aliases.get(key, key)
                if name != key and name in source:
                    raise InvalidInputError(
                        f"pass only one of {key!r} and {name!r}", provider=self.provider, model=self.name
                    )
                merged[name] = value
        out: dict[str, Any] = {}
        known = self._known_parameters
        for name, value in merged.items():
            if value is None:
                continue
            if name in rules.unsupported:
                if self._drop_unsupported:
                    self._log_dropped(name)
                    continue
                raise InvalidInputError(
                    f"parameter {name!r} is not supported by {self.name}",
                    provider=self.provider,
                    model=self.name,
                    hint=f"remove {name!r}, or create the model with drop_unsupported=True to drop it",
                )
            if name not in known:
                raise InvalidInputError(
                    f"unknown parameter {name!r} for {self.name}",
                    provider=self.provider,
                    model=self.name,
                    hint=f"allowed: {', '.join(sorted(known))}",
                )
            match name:
                case "temperature":
                    self._check_temperature(value)
                case "max_tokens":
                    self._check_max_tokens(value)
                    name = rules.max_tokens_param
                case "timeout" if isinstance(value, Timeouts):
                    # a per-call Timeouts: its total bounds the call, its read the silences (unless
                    # read_timeout= is given too); its connect stays the endpoint's
                    value = value.total
                    if "read_timeout" in known and merged.get("read_timeout") is None:
                        out["read_timeout"] = merged["timeout"].read
                case "timeout" | "read_timeout":
                    self._check_seconds(name, value)
                case _:
                    pass
            out[name] = value
        return out

    def _check_seconds(self, name: str, value: Any) -> None:
        """``timeout`` / ``read_timeout``: a finite number of seconds > 0."""
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
            given = repr(value)[:40] if isinstance(value, int | float) else f"<{type(value).__name__}>"
            also, example = (
                (" or a Timeouts", " or Timeouts(read=20, total=60)") if name == "timeout" else ("", "")
            )
            raise InvalidInputError(
                f"{name}={given} must be a positive number of seconds{also}",
                provider=self.provider,
                model=self.name,
                hint=f"e.g. {name}=30{example}",
            )

    def _check_temperature(self, value: Any) -> None:
        low, high = self.metadata.parameters.temperature_range
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise InvalidInputError(
                f"temperature={value!r} is outside {low}..{high} for {self.name}",
                provider=self.provider,
                model=self.name,
            )

    def _check_max_tokens(self, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidInputError(
                f"max_tokens={value!r} must be a positive integer", provider=self.provider, model=self.name
            )
        limit = self.metadata.max_output_tokens
        if value > limit:
            raise InvalidInputError(
                f"max_tokens={value} exceeds the maximum output of {self.name} ({limit:,} tokens)",
                provider=self.provider,
                model=self.name,
                hint=f"use max_tokens <= {limit}",
            )

    def _log_dropped(self, name: str) -> None:
        if name not in self._dropped_logged:
            self._dropped_logged.add(name)
            logger.warning("dropping parameter %r: %s does not support it", name, self.name)

    def _estimate_tokens(self, messages: Sequence[Message]) -> int:
        """A cheap over-the-thumb token count (see :func:`estimate_prompt_tokens`)."""
        return estimate_prompt_tokens(messages)

    def _estimate_text_tokens(self, messages: Sequence[tuple[str, str]]) -> int:
        """:meth:`_estimate_tokens` of plain text messages, ``(role, text)``."""
        chars = 0
        for _, text in messages:  # a loop: cheaper than a comprehension for a few messages
            chars += len(text)
        return chars // 4 + len(messages) * MESSAGE_OVERHEAD_TOKENS + REPLY_PRIMING_TOKENS

    def _validate_token_limits(self, messages: Sequence[Message], max_tokens: int | None) -> None:
        """Raise :class:`ContextWindowExceededError` before sending when the estimated prompt plus
        ``max_tokens`` cannot fit the model's context window."""
        self._check_token_limits(self._estimate_tokens(messages), max_tokens)

    def _check_token_limits(self, estimate: int, max_tokens: int | None) -> None:
        """:meth:`_validate_token_limits` for a prompt of ``estimate`` tokens."""
        window = self.metadata.context_window
        if estimate + (max_tokens or 0) > window:
            wanted = f"~{estimate:,} prompt tokens" + (f" + max_tokens {max_tokens:,}" if max_tokens else "")
            raise ContextWindowExceededError(
                f"{wanted} exceed the context window of {self.name}",
                provider=self.provider,
                model=self.name,
                hint=f"the context window is {window:,} tokens: shorten the messages or lower max_tokens",
            )

    # -- cost -----------------------------------------------------------------------------------

    def cost(self, usage: Usage | None) -> float | None:
        """USD cost of ``usage`` from the metadata prices; None when usage or prices are unknown."""
        pricing = self.metadata.pricing
        if usage is None or not pricing.known:
            return None
        return pricing.cost(usage)
