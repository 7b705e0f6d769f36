"""Token and cost limits: per call (``token_budget``, ``cost_ceiling_usd``; a context's
``budget_usd`` is a per-call cost ceiling) and shared by many calls (:class:`Budget`).

* **Before a call** (:meth:`CallGuard.open`) the prompt is estimated (:func:`estimate_input_tokens`)
  and the output taken at its maximum: ``max_tokens`` (or ``max_completion_tokens`` /
  ``max_output_tokens``) when given, else the model's ``max_output_tokens``; costs come from the
  model's prices. The prompt alone over a limit, or a *given* ``max_tokens`` that cannot fit with
  it, raises :class:`~core.llms.interfaces.errors.BudgetExceededError` and nothing is sent; a
  ``max_tokens`` *not given* is capped to what fits (:attr:`CallGuard.capped_max_tokens`; at least
  1, else the call is refused).
* **A cost limit on a model without prices cannot be enforced: the call is refused**
  (``BudgetExceededError(unit="usd")`` naming that the model has no price). Token limits work on
  every model.
* **A shared budget** is charged by reservation: each call reserves its worst case (prompt +
  maximum output) under a lock, so concurrent calls cannot overshoot together; :meth:`CallGuard.settle`
  then replaces the reservation by what the call used (the response's usage and cost, the cost
  from the prices when it has none), :meth:`CallGuard.release` gives it back when the call failed
  (charging the usage the error reported). Give ``max_tokens`` to calls sharing a budget: without
  it each reserves the model's whole output (or what is left).
* **A stream** (:meth:`CallGuard.watch`): its output is estimated from the text, reasoning and
  tool-call arguments received (characters / 4); once the running figure passes a limit (a shared
  budget's room counted as when the call opened), the provider's stream is closed and
  ``BudgetExceededError`` raised with the text so far. At its end the call is charged the usage
  of the last chunk (else the running estimate).
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Mapping, Sequence
from typing import Any, Final

from .interfaces.context import RequestContext
from .interfaces.errors import BudgetExceededError, InvalidInputError, LLMError
from .interfaces.messages import Message
from .interfaces.metadata import ModelMetadata
from .interfaces.types import LLMResponse, LLMStreamChunk, Usage
from .providers.base.implementation import estimate_prompt_tokens

__all__ = ["Budget", "CallGuard", "check_ctx_budget", "estimate_input_tokens"]

#: characters per estimated token (prompt and streamed output alike).
CHARS_PER_TOKEN: Final = 4
#: the parameters that bound a call's output, in the order they are read.
MAX_OUTPUT_PARAMS: Final = ("max_tokens", "max_completion_tokens", "max_output_tokens")

#: one limit of a call: (what, unit, limit, already used by others when the call opened).
_Limit = tuple[str, str, float, float]


def estimate_input_tokens(messages: Sequence[Message]) -> int:
    """A cheap over-the-thumb token count of a prompt: text characters / 4 (tool calls' names and
    arguments included), 4 tokens per message, 3 priming the reply, 765 per image; audio and
    files are not guessed. The same count as the models' context-window check
    (``BaseLLM._estimate_tokens``)."""
    for message in messages:
        if not isinstance(message, Message):
            raise InvalidInputError(f"messages must be Message objects, not {type(message).__name__}")
    return estimate_prompt_tokens(messages)


def check_ctx_budget(ctx: RequestContext | None) -> float | None:
    """The cost ceiling a context sets: ``ctx.budget_usd`` is a per-call cost ceiling (USD),
    enforced like ``cost_ceiling_usd``; None without a context or a ``budget_usd``."""
    if ctx is None:
        return None
    if not isinstance(ctx, RequestContext):
        raise InvalidInputError(f"ctx must be a RequestContext, not {type(ctx).__name__}")
    return ctx.budget_usd


class Budget:
    """Tokens and/or US dollars shared by many calls (a bound client's, a batch's …).

    ``Budget(tokens=100_000, cost_usd=5.0)``; a limit left out (None) is unlimited, so
    ``Budget()`` only counts. Thread-safe: an async client and its blocking twin (a worker
    thread) may share one. Calls in flight hold a reservation (their worst case), which counts
    against the limits until they settle.
    """

    def __init__(self, *, tokens: int | None = None, cost_usd: float | None = None) -> None:
        #: the limits (None: unlimited).
        self.tokens: Final[int | None] = _check_number("Budget(tokens=...)", tokens, integer=True)
        self.cost_usd: Final[float | None] = _check_number("Budget(cost_usd=...)", cost_usd)
        self._lock = threading.Lock()
        self._spent_tokens = 0
        self._spent_usd = 0.0
        self._held_tokens = 0
        self._held_usd = 0.0
        self._inflight = 0
        self._calls = 0

    @property
    def spent_tokens(self) -> int:
        """Tokens charged by the calls settled so far."""
        return self._spent_tokens

    @property
    def spent_usd(self) -> float:
        """US dollars charged by the calls settled so far."""
        return self._spent_usd

    @property
    def remaining_tokens(self) -> int | None:
        """Tokens a new call may still reserve (limit - spent - reserved, >= 0); None: no limit."""
        with self._lock:
            return (
                None if self.tokens is None else max(0, self.tokens - self._spent_tokens - self._held_tokens)
            )

    @property
    def remaining_usd(self) -> float | None:
        """US dollars a new call may still reserve (>= 0); None: no limit."""
        with self._lock:
            return (
                None if self.cost_usd is None else max(0.0, self.cost_usd - self._spent_usd - self._held_usd)
            )

    def snapshot(self) -> dict[str, Any]:
        """Limits, spending, reservations of the calls in flight and counts, read together."""
        with self._lock:
            return {
                "tokens": self.tokens,
                "cost_usd": self.cost_usd,
                "spent_tokens": self._spent_tokens,
                "spent_usd": self._spent_usd,
                "reserved_tokens": self._held_tokens,
                "reserved_usd": self._held_usd,
                "calls_in_flight": self._inflight,
                "calls_settled": self._calls,
            }

    def __repr__(self) -> str:
        return (
            f"Budget(tokens={self.tokens}, cost_usd={self.cost_usd}, spent_tokens={self._spent_tokens}, "
            f"spent_usd={self._spent_usd:.6g}, calls_in_flight={self._inflight})"
        )

    def _limits(self) -> list[_Limit]:
        """This budget's limits with what is spent and reserved (call with the lock held)."""
        out: list[_Limit] = []
        if self.tokens is not None:
            out.append((_SHARED + "tokens", "tokens", self.tokens, self._spent_tokens + self._held_tokens))
        if self.cost_usd is not None:
            out.append((_SHARED + "cost_usd", "usd", self.cost_usd, self._spent_usd + self._held_usd))
        return out

    def _settle(self, held_tokens: int, held_usd: float, tokens: int, usd: float) -> None:
        """Replace a reservation by a charge (``0, 0.0``: give it back)."""
        with self._lock:
            self._inflight -= 1
            self._calls += 1
            if self._inflight:
                self._held_tokens -= held_tokens
                self._held_usd -= held_usd
            else:  # no float drift once nothing is in flight
                self._held_tokens, self._held_usd = 0, 0.0
            self._spent_tokens += tokens
            self._spent_usd += usd


