"""Keeping credentials out of errors: the secrets of one endpoint, and masking them in an error.

Providers and gateways sometimes echo what they received: OpenAI quotes a (masked) API key in its
401 message, a misconfigured gateway may quote every request header. The
:class:`~core.llms.providers.base.connector.Connector` therefore remembers the credential values it
sends (API key, bearer tokens as they rotate, credential-like headers, the passwords and query
values of its endpoint and proxy URLs) and masks every occurrence of them in an error before the
error leaves it: message, hint, code, request id, the parsed error ``body`` and a content filter's
``filter_results``. Values shorter than :data:`MIN_SECRET_LENGTH` are not treated as secrets (they
would mask ordinary words).

Not only whole secrets are masked: a message cut to a length limit, or a gateway that shortens
what it echoes, may keep part of one. :meth:`SecretRedactor.mask` also masks any head or tail of
a secret of at least :data:`MIN_SECRET_LENGTH` characters (what a cut leaves) and any other piece
of at least :data:`MIN_PIECE_LENGTH` characters, in the secret's plain, percent-encoded and
JSON-escaped forms. And text is cut with :func:`cut`, which never leaves part of a word at the
cut, so that the pieces a cut leaves are whole words.

Server values logged where no redactor is at hand (an unknown finish reason, a choice index) go
through :func:`loggable`: short words and small numbers as they are, anything else only by type
and length.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, overload
from urllib.parse import parse_qsl, quote, urlsplit

from ...interfaces.endpoint import EndpointConfig
from ...interfaces.errors import LLMError
from .transport_errors import SanitizedCause

__all__ = [
    "MASK",
    "MIN_PIECE_LENGTH",
    "MIN_SECRET_LENGTH",
    "SecretRedactor",
    "cut",
    "is_secret_header",
    "loggable",
    "mask_text",
    "mask_with",
    "redact_with",
]

#: what a secret is replaced with.
MASK = "***"
#: shorter values are never treated as secrets; a head or tail of a secret this long is masked.
MIN_SECRET_LENGTH = 8
#: any piece of a secret this long is masked, wherever it starts.
MIN_PIECE_LENGTH = 12
#: a header whose lower-cased name contains one of these carries a credential.
_SECRET_WORDS = ("auth", "key", "token", "secret", "signature", "credential", "password", "cookie", "session")
#: rotated tokens remembered at most (oldest forgotten first).
_MAX_SECRETS = 64
#: parts of an error body nested deeper than this are replaced (the walk must not recurse without end).
_MAX_DEPTH = 32
#: pieces are found by the substrings of this length taken every _STEP characters of each secret
#: (and its last one): any piece of _GRAM + _STEP - 1 characters holds one of them, and so does
#: any head or tail of _GRAM.
_GRAM = MIN_SECRET_LENGTH
_STEP = MIN_PIECE_LENGTH - MIN_SECRET_LENGTH + 1
#: with up to this many substrings, each is looked for in the text (C speed, no compiled
#: pattern to rebuild when a token rotates); with more, every window of the text is looked up.
_FEW_GRAMS = 96
#: characters a cut never separates from their neighbours (keys, tokens, base64, percent-encoding).
_WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.~+/=%")
#: how a value that is logged as it is looks: a short single-case word (``stop``, ``MAX_TOKENS``).
_LOGGABLE_WORD = re.compile(r"[A-Za-z][A-Za-z_.\-]{0,31}")
_JSON_PLACEHOLDERS = frozenset(f"<JSON {t.__name__}>" for t in (dict, list, int, float, bool))


def is_secret_header(name: str) -> bool:
    """Does a header of this name carry a credential (``Authorization``, ``api-key``,
    ``X-Amz-Security-Token``, ``Cookie`` …)?"""
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def mask_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (and its percent-encoded and JSON-escaped forms), and every
    piece of one that :meth:`SecretRedactor.mask` masks, replaced by :data:`MASK`."""
    redactor = SecretRedactor()
    redactor._add(secrets)
    return redactor.mask(text)


def cut(text: str, limit: int, marker: str = "...") -> str:
    """``text`` cut to at most ``limit`` characters, ``marker`` included, never through a word:
    a word (a run of letters, digits and ``_-.~+/=%``, as keys and tokens are made of) that the
    cut would split is dropped whole, so no part of an echoed key is left at the cut."""
    if len(text) <= limit:
        return text
    end = max(limit - len(marker), 0)
    if end < len(text) and _is_word_char(text[end]):
        while end > 0 and _is_word_char(text[end - 1]):
            end -= 1
    return text[:end] + marker


