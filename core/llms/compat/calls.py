"""How a compat call reaches a model: LiteLLM's keywords sorted into endpoint settings, call
parameters and the layer's own options; the model object looked up (made once per distinct
name and endpoint settings, then kept); the messages made acceptable.

Two states hold the clients: one for async calls (made on first use, on whatever loop calls),
one for the blocking calls, whose client lives on a :class:`~core.llms.client.sync.SyncRunner`'s
worker loop (connections belong to one loop). :func:`aclose` and :func:`close` close them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from ..interfaces.context import RequestContext
from ..interfaces.errors import ConfigurationError, InvalidInputError
from ..interfaces.messages import MessagesInput
from ..interfaces.types import LLMResponse, LLMStreamChunk
from .exceptions import UnsupportedParamsError
from .names import litellm_env_fields, split_model
from .objects import OpenAIObject

if TYPE_CHECKING:
    from ..client.client import LLMClient
    from ..client.local_loop import ThreadLoops
    from ..client.sync import SyncRunner
    from ..interfaces.llm_interfaces import ILLM

__all__ = [
    "Plan",
    "State",
    "aclose",
    "async_state",
    "blocking_iterate",
    "blocking_run",
    "close",
    "endpoint_kwargs",
    "plan",
    "prepare_messages",
    "sync_runner",
    "sync_state",
    "target",
]

logger = logging.getLogger("core.llms.compat")

#: LiteLLM keywords that choose the model object (its endpoint), -> create_llm keyword.
ENDPOINT_KEYS: dict[str, str] = {
    "api_key": "api_key",
    "api_base": "endpoint",
    "base_url": "endpoint",
    "api_version": "api_version",
    "extra_headers": "headers",
    "headers": "headers",
    "organization": "organization",
    "deployment_id": "deployment_name",
    "azure_ad_token": "token_provider",
    "aws_access_key_id": "aws_access_key_id",
    "aws_secret_access_key": "aws_secret_access_key",
    "aws_session_token": "aws_session_token",
    "aws_region_name": "region",
    "aws_profile_name": "profile",
    "aws_role_name": "role_arn",
    "aws_session_name": "role_session_name",
    "aws_bedrock_runtime_endpoint": "endpoint",
    "vertex_project": "project",
    "vertex_location": "location",
    "vertex_credentials": "credentials",
    "num_retries": "",
    "max_retries": "",
    "custom_llm_provider": "",
    "drop_params": "",
}
#: LiteLLM features this layer does not have: refused (even with drop_params), never ignored.
UNSUPPORTED_FEATURES: dict[str, str] = {
    "caching": "LiteLLM's response cache",
    "cache": "LiteLLM's response cache",
    "logger_fn": "LiteLLM's logging hooks (core-llms observers: docs/observability.md)",
    "context_window_fallback_dict": "context-window fallbacks (use fallbacks=[...])",
    "model_list": "LiteLLM's router model list",
    "input_cost_per_token": "custom prices (prices come from the model catalogue)",
    "output_cost_per_token": "custom prices (prices come from the model catalogue)",
    "base_model": "base_model pricing hints",
    "mock_timeout": "mock timeouts",
    "max_budget": "LiteLLM's budget manager (LLMClient(budget=...) has budgets)",
    "guardrails": "LiteLLM proxy guardrails",
    "prompt_id": "LiteLLM prompt management",
    "prompt_variables": "LiteLLM prompt management",
}
#: the fields an assistant message sent back may carry beyond the ones the messages take
#: (LiteLLM's response-only fields): dropped.
_RESPONSE_ONLY = frozenset(
    {"reasoning_content", "thinking_blocks", "provider_specific_fields", "annotations", "audio"}
)
_MESSAGE_KEYS = frozenset({"role", "content", "name", "tool_calls", "tool_call_id", "refusal"})
#: module-level callback settings LiteLLM programs set; this layer has none of them.
T = TypeVar("T")

_CALLBACKS = ("callbacks", "success_callback", "failure_callback", "input_callback")

_warned: set[tuple[str, str]] = set()


def settings() -> Any:
    """The package module (``core.llms.compat``), whose attributes are the module settings."""
    return sys.modules[__package__]


def _warn_once(what: str, name: str, message: str) -> None:
    if (what, name) not in _warned and len(_warned) < 1024:
        _warned.add((what, name))
        logger.warning(message)


# -- states --------------------------------------------------------------------------------------


class State:
    """A client and the targets looked up through it."""

    __slots__ = ("_client", "targets")

    def __init__(self) -> None:
        self._client: LLMClient | None = None
        self.targets: dict[Any, Target] = {}

    @property
    def client(self) -> LLMClient:
        """The client (made on first use from the environment's credentials)."""
        client = self._client
        if client is None:
            from ..client.client import LLMClient

            client = self._client = LLMClient.from_env()
        return client

    async def aclose(self) -> None:
        """Close the client's models; the next call makes a new client."""
        client, self._client = self._client, None
        self.targets.clear()
        if client is not None:
            await client.aclose()


_ASYNC = State()
_SYNC = State()
_runner: SyncRunner | None = None
_runner_lock = threading.Lock()


def async_state() -> State:
    """The state of the async calls."""
    return _ASYNC


def sync_state() -> State:
    """The state of the blocking calls (use it on the worker loop only)."""
    return _SYNC


def sync_runner() -> SyncRunner:
    """The worker loop of the blocking calls (started on first use; a new one after
    :func:`close`)."""
    global _runner
    runner = _runner
    if runner is None or runner.closed:
        with _runner_lock:
            runner = _runner
            if runner is None or runner.closed:
                from ..client.sync import SyncRunner

                runner = _runner = SyncRunner(name="core-llms-compat")
                runner.at_close(_SYNC.aclose)
    return runner


_loops: ThreadLoops | None = None


def _thread_loops() -> ThreadLoops:
    global _loops
    if _loops is None:
        with _runner_lock:
            if _loops is None:
                from ..client.local_loop import ThreadLoops

                _loops = ThreadLoops()
    return _loops


def blocking_run(make: Callable[[State], Coroutine[Any, Any, T]]) -> T:
    """Run ``make(state)`` for a blocking call: in the calling thread, on its own loop and state,
    when it has no running loop (no thread hand-off: the common case, and the cheap one);
    else on the worker loop (inside Jupyter or an async handler)."""
    loops = _thread_loops()
    if loops.usable():
        return loops.run(make(loops.local("compat", State, State.aclose)))
    return sync_runner().run(make(_SYNC))


def blocking_iterate(make: Callable[[State], AsyncIterator[T]]) -> Iterator[T]:
    """The items of ``make(state)`` for a blocking stream (where as :func:`blocking_run`)."""
    loops = _thread_loops()
    if loops.usable():
        state = loops.local("compat", State, State.aclose)
        return loops.iterate(lambda: make(state))
    return sync_runner().iterate(lambda: make(_SYNC))


def close() -> None:
    """Close the blocking calls' connections, their per-thread loops and their worker thread (a
    later call starts them again). Also done at interpreter exit."""
    global _runner
    with _runner_lock:
        runner, _runner = _runner, None
    if runner is not None:
        runner.close()
    if _loops is not None:
        _loops.close()


async def aclose() -> None:
    """Close the async calls' connections (a later call reopens them)."""
    await _ASYNC.aclose()


# -- targets: model objects by name and endpoint settings ------------------------------------


class Target:
    """A model object for one name and endpoint settings, and what is known about it."""

    __slots__ = ("_accepted", "llm", "provider", "qualified")

    def __init__(self, llm: Any, qualified: str) -> None:
        self.llm = llm
        self.qualified = qualified
        self.provider = qualified.partition("/")[0]
        self._accepted: frozenset[str] | None = None

    @property
    def accepted(self) -> frozenset[str] | None:
        """The call parameters the model takes (for ``drop_params``); None when unknown."""
        if self._accepted is None:
            self._accepted = accepted_parameters(self.llm)
        return self._accepted or None


def accepted_parameters(llm: Any) -> frozenset[str]:
    """The parameter names ``llm`` takes (empty when its class does not say)."""
    cls = type(llm)
    own = getattr(cls, "provider_parameters", None)
    meta = getattr(llm, "metadata", None)
    if not own or meta is None:
        return frozenset()
    names: frozenset[str] = (
        frozenset(own)
        | meta.parameters.extra_allowed
        | {"max_tokens"}
        | frozenset(getattr(cls, "parameter_aliases", {}))
    )
    return names


def _fixed_token(token: str) -> Any:
    """``azure_ad_token=``: a token provider that always gives that token."""

    def provide() -> str:
        return token

    return provide


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def target(state: State, model: str, endpoint: Mapping[str, Any] | None, drop: bool) -> Target:
    """The model object for LiteLLM's ``model`` and endpoint keywords (cached per state)."""
    # the keywords as given first (the usual repeat call: no sorting); then in a canonical form
    key: Any = (model, tuple(endpoint.items()) if endpoint else None, drop)
    try:
        found = state.targets.get(key)
    except TypeError:  # (a dict or list setting: compared by content)
        key, found = None, None
    if found is not None:
        return found
    if key is None:
        key = (model, _freeze(endpoint), drop)
        try:
            found = state.targets.get(key)
        except TypeError:  # (an unhashable setting: not cached here; the client keys it by identity)
            key, found = None, None
        if found is not None:
            return found
    made = _make_target(state, model, endpoint or {}, drop)
    if key is not None:
        if len(state.targets) >= 1024:
            state.targets.clear()
        state.targets[key] = made
    return made


def _make_target(state: State, model: str, endpoint: Mapping[str, Any], drop: bool) -> Target:
    name, provider = split_model(model, endpoint.get("custom_llm_provider"))
    client = state.client
    qualified = client.resolve(name, provider)
    profile = client.registry.provider(qualified.partition("/")[0])
    own_settings = set(profile.setting_names)
    fields: dict[str, Any] = {}
    retries: Any = None
    for key, value in endpoint.items():
        field = ENDPOINT_KEYS[key]
        if key in ("num_retries", "max_retries"):
            retries = value
        elif not field:
            continue
        elif field in ("api_version", "organization") and field not in own_settings:
            _warn_once(
                key,
                profile.name,
                f"{key}= is ignored for {profile.name} models: only "
                f"{'azure' if field == 'api_version' else 'openai'} endpoints take it",
            )
        elif field == "headers":
            if not isinstance(value, Mapping):
                raise InvalidInputError(f"{key} must be a dict of header names to values")
            fields["headers"] = {**fields.get("headers", {}), **value}
        elif field == "token_provider":
            fields["token_provider"] = _fixed_token(str(value))
        elif field == "credentials" and isinstance(value, str):
            if value.lstrip().startswith("{"):
                try:
                    fields["credentials"] = json.loads(value)
                except ValueError:
                    raise InvalidInputError("vertex_credentials is not valid JSON") from None
            else:
                fields["credentials_file"] = value
        else:
            fields[field] = value
    fields.update(litellm_env_fields(profile, fields))
    if drop:
        fields["drop_unsupported"] = True
    retry = None
    if retries is not None:
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise InvalidInputError(f"num_retries must be an integer >= 0, not {retries!r:.40}")
        retry = {"max_retries": retries}
    return Target(client.model(qualified, retry=retry, **fields), qualified)


# -- planning a call -----------------------------------------------------------------------------


@dataclass(slots=True)
class Plan:
    """One chat call, ready to send."""

    llm: ILLM
    qualified: str
    messages: MessagesInput
    ctx: RequestContext | None
    params: dict[str, Any]
    stream: bool
    include_usage: bool
    n: int
    structured: bool
    #: the qualified name answers come from (None with fallbacks: the answer says who served).
    served_by: str | None


def endpoint_kwargs(kwargs: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """``kwargs`` split into endpoint keywords (with the module's defaults) and the rest."""
    endpoint: dict[str, Any] | None = None
    rest: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key in ENDPOINT_KEYS:
            if value is not None:
                if endpoint is None:
                    endpoint = {}
                endpoint[key] = value
        else:
            rest[key] = value
    return _with_defaults(endpoint), rest


def _with_defaults(endpoint: dict[str, Any] | None) -> dict[str, Any] | None:
    pkg = settings()
    for name in ("api_key", "api_base", "api_version", "num_retries"):
        value = getattr(pkg, name, None)
        if value is not None:
            if endpoint is None:
                endpoint = {}
            if name == "api_base" and "base_url" in endpoint:
                continue
            if name == "num_retries" and "max_retries" in endpoint:
                continue
            endpoint.setdefault(name, value)
    return endpoint


def _check_module_settings() -> None:
    pkg = sys.modules[__package__]
    for name in _CALLBACKS:
        if getattr(pkg, name, None):
            raise ConfigurationError(
                f"core.llms.compat.{name} is set, but this layer has no LiteLLM callbacks",
                hint="use core-llms observers (docs/observability.md) or LLMClient events",
            )


def plan(state: State, model: str, messages: Any, kwargs: dict[str, Any]) -> Plan:
    """Sort the call's keywords, look the model up and check what LiteLLM accepts here.

    Raises :class:`UnsupportedParamsError` for a LiteLLM feature this layer lacks, and for a
    parameter the model does not take when not dropping; :class:`InvalidInputError` for a bad
    value of the layer's own options.
    """
    _check_module_settings()
    endpoint, rest = endpoint_kwargs(kwargs)
    drop = bool(endpoint.get("drop_params")) if endpoint and "drop_params" in endpoint else None
    if drop is None:
        drop = bool(getattr(settings(), "drop_params", False))
    params: dict[str, Any] = {}
    stream = include_usage = False
    n = 1
    fallbacks: Any = None
    labels: dict[str, str] | None = None
    for key, value in rest.items():
        if key in UNSUPPORTED_FEATURES:
            if value is not None and value is not False:
                raise UnsupportedParamsError(
                    f"{key}= ({UNSUPPORTED_FEATURES[key]}) is not supported by core.llms.compat",
                    hint="remove it; docs/litellm.md lists what differs",
                )
            continue
        if value is None:
            continue
        match key:
            case "stream":
                stream = _flag("stream", value)
            case "stream_options":
                include_usage = _stream_options(value, drop)
            case "n":
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise InvalidInputError(f"n must be an integer >= 1, not {value!r:.40}")
                n = value
            case "timeout" | "request_timeout":
                params["timeout"] = value
            case "fallbacks":
                fallbacks = value
            case "metadata" | "tags":
                labels = _labels(labels, key, value)
            case "max_completion_tokens" | "max_tokens":
                if "max_tokens" in params and params["max_tokens"] != value:
                    raise UnsupportedParamsError("pass only one of max_tokens and max_completion_tokens")
                params["max_tokens"] = value
            case "stop":
                params["stop"] = [value] if isinstance(value, str) else value
            case "functions":
                params["tools"] = _legacy_tools(value)
            case "function_call":
                params["tool_choice"] = _legacy_choice(value)
            case "mock_tool_calls" | "mock_delay" | "mock_response" | "litellm_call_id":
                pass
            case _:
                params[key] = value
    if "timeout" not in params:
        default_timeout = getattr(settings(), "request_timeout", None)
        if default_timeout is not None:
            params["timeout"] = default_timeout
    if n > 1 and stream:
        raise UnsupportedParamsError(
            "n > 1 with stream=True is not supported", hint="stream one answer per call"
        )
    found = target(state, model, endpoint, drop)
    llm: Any = found.llm
    if fallbacks:
        llm = _fallback_chain(state, found, endpoint, fallbacks, drop)
        if drop:
            llm = _Filtered(llm, found.accepted)  # (the chain passes one set of parameters)
    elif drop:
        params = _dropped(found, params)
    ctx = RequestContext(labels=labels) if labels else None
    return Plan(
        llm,
        found.qualified,
        prepare_messages(messages),
        ctx,
        params,
        stream,
        include_usage,
        n,
        params.get("response_format") is not None,
        None if fallbacks else found.qualified,
    )


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError(f"{name} must be True or False, not {type(value).__name__}")
    return value


def _stream_options(value: Any, drop: bool) -> bool:
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"stream_options must be a dict, not {type(value).__name__}")
    unknown = sorted(set(value) - {"include_usage"})
    if unknown and not drop:
        raise UnsupportedParamsError(f"stream_options {unknown} not supported", hint="only include_usage is")
    return bool(value.get("include_usage"))


def _labels(labels: dict[str, str] | None, key: str, value: Any) -> dict[str, str]:
    """``metadata`` / ``tags`` as the call's labels (logs, metrics and observers see them; they
    are not sent to the provider, as in LiteLLM)."""
    out = dict(labels or {})
    if key == "tags":
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise InvalidInputError("tags must be a list of strings")
        out["tags"] = ",".join(str(t) for t in value)
        return out
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"metadata must be a dict, not {type(value).__name__}")
    for name, item in value.items():
        out[str(name)] = item if isinstance(item, str) else json.dumps(item, default=str)
    return out