class CallGuard:
    """The limits of one call: checked before it (:meth:`open`), watched while it streams
    (:meth:`watch`), charged after it (:meth:`settle` / :meth:`release`; the first counts)."""

    def __init__(
        self, metadata: ModelMetadata, prompt: int, params: Mapping[str, Any], budget: Budget | None
    ) -> None:
        """(Made by :meth:`open`.)"""
        #: the parameters to send: those given (the same dict), or a copy with ``max_tokens`` capped.
        self.params: dict[str, Any] = params if type(params) is dict else dict(params)
        #: the ``max_tokens`` the call was capped to (for the caller to report), else None.
        self.capped_max_tokens: int | None = None
        #: the prompt's estimated tokens; the output's bound (given, capped or the model's).
        self.input_tokens = prompt
        self.max_output_tokens = metadata.max_output_tokens
        #: the call's worst case, reserved on the shared budget.
        self.reserved_tokens = 0
        self.reserved_usd = 0.0
        self._pricing = metadata.pricing
        self._in_price = metadata.pricing.input_per_1m / 1e6
        self._out_price = metadata.pricing.output_per_1m / 1e6
        self._budget = budget
        self._done = False
        self._started = False  # (a watched stream was iterated)
        self._who = (metadata.provider, metadata.name)
        self._binding: _Limit | None = None
        self._allow_chars = math.inf

    @classmethod
    def open(
        cls,
        metadata: ModelMetadata,
        messages: Sequence[Message],
        params: Mapping[str, Any],
        *,
        token_budget: int | None = None,
        cost_ceiling_usd: float | None = None,
        budget: Budget | None = None,
    ) -> CallGuard | None:
        """Check a call against its limits before anything is sent and reserve its worst case
        on ``budget`` (rules in the module docstring); None when no limit applies.

        :class:`BudgetExceededError` (with the figures) when the call cannot fit;
        :class:`InvalidInputError` for a malformed limit, budget, output bound or message."""
        if token_budget is None and cost_ceiling_usd is None and budget is None:
            return None
        token_budget = _check_number("token_budget", token_budget, integer=True)
        cost_ceiling_usd = _check_number("cost_ceiling_usd", cost_ceiling_usd)
        for name, value, kind in (("budget", budget, Budget), ("metadata", metadata, ModelMetadata)):
            if value is not None and not isinstance(value, kind):
                raise InvalidInputError(f"{name} must be a {kind.__name__}, not {type(value).__name__}")
        if not isinstance(params, Mapping):
            raise InvalidInputError(f"params must be a mapping, not {type(params).__name__}")
        key, given = _max_output(params)
        guard = cls(metadata, estimate_input_tokens(messages), params, budget)
        usd_limit = cost_ceiling_usd if cost_ceiling_usd is not None else budget.cost_usd if budget else None
        if usd_limit is not None and not metadata.pricing.known:
            raise BudgetExceededError(
                f"{metadata.qualified_name} has no price, so a cost limit cannot be enforced: refused",
                unit="usd",
                limit=usd_limit,
                hint="use token_budget= with this model, or give it prices (ModelMetadata.pricing)",
                provider=metadata.provider,
                model=metadata.name,
            )
        if given is not None:
            guard.max_output_tokens = given
        limits: list[_Limit] = []
        if token_budget is not None:
            limits.append(("token_budget", "tokens", token_budget, 0))
        if cost_ceiling_usd is not None:
            limits.append(("the cost ceiling", "usd", cost_ceiling_usd, 0.0))
        if budget is None:
            guard._plan(limits, key, given)
            return guard
        with budget._lock:  # checked and reserved at once: concurrent calls cannot overshoot
            guard._plan(limits + budget._limits(), key, given)
            budget._held_tokens += guard.reserved_tokens
            budget._held_usd += guard.reserved_usd
            budget._inflight += 1
        return guard

    def settle(self, result: LLMResponse | Usage | None) -> None:
        """Charge what the call used: an :class:`LLMResponse`'s usage and cost (the cost from
        the model's prices when it has none), or a :class:`Usage`. Without usage the estimate
        is charged (the prompt plus the answer's text / 4; None: the whole reservation)."""
        if isinstance(result, Usage):
            self._charge(result.total_tokens, self._cost(result))
        elif isinstance(result, LLMResponse) and result.usage is not None:
            cost = result.cost
            self._charge(result.usage.total_tokens, self._cost(result.usage) if cost is None else cost)
        elif isinstance(result, LLMResponse):
            chars = len(result.text) + len(result.reasoning or "")
            self._charge_estimate(chars + sum(len(c.name) + len(c.arguments) for c in result.tool_calls))
        elif result is None:
            self._charge(self.reserved_tokens, self.reserved_usd)
        else:
            raise InvalidInputError(f"settle() takes an LLMResponse or a Usage, not {type(result).__name__}")

    def release(self, usage: Usage | None = None) -> None:
        """The call failed: give the reservation back, charging ``usage`` — by default the
        usage of the error being handled (``error.usage``, when it reported some)."""
        if usage is None:
            error = sys.exception()
            usage = error.usage if isinstance(error, LLMError) else None
        if isinstance(usage, Usage):
            self.settle(usage)
        else:
            self._charge(0, 0.0)

    def watch(self, stream: AsyncIterator[LLMStreamChunk]) -> AsyncIterator[LLMStreamChunk]:
        """``stream`` passed through, stopped once its running output passes a limit (the
        provider's stream is closed, then :class:`BudgetExceededError` raised with ``text``:
        the text received, the chunk that passed the limit included, which is not yielded).
        The call is charged when the stream ends, fails or is closed (``aclose()``, also before
        its first chunk: then nothing is charged)."""
        return _Watched(self, stream)

    # -- internals ----------------------------------------------------------------------------

    def _plan(self, limits: list[_Limit], key: str, given: int | None) -> None:
        """Refuse, or cap ``max_tokens``, against ``limits``; set the reservation and the
        stream's allowance."""
        prompt, prompt_usd, out_price = self.input_tokens, self.input_tokens * self._in_price, self._out_price
        room_out, binding = math.inf, None
        for limit in limits:
            what, unit, cap, used = limit
            need = prompt if unit == "tokens" else prompt_usd
            if need > cap - used:
                raise self._exceeded(f"the prompt alone does not fit {what}", limit, need)
            if unit == "tokens":
                room = cap - used - need
            else:
                room = (cap - used - need) / out_price if out_price else math.inf
            if room < room_out:
                room_out, binding = room, limit
        room_out += 1e-9  # (a cost limit's room is a float quotient: exactly N tokens must fit)
        fits = math.floor(room_out) if binding is not None else self.max_output_tokens
        if self.max_output_tokens > fits and binding is not None:
            if given is not None or fits < 1:
                out = given if given is not None else 1
                what = f"the prompt + {key} {given:,}" if given is not None else "the prompt + any answer"
                need = prompt + out if binding[1] == "tokens" else prompt_usd + out * out_price
                raise self._exceeded(f"{what} does not fit {binding[0]}", binding, need, given is None)
            self.max_output_tokens = self.capped_max_tokens = fits
            self.params = {**self.params, "max_tokens": fits}
        self._binding = binding
        self._allow_chars = room_out * CHARS_PER_TOKEN
        self.reserved_tokens = prompt + self.max_output_tokens
        self.reserved_usd = prompt_usd + self.max_output_tokens * out_price

    def _cost(self, usage: Usage) -> float:
        return self._pricing.cost(usage) if self._pricing.known else 0.0

    def _charge_stream(self, usage: Usage | None, cost: float | None, chars: int) -> None:
        """Charge a stream: the usage it reported (priced when it has no cost), else the prompt
        plus ``chars`` of output."""
        if usage is None:
            self._charge_estimate(chars)
        else:
            self._charge(usage.total_tokens, self._cost(usage) if cost is None else cost)

    def _charge_estimate(self, chars: int) -> None:
        out = chars // CHARS_PER_TOKEN
        self._charge(self.input_tokens + out, self.input_tokens * self._in_price + out * self._out_price)

    def _charge(self, tokens: int, usd: float) -> None:
        if self._done:
            return
        self._done = True
        if self._budget is not None:
            self._budget._settle(self.reserved_tokens, self.reserved_usd, tokens, usd)

    def _exceeded(self, what: str, limit: _Limit, need: float, capped: bool = False) -> BudgetExceededError:
        """A refusal before the call: ``need`` against ``limit``."""
        hint = ("not even one output token would fit; " if capped else "") + _hint(limit[0])
        provider, model = self._who
        return BudgetExceededError(
            what,
            unit=limit[1],
            limit=limit[2],
            spent=limit[3],
            estimate=need,
            hint=hint,
            provider=provider,
            model=model,
        )

    def _stopped(self, text: str, chars: int) -> BudgetExceededError:
        """The error of a stream stopped after ``chars`` characters of output."""
        what, unit, cap, used = self._binding or ("a limit", "tokens", math.inf, 0)
        out = chars / CHARS_PER_TOKEN
        usd = self.input_tokens * self._in_price + out * self._out_price
        running = self.input_tokens + out if unit == "tokens" else usd
        return BudgetExceededError(
            f"the stream passed {what} after ~{out:,.0f} output tokens and was stopped",
            unit=unit,
            limit=cap,
            spent=used + running,
            text=text,
            hint=_hint(what),
            provider=self._who[0],
            model=self._who[1],
        )


