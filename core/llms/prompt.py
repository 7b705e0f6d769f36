"""``Prompt``: a reusable prompt template with typed inputs, checked before any call.

::

    summary = Prompt("Summarize {topic} in {n} words.", inputs={"topic": str, "n": int})
    response = await summary.acall(topic="rivers", n=20)               # -> LLMResponse
    response = summary.call(client, topic="rivers", n=20, options={"temperature": 0})
    movie = await Prompt("Invent a movie about {theme}.", response_format=Movie).aparse(theme="cats")

Placeholders are ``str.format`` fields: ``{name}``, with a format spec (``{n:.2f}``) or a
conversion (``{name!r}``); ``{{`` and ``}}`` are literal braces. Placeholders and inputs are
matched when the prompt is made (an undeclared placeholder, an unused input, ``{a.b}``,
``{a[0]}`` or ``{}`` raise :class:`ConfigurationError`), and each call's inputs before anything
is sent (missing, unexpected or wrongly typed inputs raise :class:`InvalidInputError` naming them
all). Inserted values are never formatted again, so braces in them are safe. Inputs are keywords;
call options (``model``, ``temperature``, ``ctx`` …) go in ``options={...}``, so an input may be
called ``model`` (only ``options`` is reserved). Async methods start with ``a`` (``acall``,
``aparse``, ``astream``); ``call``, ``parse`` and ``stream`` are their blocking twins. See
``docs/prompt.md``.
"""

from __future__ import annotations

import contextlib
import string
import sys
import threading
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from .interfaces.errors import ConfigurationError, InvalidInputError, ResponseParsingError
from .interfaces.llm_interfaces import ILLM
from .interfaces.messages import Message, MessagesInput, TextPart, normalize_messages
from .interfaces.types import LLMResponse, StreamAccumulator

if TYPE_CHECKING:
    from .client import ChatEvent, LLMClient
    from .client.sync import SyncRunner

__all__ = ["Prompt", "set_default_client"]

T = TypeVar("T")
#: a piece of template text: literal text, then a placeholder's name, format spec and conversion.
_Segment = tuple[str, str | None, str, str | None]
_FORMATTER = string.Formatter()
_BRACES = "placeholders are {name}, {name:spec} or {name!r}; write {{ and }} for literal braces"
_OPTIONS_HINT = "call options (model, temperature, ctx …) go in options={...}"
_ADAPTERS: dict[Any, Any] = {}  # input type -> pydantic TypeAdapter, shared by every prompt
_lock = threading.Lock()
_default: LLMClient | ILLM | None = None
_sync_runner: SyncRunner | None = None


