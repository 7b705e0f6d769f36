"""AWS Bedrock's own endpoint fields: :class:`BedrockSettings`, the default endpoint of a region
and the cross-region inference-profile prefix of a region (:func:`geography_of`)."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ...interfaces import _fields as checks
from ...interfaces.endpoint import Secret
from ...interfaces.errors import ConfigurationError

__all__ = [
    "DEFAULT_ENDPOINT",
    "GEOGRAPHIES",
    "SIGNING_NAME",
    "BedrockSettings",
    "geography_of",
    "runtime_endpoint",
]

#: the Bedrock runtime endpoint of a region (``{region}``: the endpoint's :attr:`BedrockSettings.region`).
DEFAULT_ENDPOINT = "https://bedrock-runtime.{region}.amazonaws.com"
#: the SigV4 signing name (service) of the Bedrock runtime.
SIGNING_NAME = "bedrock"
#: the prefixes of Bedrock's system-defined cross-region inference profiles (``us.anthropic.…``).
GEOGRAPHIES = ("us", "us-gov", "eu", "apac", "jp", "au", "ca", "global")

_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+")
_OWNER = "BedrockSettings"


def runtime_endpoint(region: str) -> str:
    """``https://bedrock-runtime.<region>.amazonaws.com``."""
    return DEFAULT_ENDPOINT.format(region=region)


def geography_of(region: str) -> str:
    """The cross-region inference-profile prefix of a region's geography: ``us`` (``us-*``),
    ``us-gov`` (``us-gov-*``), ``ca`` (``ca-*``), ``eu`` (``eu-*``), ``apac`` (``ap-*``, ``me-*``,
    ``il-*``); ``us`` for any other (``sa-east-1``, ``mx-central-1``…, whose profiles are the US ones)."""
    if region.startswith("us-gov-"):
        return "us-gov"
    if region.startswith("eu-"):
        return "eu"
    if region.startswith(("ap-", "me-", "il-")):
        return "apac"
    if region.startswith("ca-"):
        return "ca"
    return "us"