def _legacy_tools(functions: Any) -> list[dict[str, Any]]:
    """``functions=`` (OpenAI's legacy function calling) as ``tools``."""
    if isinstance(functions, str | Mapping) or not isinstance(functions, Sequence):
        raise InvalidInputError("functions must be a list of function definitions")
    return [{"type": "function", "function": f} for f in functions]


def _legacy_choice(choice: Any) -> Any:
    """``function_call=`` as ``tool_choice``."""
    if isinstance(choice, Mapping) and "name" in choice:
        return {"type": "function", "function": {"name": choice["name"]}}
    return choice


def _dropped(found: Target, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` less what the model does not take (``drop_params``), each logged once."""
    accepted = found.accepted
    if accepted is None:
        return params
    kept = {}
    for name, value in params.items():
        if name in accepted or name in ("timeout", "read_timeout"):
            kept[name] = value
        else:
            _warn_once(
                "drop", f"{found.qualified}:{name}", f"dropping {name!r}: {found.qualified} does not take it"
            )
    return kept


class _Filtered:
    """A model of a fallback chain that drops the parameters it does not take."""

    __slots__ = ("_accepted", "_llm")

    def __init__(self, llm: Any, accepted: frozenset[str] | None) -> None:
        self._llm = llm
        self._accepted = accepted

    def _params(self, params: dict[str, Any]) -> dict[str, Any]:
        if self._accepted is None:
            return params
        return {k: v for k, v in params.items() if k in self._accepted or k in ("timeout", "read_timeout")}

    async def get_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> LLMResponse:
        response: LLMResponse = await self._llm.get_answer(messages, ctx, **self._params(params))
        return response

    def stream_answer(
        self, messages: MessagesInput, ctx: RequestContext | None = None, **params: Any
    ) -> AsyncIterator[LLMStreamChunk]:
        stream: AsyncIterator[LLMStreamChunk] = self._llm.stream_answer(messages, ctx, **self._params(params))
        return stream

    @property
    def metadata(self) -> Any:
        return getattr(self._llm, "metadata", None)

    @property
    def provider(self) -> Any:
        return getattr(self._llm, "provider", None)

    @property
    def name(self) -> Any:
        return getattr(self._llm, "name", None)


def _fallback_chain(
    state: State, primary: Target, endpoint: Mapping[str, Any] | None, fallbacks: Any, drop: bool
) -> Any:
    """A :class:`~core.llms.fallback.FallbackLLM` over the primary and ``fallbacks`` (names, or
    dicts with ``model`` and endpoint keywords). A fallback on the primary's provider inherits
    its endpoint keywords; one on another provider does not (a key is never sent to another
    provider): it uses its own keywords and the environment."""
    from ..fallback import FallbackLLM

    if isinstance(fallbacks, str | Mapping) or not isinstance(fallbacks, Sequence):
        raise InvalidInputError("fallbacks must be a list of model names or dicts with a 'model'")
    inherited = {k: v for k, v in (endpoint or {}).items() if k not in ("custom_llm_provider",)}
    models: list[Any] = []
    for i, item in enumerate(fallbacks):
        own: dict[str, Any] = {}
        if isinstance(item, str):
            name = item
        elif isinstance(item, Mapping) and isinstance(item.get("model"), str):
            name = item["model"]
            for key, value in item.items():
                if key == "model":
                    continue
                if key not in ENDPOINT_KEYS:
                    raise UnsupportedParamsError(
                        f"fallbacks[{i}] sets {key!r}: a fallback dict may set 'model' and endpoint "
                        "keywords (api_key, api_base, api_version …)"
                    )
                own[key] = value
        else:
            raise InvalidInputError(f"fallbacks[{i}] must be a model name or a dict with a 'model'")
        probe_name, probe_provider = split_model(name, own.get("custom_llm_provider"))
        provider = state.client.resolve(probe_name, probe_provider).partition("/")[0]
        settings_ = {**inherited, **own} if provider == primary.provider else own
        found = target(
            state, name, _with_defaults(dict(settings_)) if settings_ else _with_defaults(None), drop
        )
        models.append(_Filtered(found.llm, found.accepted) if drop else found.llm)
    return FallbackLLM(primary.llm, *models)


# -- messages ------------------------------------------------------------------------------------


def prepare_messages(messages: Any) -> Any:
    """The messages as the models take them: a list of plain OpenAI dicts with string contents
    is passed as it is (the fast path); objects this layer returned
    (``response.choices[0].message``) become dicts, and LiteLLM's response-only fields
    (``reasoning_content`` …) and fields set to None are left out. Anthropic's ``cache_control``
    marks (on a message or a content part) are refused: they would be lost (the Anthropic
    models take ``cache_system=True`` / ``cache_messages=True`` instead)."""
    if messages is None:
        raise InvalidInputError("messages is required: a list of {'role': ..., 'content': ...} dicts")
    if type(messages) is list:
        for m in messages:
            if type(m) is not dict or not m.keys() <= _MESSAGE_KEYS or type(m.get("content")) is list:
                return [_clean(m) for m in messages]
        return messages
    if isinstance(messages, OpenAIObject | Mapping):
        return [_clean(messages)]
    return messages


def _clean(message: Any) -> Any:
    if isinstance(message, OpenAIObject):
        message = message.model_dump()
    if not isinstance(message, Mapping):
        return message
    content = message.get("content")
    if "cache_control" in message or (
        isinstance(content, list) and any(isinstance(p, Mapping) and "cache_control" in p for p in content)
    ):
        raise UnsupportedParamsError(
            "cache_control marks in messages are not supported by core.llms.compat",
            hint="Anthropic models take cache_system=True / cache_messages=True (call parameters) instead",
        )
    if message.keys() <= _MESSAGE_KEYS:
        return message
    return {
        k: v for k, v in message.items() if k not in _RESPONSE_ONLY and (v is not None or k in _MESSAGE_KEYS)
    }


# -- n > 1 ---------------------------------------------------------------------------------------


async def answers(call: Plan) -> list[LLMResponse]:
    """``call.n`` answers, asked for at once (one request each); the first failure cancels the
    others and is raised."""
    tasks = [
        asyncio.ensure_future(call.llm.get_answer(call.messages, call.ctx, **call.params))
        for _ in range(call.n)
    ]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
