"""BaseLLM helpers: message and parameter validation, token limits, vision, media stubs, cost,
lifecycle, observers and the stream helper."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest
from openai_testkit import ScriptedConnector

from core.llms.interfaces import (
    ILLM,
    AudioPart,
    ContextWindowExceededError,
    FilePart,
    ImagePart,
    InvalidInputError,
    LLMError,
    LLMResponse,
    LLMStreamChunk,
    Message,
    MessagesInput,
    RequestContext,
    ServiceUnavailableError,
    StreamInterruptedError,
    TextPart,
    ToolCallDelta,
    UnsupportedOperationError,
    Usage,
)
from core.llms.interfaces.metadata import Capabilities, ModelMetadata, ParameterRules, Pricing
from core.llms.interfaces.observer import CallInfo
from core.llms.providers.base.implementation import BaseLLM, sniff_image_media_type

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 16
GIF = b"GIF89a" + b"\0" * 16
WEBP = b"RIFF\x10\0\0\0WEBPVP8 " + b"\0" * 8


class Toy(BaseLLM):
    """A minimal model: answers with the text of its last message; streams two chunks."""

    metadata: ClassVar[ModelMetadata] = ModelMetadata(
        name="toy",
        provider="test",
        context_window=1000,
        max_output_tokens=200,
        input_media=frozenset({"text", "image"}),
        capabilities=Capabilities(vision=True),
        parameters=ParameterRules(
            max_tokens_param="max_output",
            unsupported=frozenset({"top_p"}),
            temperature_range=(0.0, 1.0),
            extra_allowed=frozenset({"effort"}),
            defaults={"temperature": 0.5},
        ),
        pricing=Pricing(input_per_1m=1.0, cached_input_per_1m=0.5, output_per_1m=4.0),
    )
    provider_parameters: ClassVar[frozenset[str]] = frozenset({"temperature", "top_p", "stop"})
    parameter_aliases: ClassVar[dict[str, str]] = {"max_new_tokens": "max_tokens"}

    def __init__(self, *args: Any, chunks: list[LLMStreamChunk] | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.chunks = chunks or [LLMStreamChunk(text="a"), LLMStreamChunk(text="b", finish_reason="stop")]
        self.fail_with: LLMError | None = None
        self.closed_inner = False

    async def get_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> LLMResponse:
        return await self._observe_call(ctx, self._answer(messages, params))

    async def _answer(self, messages: MessagesInput, params: dict[str, Any]) -> LLMResponse:
        msgs = self._validate_messages(messages)
        merged = self._merge_parameters(params)
        if self.fail_with is not None:
            raise self.fail_with
        return LLMResponse(text=msgs[-1].text, model=self.name, provider=self.provider, raw=merged)

    def stream_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMStreamChunk]:
        def open_stream() -> AsyncIterator[LLMStreamChunk]:
            self._validate_messages(messages)
            return self._inner()

        return self._observe_stream(ctx, open_stream)

    async def _inner(self) -> AsyncIterator[LLMStreamChunk]:
        try:
            for chunk in self.chunks:
                yield chunk
            if self.fail_with is not None:
                raise self.fail_with
        finally:
            self.closed_inner = True


class ImageOnly(Toy):
    metadata: ClassVar[ModelMetadata] = Toy.metadata.replace(
        **{"name": "painter", "output_media": frozenset({"image"})}
    )


class ClaimsAudio(Toy):
    metadata: ClassVar[ModelMetadata] = Toy.metadata.replace(
        **{"name": "claims-audio", "output_media": frozenset({"text", "audio"})}
    )


class Recorder:
    def __init__(self, explode: bool = False) -> None:
        self.events: list[tuple[str, Any]] = []
        self.explode = explode

    def on_request(self, call: CallInfo) -> None:
        self.events.append(("request", call))
        if self.explode:
            raise RuntimeError("observer bug")

    def on_response(self, call: CallInfo, response: LLMResponse) -> None:
        self.events.append(("response", response))

    def on_error(self, call: CallInfo, error: LLMError) -> None:
        self.events.append(("error", error))


@pytest.fixture
def toy() -> Toy:
    return Toy(ScriptedConnector())


# -- messages -------------------------------------------------------------------------------------


def test_validate_messages_normalises_strings_and_dicts(toy: Toy) -> None:
    msgs = toy._validate_messages([{"role": "system", "content": "s"}, {"role": "user", "content": "u"}])
    assert [m.role for m in msgs] == ["system", "user"]
    assert toy._validate_messages("hi") == [Message("user", (TextPart("hi"),))]


def test_validate_messages_refuses_media_the_model_cannot_read(toy: Toy) -> None:
    audio = Message.user("listen", AudioPart(b"RIFF", "wav"))
    with pytest.raises(UnsupportedOperationError) as info:
        toy._validate_messages([audio])
    assert "messages[0].content[1]" in str(info.value)
    assert "audio" in info.value.message and "toy" in info.value.message
    pdf = Message.user(FilePart(data=b"%PDF", filename="a.pdf"))
    with pytest.raises(UnsupportedOperationError, match="pdf"):
        toy._validate_messages([pdf])
    # images are accepted by this model
    assert toy._validate_messages([Message.user(ImagePart(url="https://x/y.png"))])


# -- parameters -----------------------------------------------------------------------------------


def test_merge_parameters_layers_defaults_then_call(toy: Toy) -> None:
    model = Toy(ScriptedConnector(), defaults={"stop": ["x"], "temperature": 0.9})
    assert model._merge_parameters({}) == {"temperature": 0.9, "stop": ["x"]}
    assert model._merge_parameters({"temperature": 0.1}) == {"temperature": 0.1, "stop": ["x"]}
    # metadata default applies when nobody else sets it; None removes it
    assert toy._merge_parameters({}) == {"temperature": 0.5}
    assert toy._merge_parameters({"temperature": None}) == {}


def test_merge_parameters_renames_max_tokens_and_aliases(toy: Toy) -> None:
    assert toy._merge_parameters({"max_tokens": 50})["max_output"] == 50
    assert toy._merge_parameters({"max_new_tokens": 60})["max_output"] == 60
    with pytest.raises(InvalidInputError, match="only one of"):
        toy._merge_parameters({"max_tokens": 5, "max_new_tokens": 6})
    with pytest.raises(InvalidInputError, match="positive integer"):
        toy._merge_parameters({"max_tokens": 0})
    with pytest.raises(InvalidInputError, match="maximum output of toy") as info:
        toy._merge_parameters({"max_tokens": 201})
    assert info.value.hint == "use max_tokens <= 200"


def test_unsupported_parameter_rejected_with_hint(toy: Toy) -> None:
    with pytest.raises(InvalidInputError) as info:
        toy._merge_parameters({"top_p": 0.5})
    assert "'top_p'" in info.value.message and "toy" in info.value.message
    assert info.value.hint is not None and "drop_unsupported=True" in info.value.hint


def test_unsupported_parameter_dropped_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    model = Toy(ScriptedConnector(), drop_unsupported=True)
    with caplog.at_level(logging.WARNING, logger="core.llms.models"):
        assert model._merge_parameters({"top_p": 0.5, "stop": "x"}) == {"temperature": 0.5, "stop": "x"}
        assert "top_p" not in model._merge_parameters({"top_p": 0.7})
    assert [r.getMessage() for r in caplog.records].count(
        "dropping parameter 'top_p': toy does not support it"
    ) == 1


def test_temperature_range_and_unknown_parameters(toy: Toy) -> None:
    with pytest.raises(InvalidInputError, match=r"temperature=1.5 is outside 0.0..1.0"):
        toy._merge_parameters({"temperature": 1.5})
    with pytest.raises(InvalidInputError, match="temperature"):
        toy._merge_parameters({"temperature": "hot"})
    with pytest.raises(InvalidInputError, match="unknown parameter 'tempreature'") as info:
        toy._merge_parameters({"tempreature": 0.2})
    assert info.value.hint == "allowed: effort, max_tokens, stop, temperature, top_p"
    assert toy._merge_parameters({"effort": "high"})["effort"] == "high"


# -- tokens ---------------------------------------------------------------------------------------


def test_estimate_tokens(toy: Toy) -> None:
    msgs = [Message.user("x" * 400), Message.user("look", ImagePart(url="https://i/p.png"))]
    # 404 chars // 4 + one image (765) + 2 messages * 4 + 3 priming
    assert toy._estimate_tokens(msgs) == 101 + 765 + 8 + 3


def test_validate_token_limits(toy: Toy) -> None:
    toy._validate_token_limits([Message.user("x" * 400)], 100)  # fits: ~107 + 100
    with pytest.raises(ContextWindowExceededError) as info:
        toy._validate_token_limits([Message.user("x" * 4000)], None)
    assert info.value.hint is not None and "1,000 tokens" in info.value.hint
    with pytest.raises(ContextWindowExceededError, match="max_tokens 200"):
        toy._validate_token_limits([Message.user("x" * 3200)], 200)


# -- vision ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "media_type"),
    [(PNG, "image/png"), (JPEG, "image/jpeg"), (GIF, "image/gif"), (WEBP, "image/webp")],
)
def test_sniff_image_media_type(data: bytes, media_type: str) -> None:
    assert sniff_image_media_type(data) == media_type


def test_sniff_rejects_unknown_bytes() -> None:
    with pytest.raises(InvalidInputError, match="not PNG, JPEG, GIF or WebP"):
        sniff_image_media_type(b"hello world")


async def test_get_answer_with_vision_builds_one_user_message() -> None:
    seen: list[list[Message]] = []

    class Spy(Toy):
        def _validate_messages(self, messages: MessagesInput) -> list[Message]:
            msgs = super()._validate_messages(messages)
            seen.append(msgs)
            return msgs

    model = Spy(ScriptedConnector())
    part = ImagePart(url="https://example.test/a.png", detail="low")
    answer = await model.get_answer_with_vision("what is it?", [PNG, "https://example.test/b.jpg", part])
    assert answer.text == "what is it?"
    (message,) = seen[0]
    assert message.role == "user"
    assert message.content[0] == TextPart("what is it?")
    assert message.content[1] == ImagePart(data=PNG, media_type="image/png")
    assert message.content[2] == ImagePart(url="https://example.test/b.jpg")
    assert message.content[3] is part
    with pytest.raises(InvalidInputError, match=r"images\[0\]") as info:
        await model.get_answer_with_vision("?", ["not a url"])
    assert info.value.model == "toy"
    with pytest.raises(InvalidInputError, match="not PNG") as info:
        await model.get_answer_with_vision("?", [b"not an image"])
    assert (info.value.provider, info.value.model) == ("test", "toy")


async def test_get_answer_with_vision_needs_a_vision_model() -> None:
    class Blind(Toy):
        metadata: ClassVar[ModelMetadata] = Toy.metadata.replace(
            **{"name": "blind", "input_media": frozenset({"text"})}
        )

    with pytest.raises(UnsupportedOperationError, match="blind cannot read images"):
        await Blind(ScriptedConnector()).get_answer_with_vision("?", [PNG])


# -- media outputs --------------------------------------------------------------------------------

TEXT_HINT = "this model produces text: use get_answer() or stream_answer()"


@pytest.mark.parametrize("method", ["get_image", "get_audio", "get_video"])
async def test_media_methods_unsupported_on_text_model(toy: Toy, method: str) -> None:
    with pytest.raises(UnsupportedOperationError) as info:
        await getattr(toy, method)("a cat")
    assert info.value.hint == TEXT_HINT
    assert f"{method}()" in info.value.message
    assert info.value.model == "toy" and info.value.provider == "test"


@pytest.mark.parametrize("method", ["stream_image", "stream_audio", "stream_video"])
async def test_stream_media_methods_raise_on_iteration(toy: Toy, method: str) -> None:
    stream = getattr(toy, method)("a cat")  # creating the iterator does not raise
    with pytest.raises(UnsupportedOperationError) as info:
        async for _ in stream:
            pass
    assert info.value.hint == TEXT_HINT


async def test_embed_unsupported(toy: Toy) -> None:
    with pytest.raises(UnsupportedOperationError, match=r"embed\(\)") as info:
        await toy.embed(["a", "b"])
    assert info.value.hint == TEXT_HINT


async def test_text_methods_on_an_image_model_point_to_get_image() -> None:
    painter = ImageOnly(ScriptedConnector())
    with pytest.raises(UnsupportedOperationError) as info:
        painter._check_text_output_support()
    assert info.value.hint == "this model produces image: use get_image() or stream_image()"


async def test_declared_but_unimplemented_output_says_so() -> None:
    with pytest.raises(
        UnsupportedOperationError, match="lists audio output but its class does not implement"
    ):
        await ClaimsAudio(ScriptedConnector()).get_audio("hi")
    with pytest.raises(UnsupportedOperationError) as info:
        await ClaimsAudio(ScriptedConnector()).get_image("hi")
    assert info.value.hint == (
        "this model produces text and audio: use get_answer() or stream_answer(), "
        "get_audio() or stream_audio()"
    )


# -- cost, identity, lifecycle --------------------------------------------------------------------


def test_cost(toy: Toy) -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=500_000, cached_input_tokens=400_000)
    assert toy.cost(usage) == pytest.approx(0.6 + 0.2 + 2.0)
    assert toy.cost(None) is None

    class Free(Toy):
        metadata: ClassVar[ModelMetadata] = Toy.metadata.replace(**{"pricing": Pricing()})

    assert Free(ScriptedConnector()).cost(usage) is None


async def test_identity_repr_and_close() -> None:
    connector = ScriptedConnector(endpoint="https://api.example.test/v1")
    model = Toy(connector)
    assert isinstance(model, ILLM)
    assert (model.name, model.provider, model.connector) == ("toy", "test", connector)
    assert repr(model) == "Toy(model='test/toy', endpoints=['https://api.example.test/v1'])"
    async with model as entered:
        assert entered is model
    assert connector.closed == 1
    await model.aclose()
    assert connector.closed == 2


# -- observation and error filling ----------------------------------------------------------------


async def test_observer_sees_request_and_response() -> None:
    recorder = Recorder()
    model = Toy(ScriptedConnector(), observer=recorder)
    ctx = RequestContext(tenant="t1")
    await model.get_answer("hi", ctx)
    kinds = [kind for kind, _ in recorder.events]
    assert kinds == ["request", "response"]
    call = recorder.events[0][1]
    assert (call.provider, call.model, call.ctx, call.stream) == ("test", "toy", ctx, False)


async def test_errors_get_provider_and_model_and_reach_the_observer() -> None:
    recorder = Recorder()
    model = Toy(ScriptedConnector(), observer=recorder)
    model.fail_with = ServiceUnavailableError("down", endpoint="https://e/v1", status=503)
    with pytest.raises(ServiceUnavailableError) as info:
        await model.get_answer("hi")
    assert (info.value.provider, info.value.model, info.value.endpoint) == ("test", "toy", "https://e/v1")
    assert recorder.events[-1] == ("error", info.value)
    with pytest.raises(InvalidInputError) as bad:
        await model.get_answer("hi", bogus=1)
    assert bad.value.provider == "test"


async def test_a_failing_observer_does_not_break_the_call(caplog: pytest.LogCaptureFixture) -> None:
    model = Toy(ScriptedConnector(), observer=Recorder(explode=True))
    with caplog.at_level(logging.ERROR, logger="core.llms.models"):
        assert (await model.get_answer("still works")).text == "still works"
    assert "observer on_request failed" in caplog.text


async def test_stream_interruption_keeps_partial_output() -> None:
    recorder = Recorder()
    chunks = [
        LLMStreamChunk(text="Hel", endpoint="https://e/v1", request_id="r-9"),
        LLMStreamChunk(text="lo", tool_calls=[ToolCallDelta(0, "call_1", "f", '{"a"')]),
        LLMStreamChunk(tool_calls=[ToolCallDelta(0, arguments=": 1")]),
    ]
    model = Toy(ScriptedConnector(), chunks=chunks, observer=recorder)
    model.fail_with = StreamInterruptedError("cut")
    received: list[str] = []
    with pytest.raises(StreamInterruptedError) as info:
        async for chunk in model.stream_answer("hi"):
            received.append(chunk.text)
    err = info.value
    assert received == ["Hel", "lo", ""]
    assert err.partial_text == "Hello"
    assert [(c.id, c.name, c.arguments) for c in err.partial_tool_calls] == [("call_1", "f", '{"a": 1')]
    assert (err.provider, err.model, err.endpoint, err.request_id) == ("test", "toy", "https://e/v1", "r-9")
    assert recorder.events[-1] == ("error", err)


async def test_stream_success_reports_the_accumulated_answer() -> None:
    recorder = Recorder()
    model = Toy(ScriptedConnector(), observer=recorder)
    texts = [c.text async for c in model.stream_answer("hi")]
    assert texts == ["a", "b"]
    kind, response = recorder.events[-1]
    assert kind == "response" and response.text == "ab" and response.finish_reason == "stop"
    assert recorder.events[0][1].stream is True


async def test_stream_validation_error_surfaces_on_iteration_and_is_filled(toy: Toy) -> None:
    stream = toy.stream_answer([{"role": "wizard", "content": "x"}])
    with pytest.raises(InvalidInputError) as info:
        await stream.__anext__()
    assert info.value.model == "toy"


async def test_stopping_a_stream_early_closes_the_inner_stream(toy: Toy) -> None:
    stream = toy.stream_answer("hi")
    assert isinstance(stream, AsyncIterator)
    first = await stream.__anext__()
    assert first.text == "a"
    await stream.aclose()  # type: ignore[attr-defined]
    assert toy.closed_inner


def test_bad_defaults_fail_when_the_model_is_built() -> None:
    with pytest.raises(InvalidInputError, match="unknown parameter 'temprature'"):
        Toy(ScriptedConnector(), defaults={"temprature": 0.1})
    with pytest.raises(InvalidInputError, match="'top_p' is not supported"):
        Toy(ScriptedConnector(), defaults={"top_p": 0.1})
