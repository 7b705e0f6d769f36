"""Keeping credentials out of errors: the secrets of one endpoint, and masking them in an error.

Providers and gateways sometimes echo what they received: OpenAI quotes a (masked) API key in its
401 message, a misconfigured gateway may quote every request header. The
:class:`~core.llms.providers.base.connector.Connector` therefore remembers the credential values it
sends (API key, bearer tokens as they rotate, credential-like headers, the passwords and query
values of its endpoint and proxy URLs) and masks every occurrence of them in an error before the
error leaves it: message, hint, code, request id, the parsed error ``body`` and a content filter's
``filter_results``. Values shorter than :data:`MIN_SECRET_LENGTH` are not treated as secrets (they
would mask ordinary words).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from ...interfaces.endpoint import EndpointConfig
from ...interfaces.errors import LLMError

__all__ = ["MASK", "MIN_SECRET_LENGTH", "SecretRedactor", "is_secret_header", "mask_text"]

#: what a secret is replaced with.
MASK = "***"
#: shorter values are never treated as secrets.
MIN_SECRET_LENGTH = 8
#: a header whose lower-cased name contains one of these carries a credential.
_SECRET_WORDS = ("auth", "key", "token", "secret", "signature", "credential", "password", "cookie", "session")
#: rotated tokens remembered at most (oldest forgotten first).
_MAX_SECRETS = 64
#: parts of an error body nested deeper than this are replaced (the walk must not recurse without end).
_MAX_DEPTH = 32


def is_secret_header(name: str) -> bool:
    """Does a header of this name carry a credential (``Authorization``, ``api-key``,
    ``X-Amz-Security-Token``, ``Cookie`` …)?"""
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def mask_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (and its percent-encoded form) replaced by :data:`MASK`."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
        encoded = quote(secret, safe="")
        if encoded != secret and encoded in text:
            text = text.replace(encoded, MASK)
    return text


class SecretRedactor:
    """The credential values of one endpoint, and :meth:`redact` to mask them in an error."""

    __slots__ = ("_secrets",)

    def __init__(self, endpoint: EndpointConfig | None = None) -> None:
        # A dict as an insertion-ordered set: rotated tokens are added, the oldest dropped.
        self._secrets: dict[str, None] = {}
        if endpoint is not None:
            self._add(_endpoint_secrets(endpoint))

    def add_headers(self, headers: Mapping[str, str]) -> None:
        """Remember the credential values among ``headers`` (called with each request's)."""
        for name, value in headers.items():
            if value not in self._secrets and is_secret_header(name):
                scheme, _, credential = value.partition(" ")
                self._add((value, credential) if scheme.lower() in ("bearer", "basic") else (value,))

    def _add(self, values: Iterable[str]) -> None:
        for value in values:
            if len(value) >= MIN_SECRET_LENGTH and value not in self._secrets:
                self._secrets[value] = None
                if len(self._secrets) > _MAX_SECRETS:
                    del self._secrets[next(iter(self._secrets))]

    def redact(self, error: LLMError) -> LLMError:
        """Mask every known secret in ``error`` (in place); returns it."""
        secrets = tuple(self._secrets)
        if not secrets:
            return error
        message = mask_text(error.message, secrets)
        if message != error.message:
            error.message = message
            error.args = (message, *error.args[1:])
        for name in ("hint", "code", "request_id"):
            value = getattr(error, name, None)
            if isinstance(value, str):
                setattr(error, name, mask_text(value, secrets))
        if error.body is not None:
            error.body = _mask_value(error.body, secrets)
        results = getattr(error, "filter_results", None)
        if results is not None:
            error.filter_results = _mask_value(results, secrets)  # type: ignore[attr-defined]
        return error


def _endpoint_secrets(endpoint: EndpointConfig) -> list[str]:
    out: list[str] = []
    if endpoint.api_key is not None:
        out.append(endpoint.api_key.get_secret_value())
    for url in (endpoint.endpoint, endpoint.proxy):
        if url:
            parts = urlsplit(url)
            if parts.password:
                out.append(parts.password)
            out.extend(value for _, value in parse_qsl(parts.query))
    out.extend(
        v
        for name, value in endpoint.headers.items()
        if is_secret_header(name)
        for v in (value, value.partition(" ")[2])
    )
    return out


def _mask_value(value: Any, secrets: tuple[str, ...], depth: int = 0) -> Any:
    """A copy of decoded JSON ``value`` with secrets masked in every string (keys included)."""
    if depth > _MAX_DEPTH:
        return MASK
    match value:
        case str():
            return mask_text(value, secrets)
        case dict():
            return {mask_text(str(k), secrets): _mask_value(v, secrets, depth + 1) for k, v in value.items()}
        case list() | tuple():
            return [_mask_value(v, secrets, depth + 1) for v in value]
        case _:
            return value
