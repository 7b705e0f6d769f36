"""``LLMClient``: one object for every configured provider, with bare model names, events, labels,
budgets and a blocking twin.

::

    client = LLMClient.from_env(default_model="gpt-4.1-mini")
    print(await client.ask("Name three rivers."))
    async for event in client.chat_stream("Tell me a story", model="claude-sonnet-4"):
        if event.type == "chunk":
            print(event.delta, end="")
    print(client.sync.ask("and in sync code"))

The client sits on the factory: each distinct ``(model, settings)`` becomes one model object
made by :func:`~core.llms.factory.create_llm` on first use and kept (with its connections,
retries, backups and circuit breakers) until :meth:`LLMClient.aclose`. Everything a model does
(typed errors, failover, observers) is unchanged; the client adds routing (see
:mod:`core.llms.client.routing`), labels, per-call limits and budgets, and the events of
:meth:`LLMClient.chat_stream`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Self

from ..interfaces.context import RequestContext, check_context
from ..interfaces.endpoint import Timeouts
from ..interfaces.errors import ConfigurationError, InvalidInputError, LLMError
from ..interfaces.messages import MessagesInput
from ..interfaces.types import LLMResponse, StreamAccumulator
from ..registry import ModelRegistry, default_registry
from .events import ChatEvent, ChunkEvent, LogEvent, ToolCallEvent, UsageEvent
from .routing import ModelRouter

if TYPE_CHECKING:
    from ..budget import Budget, CallGuard
    from ..providers.base.implementation import BaseLLM
    from ..providers.base.retry import RetryPolicy
    from .sync import SyncProxy

__all__ = ["LLMClient", "RetryIf"]

#: ``retry_if(error, attempt, ctx)``: True retries, False raises at once, None keeps the rules.
RetryIf = Callable[[LLMError, int, RequestContext | None], bool | None]

#: the RequestContext fields ``bind()`` sets directly; other labels go into ``ctx.labels``.
_CONTEXT_FIELDS = ("request_id", "tenant", "user")


class _Shared:
    """What a client and the clients bound from it share: settings, routing, model objects."""

    def __init__(
        self,
        *,
        registry: ModelRegistry,
        router: ModelRouter,
        providers: dict[str, dict[str, Any]],
        default_model: str | None,
        retry: RetryPolicy | Mapping[str, Any] | None,
        retry_if: RetryIf | None,
        model_options: dict[str, Any],
        rebuild: Callable[[], LLMClient],
    ) -> None:
        self.registry = registry
        self.router = router
        self.providers = providers
        self.default_model = default_model
        self.retry = retry
        self.retry_if = retry_if
        self.model_options = model_options
        self.rebuild = rebuild
        #: (model, provider) -> model object, for calls naming only a model (the fast path).
        self.by_name: dict[tuple[str | None, str | None], BaseLLM] = {}
        #: (qualified name, frozen settings) -> model object.
        self.models: dict[tuple[Any, ...], BaseLLM] = {}
        self.closed = False
        self.sync_root: LLMClient | None = None
        self.sync_proxy: SyncProxy | None = None


class LLMClient:
    """One client for every configured provider (see the module docstring).

    ``default_model``
        the model of calls that name none (bare or ``"provider/model"``).
    ``prefer``
        provider names in order of preference, for bare names several providers serve.
    ``providers``
        settings per provider: ``{"azure": {"endpoint": ..., "api_key": ...}}`` — the keywords
        of :func:`~core.llms.factory.create_llm` (``backups``, ``timeouts``, ``defaults`` …).
        A provider named here counts as configured.
    ``routes``
        aliases: ``{"fast": "groq/llama-3.1-8b-instant"}``.
    ``labels``
        carried by every call into ``ctx`` (``request_id``, ``tenant`` and ``user`` set those
        fields; the others ``ctx.labels``), so logs, metrics and observers see them.
    ``budget``
        a :class:`~core.llms.budget.Budget` every call of this client (and of clients bound
        from it without their own) is charged to.
    ``timeout``
        the default per-call timeout: seconds, or :class:`~core.llms.interfaces.endpoint.Timeouts`.
    ``retry``, ``retry_if``
        the retry policy of the models the client makes (a
        :class:`~core.llms.providers.base.retry.RetryPolicy` or a mapping of its fields) and a
        hook deciding per failed attempt (see ``docs/reliability.md``).
    ``environ``
        where credentials are looked for (default :data:`os.environ`).
    """

    def __init__(
        self,
        *,
        default_model: str | None = None,
        prefer: Sequence[str] = (),
        providers: Mapping[str, Mapping[str, Any]] | None = None,
        routes: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        budget: Budget | None = None,
        timeout: float | Timeouts | None = None,
        retry: RetryPolicy | Mapping[str, Any] | None = None,
        retry_if: RetryIf | None = None,
        registry: ModelRegistry | None = None,
        environ: Mapping[str, str] | None = None,
        drop_unsupported: bool = False,
    ) -> None:
        reg = registry if registry is not None else default_registry()
        given = _provider_settings(providers)
        env = os.environ if environ is None else environ
        configured = [p.name for p in reg.providers() if p.name in given or p.configured(env)]
        router = ModelRouter(reg, configured=configured, prefer=prefer, routes=routes)
        for name in given:
            reg.provider(name)  # (an unknown provider raises naming the registered ones)
        if default_model is not None and (not isinstance(default_model, str) or not default_model):
            raise ConfigurationError("default_model must be a model name")
        if retry_if is not None and not callable(retry_if):
            raise ConfigurationError(f"retry_if must be a function, not {type(retry_if).__name__}")
        settings = dict(
            default_model=default_model,
            prefer=tuple(prefer),
            providers=given,
            routes=dict(routes or {}),
            timeout=timeout,
            retry=retry,
            retry_if=retry_if,
            registry=registry,
            environ=environ,
            drop_unsupported=drop_unsupported,
        )
        self._shared = _Shared(
            registry=reg,
            router=router,
            providers=given,
            default_model=default_model,
            retry=retry,
            retry_if=retry_if,
            model_options={"drop_unsupported": drop_unsupported} if drop_unsupported else {},
            rebuild=lambda: LLMClient(**settings),  # type: ignore[arg-type]
        )
        self._root = True
        self._context, self._labels = _bound_context(labels or {})
        self._budget = _check_budget(budget)
        self._timeout = _check_timeout(timeout)
        self._sync: SyncProxy | None = None

    @classmethod
    def from_env(
        cls, default_model: str | None = None, prefer: Sequence[str] = (), **options: Any
    ) -> LLMClient:
        """A client for every provider whose credentials are in the environment (their API key
        variable, AWS's or Google's credential variables, a local server's endpoint variable),
        plus any given in ``providers=``. Other keywords as for :class:`LLMClient`."""
        return cls(default_model=default_model, prefer=prefer, **options)

    # -- what the client can reach --------------------------------------------------------------

    @property
    def available_providers(self) -> tuple[str, ...]:
        """The configured providers (credentials present, or settings given), sorted."""
        return tuple(sorted(self._shared.router.configured))

    @property
    def registry(self) -> ModelRegistry:
        """The model registry the client resolves names in."""
        return self._shared.registry

    @property
    def labels(self) -> dict[str, str]:
        """The labels this client's calls carry (``bind``)."""
        return {**self._context, **self._labels}

    def resolve(self, model: str | None = None, provider: str | None = None) -> str:
        """The qualified ``"provider/model"`` a call with these arguments goes to."""
        name = model if model is not None else self._shared.default_model
        if name is None:
            raise ConfigurationError(
                "no model given and the client has no default_model",
                hint="pass model=..., or LLMClient(default_model=...)",
            )
        return self._shared.router.route(name, provider)

    def model(
        self,
        model: str | None = None,
        *,
        provider: str | None = None,
        retry: RetryPolicy | Mapping[str, Any] | None = None,
        **endpoint_fields: Any,
    ) -> BaseLLM:
        """The model object serving ``model`` (made on first use, then kept): use it for media
        (``get_image``, ``embed`` …) or anything else a model does. ``endpoint_fields`` are
        :func:`~core.llms.factory.create_llm` keywords (``api_key``, ``endpoint``,
        ``api_version``, ``deployment_name``, ``backups`` …) overriding the provider's settings;
        each distinct set makes its own model object."""
        shared = self._shared
        if shared.closed:
            raise ConfigurationError("this LLMClient is closed")
        if retry is None and not endpoint_fields:
            found = shared.by_name.get((model, provider))
            if found is not None:
                return found
        qualified = self.resolve(model, provider)
        provider_name = qualified.partition("/")[0]
        fields = {**shared.providers.get(provider_name, {}), **endpoint_fields}
        policy = retry if retry is not None else fields.pop("retry", shared.retry)
        if shared.retry_if is not None:
            policy = _with_retry_if(policy, shared.retry_if)
        key = (qualified, _freeze(fields), _freeze(policy))
        llm = shared.models.get(key)
        if llm is None:
            from ..factory import create_llm

            options = {**shared.model_options, **fields}
            llm = create_llm(qualified, retry=policy, registry=shared.registry, **options)
            shared.models[key] = llm
        if retry is None and not endpoint_fields:
            shared.by_name[(model, provider)] = llm
        return llm

    # -- calls --------------------------------------------------------------------------------

    async def chat(
        self,
        messages: MessagesInput,
        *,
        model: str | None = None,
        provider: str | None = None,
        ctx: RequestContext | None = None,
        timeout: float | Timeouts | None = None,
        idempotency_key: str | None = None,
        token_budget: int | None = None,
        cost_ceiling_usd: float | None = None,
        **params: Any,
    ) -> LLMResponse:
        """Send ``messages`` (a string, ``Message`` objects, OpenAI dicts, ``("role", "text")``
        pairs, or a list mixing them) and return the whole answer.

        ``timeout``: seconds or a :class:`Timeouts` for this call (default: the client's).
        ``idempotency_key``: sent on every attempt. ``token_budget`` / ``cost_ceiling_usd``:
        limits of this call (``ctx.budget_usd`` is a cost ceiling too), checked before the call
        from the prompt and the maximum output; :class:`BudgetExceededError` when they cannot
        hold. Other keywords are call parameters (``temperature``, ``tools``,
        ``response_format`` …).
        """
        llm, ctx, guard = self._prepare(
            messages, model, provider, ctx, timeout, idempotency_key, token_budget, cost_ceiling_usd, params
        )
        if guard is None:
            return await llm.get_answer(messages, ctx, **params)
        try:
            response = await llm.get_answer(messages, ctx, **guard.params)
        except BaseException:
            guard.release()
            raise
        guard.settle(response)
        return response

    async def ask(self, messages: MessagesInput, *, system: str | None = None, **options: Any) -> str:
        """The answer's text: ``await client.ask("Name three rivers.")``. ``system`` is put
        first as a system message; other keywords as for :meth:`chat`."""
        if system is not None:
            if not isinstance(system, str):
                raise InvalidInputError(f"system must be a string, not {type(system).__name__}")
            messages = _with_system(system, messages)
        response = await self.chat(messages, **options)
        return response.text

    async def chat_stream(
        self,
        messages: MessagesInput,
        *,
        model: str | None = None,
        provider: str | None = None,
        ctx: RequestContext | None = None,
        timeout: float | Timeouts | None = None,
        idempotency_key: str | None = None,
        token_budget: int | None = None,
        cost_ceiling_usd: float | None = None,
        **params: Any,
    ) -> AsyncIterator[ChatEvent]:
        """Stream the answer as typed events (see :mod:`core.llms.client.events`): chunk events
        as text arrives, then each tool call whole, then one usage event (with the whole
        answer). Arguments as for :meth:`chat`; a cost ceiling also stops the stream once the
        running cost passes it (:class:`BudgetExceededError` carrying the text so far)."""
        from .events import begin_capture, end_capture, install_log_capture

        install_log_capture()
        logs: list[LogEvent] = []
        token = begin_capture(logs)
        try:
            limits = (token_budget, cost_ceiling_usd)
            llm, ctx, guard = self._prepare(
                messages, model, provider, ctx, timeout, idempotency_key, *limits, params
            )
            if guard is not None and guard.capped_max_tokens is not None:
                logs.append(
                    LogEvent("INFO", f"max_tokens capped at {guard.capped_max_tokens} to fit the budget")
                )
            try:
                upstream = llm.stream_answer(messages, ctx, **(guard.params if guard else params))
            except BaseException:
                if guard is not None:
                    guard.release()
                raise
            stream = guard.watch(upstream) if guard is not None else upstream
        finally:
            end_capture(token)
        acc = StreamAccumulator()
        iterator = stream.__aiter__()
        try:
            while True:
                if logs:
                    for event in logs:
                        yield event
                    logs.clear()
                token = begin_capture(logs)
                try:
                    chunk = await iterator.__anext__()
                except StopAsyncIteration:
                    break
                finally:
                    end_capture(token)
                acc.add(chunk)
                if chunk.text or chunk.reasoning:
                    yield ChunkEvent(chunk.text, chunk.reasoning, chunk)
        finally:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                await aclose()
        for event in logs:
            yield event
        response = acc.to_response(model=llm.name, provider=llm.provider)
        for call in response.tool_calls:
            yield ToolCallEvent(call)
        yield UsageEvent(response.usage, response.cost, response.finish_reason, response)

    # -- binding ------------------------------------------------------------------------------

    def bind(self, *, budget: Budget | None = None, **labels: str) -> LLMClient:
        """A client whose calls carry ``labels`` too (``request_id``, ``tenant``, ``user``,
        ``run_id`` …) and, when given, are charged to ``budget`` (else to this client's). It
        shares this client's models and connections: close the client it was bound from."""
        child = object.__new__(LLMClient)
        child._shared = self._shared
        child._root = False
        context, extra = _bound_context(labels)
        child._context = {**self._context, **context}
        child._labels = {**self._labels, **extra}
        child._budget = _check_budget(budget) if budget is not None else self._budget
        child._timeout = self._timeout
        child._sync = None
        return child

    # -- the blocking twin --------------------------------------------------------------------

    @property
    def sync(self) -> SyncProxy:
        """The same client for code without an event loop: ``client.sync.ask("hi")``,
        ``client.sync.chat(...)``, ``for event in client.sync.chat_stream(...)``. It runs on a
        private event loop in a worker thread (so it also works inside a running loop: Jupyter,
        an async handler) with its own connections, made on first use and closed by
        ``client.sync.close()`` or :meth:`aclose`."""
        if self._sync is None:
            from .sync import SyncProxy

            shared = self._shared
            if shared.sync_proxy is None:
                shared.sync_proxy = SyncProxy(self._sync_root)
            if self._root:
                self._sync = shared.sync_proxy
            else:
                context, labels, budget = self._context, self._labels, self._budget
                self._sync = SyncProxy(
                    lambda: self._sync_root().bind(budget=budget, **context, **labels),
                    shared.sync_proxy.runner,
                    aclose="_noop_aclose",
                )
        return self._sync

    def _sync_root(self) -> LLMClient:
        shared = self._shared
        if shared.sync_root is None:
            twin = shared.rebuild()
            twin._context, twin._labels, twin._budget = self._context, self._labels, self._budget
            shared.sync_root = twin
        return shared.sync_root

    async def _noop_aclose(self) -> None:
        """(A bound client owns no connections.)"""

    # -- closing ------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Close every model the client made (and its blocking twin). A bound client's
        ``aclose`` does nothing: the client it was bound from owns the connections."""
        shared = self._shared
        if not self._root or shared.closed:
            return
        shared.closed = True
        models = list(shared.models.values())
        shared.models.clear()
        shared.by_name.clear()
        await asyncio.gather(*(m.aclose() for m in models), return_exceptions=True)
        if shared.sync_proxy is not None:
            await asyncio.to_thread(shared.sync_proxy.close)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"LLMClient(default_model={self._shared.default_model!r}, "
            f"providers={list(self.available_providers)}, labels={sorted(self.labels)})"
        )

    # -- internals ----------------------------------------------------------------------------

    def _prepare(
        self,
        messages: MessagesInput,
        model: str | None,
        provider: str | None,
        ctx: RequestContext | None,
        timeout: float | Timeouts | None,
        idempotency_key: str | None,
        token_budget: int | None,
        cost_ceiling_usd: float | None,
        params: dict[str, Any],
    ) -> tuple[BaseLLM, RequestContext | None, CallGuard | None]:
        """The model, the context and the budget guard of a call (``params`` gets its timeout)."""
        llm = self.model(model, provider=provider)
        ctx = self._call_context(ctx, idempotency_key)
        if timeout is not None or self._timeout is not None:
            params["timeout"] = _check_timeout(timeout) if timeout is not None else self._timeout
        return llm, ctx, self._guard(llm, messages, params, ctx, token_budget, cost_ceiling_usd)

    def _call_context(self, ctx: RequestContext | None, idempotency_key: str | None) -> RequestContext | None:
        """``ctx`` with the bound labels and ``idempotency_key`` (None stays None when there is
        nothing to carry: the common call makes no context)."""
        check_context(ctx)
        if not (self._context or self._labels or idempotency_key is not None):
            return ctx
        if ctx is None:
            return RequestContext(
                **self._context,  # type: ignore[arg-type]  # (request_id, tenant, user: strings)
                labels=dict(self._labels),
                idempotency_key=idempotency_key,
            )
        # a context the caller made wins field by field (its request_id included); labels merge
        changes: dict[str, Any] = {
            name: value
            for name, value in self._context.items()
            if name != "request_id" and getattr(ctx, name) is None
        }
        if self._labels:
            changes["labels"] = {**self._labels, **ctx.labels}
        if idempotency_key is not None:
            changes["idempotency_key"] = idempotency_key
        return ctx.evolve(**changes) if changes else ctx

    def _guard(
        self,
        llm: BaseLLM,
        messages: MessagesInput,
        params: dict[str, Any],
        ctx: RequestContext | None,
        token_budget: int | None,
        cost_ceiling_usd: float | None,
    ) -> CallGuard | None:
        ceiling = cost_ceiling_usd
        if ceiling is None and ctx is not None:
            ceiling = ctx.budget_usd
        if token_budget is None and ceiling is None and self._budget is None:
            return None
        from ..budget import CallGuard
        from ..interfaces.messages import normalize_messages

        return CallGuard.open(
            llm.metadata,
            normalize_messages(messages),
            params,
            token_budget=token_budget,
            cost_ceiling_usd=ceiling,
            budget=self._budget,
        )


def _provider_settings(providers: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    if providers is None:
        return {}
    if not isinstance(providers, Mapping):
        raise ConfigurationError(
            f"providers must be a mapping of provider name to settings, not {type(providers).__name__}",
            hint='providers={"openai": {"api_key": ...}}',
        )
    out: dict[str, dict[str, Any]] = {}
    for name, settings in providers.items():
        if not isinstance(settings, Mapping):
            raise ConfigurationError(
                f"providers[{name!r}] must be a mapping of create_llm keywords, "
                f"not {type(settings).__name__}"
            )
        out[str(name)] = dict(settings)
    return out


def _bound_context(labels: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Labels split into RequestContext fields and ``ctx.labels``; every value must be a string."""
    context: dict[str, str] = {}
    extra: dict[str, str] = {}
    for name, value in labels.items():
        if not isinstance(value, str):
            raise InvalidInputError(f"label {name!r} must be a string, not {type(value).__name__}")
        (context if name in _CONTEXT_FIELDS else extra)[name] = value
    return context, extra


def _check_budget(budget: Any) -> Budget | None:
    if budget is None:
        return None
    from ..budget import Budget

    if not isinstance(budget, Budget):
        raise ConfigurationError(
            f"budget must be a core.llms.budget.Budget, not {type(budget).__name__}",
            hint="Budget(tokens=100_000, cost_usd=5.0)",
        )
    return budget


def _check_timeout(timeout: Any) -> float | Timeouts | None:
    if timeout is None or isinstance(timeout, Timeouts):
        return timeout
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < float("inf"):
        raise InvalidInputError(
            "timeout must be a positive number of seconds or a Timeouts",
            hint="timeout=30, or Timeouts(connect=5, read=20, total=60)",
        )
    return float(timeout)


def _with_retry_if(policy: Any, hook: RetryIf) -> Any:
    from ..providers.base.retry import RetryPolicy

    if policy is None:
        return RetryPolicy(retry_if=hook)
    if isinstance(policy, RetryPolicy):
        return dataclasses.replace(policy, retry_if=hook)
    if isinstance(policy, Mapping):
        return {**policy, "retry_if": hook}
    return policy  # (create_llm names the wrong type)


def _freeze(value: Any) -> Any:
    """A hashable stand-in for settings (dicts and lists by content, other objects by identity)."""
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return value


def _with_system(system: str, messages: MessagesInput) -> list[Any]:
    if isinstance(messages, str | Mapping) or not isinstance(messages, Sequence) or (
        isinstance(messages, tuple) and len(messages) == 2 and isinstance(messages[0], str)
    ):
        return [("system", system), messages]
    return [("system", system), *messages]