class _Watched(AsyncIterator[LLMStreamChunk]):
    """:meth:`CallGuard.watch`'s iterator: an async generator (fast: its running figures are
    locals) behind a thin wrapper, so that closing it before its first chunk still gives the
    reservation back and closes upstream (an async generator never started runs no cleanup).
    No reference cycle: dropped, it is finalized at once (asyncio closes a started generator)."""

    __slots__ = ("_agen", "_guard", "_upstream")

    def __init__(self, guard: CallGuard, stream: AsyncIterator[LLMStreamChunk]) -> None:
        self._guard = guard
        aiter = getattr(stream, "__aiter__", None)
        if aiter is None:
            guard._charge(0, 0.0)
            raise InvalidInputError(f"watch() takes an async iterator, not {type(stream).__name__}")
        self._upstream: AsyncIterator[LLMStreamChunk] = aiter()
        self._agen = _watch(guard, self._upstream)

    def __aiter__(self) -> _Watched:
        return self

    def __anext__(self) -> Awaitable[LLMStreamChunk]:
        return self._agen.__anext__()

    async def aclose(self) -> None:
        """Stop early: charge what was used (nothing if no chunk was asked for) and close the
        provider's stream."""
        started = self._guard._started
        self._guard._started = True
        await self._agen.aclose()  # started: it charges and closes upstream
        if not started:
            self._guard._charge(0, 0.0)
            await _aclose(self._upstream)

    def __del__(self) -> None:
        if not self._guard._started:  # (once started, the generator's finalizer settles)
            self._guard._charge(0, 0.0)