def _is_word_char(char: str) -> bool:
    return char in _WORD_CHARS or char.isalnum()


def loggable(value: Any) -> str:
    """A server value as a log line may show it without knowing the endpoint's secrets: an
    integer below a million or a short single-case word (``'stop'``, ``'MAX_TOKENS'``) as it
    is, anything else by type and length only (``<str of 42 characters>``)."""
    if type(value) is int and -1_000_000 < value < 1_000_000:
        return str(value)
    if isinstance(value, str):
        if _LOGGABLE_WORD.fullmatch(value) and (value.islower() or value.isupper()):
            return repr(value)
        if value in _JSON_PLACEHOLDERS:  # what a reader made of a value of the wrong JSON type
            return value
        return f"<str of {len(value)} characters>"
    return f"<JSON {type(value).__name__}>"


class SecretRedactor:
    """The credential values of one endpoint, and :meth:`redact` to mask them in an error."""

    __slots__ = ("_grams", "_secrets")

    def __init__(self, endpoint: EndpointConfig | None = None) -> None:
        # A dict as an insertion-ordered set: rotated tokens are added, the oldest dropped.
        self._secrets: dict[str, None] = {}
        #: substring of a secret form -> where it is found: (form, offset) pairs.
        self._grams: dict[str, list[tuple[str, int]]] = {}
        if endpoint is not None:
            self._add(_endpoint_secrets(endpoint))

    def add_headers(self, headers: Mapping[str, str]) -> None:
        """Remember the credential values among ``headers`` (called with each request's)."""
        for name, value in headers.items():
            if value not in self._secrets and is_secret_header(name):
                self._add(_header_secrets(value))

    def _add(self, values: Iterable[str]) -> None:
        for value in values:
            if len(value) >= MIN_SECRET_LENGTH and value not in self._secrets:
                self._secrets[value] = None
                self._index(value, add=True)
                if len(self._secrets) > _MAX_SECRETS:
                    oldest = next(iter(self._secrets))
                    del self._secrets[oldest]
                    self._index(oldest, add=False)

    def _index(self, secret: str, *, add: bool) -> None:
        """Add (or remove) the substrings by which pieces of ``secret`` are found."""
        grams = self._grams
        for form in _forms(secret):
            last = len(form) - _GRAM
            for offset in sorted({*range(0, last + 1, _STEP), last}):
                gram = form[offset : offset + _GRAM]
                if add:
                    grams.setdefault(gram, []).append((form, offset))
                    continue
                places = grams.get(gram, [])
                if (form, offset) in places:
                    places.remove((form, offset))
                if not places:
                    grams.pop(gram, None)

    @overload
    def mask(self, text: str) -> str: ...
    @overload
    def mask(self, text: None) -> None: ...
    @overload
    def mask(self, text: str | None) -> str | None: ...

    def mask(self, text: str | None) -> str | None:
        """``text`` with every known secret, and every piece of one that is a head or tail of at
        least :data:`MIN_SECRET_LENGTH` characters or any piece of at least
        :data:`MIN_PIECE_LENGTH`, replaced by :data:`MASK` (in plain, percent-encoded and
        JSON-escaped form). None stays None."""
        grams = self._grams
        if not text or not grams or len(text) < _GRAM:
            return text
        spans: list[tuple[int, int]] = []
        if len(grams) <= _FEW_GRAMS:
            found = [gram for gram in grams if gram in text]  # usually none: this is all it costs
            for gram in found:
                at = text.find(gram)
                while at >= 0:
                    spans += (_widen(text, at, form, offset) for form, offset in grams[gram])
                    at = text.find(gram, at + 1)
        else:
            get = grams.get
            for at in range(len(text) - _GRAM + 1):
                places = get(text[at : at + _GRAM])
                if places:
                    spans += (_widen(text, at, form, offset) for form, offset in places)
        if not spans:
            return text
        spans.sort()
        out: list[str] = []
        done = 0  # end of the text written out (or masked) so far
        start, end = spans[0]
        for next_start, next_end in spans[1:]:
            if next_start <= end:  # overlapping or touching: one span
                end = max(end, next_end)
                continue
            out += (text[done:start], MASK)
            done = end
            start, end = next_start, next_end
        out += (text[done:start], MASK, text[end:])
        return "".join(out)

    def redact(self, error: LLMError) -> LLMError:
        """Mask every known secret in ``error`` (in place); returns it. Also drops the transport
        exception that Python kept as the error's ``__context__`` when its ``__cause__`` is the
        sanitized stand-in (see :func:`~.transport_errors.sanitized_cause`)."""
        if isinstance(error.__cause__, SanitizedCause):
            error.__context__ = None
        if not self._grams:
            return error
        message = self.mask(error.message)
        if message != error.message:
            error.message = message
            error.args = (message, *error.args[1:])
        for name in ("hint", "code", "request_id"):
            value = getattr(error, name, None)
            if isinstance(value, str):
                setattr(error, name, self.mask(value))
        if error.body is not None:
            error.body = self._mask_value(error.body)
        results = getattr(error, "filter_results", None)
        if results is not None:
            error.filter_results = self._mask_value(results)  # type: ignore[attr-defined]
        return error

    def _mask_value(self, value: Any, depth: int = 0) -> Any:
        """A copy of decoded JSON ``value`` with secrets masked in every string (keys included)."""
        if depth > _MAX_DEPTH:
            return MASK
        match value:
            case str():
                return self.mask(value)
            case dict():
                return {self.mask(str(k)): self._mask_value(v, depth + 1) for k, v in value.items()}
            case list() | tuple():
                return [self._mask_value(v, depth + 1) for v in value]
            case _:
                return value