@dataclass(frozen=True, slots=True, kw_only=True)
class BedrockSettings:
    """Where and as whom an endpoint calls AWS Bedrock (``create_llm("bedrock/...", region=...)``;
    each backup may set its own, e.g. ``backups=[{"region": "us-west-2"}]``).

    ``region``
        the AWS region (``AWS_REGION`` / ``AWS_DEFAULT_REGION`` when not given; required). The
        default endpoint is ``https://bedrock-runtime.{region}.amazonaws.com`` and requests are
        signed for this region (an explicit ``endpoint=`` wins, and is still signed for it).
    ``profile``
        a profile of the shared AWS config files (``AWS_PROFILE``): its keys, SSO session,
        ``role_arn`` + ``source_profile`` chain or ``credential_process``.
    ``aws_access_key_id``, ``aws_secret_access_key``, ``aws_session_token``
        explicit keys (never shown: left out of the repr, kept as :class:`Secret`). Without them
        the botocore credential chain is used: environment, shared files, SSO, container and
        instance metadata.
    ``role_arn``
        an IAM role to assume (through STS, in ``region``) with those credentials; a sequence of
        roles is a chain (each assumed with the previous one's session). ``role_session_name``
        and ``external_id`` go to ``AssumeRole``.
    ``bedrock_api_key``
        a Bedrock API key (``AWS_BEARER_TOKEN_BEDROCK``), sent as ``Authorization: Bearer``
        instead of SigV4. ``api_key=`` / ``token_provider=`` of the endpoint work too. Explicit
        keys or a ``role_arn`` win over an API key (SigV4 is used then).
    ``cross_region``
        how a model id is turned into a cross-region inference profile id: None (default) — the
        models Bedrock serves only through inference profiles (Claude 3.7 and later, Nova
        Premier, Llama 3.3 …) get the prefix of the region's geography (``us.``, ``eu.``,
        ``apac.``…, see :func:`geography_of`), others are sent as they are; ``True`` (or
        ``"auto"``) — every foundation-model id gets that prefix; ``False`` — never; a prefix
        (``"us"``, ``"eu"``, ``"apac"``, ``"global"``…) — every foundation-model id gets it. An
        id that is already a profile id or an ARN is always sent as it is.
    ``s3_endpoint``
        the S3 endpoint media output is fetched from (``AWS_ENDPOINT_URL_S3``; default: the
        region's). Tests point it at the simulator.
    """

    region: str
    profile: str | None = None
    aws_access_key_id: str | None = field(default=None, repr=False)
    aws_secret_access_key: Secret | str | None = field(default=None, repr=False)
    aws_session_token: Secret | str | None = field(default=None, repr=False)
    role_arn: tuple[str, ...] | str | None = None
    role_session_name: str | None = None
    external_id: str | None = field(default=None, repr=False)
    bedrock_api_key: Secret | str | None = field(default=None, repr=False)
    cross_region: bool | str | None = None
    s3_endpoint: str | None = None

    def __post_init__(self) -> None:
        put = object.__setattr__
        region = _text("region", self.region)
        if not _REGION.fullmatch(region):
            raise ConfigurationError(
                f"{_OWNER}.region must be an AWS region name such as us-east-1",
                hint="pass region= or set AWS_REGION / AWS_DEFAULT_REGION",
            )
        put(self, "region", region)
        for name in ("profile", "role_session_name", "external_id"):
            value = getattr(self, name)
            if value is not None:
                put(self, name, _text(name, value))
        if self.aws_access_key_id is not None:
            put(self, "aws_access_key_id", _text("aws_access_key_id", self.aws_access_key_id))
        for name in ("aws_secret_access_key", "aws_session_token", "bedrock_api_key"):
            put(self, name, _secret(name, getattr(self, name)))
        if (self.aws_access_key_id is None) != (self.aws_secret_access_key is None):
            raise ConfigurationError(
                f"{_OWNER} needs aws_access_key_id and aws_secret_access_key together",
                hint="give both, or neither to use the AWS credential chain (environment, profile, "
                "SSO, instance role)",
            )
        if self.aws_session_token is not None and self.aws_access_key_id is None:
            raise ConfigurationError(
                f"{_OWNER}.aws_session_token needs aws_access_key_id and aws_secret_access_key"
            )
        put(self, "role_arn", _roles(self.role_arn))
        put(self, "cross_region", _cross_region(self.cross_region))
        if self.s3_endpoint is not None:
            url = _text("s3_endpoint", self.s3_endpoint)
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConfigurationError(f"{_OWNER}.s3_endpoint must be an http(s) URL with a host")
            put(self, "s3_endpoint", url.rstrip("/"))

    @property
    def default_endpoint(self) -> str:
        """The Bedrock runtime endpoint of :attr:`region`."""
        return runtime_endpoint(self.region)

    @property
    def geography(self) -> str:
        """The inference-profile prefix of :attr:`region` (:func:`geography_of`)."""
        return geography_of(self.region)

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles to assume, in order (empty: none)."""
        role = self.role_arn
        return (role,) if isinstance(role, str) else (role or ())

    @property
    def uses_sigv4_keys(self) -> bool:
        """Whether explicit SigV4 inputs (keys or a role) are given: they win over an API key."""
        return self.aws_access_key_id is not None or bool(self.role_arn)

    def profile_prefix(self, model: str, profile_only: Collection[str]) -> str | None:
        """The inference-profile prefix (``"us"`` …) ``model`` is sent with on this endpoint, or
        None to send it as it is (see ``cross_region``). ``profile_only``: the model ids Bedrock
        serves only through inference profiles."""
        choice = self.cross_region
        if choice is False or not is_foundation_model_id(model):
            return None
        if choice is None:
            return self.geography if model in profile_only else None
        if choice is True or choice == "auto":
            return self.geography
        return str(choice)


def is_foundation_model_id(model: str) -> bool:
    """Is ``model`` a foundation-model id (``anthropic.claude-…``), not an inference profile id
    (``us.anthropic.…``) or an ARN?"""
    if not model or model.startswith("arn:") or "/" in model:
        return False
    head = model.partition(".")[0]
    return bool(head) and head not in GEOGRAPHIES and "." in model


def _text(name: str, value: object) -> str:
    text = checks.check_str(_OWNER, name, value).strip()
    if not text or any(ord(c) < 0x20 for c in text):
        raise ConfigurationError(f"{_OWNER}.{name} must be a non-empty line of text")
    return text


def _secret(name: str, value: object) -> Secret | None:
    """``value`` as a :class:`Secret` (a ``str``, a ``Secret`` or anything with
    ``get_secret_value()``); never quoted in an error."""
    if value is None or isinstance(value, Secret):
        return value
    getter = getattr(value, "get_secret_value", None)
    if callable(getter):
        value = getter()
    if not isinstance(value, str):
        raise ConfigurationError(f"{_OWNER}.{name} must be a string, not {type(value).__name__}")
    text = value.strip()
    if not text or any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise ConfigurationError(
            f"{_OWNER}.{name} is empty or contains a control character (a line break inside it?)"
        )
    return Secret(text)


def _roles(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    roles = (value,) if isinstance(value, str) else checks.check_str_tuple(_OWNER, "role_arn", value)
    roles = tuple(r.strip() if isinstance(r, str) else r for r in roles)
    if not roles:
        return None
    for role in roles:
        if not isinstance(role, str) or not _ROLE_ARN.fullmatch(role):
            raise ConfigurationError(
                f"{_OWNER}.role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>) "
                "or a sequence of them (a chain)"
            )
    return roles


def _cross_region(value: Any) -> bool | str | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        choice = value.strip().lower().rstrip(".")
        if choice in ("auto", *GEOGRAPHIES):
            return choice
    raise ConfigurationError(
        f"{_OWNER}.cross_region must be None, True, False, 'auto' or a profile prefix "
        f"({', '.join(GEOGRAPHIES)})"
    )
