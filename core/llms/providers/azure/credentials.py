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

import importlib
import logging
import math
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from ...interfaces.errors import ConfigurationError
from ..base.refreshing import (
    FALLBACK_VALIDITY,
    RETRY_AFTER_FAILURE,
    Kept,
    RefreshFailure,
    RefreshingValue,
    failure_reason,
    run_off_loop,
)

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


class EntraTokenProvider(RefreshingValue[str]):
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

    __slots__ = ("_credential", "scope")

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
        super().__init__(refresh_margin=refresh_margin, clock=clock, owner="EntraTokenProvider")
        if not callable(clock):
            raise ConfigurationError("EntraTokenProvider.clock must be a callable returning seconds")
        self._credential = credential
        self.scope = scope

    @property
    def credential(self) -> Any:
        """The credential tokens come from."""
        return self._credential

    @property
    def _token(self) -> Kept[str] | None:
        """The token kept (never shown by its repr)."""
        return self._kept

    def __repr__(self) -> str:
        return f"EntraTokenProvider(credential={type(self._credential).__name__}, scope={self.scope!r})"

    async def _load(self) -> tuple[str, float | None, float | None]:
        """Ask the credential once (a sync one in a worker thread)."""
        access = await run_off_loop(self._credential.get_token, self.scope)
        value, expires_on, refresh_on = _read_access_token(access)
        if value is None or expires_on is None:
            raise RefreshFailure(
                f"the Entra ID credential {type(self._credential).__name__} returned "
                f"a {type(access).__name__}, not an access token (token, expires_on)",
                "get_token(*scopes) must return an AccessToken (azure.core.credentials)",
            )
        return value, expires_on, refresh_on

    def _expired(self) -> RefreshFailure:
        return RefreshFailure(
            f"the Entra ID credential {type(self._credential).__name__} returned an expired token",
            "check the machine's clock and the credential's token cache",
        )

    def _log_fallback(self, exc: Exception) -> None:
        logger.warning(
            "refreshing the Entra ID token from %s failed (%s); the current token is used until "
            "it nearly expires",
            type(self._credential).__name__,
            failure_reason(exc),
        )

    def _explain(self, exc: Exception) -> RefreshFailure:
        kind = type(self._credential).__name__
        return RefreshFailure(
            f"the Entra ID credential {kind} could not get a token ({failure_reason(exc)})",
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