class Prompt(Generic[T]):
    """A prompt template (see the module docstring).

    ``template``: a string (one user message) or messages in any form the models accept
    (``("role", "text")`` pairs, OpenAI dicts, :class:`Message` objects, a list mixing them);
    placeholders may be in any text part. ``inputs``: name -> type (``{"n": int, "items":
    list[str]}``) or a list of names (each a ``str``); None: every placeholder is a ``str``
    input. ``defaults``: values of inputs a call may leave out (checked against their types).
    ``system``: a system message put first (may hold placeholders). ``model``: the model of calls
    through an :class:`~core.llms.client.LLMClient`. ``response_format``: a pydantic model class
    (or a ``response_format`` dict) for structured output. ``params``: default call options
    (``{"temperature": 0}``). ``client``: where calls go when the call names nothing: an
    ``LLMClient`` or a model object (``create_llm(...)``); else the process-wide default
    (:func:`set_default_client`, else ``LLMClient.from_env()``, made on first use).
    """

    @overload
    def __init__(self: Prompt[T], template: MessagesInput, inputs: Any = None, defaults: Any = None, *,
                 response_format: type[T], system: str | None = None, model: str | None = None,
                 params: Mapping[str, Any] | None = None, client: Any = None) -> None: ...  # fmt: skip
    @overload
    def __init__(self: Prompt[Any], template: MessagesInput, inputs: Any = None, defaults: Any = None, *,
                 response_format: Mapping[str, Any] | None = None, system: str | None = None,
                 model: str | None = None, params: Mapping[str, Any] | None = None,
                 client: Any = None) -> None: ...  # fmt: skip

    def __init__(self, template: MessagesInput, inputs: Mapping[str, Any] | Sequence[str] | None = None,
                 defaults: Mapping[str, Any] | None = None, *, response_format: Any = None,
                 system: str | None = None, model: str | None = None,
                 params: Mapping[str, Any] | None = None, client: Any = None) -> None:  # fmt: skip
        if system is not None and not isinstance(system, str):
            raise ConfigurationError(f"system must be a string, not {type(system).__name__}")
        try:
            messages = normalize_messages(template)
        except InvalidInputError as exc:
            raise ConfigurationError(f"template: {exc.message}", hint=exc.hint) from None
        if system is not None:
            messages.insert(0, Message.system(system))
        self._messages = messages
        #: per message: (index of a text part with braces, its segments)
        self._plan: list[list[tuple[int, tuple[_Segment, ...]]]] = []
        used: dict[str, None] = {}  # placeholder names, in order of appearance
        for i, message in enumerate(messages):
            self._plan.append([])
            for j, part in enumerate(message.content):
                if isinstance(part, TextPart) and ("{" in part.text or "}" in part.text):
                    segments = _compile(part.text, f"message {i}")
                    used.update((name, None) for _, name, _, _ in segments if name is not None)
                    self._plan[-1].append((j, segments))
        self._types = _input_types(inputs, used)
        self._adapters = {n: _adapter(t, n) for n, t in self._types.items() if t is not str}
        self._defaults = _checked_defaults(self, defaults)
        if model is not None and (not isinstance(model, str) or not model):
            raise ConfigurationError("model must be a model name, e.g. 'gpt-4.1-mini'")
        if params is not None and not isinstance(params, Mapping):
            raise ConfigurationError(f"params must be a mapping, not {type(params).__name__}")
        if response_format is not None and not isinstance(response_format, type | Mapping):
            raise ConfigurationError("response_format must be a pydantic model class or a mapping")
        if client is not None:
            _check_target(client, ConfigurationError, "client")
        self.model, self.response_format, self.client = model, response_format, client
        self.params: dict[str, Any] = dict(params or {})

    @property
    def inputs(self) -> dict[str, Any]:
        """Input name -> declared type."""
        return dict(self._types)

    @property
    def defaults(self) -> dict[str, Any]:
        """The default input values."""
        return dict(self._defaults)

    @property
    def template(self) -> list[Message]:
        """The template's messages (the system message first), placeholders unfilled."""
        return list(self._messages)

    def render(self, /, **inputs: Any) -> list[Message]:
        """The messages with ``inputs`` (and the defaults) filled in; :class:`InvalidInputError`
        naming every missing, unexpected or wrongly typed input."""
        values = self._values(inputs)
        out = []
        for message, plan in zip(self._messages, self._plan, strict=True):
            if plan:
                content = list(message.content)
                for j, segments in plan:
                    content[j] = TextPart(_fill(segments, values))
                message = Message(message.role, tuple(content), message.name, message.tool_calls,
                                  message.tool_call_id)  # fmt: skip
            out.append(message)
        return out

    # -- calls: ``target`` is an LLMClient, a model object or a model name (see _prepare) --------

    async def acall(self, target: Any = None, /, *, options: Mapping[str, Any] | None = None,
                    **inputs: Any) -> LLMResponse:  # fmt: skip
        """Render and send; returns the model's :class:`LLMResponse`. ``target``: an
        ``LLMClient``, a model object or a model name (routed by the prompt's or the default
        client); default: the prompt's ``client``, else the default client. ``options``: call
        options over the prompt's ``params`` (``model``, ``provider``, ``ctx``, ``timeout``,
        ``temperature``, ``max_tokens``, ``response_format`` …)."""
        messages, where, is_client, opts = self._prepare(target, options, inputs)
        if is_client:
            response: LLMResponse = await where.chat(messages, **opts)
            return response
        return await _answer(where, messages, opts)

    def call(self, target: Any = None, /, *, options: Mapping[str, Any] | None = None,
             **inputs: Any) -> LLMResponse:  # fmt: skip
        """:meth:`acall`, blocking; works inside a running event loop too (a client's calls run on
        its ``client.sync`` twin, a model object's on a private worker loop)."""
        messages, where, is_client, opts = self._prepare(target, options, inputs)
        if is_client:
            response: LLMResponse = where.sync.chat(messages, **opts)
            return response
        return _runner().run(_answer(where, messages, opts))

    async def aparse(self, target: Any = None, /, *, options: Mapping[str, Any] | None = None,
                     **inputs: Any) -> T:  # fmt: skip
        """:meth:`acall`, returning the structured answer (an instance of the ``response_format``
        model); :class:`ResponseParsingError` when the answer does not fit it, the model refused
        or it called tools."""
        fmt = self._format_of(options)
        return _parsed(await self.acall(target, options=options, **inputs), fmt)  # type: ignore[no-any-return]

    def parse(self, target: Any = None, /, *, options: Mapping[str, Any] | None = None, **inputs: Any) -> T:
        """:meth:`aparse`, blocking."""
        fmt = self._format_of(options)
        return _parsed(self.call(target, options=options, **inputs), fmt)  # type: ignore[no-any-return]

    def astream(self, target: Any = None, /, *, options: Mapping[str, Any] | None = None,
                **inputs: Any) -> AsyncIterator[ChatEvent]:  # fmt: skip
        """The answer as the client's stream events: ``ChunkEvent`` s, ``ToolCallEvent`` s, one
        ``UsageEvent`` last (its ``response.parsed`` filled when ``response_format`` is set), and
        ``LogEvent`` s through a client. Inputs are checked by this call, before iterating."""
        messages, where, is_client, opts = self._prepare(target, options, inputs)
        source = where.chat_stream(messages, **opts) if is_client else _model_events(where, messages, opts)
        return _finish_async(source, opts.get("response_format"))

    def stream(self, target: Any = None, /, *, options: Mapping[str, Any] | None = None,
               **inputs: Any) -> Iterator[ChatEvent]:  # fmt: skip
        """:meth:`astream` as a blocking iterator (breaking out of it closes the stream)."""
        messages, where, is_client, opts = self._prepare(target, options, inputs)
        if is_client:
            events = where.sync.chat_stream(messages, **opts)
        else:
            events = _runner().iterate(lambda: _model_events(where, messages, opts))
        return _finish_sync(events, opts.get("response_format"))

    # -- internals --------------------------------------------------------------------------------

    def _prepare(
        self, target: Any, options: Mapping[str, Any] | None, inputs: dict[str, Any]
    ) -> tuple[list[Message], Any, bool, dict[str, Any]]:
        """What every call checks before it is made: the messages, where they go, the options."""
        messages = self.render(**inputs)
        opts = dict(self.params)
        if self.response_format is not None:
            opts["response_format"] = self.response_format
        if options is not None:
            if not isinstance(options, Mapping) or not all(isinstance(k, str) for k in options):
                raise InvalidInputError("options must be a mapping of call option names to values")
            opts.update(options)
        if isinstance(target, str):
            if options is not None and "model" in options:
                raise InvalidInputError("the model is given twice: as the target and in options")
            opts["model"], target = target, None
        elif target is not None:
            _check_target(target, InvalidInputError, "the target")
        where = target if target is not None else self.client
        where = where if where is not None else _default_client()
        is_client = _is_client(where)
        if is_client and self.model is not None:
            opts.setdefault("model", self.model)
        return messages, where, is_client, opts

    def _values(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        missing = [n for n in self._types if n not in inputs and n not in self._defaults]
        extra = [n for n in inputs if n not in self._types]
        if missing or extra:
            said = [f"missing {_names(missing)}"] if missing else []
            said += [f"unexpected {_names(extra)}"] if extra else []
            hint = f"this prompt takes ({self._signature()})" + (f"; {_OPTIONS_HINT}" if extra else "")
            raise InvalidInputError(f"prompt inputs: {'; '.join(said)}", hint=hint)
        values, wrong = dict(self._defaults), []
        for name, value in inputs.items():
            try:
                values[name] = self._check(name, value)
            except InvalidInputError as exc:
                wrong.append(exc.message)
        if wrong:
            raise InvalidInputError("prompt inputs of the wrong type: " + "; ".join(wrong))
        return values

    def _check(self, name: str, value: Any) -> Any:
        """``value`` checked against the input's type (strict: no coercion)."""
        adapter = self._adapters.get(name)
        if adapter is None:  # (a str input: no pydantic needed)
            if isinstance(value, str):
                return value
            raise InvalidInputError(f"{name!r} must be str, not {_kind(value)}")
        from pydantic import ValidationError

        try:
            return adapter.validate_python(value, strict=True)
        except ValidationError as exc:
            first = exc.errors(include_input=False, include_url=False)[0]
            at = "".join(f"[{p!r}]" for p in first["loc"]) + " " if first["loc"] else ""
            expected = _type_name(self._types[name])
            raise InvalidInputError(
                f"{name!r} must be {expected}, not {_kind(value)} ({at}{first['msg']})"
            ) from None

    def _format_of(self, options: Mapping[str, Any] | None) -> Any:
        fmt = options.get("response_format") if isinstance(options, Mapping) else None
        if fmt is None and self.response_format is None:
            raise ConfigurationError(
                "parse needs a response_format", hint="Prompt(..., response_format=MyModel)"
            )
        return fmt if fmt is not None else self.response_format

    def _signature(self) -> str:
        return ", ".join(f"{n}: {_type_name(t)}" + (" = …" if n in self._defaults else "")
                         for n, t in self._types.items())  # fmt: skip

    def __repr__(self) -> str:
        first = next((m.text for m in self._messages if m.role != "system"), self._messages[0].text)
        shown = first if len(first) <= 60 else first[:57] + "..."
        more = f" (+{len(self._messages) - 1} messages)" if len(self._messages) > 1 else ""
        extra = f", model={self.model!r}" if self.model else ""
        if self.response_format is not None:
            extra += f", response_format={getattr(self.response_format, '__name__', 'dict')}"
        return f"Prompt({shown!r}{more}, inputs=({self._signature()}){extra})"


def set_default_client(client: LLMClient | ILLM | None) -> LLMClient | ILLM | None:
    """Set where prompt calls go when neither the call nor the prompt names a target (an
    ``LLMClient`` or a model object; None: ``LLMClient.from_env()``, made on next use). Returns
    the previous one; closing it is the caller's business."""
    global _default
    if client is not None:
        _check_target(client, ConfigurationError, "the default client")
    with _lock:
        previous, _default = _default, client
    return previous


def _default_client() -> LLMClient | ILLM:
    global _default
    with _lock:
        if _default is None:
            from .client.client import LLMClient

            _default = LLMClient.from_env()
        return _default


def _runner() -> SyncRunner:
    """The worker loop of blocking calls with a model object (a client has its own twin)."""
    global _sync_runner
    with _lock:
        if _sync_runner is None or _sync_runner.closed:
            from .client.sync import SyncRunner

            _sync_runner = SyncRunner(name="core-llms-prompt")
        return _sync_runner


def _is_client(target: Any) -> bool:
    client = sys.modules.get("core.llms.client.client")  # (an LLMClient exists only once it is loaded)
    return client is not None and isinstance(target, client.LLMClient)


def _check_target(target: Any, error: type[ConfigurationError | InvalidInputError], what: str) -> None:
    if not _is_client(target) and not isinstance(target, ILLM):
        raise error(f"{what} must be an LLMClient, a model object (get_answer and stream_answer) or a "
                    f"model name, not {type(target).__name__}")  # fmt: skip


def _compile(text: str, where: str) -> tuple[_Segment, ...]:
    try:
        segments = tuple(_FORMATTER.parse(text))
    except ValueError as exc:  # (a lone brace)
        raise ConfigurationError(f"template {where}: {exc}", hint=_BRACES) from None
    bad = []
    for _, name, spec, conversion in segments:
        if name is None:
            continue
        if not name.isidentifier() or "{" in (spec or "") or conversion not in (None, "r", "s", "a"):
            bad.append("{" + name + (f"!{conversion}" if conversion else "")
                       + (f":{spec}" if spec else "") + "}")  # fmt: skip
        elif name == "options":
            raise ConfigurationError("the placeholder name 'options' is reserved for call options",
                                     hint="rename it, e.g. {choices}")  # fmt: skip
    if bad:
        raise ConfigurationError(
            f"template {where}: unsupported placeholder(s) {', '.join(bad)} "
            "(positional, attribute, index, nested or unknown conversion)",
            hint=_BRACES,
        )
    return tuple((literal, name, spec or "", conv) for literal, name, spec, conv in segments)


def _fill(segments: tuple[_Segment, ...], values: Mapping[str, Any]) -> str:
    out = []
    for literal, name, spec, conversion in segments:
        out.append(literal)
        if name is None:
            continue
        value = values[name]
        if conversion is not None:
            value = _FORMATTER.convert_field(value, conversion)
        if spec or not isinstance(value, str):
            try:
                value = format(value, spec)
            except (ValueError, TypeError):
                raise InvalidInputError(f"the placeholder {{{name}:{spec}}} cannot format a "
                                        f"{type(value).__name__}") from None  # fmt: skip
        out.append(value)
    return "".join(out)


def _input_types(inputs: Any, used: Mapping[str, None]) -> dict[str, Any]:
    if inputs is None:
        return dict.fromkeys(used, str)
    if isinstance(inputs, Mapping):
        types = dict(inputs)
    elif isinstance(inputs, Sequence) and not isinstance(inputs, str):
        types = dict.fromkeys(inputs, str)
    else:
        raise ConfigurationError(f"inputs must be a mapping of name to type, not {type(inputs).__name__}")
    for name, tp in types.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigurationError(f"input name {name!r} is not a Python identifier")
        if isinstance(tp, str) or tp is None:
            raise ConfigurationError(f"inputs[{name!r}] must be a type such as str or list[str], not {tp!r}")
    undeclared, unused = [n for n in used if n not in types], [n for n in types if n not in used]
    if undeclared or unused:
        said = [f"placeholder(s) not in inputs: {_names(undeclared)}"] if undeclared else []
        said += [f"input(s) not used by the template: {_names(unused)}"] if unused else []
        hint = "declare every placeholder in inputs= and use every input"
        raise ConfigurationError("; ".join(said), hint=hint)
    return types


def _adapter(tp: Any, name: str) -> Any:
    with contextlib.suppress(KeyError, TypeError):  # (TypeError: an unhashable type form)
        return _ADAPTERS[tp]
    from pydantic import PydanticSchemaGenerationError, PydanticUserError, TypeAdapter

    try:
        adapter = TypeAdapter(tp)
    except (PydanticSchemaGenerationError, PydanticUserError, TypeError) as exc:
        raise ConfigurationError(
            f"inputs[{name!r}]: {_type_name(tp)} is not a type pydantic can check"
        ) from exc
    with contextlib.suppress(TypeError):
        _ADAPTERS[tp] = adapter
    return adapter


def _checked_defaults(prompt: Prompt[Any], defaults: Any) -> dict[str, Any]:
    if defaults is None:
        return {}
    if not isinstance(defaults, Mapping):
        raise ConfigurationError(f"defaults must be a mapping, not {type(defaults).__name__}")
    unknown = [n for n in defaults if n not in prompt._types]
    if unknown:
        raise ConfigurationError(f"defaults for unknown input(s) {_names(unknown)}")
    try:
        return {name: prompt._check(name, value) for name, value in defaults.items()}
    except InvalidInputError as exc:
        raise ConfigurationError(f"defaults: {exc.message}") from None


async def _answer(model: Any, messages: list[Message], opts: dict[str, Any]) -> LLMResponse:
    response: LLMResponse = await model.get_answer(messages, **opts)
    return response


async def _model_events(
    model: Any, messages: list[Message], opts: dict[str, Any]
) -> AsyncIterator[ChatEvent]:
    """A model object's stream as the client's events."""
    from .client.events import ChunkEvent, ToolCallEvent, UsageEvent

    acc = StreamAccumulator()
    stream = model.stream_answer(messages, **opts)
    try:
        async for chunk in stream:
            acc.add(chunk)
            if chunk.text or chunk.reasoning:
                yield ChunkEvent(chunk.text, chunk.reasoning, chunk)
    finally:
        if hasattr(stream, "aclose"):
            await stream.aclose()
    name, provider = str(getattr(model, "name", "")), str(getattr(model, "provider", ""))
    response = acc.to_response(model=name, provider=provider)
    for call in response.tool_calls:
        yield ToolCallEvent(call)
    yield UsageEvent(response.usage, response.cost, response.finish_reason, response)


async def _finish_async(source: AsyncIterator[ChatEvent], fmt: Any) -> AsyncIterator[ChatEvent]:
    try:
        async for event in source:
            yield _finish(event, fmt)
    finally:
        if hasattr(source, "aclose"):
            await source.aclose()


def _finish_sync(source: Iterator[ChatEvent], fmt: Any) -> Iterator[ChatEvent]:
    try:
        for event in source:
            yield _finish(event, fmt)
    finally:
        if hasattr(source, "close"):
            source.close()


def _finish(event: ChatEvent, fmt: Any) -> ChatEvent:
    """The last event of a structured stream gets its response's ``parsed`` filled in."""
    if fmt is not None and event.type == "usage":
        response = event.response
        if response.parsed is None and not response.refusal and not response.tool_calls:
            response.parsed = _parsed(response, fmt)
    return event


def _parsed(response: LLMResponse, fmt: Any) -> Any:
    """The structured answer of ``response`` (decoded here if the model did not)."""
    if response.parsed is not None:
        return response.parsed
    provider, model = response.provider or None, response.model or None
    if response.refusal or response.tool_calls:
        what = "refused to answer" if response.refusal else "answered with tool calls"
        raise ResponseParsingError(f"the model {what}, not with structured output", provider=provider,
                                   model=model, hint="acall() returns the whole response")  # fmt: skip
    from .providers.base.structured_output import parse_structured

    try:
        return parse_structured(response.text, fmt, provider=provider)
    except ResponseParsingError as exc:
        raise exc.fill(model=model) from None


def _names(names: Sequence[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _kind(value: Any) -> str:
    """A value's type (and size), never the value: errors must not echo inputs."""
    try:
        return f"{type(value).__name__} of {len(value)} {'chars' if isinstance(value, str) else 'items'}"
    except TypeError:  # (no length)
        return type(value).__name__


def _type_name(tp: Any) -> str:
    plain = isinstance(tp, type) and not hasattr(tp, "__origin__")
    return str(tp.__name__) if plain else repr(tp).replace("typing.", "")
