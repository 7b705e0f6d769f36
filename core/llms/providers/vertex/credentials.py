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

from ...interfaces.errors import ConfigurationError
from ..base.refreshing import (
    FALLBACK_VALIDITY,
    RETRY_AFTER_FAILURE,
    Kept,
    RefreshFailure,
    RefreshingValue,
    failure_reason,
)

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
#: a token whose credentials report no expiry is refreshed after this many seconds.
UNKNOWN_EXPIRY_LIFETIME = 300.0
_INSTALL_HINT = "pip install 'core-llms[vertex]' (google-auth), or pass token_provider= / api_key="


class GoogleTokenProvider(RefreshingValue[str]):
    """An async callable returning an OAuth access token for Vertex AI (see the module doc):
    cached, refreshed ``refresh_margin`` seconds before expiry in a worker thread, single-flight.

    ``credentials``: a google-auth credentials object; else ``credentials_file``: a JSON
    credentials file; else Application Default Credentials. ``scopes`` default to
    ``cloud-platform``; ``clock`` returns the time in seconds since the epoch (tests pass a fake).
    """

    __slots__ = ("_credentials", "_file", "_request", "_scopes", "quota_project")

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
        super().__init__(refresh_margin=refresh_margin, clock=clock, owner="GoogleTokenProvider")
        if isinstance(scopes, str) or not all(isinstance(s, str) and s for s in scopes):
            raise ConfigurationError("GoogleTokenProvider.scopes must be a list of scope strings")
        self._credentials = credentials
        self._file = credentials_file
        self._scopes = tuple(scopes)
        self._request: Any = None
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

    @property
    def _token(self) -> Kept[str] | None:
        """The token kept (never shown by its repr)."""
        return self._kept

    async def _load(self) -> tuple[str, float | None, float | None]:
        """Refresh once (in a worker thread): the token and its expiry."""
        try:
            value, expiry = await asyncio.to_thread(self._refresh_in_thread)
        except _MissingGoogleAuth:
            raise RefreshFailure(
                "Vertex AI credentials need the google-auth package, which is not installed",
                _INSTALL_HINT,
                config=True,
            ) from None
        if not isinstance(value, str) or not value.strip() or any(c in value for c in "\r\n"):
            raise RefreshFailure(
                f"the Google credentials {self._kind()} gave no usable access token",
                "refresh(request) must set credentials.token",
            )
        expires_on = _epoch(expiry)
        if expires_on is None:
            expires_on = self._clock() + UNKNOWN_EXPIRY_LIFETIME + self._margin
        return value.strip(), expires_on, None

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

    def _expired(self) -> RefreshFailure:
        return RefreshFailure(
            f"the Google credentials {self._kind()} gave an expired token",
            "check the machine's clock and the credentials' token source",
        )

    def _kind(self) -> str:
        return type(self._credentials).__name__ if self._credentials is not None else "(not loaded)"

    def _log_fallback(self, exc: Exception) -> None:
        logger.warning(
            "refreshing the Google access token failed (%s); the current token is used until it "
            "nearly expires",
            failure_reason(exc),
        )

    def _explain(self, exc: Exception) -> RefreshFailure:
        reason = failure_reason(exc)
        if self._credentials is None:
            where = (
                f"the credentials file {self._file!r}"
                if self._file is not None
                else "Application Default Credentials"
            )
            return RefreshFailure(
                f"no Google credentials could be loaded from {where} ({reason})",
                "run 'gcloud auth application-default login', set GOOGLE_APPLICATION_CREDENTIALS or "
                "credentials_file= (a service-account key), or pass credentials=",
            )
        return RefreshFailure(
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