def redact_with(connector: Any, error: LLMError) -> LLMError:
    """Mask in ``error`` the secrets of every endpoint of ``connector`` (a
    :class:`~.failover.FailoverConnector`, a :class:`~.connector.Connector`, or any connector
    with ``connectors`` and / or ``redact``): for errors made from a response after the
    connector returned it (a model's parse error). Returns ``error``."""
    for conn in getattr(connector, "connectors", None) or (connector,):
        redact = getattr(conn, "redact", None)
        if callable(redact):
            redact(error)
    return error


def mask_with(connector: Any, text: str) -> str:
    """``text`` with the secrets of every endpoint of ``connector`` masked (like
    :func:`redact_with`, for text: what observers log)."""
    for conn in getattr(connector, "connectors", None) or (connector,):
        mask = getattr(conn, "mask", None)
        if callable(mask):
            text = mask(text)
    return text


def _forms(secret: str) -> list[str]:
    """The ways ``secret`` may be written in a response: as it is, percent-encoded, JSON-escaped."""
    forms = [secret]
    for form in (quote(secret, safe=""), json.dumps(secret)[1:-1]):
        if form not in forms:
            forms.append(form)
    return forms


def _widen(text: str, at: int, form: str, offset: int) -> tuple[int, int]:
    """The span of ``text`` around ``text[at:at + _GRAM] == form[offset:offset + _GRAM]`` that
    matches ``form``, as far as it goes both ways."""
    start, before = at, offset
    while start > 0 and before > 0 and text[start - 1] == form[before - 1]:
        start -= 1
        before -= 1
    end, after = at + _GRAM, offset + _GRAM
    size, length = len(text), len(form)
    while end < size and after < length and text[end] == form[after]:
        end += 1
        after += 1
    return start, end


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
    for name, value in endpoint.headers.items():
        if is_secret_header(name):
            out.extend(_header_secrets(value))
    return out


def _header_secrets(value: str) -> tuple[str, ...]:
    """The secrets of a credential header's value: the credential of ``Bearer <token>`` or
    ``Basic <credentials>`` (the scheme is no secret, and masking it along would also mask the
    space before another echo); the access key id and the signature of an AWS SigV4
    ``Authorization`` (its scope and signed header names are public, and would mask ordinary
    words such as a region or "credentials"); else the value and what follows its first space."""
    scheme, space, credential = value.partition(" ")
    if not space:
        return (value,)
    if scheme.upper().startswith("AWS4-"):
        fields = dict(item.strip().partition("=")[::2] for item in credential.split(","))
        found = tuple(
            v for v in (fields.get("Credential", "").partition("/")[0], fields.get("Signature", "")) if v
        )
        if found:
            return found
    return (credential,) if scheme.lower() in ("bearer", "basic") else (value, credential)
