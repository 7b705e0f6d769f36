"""``FallbackLLM``: try one model, then the next — across models and providers — as one ``ILLM``.

A :class:`FallbackLLM` wraps a primary model and fallbacks (any :class:`ILLM`: a model made by
``create_llm``, another ``FallbackLLM``, your own class). It is the model-level counterpart of the
endpoint failover inside each model (``core.llms.providers.base.failover``): each wrapped model
keeps its own retries, backups and circuit breakers; ``FallbackLLM`` moves to the next *model*
only once a model as a whole has given up.

Rules, for an error ``e`` raised by model *i* (``on`` is the constructor argument):

=================================================  ==============================================
situation                                          what happens
=================================================  ==============================================
``e`` is eligible (see :func:`should_fall_back`,   model *i + 1* is tried at once, with the same
or the ``on`` given)                               messages, ``ctx`` and parameters
``e`` is eligible and *i* was the last model       :class:`AllModelsFailedError`: ``attempts``
                                                   hold one :class:`AttemptRecord` per model
                                                   (``endpoint`` = the model's label),
                                                   ``errors`` each model's error, ``__cause__``
                                                   the last one; with a single model, ``e``
                                                   itself (like a single endpoint)
``e`` is not eligible                              raised at once, unchanged (same object)
``e`` is not an :class:`LLMError` (including       raised at once, unchanged
cancellation)
the deadline passed before model *i* starts        :class:`RequestTimeoutError`; ``__cause__``
                                                   is the previous model's error, if any
a stream failed before its first chunk             like ``get_answer``: the next model's stream
                                                   is opened
a stream failed after its first chunk              the error propagates as it is (usually
                                                   :class:`StreamInterruptedError` with the
                                                   partial text): never a second answer
=================================================  ==============================================

The default rule, :func:`should_fall_back`, moves on for errors that describe *that* model or
provider (down, busy, its key, its deployment, its context window) and stops on errors that
describe the *request* (every model would refuse it, or it is a bug in the caller's code).

The deadline is ``ctx.deadline``, or ``timeout=`` seconds (a call parameter) after the call
started, whichever is earlier — one budget for the whole chain, as for endpoint failover. When
``timeout=`` is given, the wrapped models receive a ``ctx`` carrying that deadline (and still get
``timeout=`` itself).
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, NoReturn, Self, TypeAlias, cast

from .interfaces.context import RequestContext
from .interfaces.errors import (
    AllEndpointsFailedError,
    AttemptRecord,
    AuthenticationError,
    ConfigurationError,
    ContextWindowExceededError,
    LLMError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
)
from .interfaces.llm_interfaces import ILLM
from .interfaces.messages import Message, MessagesInput
from .interfaces.types import LLMResponse, LLMStreamChunk

__all__ = ["AllModelsFailedError", "FallbackLLM", "FallbackOn", "should_fall_back"]

logger = logging.getLogger("core.llms.fallback")

#: what ``FallbackLLM(on=...)`` accepts: a predicate, one error class, or a tuple of them.
FallbackOn: TypeAlias = Callable[[LLMError], bool] | type[LLMError] | tuple[type[LLMError], ...] | None

#: errors that need a human (a key, a permission, a deployment): logged at WARNING when passed over.
_CONFIG_ERRORS = (AuthenticationError, PermissionDeniedError, NotFoundError)
#: eligible by class under the default rule, besides every class with ``failover`` set.
_ELIGIBLE = (RateLimitError, ContextWindowExceededError, *_CONFIG_ERRORS)


class AllModelsFailedError(AllEndpointsFailedError):
    """Every model of a :class:`FallbackLLM` failed with an error eligible for fallback.

    A subclass of :class:`AllEndpointsFailedError`, so handlers of that catch it too.
    ``attempts`` has one :class:`AttemptRecord` per model, in order (``endpoint`` is the model's
    label, e.g. ``"openai/gpt-4.1-mini"``; ``attempt`` is 1); ``errors`` the errors themselves;
    ``models`` the labels; ``last_error`` (also ``__cause__``) the last model's error.
    """

    def __init__(self, message: str, *, models: Sequence[str], errors: Sequence[LLMError]) -> None:
        attempts = [AttemptRecord(label, 1, error) for label, error in zip(models, errors, strict=True)]
        super().__init__(message, attempts=attempts)
        self.models: tuple[str, ...] = tuple(models)
        self.errors: tuple[LLMError, ...] = tuple(errors)


def should_fall_back(error: LLMError) -> bool:
    """The default ``on`` rule: True when the next model should be tried after ``error``.

    True for:

    * errors whose class has ``failover`` set — :class:`APIConnectionError` (refused, reset,
      DNS, TLS), :class:`RequestTimeoutError` (timeouts, 408), :class:`ServiceUnavailableError`
      (500, 502, 503, 504, 529): the model is unreachable or down;
    * :class:`RateLimitError` (429): another model or provider has its own quota;
    * :class:`AuthenticationError` (401) and :class:`PermissionDeniedError` (403): credentials
      belong to one provider account and say nothing about the next one (logged at WARNING,
      since a human has to fix the key);
    * :class:`NotFoundError` (404): that provider lacks the model or deployment (WARNING too);
    * :class:`ContextWindowExceededError`: the next model may have a larger window (a model
      whose window is too small refuses locally, before sending anything);
    * :class:`AllEndpointsFailedError` (and :class:`AllModelsFailedError`) when the error of
      every attempt it lists is eligible by this rule (attempts skipped because a circuit
      breaker was open count as eligible).

    False for everything else, raised at once: :class:`BadRequestError` (400 / 422),
    :class:`ContentFilterError` (use ``on`` to opt in: it would route around a safety filter),
    :class:`InvalidInputError`, :class:`UnsupportedOperationError`, :class:`ConfigurationError`,
    :class:`ConflictError`, :class:`BudgetExceededError`, :class:`ResponseParsingError` and
    :class:`StreamInterruptedError`.
    """
    if isinstance(error, AllEndpointsFailedError):
        return _all_attempts(error, should_fall_back)
    return error.failover or isinstance(error, _ELIGIBLE)


def _all_attempts(error: AllEndpointsFailedError, rule: Callable[[LLMError], bool]) -> bool:
    """True when ``rule`` holds for the error of every attempt that was not skipped."""
    return all(rule(a.error) for a in error.attempts if a.error is not None)


def _class_rule(classes: tuple[type[LLMError], ...]) -> Callable[[LLMError], bool]:
    """``on`` as error classes: an instance of one, or an :class:`AllEndpointsFailedError`
    whose every attempt failed with one."""

    def rule(error: LLMError) -> bool:
        if isinstance(error, classes):
            return True
        return isinstance(error, AllEndpointsFailedError) and _all_attempts(error, rule)

    return rule


def _checked_class(value: object, where: str) -> type[LLMError]:
    if not isinstance(value, type) or not issubclass(value, LLMError):
        shown = value.__name__ if isinstance(value, type) else f"{value!r} ({type(value).__name__})"
        raise ConfigurationError(
            f"FallbackLLM(on=...): {where} {shown} is not an LLMError subclass",
            hint="models raise only core.llms errors: name them (e.g. ServiceUnavailableError, "
            "RequestTimeoutError), or pass a callable (LLMError) -> bool",
        )
    return value


def _make_rule(on: object) -> tuple[Callable[[LLMError], bool], str]:
    """Validate ``on``; return the predicate and a short description for the repr."""
    if on is None or on is should_fall_back:
        return should_fall_back, ""
    if isinstance(on, type):
        cls = _checked_class(on, "class")
        return _class_rule((cls,)), cls.__name__
    if isinstance(on, tuple | list | set | frozenset):
        if not on:
            raise ConfigurationError(
                "FallbackLLM(on=...) is empty: no error would ever move on to a fallback",
                hint="leave out on= for the default rule (core.llms.fallback.should_fall_back)",
            )
        classes = tuple(_checked_class(c, "item") for c in on)
        return _class_rule(classes), "(" + ", ".join(c.__name__ for c in classes) + ")"
    if callable(on):
        if inspect.iscoroutinefunction(on) or inspect.iscoroutinefunction(type(on).__call__):
            raise ConfigurationError(
                "FallbackLLM(on=...) must be a plain function (LLMError) -> bool, not an async one"
            )
        predicate = cast("Callable[[LLMError], bool]", on)
        return predicate, getattr(on, "__qualname__", None) or type(on).__name__
    raise ConfigurationError(
        f"FallbackLLM(on=...) must be a callable (LLMError) -> bool, an LLMError subclass or a tuple "
        f"of them, not {type(on).__name__}"
    )


def _label(model: object) -> str:
    """A short name for a model: ``provider/model`` when it says, else its class name."""
    qualified = getattr(getattr(model, "metadata", None), "qualified_name", None)
    if isinstance(qualified, str) and qualified:
        return qualified
    provider, name = getattr(model, "provider", None), getattr(model, "name", None)
    if isinstance(provider, str) and isinstance(name, str):
        return f"{provider}/{name}"
    return type(model).__name__


def _unique(labels: Iterable[str]) -> tuple[str, ...]:
    """Number repeated labels (``x``, ``x#2`` …) so each model of the chain has its own."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label}#{seen[label]}")
    return tuple(out)


class FallbackLLM:
    """An :class:`ILLM` that tries ``primary``, then each of ``fallbacks`` in order.

    ::

        llm = FallbackLLM(
            create_llm("openai/gpt-4.1-mini"),
            create_llm("azure/gpt-4o-mini", deployment_name="mini", api_version="2024-10-21"),
        )
        async with llm:
            answer = await llm.get_answer("hello")
            print(answer.provider, answer.model)     # who served it

    ``on`` decides which errors move on to the next model: the default
    :func:`should_fall_back`; an :class:`LLMError` subclass or a tuple of them (an
    :class:`AllEndpointsFailedError` matches when every attempt it lists failed with one of
    them); or a function ``(LLMError) -> bool``, given the error as raised. Any other ``on``, or
    a model that is not an ``ILLM``, raises :class:`ConfigurationError`. The rules are in the
    module docstring and in ``docs/reliability.md``.

    The instance holds no per-call state: one ``FallbackLLM`` may serve any number of
    concurrent calls. Which model served an answer is on the answer (``provider``, ``model``,
    ``endpoint``; a stream's first chunk carries ``endpoint``).
    """

    def __init__(self, primary: ILLM, *fallbacks: ILLM, on: FallbackOn = None) -> None:
        models = (primary, *fallbacks)
        for i, model in enumerate(models):
            if isinstance(model, type) or not isinstance(model, ILLM):
                where = "primary" if i == 0 else f"fallbacks[{i - 1}]"
                what = f"the class {model.__name__}" if isinstance(model, type) else type(model).__name__
                raise ConfigurationError(
                    f"FallbackLLM: {where} ({what}) is not an ILLM",
                    hint=f"pass create_llm({model!r}), not the name"
                    if isinstance(model, str)
                    else "pass model objects (made by create_llm()) with get_answer() and stream_answer()",
                )
        self._models: tuple[ILLM, ...] = models
        self._labels = _unique(_label(m) for m in models)
        self._rule, self._on_repr = _make_rule(on)

    @property
    def models(self) -> tuple[ILLM, ...]:
        """The wrapped models, primary first."""
        return self._models

    @property
    def labels(self) -> tuple[str, ...]:
        """The models' labels as used in errors and logs (``provider/model``; repeats numbered)."""
        return self._labels

    def __repr__(self) -> str:
        on = f", on={self._on_repr}" if self._on_repr else ""
        return f"FallbackLLM({', '.join(repr(m) for m in self._models)}{on})"

    async def get_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> LLMResponse:
        """The first answer of the primary, then each fallback, per the fallback rules."""
        messages, ctx = _prepare(messages, ctx, params)
        errors: list[LLMError] = []
        for model in self._models:
            self._check_deadline(ctx, errors)
            try:
                return await model.get_answer(messages, ctx, **params)
            except LLMError as exc:
                self._passed_over(exc, errors)
        self._give_up(errors)

    async def stream_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncGenerator[LLMStreamChunk, None]:
        """The stream of the first model that yields a chunk; falls back only before that chunk.

        Each inner stream is closed (``aclose``) when it fails, ends, or the caller stops early
        or is cancelled. An async generator: ``contextlib.aclosing()`` closes it at once.
        """
        messages, ctx = _prepare(messages, ctx, params)
        errors: list[LLMError] = []
        for model in self._models:
            self._check_deadline(ctx, errors)
            stream: AsyncIterator[LLMStreamChunk] | None = None
            try:
                try:
                    stream = model.stream_answer(messages, ctx, **params)
                    first = await anext(stream)
                except StopAsyncIteration:
                    return  # an empty but complete stream is an answer
                except LLMError as exc:
                    self._passed_over(exc, errors)
                    continue
                yield first
                async for chunk in stream:  # from here on, errors propagate as they are
                    yield chunk
                return
            finally:
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    await aclose()
        self._give_up(errors)

    def _passed_over(self, error: LLMError, errors: list[LLMError]) -> None:
        """Record ``error`` of the current model if it is eligible; re-raise it otherwise."""
        verdict = self._rule(error)
        if inspect.isawaitable(verdict):
            close = getattr(verdict, "close", None)
            if close is not None:
                close()
            raise ConfigurationError(
                "FallbackLLM(on=...) returned an awaitable: it must be a plain function (LLMError) -> bool"
            ) from error
        if not verdict:
            raise error
        errors.append(error)
        index = len(errors)
        nxt = self._labels[index] if index < len(self._labels) else None
        level = logging.WARNING if isinstance(error, _CONFIG_ERRORS) else logging.INFO
        logger.log(
            level,
            "%s failed (%s%s)%s",
            self._labels[index - 1],
            type(error).__name__,
            f", status {error.status}" if error.status is not None else "",
            f": falling back to {nxt}" if nxt else ": no fallback left",
        )

    def _check_deadline(self, ctx: RequestContext | None, errors: list[LLMError]) -> None:
        """Raise :class:`RequestTimeoutError` when the call's deadline has passed."""
        if ctx is None or ctx.deadline is None or time.monotonic() < ctx.deadline:
            return
        labels = self._labels[: len(errors)]
        tried = ", ".join(f"{label} ({type(e).__name__})" for label, e in zip(labels, errors, strict=True))
        message = f"deadline exceeded after trying {tried}" if tried else "deadline exceeded before any model"
        raise RequestTimeoutError(
            message, hint="the deadline (ctx.deadline or timeout=) bounds the whole fallback chain"
        ) from (errors[-1] if errors else None)

    def _give_up(self, errors: list[LLMError]) -> NoReturn:
        """Every model failed: the error itself with one model, else :class:`AllModelsFailedError`."""
        if len(errors) == 1:
            raise errors[0]
        raise AllModelsFailedError(
            f"all {len(errors)} models failed", models=self._labels, errors=errors
        ) from errors[-1]

    async def aclose(self) -> None:
        """Close every wrapped model that has ``aclose()``, each once (even if given twice).

        Every model is closed even when one fails to close; the first such error is then raised.
        """
        first_error: BaseException | None = None
        for model in {id(m): m for m in self._models}.values():  # each object once, in order
            aclose = getattr(model, "aclose", None)
            if aclose is None:
                continue
            try:
                result = aclose()
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                first_error = first_error or exc
        if first_error is not None:
            raise first_error

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _prepare(
    messages: MessagesInput, ctx: RequestContext | None, params: Mapping[str, Any]
) -> tuple[MessagesInput, RequestContext | None]:
    """Make ``messages`` reusable (a one-shot iterable becomes a list) and fold a ``timeout=``
    call parameter into the context's deadline, so it bounds the whole chain."""
    if not isinstance(messages, str | Message | Mapping | Sequence) and isinstance(messages, Iterable):
        messages = list(messages)
    timeout = params.get("timeout")
    if isinstance(timeout, int | float) and not isinstance(timeout, bool) and timeout > 0:
        deadline = time.monotonic() + timeout
        if ctx is None:
            ctx = RequestContext(deadline=deadline)
        elif ctx.deadline is None or deadline < ctx.deadline:
            ctx = ctx.evolve(deadline=deadline)
    return messages, ctx
