"""Google credentials for Vertex AI: :class:`GoogleTokenProvider`, a cached OAuth access token made
from google-auth credentials.

The credentials are a google-auth credentials object (``google.oauth2.service_account.Credentials``,
workload identity federation's ``external_account`` credentials, ``impersonated_credentials`` …:
anything with ``refresh(request)``, ``token`` and ``expiry``), or loaded on first use from a JSON
file (``credentials_file``: ``google.auth.load_credentials_from_file``) or from Application
Default Credentials (``google.auth.default()``: ``GOOGLE_APPLICATION_CREDENTIALS``, the gcloud
CLI's login, the metadata server on Google Cloud …), with the ``cloud-platform`` scope.

:class:`GoogleTokenProvider` keeps the token:

* **refreshed off the event loop**: ``credentials.refresh(google.auth.transport.requests.Request())``
  (and loading the credentials) runs in a worker thread (``asyncio.to_thread``): it does blocking
  network I/O (the token endpoint, the metadata server);
* **refreshed before it expires**: ``refresh_margin`` seconds before ``expiry`` (5 minutes by
  default; at most half the token's lifetime, so a short-lived token is not fetched on every
  request); a token without an expiry is refreshed after :data:`UNKNOWN_EXPIRY_LIFETIME` seconds;
* **never expired**: a token is only handed out before its refresh time, which is before its
  expiry; when a refresh fails, the current token is used while it still has
  :data:`FALLBACK_VALIDITY` seconds left (the refresh is tried again after
  :data:`RETRY_AFTER_FAILURE` seconds), else the call fails with
  :class:`~core.llms.interfaces.errors.AuthenticationError`;
* **single-flight**: concurrent requests that need a new token share one refresh;
* **secret**: the token appears in no repr, log line or error; a credentials error is reported by
  its type only (its message may quote account details).

``google-auth`` is imported on the first refresh, never by ``import core.llms`` or by another
provider; without it the call fails with a :class:`ConfigurationError` naming the extra.
"""

from __future__ import annotations

import asyncio
import datetime
import importlib
import logging
import math
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from ...interfaces.errors import AuthenticationError, ConfigurationError, LLMError

__all__ = [
    "CLOUD_PLATFORM_SCOPE",
    "DEFAULT_REFRESH_MARGIN",
    "FALLBACK_VALIDITY",
    "RETRY_AFTER_FAILURE",
    "UNKNOWN_EXPIRY_LIFETIME",
    "GoogleTokenProvider",
]

logger = logging.getLogger("core.llms.vertex")

#: the OAuth scope of Vertex AI calls.
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
#: seconds before expiry a token is refreshed.
DEFAULT_REFRESH_MARGIN = 300.0
#: when a refresh fails, the current token is still used if it has this many seconds left.
FALLBACK_VALIDITY = 30.0
#: after a failed refresh that fell back on the current token, seconds before trying again.
RETRY_AFTER_FAILURE = 30.0
#: a token whose credentials report no expiry is refreshed after this many seconds.
UNKNOWN_EXPIRY_LIFETIME = 300.0
_INSTALL_HINT = "pip install 'core-llms[vertex]' (google-auth), or pass token_provider= / api_key="


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
    """Why a refresh failed: each waiting request raises its own error from it."""

    __slots__ = ("config", "hint", "message")

    def __init__(self, message: str, hint: str, *, config: bool = False) -> None:
        self.message = message
        self.hint = hint
        self.config = config