async def _watch(guard: CallGuard, upstream: AsyncIterator[LLMStreamChunk]) -> AsyncGenerator[LLMStreamChunk]:
    """:class:`_Watched`'s body."""
    guard._started = True
    allow = guard._allow_chars
    chars = 0
    parts: list[str] = []
    usage: Usage | None = None
    cost: float | None = None
    try:
        async for chunk in upstream:
            text = chunk.text
            if text:
                chars += len(text)
                parts.append(text)
            if chunk.reasoning:
                chars += len(chunk.reasoning)
            if chunk.tool_calls:
                for delta in chunk.tool_calls:
                    chars += len(delta.arguments) + len(delta.name or "")
            if chunk.usage is not None:
                usage, cost = chunk.usage, chunk.cost
            if chars > allow:
                raise guard._stopped("".join(parts), chars)
            yield chunk
    except BaseException as failure:  # failed, stopped, cancelled or closed by the consumer
        if isinstance(failure, LLMError) and isinstance(failure.usage, Usage):
            usage, cost = failure.usage, None
        if usage is None and not chars and isinstance(failure, LLMError):
            guard._charge(0, 0.0)  # an error before any output (refused, unreachable …)
        else:
            guard._charge_stream(usage, cost, chars)
        with contextlib.suppress(Exception):  # the error being raised matters more
            await _aclose(upstream)
        raise
    guard._charge_stream(usage, cost, chars)


async def _aclose(iterator: AsyncIterator[Any]) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()


_SHARED = "the shared Budget's "


def _hint(what: str) -> str:
    if what.startswith(_SHARED):
        return "the shared Budget is (nearly) spent (calls in flight count): raise it or make a new one"
    name = "token_budget" if what == "token_budget" else "cost_ceiling_usd / ctx.budget_usd"
    return f"raise {name}, shorten the prompt or lower max_tokens"


def _max_output(params: Mapping[str, Any]) -> tuple[str, int | None]:
    """The output bound the caller gave: (its parameter name, its value or None)."""
    for key in MAX_OUTPUT_PARAMS:
        value = params.get(key)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidInputError(f"{key} must be an integer >= 1, not {value!r:.40}")
            return key, value
    return "max_tokens", None


def _check_number(what: str, value: Any, *, integer: bool = False) -> Any:
    """``value`` if it is None or a finite number >= 0 (an int when ``integer``); as a float
    when it is a cost."""
    if value is None:
        return None
    kinds = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value) or value < 0:
        raise InvalidInputError(
            f"{what} must be {'an integer' if integer else 'a number'} >= 0 or None, not {value!r:.40}"
        )
    return value if integer else float(value)
