"""AWS credentials for SigV4: :class:`AwsCredentialProvider`, one identity's credentials resolved
through botocore, cached, refreshed before they expire, never on the event loop.

An identity (:class:`CredentialSpec`) is what an endpoint's
:class:`~.settings.BedrockSettings` say about who calls: explicit keys, or a profile of the
shared AWS config files, or neither (botocore's default chain: environment variables, shared
credentials and config files, SSO, ``credential_process``, ``role_arn`` + ``source_profile``
profiles, web identity, container and instance metadata), then optionally a chain of roles to
assume through STS.

:class:`AwsCredentialProvider` keeps a snapshot of the credentials (:class:`FrozenCredentials`)
and hands it out while it is fresh:

* **off the event loop**: importing botocore, resolving the chain (which may read files, run a
  process or call the instance metadata service), assuming a role and refreshing temporary
  credentials all run in a worker thread (``asyncio.to_thread``); the event loop only compares
  a number with the clock;
* **refreshed before expiry**: temporary credentials are refreshed ``refresh_margin`` seconds
  before they expire (15 minutes by default, botocore's own advisory window, so that botocore
  does refresh; at most half their remaining lifetime). A failed refresh keeps the current
  credentials while they have :data:`FALLBACK_VALIDITY` seconds left and tries again after
  :data:`RETRY_AFTER_FAILURE` seconds;
* **single-flight**: concurrent requests that need credentials share one worker-thread call;
* **secret**: no repr, log line or error shows a key, secret or session token. A failure is
  reported by its kind (no credentials, unknown profile, SSO login expired, role not assumable)
  and the botocore exception's type name, never its text.

botocore (the ``bedrock`` extra) is imported in the worker thread on first use; importing this
module does not import it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...interfaces.endpoint import Secret
from ...interfaces.errors import ConfigurationError
from ..base.refreshing import (
    FALLBACK_VALIDITY,
    RETRY_AFTER_FAILURE,
    RefreshFailure,
    RefreshingValue,
    type_name,
)
from .settings import BedrockSettings

__all__ = [
    "DEFAULT_REFRESH_MARGIN",
    "FALLBACK_VALIDITY",
    "RETRY_AFTER_FAILURE",
    "AwsCredentialProvider",
    "CredentialSpec",
    "FrozenCredentials",
]

logger = logging.getLogger("core.llms.bedrock")

#: seconds before expiry temporary credentials are refreshed (botocore's advisory window).
DEFAULT_REFRESH_MARGIN = 15 * 60.0
#: the ``RoleSessionName`` of an assumed role when none is given.
DEFAULT_ROLE_SESSION_NAME = "core-llms"

_INSTALL_HINT = (
    "pip install 'core-llms[bedrock]' (botocore), or use a Bedrock API key "
    "(bedrock_api_key= or AWS_BEARER_TOKEN_BEDROCK), which needs no botocore"
)
_CHAIN_HINT = (
    "set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (a profile of ~/.aws/config), "
    "run 'aws sso login', pass aws_access_key_id= / aws_secret_access_key= or profile=, "
    "or use a Bedrock API key (AWS_BEARER_TOKEN_BEDROCK)"
)


class FrozenCredentials:
    """One set of AWS credentials, as SigV4 signs with them (``access_key``, ``secret_key``,
    ``token``), and when they expire (seconds since the epoch; None: never). Never shown."""

    __slots__ = ("access_key", "expires_at", "secret_key", "token")

    def __init__(self, access_key: str, secret_key: str, token: str | None, expires_at: float | None) -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.token = token
        self.expires_at = expires_at

    def __repr__(self) -> str:
        return f"FrozenCredentials(expires_at={self.expires_at!r})"


@dataclass(frozen=True, slots=True)
class CredentialSpec:
    """Who calls: explicit keys or a profile (None: the default chain), then the roles to assume
    (through STS in ``sts_region``). Hashable: adapters keep one provider per spec. Secrets are
    left out of the repr."""

    profile: str | None = None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: Secret | None = field(default=None, repr=False)
    session_token: Secret | None = field(default=None, repr=False)
    roles: tuple[str, ...] = ()
    role_session_name: str | None = None
    external_id: str | None = field(default=None, repr=False)
    #: the region of the STS endpoint roles are assumed in (None without roles).
    sts_region: str | None = None

    @classmethod
    def from_settings(cls, settings: BedrockSettings) -> CredentialSpec:
        """The identity an endpoint's settings describe."""
        roles = settings.roles
        secret = settings.aws_secret_access_key
        token = settings.aws_session_token
        return cls(
            profile=settings.profile,
            access_key_id=settings.aws_access_key_id,
            secret_access_key=secret if isinstance(secret, Secret) else None,
            session_token=token if isinstance(token, Secret) else None,
            roles=roles,
            role_session_name=settings.role_session_name if roles else None,
            external_id=settings.external_id if roles else None,
            sts_region=settings.region if roles else None,
        )

    def describe(self) -> str:
        """Where the credentials come from, for messages (names no secret)."""
        if self.access_key_id is not None:
            where = "the explicit AWS keys"
        elif self.profile is not None:
            where = f"the AWS profile {self.profile!r}"
        else:
            where = "the default AWS credential chain"
        if self.roles:
            where += f", assuming {' then '.join(self.roles)}"
        return where