class GoogleTokenProvider:
    """An async callable returning an OAuth access token for Vertex AI (see the module doc):
    cached, refreshed ``refresh_margin`` seconds before expiry in a worker thread, single-flight.

    ``credentials``: a google-auth credentials object; else ``credentials_file``: a JSON
    credentials file; else Application Default Credentials. ``scopes`` default to
    ``cloud-platform``; ``clock`` returns the time in seconds since the epoch (tests pass a fake).
    """

    __slots__ = (
        "_clock",
        "_credentials",
        "_fetching",
        "_file",
        "_margin",
        "_request",
        "_scopes",
        "_token",
        "quota_project",
    )

    def __init__(
        self,
        credentials: Any = None,
        *,
        credentials_file: str | None = None,
        scopes: Sequence[str] = (CLOUD_PLATFORM_SCOPE,),
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if credentials is not None and not callable(getattr(credentials, "refresh", None)):
            raise ConfigurationError(
                "Google credentials must have a refresh(request) method; "
                f"{type(credentials).__name__} has none"
            )
        if (
            isinstance(refresh_margin, bool)
            or not isinstance(refresh_margin, int | float)
            or not 0 <= refresh_margin < math.inf
        ):
            raise ConfigurationError("GoogleTokenProvider.refresh_margin must be a number of seconds >= 0")
        if isinstance(scopes, str) or not all(isinstance(s, str) and s for s in scopes):
            raise ConfigurationError("GoogleTokenProvider.scopes must be a list of scope strings")
        self._credentials = credentials
        self._file = credentials_file
        self._scopes = tuple(scopes)
        self._margin = float(refresh_margin)
        self._clock = clock
        self._token: _Token | None = None
        self._request: Any = None
        #: the refresh in flight (shared by every request that waits for it), if any.
        self._fetching: asyncio.Task[_Token | _Failure] | None = None
        #: the credentials' quota project (``x-goog-user-project``), known after the first refresh.
        self.quota_project: str | None = None

    def __repr__(self) -> str:
        if self._credentials is not None:
            source = type(self._credentials).__name__
        else:
            source = "credentials_file" if self._file is not None else "application default credentials"
        return f"GoogleTokenProvider({source})"

    @property
    def credentials(self) -> Any:
        """The credentials object (None until Application Default Credentials or the file were
        loaded by the first refresh)."""
        return self._credentials

    def invalidate(self) -> None:
        """Forget the current token: the next request refreshes it (e.g. after a 401)."""
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
            cls = ConfigurationError if outcome.config else AuthenticationError
            raise cls(outcome.message, hint=outcome.hint)
        return outcome.value

    async def _fetch(self) -> _Token | _Failure:
        """Refresh once (in a worker thread); keep and return the token, or say why there is none."""
        try:
            value, expiry = await asyncio.to_thread(self._refresh_in_thread)
        except _MissingGoogleAuth:
            return _Failure(
                "Vertex AI credentials need the google-auth package, which is not installed",
                _INSTALL_HINT,
                config=True,
            )
        except Exception as exc:  # reported by its type only: its text may hold account details
            return self._failed(exc)
        finally:
            if self._fetching is asyncio.current_task():
                self._fetching = None
        return self._keep(value, expiry)

    def _refresh_in_thread(self) -> tuple[Any, Any]:
        """Load the credentials if needed and refresh them (blocking: runs in a worker thread).
        Returns the new token and its expiry as read right after the refresh."""
        credentials = self._credentials
        try:
            requests_transport = importlib.import_module("google.auth.transport.requests")
            google_credentials = importlib.import_module("google.auth.credentials")
        except ImportError:
            raise _MissingGoogleAuth from None
        if credentials is None:
            auth = importlib.import_module("google.auth")
            if self._file is not None:
                # the caller's own file, trusted as GOOGLE_APPLICATION_CREDENTIALS is (google-auth
                # silences the same warning there): any credentials type it may hold is loaded
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    credentials, _ = auth.load_credentials_from_file(self._file, scopes=list(self._scopes))
            else:
                credentials, _ = auth.default(scopes=list(self._scopes))
        credentials = google_credentials.with_scopes_if_required(credentials, list(self._scopes))
        self._credentials = credentials
        if self._request is None:
            self._request = requests_transport.Request()
        credentials.refresh(self._request)
        quota = getattr(credentials, "quota_project_id", None)
        self.quota_project = quota if isinstance(quota, str) and quota else None
        return getattr(credentials, "token", None), getattr(credentials, "expiry", None)

    def _keep(self, value: Any, expiry: Any) -> _Token | _Failure:
        kind = self._kind()
        if not isinstance(value, str) or not value.strip() or any(c in value for c in "\r\n"):
            return _Failure(
                f"the Google credentials {kind} gave no usable access token",
                "refresh(request) must set credentials.token",
            )
        now = self._clock()
        expires_on = _epoch(expiry)
        if expires_on is None:
            expires_on = now + UNKNOWN_EXPIRY_LIFETIME + self._margin
        lifetime = expires_on - now
        if lifetime <= 0:
            return _Failure(
                f"the Google credentials {kind} gave an expired token",
                "check the machine's clock and the credentials' token source",
            )
        refresh_at = expires_on - min(self._margin, lifetime / 2)
        token = self._token = _Token(value.strip(), expires_on, refresh_at)
        return token

    def _kind(self) -> str:
        return type(self._credentials).__name__ if self._credentials is not None else "(not loaded)"

    def _failed(self, exc: Exception) -> _Token | _Failure:
        """A failed refresh: the current token while it is still good for a while, else why not."""
        if isinstance(exc, LLMError):
            reason = type(exc).__name__
        else:
            reason = f"{type(exc).__module__}.{type(exc).__qualname__}".removeprefix("builtins.")
        current = self._token
        now = self._clock()
        if current is not None and now < current.expires_on - FALLBACK_VALIDITY:
            current.refresh_at = min(now + RETRY_AFTER_FAILURE, current.expires_on - FALLBACK_VALIDITY)
            logger.warning(
                "refreshing the Google access token failed (%s); the current token is used until it "
                "nearly expires",
                reason,
            )
            return current
        if self._credentials is None:
            where = (
                f"the credentials file {self._file!r}"
                if self._file is not None
                else "Application Default Credentials"
            )
            return _Failure(
                f"no Google credentials could be loaded from {where} ({reason})",
                "run 'gcloud auth application-default login', set GOOGLE_APPLICATION_CREDENTIALS or "
                "credentials_file= (a service-account key), or pass credentials=",
            )
        return _Failure(
            f"the Google credentials {self._kind()} could not get an access token ({reason})",
            "call credentials.refresh(google.auth.transport.requests.Request()) yourself to see why "
            "(the account's key, the token endpoint, workload identity settings …)",
        )


class _MissingGoogleAuth(Exception):
    """google-auth (or its requests transport) is not installed."""


def _epoch(expiry: Any) -> float | None:
    """Seconds since the epoch of google-auth's ``expiry`` (a naive UTC ``datetime``), or a
    number of seconds given as is; None when absent or unreadable."""
    if isinstance(expiry, datetime.datetime):
        if expiry.tzinfo is None:
            expiry = expiry.replace(tzinfo=datetime.UTC)
        seconds: float = expiry.timestamp()
        return seconds
    if isinstance(expiry, int | float) and not isinstance(expiry, bool) and math.isfinite(expiry):
        return float(expiry)
    return None
