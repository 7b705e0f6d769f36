"""Microsoft Entra ID for Azure OpenAI: :class:`EntraTokenProvider`, a cached token provider made
from an ``azure-identity`` credential.

A *credential* is any object with ``get_token(*scopes)`` returning an access token: an object
with ``token`` (str) and ``expires_on`` (seconds since the epoch), such as azure-core's
``AccessToken`` (a ``(token, expires_on)`` tuple is read too). ``get_token`` may be synchronous
(``azure.identity.DefaultAzureCredential``: it is run in a worker thread, never on the event
loop) or a coroutine function (``azure.identity.aio.DefaultAzureCredential``).

:class:`EntraTokenProvider` asks the credential for a token of the Azure OpenAI scope
(:data:`ENTRA_SCOPE`) and keeps it:

* **refreshed before it expires**: ``refresh_margin`` seconds before ``expires_on`` (5 minutes by
  default; at most half the token's lifetime, so a short-lived token is not fetched on every
  request), or at the credential's own ``refresh_on`` hint when it is earlier;
* **never expired**: a token is only handed out before its refresh time, which is before its
  expiry; when a refresh fails, the current token is used while it still has
  :data:`FALLBACK_VALIDITY` seconds left (the refresh is tried again after
  :data:`RETRY_AFTER_FAILURE` seconds), else the call fails with
  :class:`~core.llms.interfaces.errors.AuthenticationError`;
* **single-flight**: concurrent requests that need a new token share one ``get_token`` call;
* **secret**: the token appears in no repr, log line or error. A credential's exception is
  reported by its type only (its message may quote tenant or client details): call
  ``credential.get_token(ENTRA_SCOPE)`` yourself to see it.

Passing a credential to ``create_llm("azure/...", credential=...)`` (or ``token_provider=``), on
the primary endpoint or a backup, wraps it in an :class:`EntraTokenProvider` with the defaults;
``credential="default"`` makes ``azure.identity.DefaultAzureCredential()``
(:func:`default_credential`). This module never imports ``azure.identity`` except there.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import math
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from ...interfaces.errors import AuthenticationError, ConfigurationError, LLMError

__all__ = [
    "DEFAULT_REFRESH_MARGIN",
    "ENTRA_SCOPE",
    "FALLBACK_VALIDITY",
    "RETRY_AFTER_FAILURE",
    "EntraTokenProvider",
    "default_credential",
    "entra_scope",
    "is_credential",
]

logger = logging.getLogger("core.llms.azure")

#: the scope of an Azure OpenAI (Cognitive Services) token in Azure's public cloud.
ENTRA_SCOPE = "https://cognitiveservices.azure.com/.default"
#: the scopes of the sovereign clouds, by the end of the endpoint's host name.
_CLOUD_SCOPES = (
    (".azure.us", "https://cognitiveservices.azure.us/.default"),
    (".azure.cn", "https://cognitiveservices.azure.cn/.default"),
)
#: seconds before expiry a token is refreshed.
DEFAULT_REFRESH_MARGIN = 300.0
#: when a refresh fails, the current token is still used if it has this many seconds left.
FALLBACK_VALIDITY = 30.0
#: after a failed refresh that fell back on the current token, seconds before trying again.
RETRY_AFTER_FAILURE = 30.0


def is_credential(value: object) -> bool:
    """Is ``value`` a credential object (``get_token``), as opposed to a token callable?"""
    return callable(getattr(value, "get_token", None))


def entra_scope(endpoint_url: str) -> str:
    """The Entra ID scope for an Azure OpenAI endpoint: Azure Government's (``*.azure.us``),
    Azure China's (``*.azure.cn``), else the public cloud's :data:`ENTRA_SCOPE`."""
    host = (urlsplit(endpoint_url).hostname or "").lower()
    for suffix, scope in _CLOUD_SCOPES:
        if host.endswith(suffix):
            return scope
    return ENTRA_SCOPE


def default_credential() -> Any:
    """``azure.identity.DefaultAzureCredential()`` (environment, workload identity, managed
    identity, Azure CLI …), imported now; :class:`ConfigurationError` when azure-identity is
    not installed."""
    try:
        identity = importlib.import_module("azure.identity")
    except ImportError:
        raise ConfigurationError(
            "credential='default' needs the azure-identity package, which is not installed",
            hint="pip install 'core-llms[azure]' (or pass your own credential object or token_provider=)",
        ) from None
    return identity.DefaultAzureCredential()


class _Token:
    """A token and when to refresh it (never shown)."""

    __slots__ = ("expires_on", "refresh_at", "value")

    def __init__(self, value: str, expires_on: float, refresh_at: float) -> None:
        self.value = value
        self.expires_on = expires_on
        self.refresh_at = refresh_at

    def __repr__(self) -> str:
        return f"_Token(expires_on={self.expires_on!r})"


class _Failure:
    """Why a fetch failed: each waiting request raises its own error from it (an error object is
    filled in with the endpoint and attempt of the request that raises it: never shared)."""

    __slots__ = ("hint", "message")

    def __init__(self, message: str, hint: str) -> None:
        self.message = message
        self.hint = hint


class EntraTokenProvider:
    """A token provider (an async callable returning a bearer token) for Azure OpenAI, made from
    an Entra ID ``credential`` (see the module doc): cached, refreshed ``refresh_margin`` seconds
    before expiry, single-flight, never blocking the event loop.

    ``credential`` is a credential object (``get_token``), or ``"default"`` for
    ``azure.identity.DefaultAzureCredential()``. ``scope`` defaults to :data:`ENTRA_SCOPE`
    (Azure Government and Azure China have their own: see :func:`entra_scope`). ``clock``
    returns the current time in seconds since the epoch (``time.time``; tests pass a fake).

    Use it as ``token_provider=`` of any endpoint; one instance may serve several endpoints and
    models (they then share the token)::

        from azure.identity import DefaultAzureCredential
        tokens = EntraTokenProvider(DefaultAzureCredential())
        llm = create_llm("azure/gpt-4.1", endpoint="https://res.openai.azure.com", token_provider=tokens)
    """

    __slots__ = ("_clock", "_credential", "_fetching", "_is_async", "_margin", "_token", "scope")

    _credential: Any
    scope: str

    def __init__(
        self,
        credential: Any,
        *,
        scope: str = ENTRA_SCOPE,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if isinstance(credential, str) and credential == "default":
            credential = default_credential()
        if isinstance(credential, EntraTokenProvider):
            credential = credential._credential
        if not is_credential(credential):
            raise ConfigurationError(
                f"an Entra ID credential must have a get_token(*scopes) method; "
                f"{type(credential).__name__} has none",
                hint="pass an azure-identity credential (e.g. DefaultAzureCredential()), 'default', "
                "or a callable returning a token as token_provider=",
            )
        if not isinstance(scope, str) or not scope.strip() or any(c.isspace() for c in scope):
            raise ConfigurationError("EntraTokenProvider.scope must be a scope string without spaces")
        if (
            isinstance(refresh_margin, bool)
            or not isinstance(refresh_margin, int | float)
            or not 0 <= refresh_margin < math.inf
        ):
            raise ConfigurationError("EntraTokenProvider.refresh_margin must be a number of seconds >= 0")
        if not callable(clock):
            raise ConfigurationError("EntraTokenProvider.clock must be a callable returning seconds")
        self._credential = credential
        self.scope = scope
        self._margin = float(refresh_margin)
        self._clock = clock
        self._is_async = inspect.iscoroutinefunction(credential.get_token)
        self._token: _Token | None = None
        #: the refresh in flight (shared by every request that waits for it), if any.
        self._fetching: asyncio.Task[_Token | _Failure] | None = None

    @property
    def credential(self) -> Any:
        """The credential tokens come from."""
        return self._credential

    @property
    def refresh_margin(self) -> float:
        """Seconds before expiry a token is refreshed."""
        return self._margin

    def __repr__(self) -> str:
        return f"EntraTokenProvider(credential={type(self._credential).__name__}, scope={self.scope!r})"

    def invalidate(self) -> None:
        """Forget the current token: the next request fetches a new one (e.g. after a 401 that
        says the token was revoked)."""
        self._token = None

    async def __call__(self) -> str:
        """A valid token: the kept one until its refresh time, else a new one."""
        token = self._token
        if token is not None and self._clock() < token.refresh_at:
            return token.value
        return await self._refresh()

    async def _refresh(self) -> str:
        loop = asyncio.get_running_loop()
        task = self._fetching
        if task is None or task.done() or task.get_loop() is not loop:
            # (a refresh begun in another event loop cannot be awaited here: this loop gets its own)
            task = self._fetching = loop.create_task(self._fetch())
        # shielded: a request cancelled while it waits does not cancel the others' refresh
        outcome = await asyncio.shield(task)
        if isinstance(outcome, _Failure):
            raise AuthenticationError(outcome.message, hint=outcome.hint)
        return outcome.value

    async def _fetch(self) -> _Token | _Failure:
        """Ask the credential once; keep and return the token, or say why there is none."""
        try:
            access = await self._get_token()
        except Exception as exc:  # reported by its type only: its text may hold details
            return self._failed(exc)
        finally:
            if self._fetching is asyncio.current_task():
                self._fetching = None
        return self._keep(access)

    async def _get_token(self) -> Any:
        get_token = self._credential.get_token
        if self._is_async:
            return await get_token(self.scope)
        result = await asyncio.to_thread(get_token, self.scope)  # a sync credential does network I/O
        if inspect.isawaitable(result):  # a sync-looking get_token that returned a coroutine
            result = await result
        return result

    def _keep(self, access: Any) -> _Token | _Failure:
        value, expires_on, refresh_on = _read_access_token(access)
        if value is None or expires_on is None:
            return _Failure(
                f"the Entra ID credential {type(self._credential).__name__} returned "
                f"a {type(access).__name__}, not an access token (token, expires_on)",
                "get_token(*scopes) must return an AccessToken (azure.core.credentials)",
            )
        now = self._clock()
        lifetime = expires_on - now
        if lifetime <= 0:
            return _Failure(
                f"the Entra ID credential {type(self._credential).__name__} returned an expired token",
                "check the machine's clock and the credential's token cache",
            )
        refresh_at = expires_on - min(self._margin, lifetime / 2)
        if refresh_on is not None and now < refresh_on < refresh_at:
            refresh_at = refresh_on
        token = self._token = _Token(value, expires_on, refresh_at)
        return token

    def _failed(self, exc: Exception) -> _Token | _Failure:
        """A failed refresh: the current token while it is still good for a while, else why not."""
        kind = type(self._credential).__name__
        if isinstance(exc, LLMError):
            reason = type(exc).__name__
        else:
            reason = f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins.")
        current = self._token
        now = self._clock()
        if current is not None and now < current.expires_on - FALLBACK_VALIDITY:
            current.refresh_at = min(now + RETRY_AFTER_FAILURE, current.expires_on - FALLBACK_VALIDITY)
            logger.warning(
                "refreshing the Entra ID token from %s failed (%s); the current token is used until "
                "it nearly expires",
                kind,
                reason,
            )
            return current
        return _Failure(
            f"the Entra ID credential {kind} could not get a token ({reason})",
            f"call {kind}.get_token({self.scope!r}) yourself to see why (signed in? az login, "
            "managed identity, AZURE_CLIENT_ID / AZURE_TENANT_ID …)",
        )


def _read_access_token(access: Any) -> tuple[str | None, float | None, float | None]:
    """(token, expires_on, refresh_on) of an ``AccessToken`` / ``AccessTokenInfo`` (or a
    ``(token, expires_on)`` pair); None for what is missing or unusable."""
    value = getattr(access, "token", None)
    expires_on = getattr(access, "expires_on", None)
    if value is None and isinstance(access, tuple) and len(access) == 2:
        value, expires_on = access
    if not isinstance(value, str) or not value.strip() or any(c in value for c in "\r\n"):
        value = None
    else:
        value = value.strip()
    refresh_on = getattr(access, "refresh_on", None)
    return value, _seconds(expires_on), _seconds(refresh_on)


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)