#: makes a botocore session for a profile (None: the default one). Tests pass their own.
SessionFactory = Callable[[str | None], Any]


def default_session(profile: str | None) -> Any:
    """A new ``botocore.session.Session`` for ``profile`` (imports botocore: call it in a worker
    thread)."""
    import botocore.session

    return botocore.session.Session(profile=profile)


class AwsCredentialProvider(RefreshingValue[FrozenCredentials]):
    """The credentials of one :class:`CredentialSpec` (see the module doc): ``await provider()``
    returns fresh :class:`FrozenCredentials` or raises :class:`AuthenticationError` /
    :class:`ConfigurationError` naming no secret.

    ``session_factory`` makes the botocore session (default :func:`default_session`), called in
    a worker thread; ``clock`` returns seconds since the epoch (tests pass a fake).
    """

    __slots__ = ("_credentials", "_session", "spec")

    def __init__(
        self,
        spec: CredentialSpec,
        *,
        session_factory: SessionFactory | None = None,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(spec, CredentialSpec):
            raise ConfigurationError(
                f"AwsCredentialProvider needs a CredentialSpec, not {type(spec).__name__}"
            )
        super().__init__(refresh_margin=refresh_margin, clock=clock, owner="AwsCredentialProvider")
        self.spec = spec
        self._session = session_factory or default_session
        #: botocore's credentials object (refreshable or not), once resolved (in a worker thread).
        self._credentials: Any = None

    def __repr__(self) -> str:
        return f"AwsCredentialProvider({self.spec.describe()})"

    def invalidate(self) -> None:
        """Forget the credentials and how they were found: the next request resolves them again
        (after ``aws sso login``, say)."""
        super().invalidate()
        self._credentials = None

    async def _load(self) -> tuple[FrozenCredentials, float | None, float | None]:
        """A snapshot of the credentials, taken in a worker thread."""
        frozen = await asyncio.to_thread(self._snapshot)
        return frozen, frozen.expires_at, None

    # -- in a worker thread ------------------------------------------------------------------

    def _snapshot(self) -> FrozenCredentials:
        """Resolve the credentials (first time), then take a snapshot (botocore refreshes
        temporary credentials here when they are due)."""
        credentials = self._credentials
        if credentials is None:
            credentials = self._credentials = self._resolve()
        frozen = credentials.get_frozen_credentials()
        access_key, secret_key = getattr(frozen, "access_key", None), getattr(frozen, "secret_key", None)
        if (
            not isinstance(access_key, str)
            or not access_key
            or not isinstance(secret_key, str)
            or not secret_key
        ):
            raise _NoCredentials
        token = getattr(frozen, "token", None)
        return FrozenCredentials(access_key, secret_key, token or None, _expiry_of(credentials))

    def _resolve(self) -> Any:
        """botocore's credentials for the spec: explicit keys or the chain, then the roles."""
        spec = self.spec
        try:
            import botocore.credentials  # noqa: F401 - imported here, off the event loop
        except ImportError:
            raise _MissingBotocore from None
        session = self._session(spec.profile)
        if spec.access_key_id is not None and spec.secret_access_key is not None:
            from botocore.credentials import Credentials

            token = spec.session_token.get_secret_value() if spec.session_token is not None else None
            credentials: Any = Credentials(
                spec.access_key_id, spec.secret_access_key.get_secret_value(), token, method="explicit"
            )
        else:
            credentials = session.get_credentials()
            if credentials is None:
                raise _NoCredentials
        for role in spec.roles:
            credentials = self._assume(session, credentials, role)
        return credentials

    def _assume(self, session: Any, source: Any, role: str) -> Any:
        """Credentials of ``role``, assumed with ``source`` (refreshed by assuming it again)."""
        from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials

        extra: dict[str, Any] = {"RoleSessionName": self.spec.role_session_name or DEFAULT_ROLE_SESSION_NAME}
        if self.spec.external_id:
            extra["ExternalId"] = self.spec.external_id
        fetcher = AssumeRoleCredentialFetcher(
            client_creator=functools.partial(session.create_client, region_name=self.spec.sts_region),
            source_credentials=source,
            role_arn=role,
            extra_args=extra,
        )
        return DeferredRefreshableCredentials(refresh_using=fetcher.fetch_credentials, method="assume-role")

    # -- back on the event loop --------------------------------------------------------------

    def _expired(self) -> RefreshFailure:
        return RefreshFailure(
            f"the AWS credentials from {self.spec.describe()} have expired",
            "check the machine's clock and refresh them (aws sso login, a new session token …)",
        )

    def _log_fallback(self, exc: Exception) -> None:
        logger.warning(
            "refreshing the AWS credentials from %s failed (%s); the current ones are used until "
            "they nearly expire",
            self.spec.describe(),
            type_name(exc),
        )

    def _explain(self, exc: Exception) -> RefreshFailure:
        """What a failure means, by its kind: names the profile or role, never a secret."""
        where = self.spec.describe()
        kinds = {cls.__name__ for cls in type(exc).__mro__}
        if isinstance(exc, _MissingBotocore):
            return RefreshFailure(
                "signing AWS Bedrock requests (SigV4) needs botocore, which is not installed",
                _INSTALL_HINT,
                config=True,
            )
        if isinstance(exc, _NoCredentials) or "NoCredentialsError" in kinds:
            return RefreshFailure(f"no AWS credentials found ({where})", _CHAIN_HINT)
        if "ProfileNotFound" in kinds:
            return RefreshFailure(
                f"the AWS profile {self.spec.profile!r} is not in the AWS config files",
                "check AWS_PROFILE / profile= and ~/.aws/config (or AWS_CONFIG_FILE)",
                config=True,
            )
        if "PartialCredentialsError" in kinds:
            return RefreshFailure(
                f"incomplete AWS credentials ({where}): a key without its secret?",
                "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the profile's keys",
                config=True,
            )
        if kinds & {"SSOError", "SSOTokenLoadError", "UnauthorizedSSOTokenError", "TokenRetrievalError"}:
            profile = f" --profile {self.spec.profile}" if self.spec.profile else ""
            return RefreshFailure(
                f"the AWS SSO session for {where} is missing or expired ({type_name(exc)})",
                f"run 'aws sso login{profile}'",
            )
        if "ClientError" in kinds and self.spec.roles:
            code = _error_code(exc)
            return RefreshFailure(
                f"assuming the AWS role failed ({where}: {code or type_name(exc)})",
                "check the role's trust policy (it must trust the caller) and sts:AssumeRole permissions",
            )
        if "ClientError" in kinds:
            return RefreshFailure(
                f"getting AWS credentials failed ({where}: {_error_code(exc) or 'ClientError'})", _CHAIN_HINT
            )
        return RefreshFailure(
            f"getting AWS credentials failed ({where}: {type_name(exc)})",
            "call botocore.session.Session(profile=...).get_credentials() yourself to see why",
        )


class _NoCredentials(Exception):
    """The chain found no credentials."""


class _MissingBotocore(Exception):
    """botocore is not installed."""


def _error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ``ClientError`` (``AccessDenied`` …): a word, no secret."""
    response = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    code = error.get("Code") if isinstance(error, dict) else None
    if isinstance(code, str) and code.replace(".", "").replace("_", "").isalnum() and len(code) <= 64:
        return code
    return None


def _expiry_of(credentials: Any) -> float | None:
    """When botocore's (refreshable) credentials expire, in seconds since the epoch; None when
    they do not (static keys)."""
    expiry = getattr(credentials, "_expiry_time", None)
    timestamp = getattr(expiry, "timestamp", None)
    if not callable(timestamp):
        return None
    try:
        value = float(timestamp())
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return value if math.isfinite(value) else None
