"""Transport exceptions (aiohttp, asyncio, ssl, OS) → the core-llms error tree, in one place.

================================================  ==========================================
exception                                         error
================================================  ==========================================
``aiohttp.ConnectionTimeoutError``                ``RequestTimeoutError`` (connect)
``aiohttp.SocketTimeoutError`` / other            ``RequestTimeoutError`` (read: no byte for
``ServerTimeoutError``                            ``timeouts.read`` seconds)
``TimeoutError`` (``asyncio.TimeoutError``)       ``RequestTimeoutError`` (total / deadline)
``ClientConnectorCertificateError``,              ``APIConnectionError`` with a TLS hint
``ClientSSLError``, ``ssl.SSLError``,             (``ca_bundle`` / ``verify_tls``)
``ServerFingerprintMismatch``
``ClientConnectorDNSError``                       ``APIConnectionError`` (hint: the host name)
``ClientProxyConnectionError``                    ``APIConnectionError`` (hint: ``proxy``)
``ClientConnectorError``, ``ConnectionRefusedError``  ``APIConnectionError`` (refused/unreachable)
``ServerDisconnectedError``                       ``APIConnectionError`` (server disconnected)
``ClientConnectionResetError``,                   ``APIConnectionError`` (connection reset)
``ConnectionResetError``
``ClientPayloadError``                            ``APIConnectionError`` (body cut off / malformed)
``aiohttp.InvalidURL``                            ``ConfigurationError`` (never retried)
other ``aiohttp.ClientError`` / ``OSError``        ``APIConnectionError``
================================================  ==========================================

Messages are built from safe parts only (endpoint display name, OS error text, TLS reason):
never ``str()`` of an exception that may carry a URL with a query string or a header.

The cause chain is sanitized too: aiohttp's exceptions hold the request's ``RequestInfo`` (its
headers, ``Authorization`` included) and quote the URL, query string included, and what the server
sent (a malformed status or header line). The connector therefore chains, instead of the original,
the stand-in :func:`sanitized_cause` makes: an exception of the same type name (and builtin base:
``OSError``, ``TimeoutError`` …, with ``errno`` and ``strerror``) whose message is the original's
with URLs reduced to scheme, host, port and path and the endpoint's secrets masked, its own cause
sanitized the same way, and the original traceback (aiohttp's frames, for debugging).

aiohttp is imported by :func:`map_transport_error` itself, not with this module: it is loaded
already whenever there is a transport error to map (the connector's first session loads it), and
``import core.llms`` stays without it.
"""

from __future__ import annotations

import asyncio
import errno as _errno
import re
import ssl
from collections.abc import Callable
from urllib.parse import urlsplit

from ...interfaces.errors import APIConnectionError, ConfigurationError, LLMError, RequestTimeoutError

__all__ = ["SanitizedCause", "map_transport_error", "sanitized_cause"]

_TLS_HINT = (
    "if the server uses a private CA, set ca_bundle to its PEM file; "
    "verify_tls=False disables checking (tests only)"
)
_TIMEOUT_HINT = "raise the endpoint's timeouts (connect / read / total) or the call's deadline"


def map_transport_error(exc: BaseException, endpoint: str) -> LLMError:
    """The typed error for a transport exception raised while talking to ``endpoint``.

    ``endpoint`` is the display name (never the raw URL). The caller chains the original
    (``raise map_transport_error(e, name) from e``).
    """
    import aiohttp

    match exc:
        case aiohttp.ConnectionTimeoutError():
            return RequestTimeoutError(
                f"timed out connecting to {endpoint}", endpoint=endpoint, hint=_TIMEOUT_HINT
            )
        case aiohttp.ServerTimeoutError():
            return RequestTimeoutError(
                f"read timed out: {endpoint} sent nothing for longer than the read timeout",
                endpoint=endpoint,
                hint=_TIMEOUT_HINT,
            )
        case asyncio.TimeoutError():
            return RequestTimeoutError(
                f"request to {endpoint} exceeded its total timeout", endpoint=endpoint, hint=_TIMEOUT_HINT
            )
        case aiohttp.ClientConnectorCertificateError():
            reason = _ssl_reason(exc.certificate_error)
            return APIConnectionError(
                f"TLS certificate verification failed for {endpoint}{reason}",
                endpoint=endpoint,
                hint=_TLS_HINT,
            )
        case aiohttp.ClientSSLError() | ssl.SSLError() | aiohttp.ServerFingerprintMismatch():
            reason = _ssl_reason(exc.os_error if isinstance(exc, aiohttp.ClientSSLError) else exc)
            return APIConnectionError(
                f"TLS handshake with {endpoint} failed{reason}", endpoint=endpoint, hint=_TLS_HINT
            )
        case aiohttp.ClientConnectorDNSError():
            return APIConnectionError(
                f"could not resolve the host of {endpoint}{_os_reason(exc.os_error)}",
                endpoint=endpoint,
                hint="check the host name in the endpoint URL (and DNS / network access)",
            )
        case aiohttp.ClientProxyConnectionError():
            return APIConnectionError(
                f"could not connect to the proxy for {endpoint}{_os_reason(exc.os_error)}",
                endpoint=endpoint,
                hint="check the endpoint's proxy setting",
            )
        case aiohttp.ClientConnectorError():
            return APIConnectionError(
                f"could not connect to {endpoint}{_os_reason(exc.os_error)}", endpoint=endpoint
            )
        case aiohttp.ServerDisconnectedError():
            return APIConnectionError(
                f"{endpoint} closed the connection (server disconnected)", endpoint=endpoint
            )
        case aiohttp.ClientConnectionResetError() | ConnectionResetError():
            return APIConnectionError(f"connection to {endpoint} was reset", endpoint=endpoint)
        case aiohttp.ClientPayloadError():
            return APIConnectionError(
                f"the response body from {endpoint} was cut off or malformed (payload error)",
                endpoint=endpoint,
            )
        case aiohttp.InvalidURL():
            return ConfigurationError(
                f"invalid URL for {endpoint}", endpoint=endpoint, hint="check the endpoint URL and path"
            )
        case ConnectionRefusedError():
            return APIConnectionError(
                f"could not connect to {endpoint}: connection refused", endpoint=endpoint
            )
        case OSError():
            return APIConnectionError(f"connection to {endpoint} failed{_os_reason(exc)}", endpoint=endpoint)
        case aiohttp.ClientError():
            return APIConnectionError(
                f"HTTP client error talking to {endpoint} ({type(exc).__name__})", endpoint=endpoint
            )
        case _:
            return APIConnectionError(
                f"unexpected transport failure talking to {endpoint} ({type(exc).__name__})",
                endpoint=endpoint,
            )


def _os_reason(err: BaseException | None) -> str:
    """``": <OS error text>"`` from errno/strerror only (never the exception's str)."""
    if not isinstance(err, OSError):
        return ""
    if err.strerror:
        return f": {err.strerror}"
    if err.errno is not None:
        return f": {_errno.errorcode.get(err.errno, str(err.errno))}"
    return ""


def _ssl_reason(err: BaseException | None) -> str:
    """``": <TLS reason>"`` (e.g. ``CERTIFICATE_VERIFY_FAILED``) when there is one."""
    if isinstance(err, ssl.SSLCertVerificationError) and err.verify_message:
        return f": {err.verify_message}"
    reason = getattr(err, "reason", None)
    if isinstance(reason, str) and reason:
        return f": {reason}"
    return _os_reason(err)


class SanitizedCause(Exception):
    """Base of the stand-ins :func:`sanitized_cause` chains in place of a transport exception.

    A stand-in's class has the original's name, qualified name and module (tracebacks read as
    before) but is not the original class: ``original`` holds its dotted name."""

    original: str = ""
    _text: str = ""

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.text!r})"

    @property
    def text(self) -> str:
        """The sanitized message."""
        return self._text


#: stand-in class per original class.
_STAND_INS: dict[type[BaseException], type[SanitizedCause]] = {}
#: causes of causes sanitized at most (aiohttp chains two or three).
_MAX_CHAIN = 4
#: a sanitized message is cut to this length.
_MAX_TEXT = 500
_URL = re.compile(r"""[A-Za-z][A-Za-z0-9+.\-]*://[^\s'"<>]*""")


def sanitized_cause(
    exc: BaseException, mask: Callable[[str], str] | None = None, _depth: int = 0
) -> SanitizedCause:
    """A stand-in for transport exception ``exc`` to chain as an error's ``__cause__``: no
    ``RequestInfo``, no headers, no URL query string or user info, and ``mask`` (the endpoint's
    :meth:`~.redact.SecretRedactor.mask`) applied to the message (see the module doc)."""
    from .redact import cut  # redact imports this module

    try:
        text = str(exc)
    except Exception:  # a broken __str__ must not hide the real error
        text = ""
    text = _URL.sub(_bare_url, text)
    if mask is not None:
        text = mask(text)
    stand_in_type = _stand_in_type(type(exc))
    errno, strerror = getattr(exc, "errno", None), getattr(exc, "strerror", None)
    args: tuple[object, ...] = ()
    if issubclass(stand_in_type, OSError) and isinstance(errno, int) and isinstance(strerror, str):
        args = (errno, mask(strerror) if mask is not None else strerror)  # errno and strerror kept
    stand_in = stand_in_type(*args)
    stand_in._text = cut(text, _MAX_TEXT)
    stand_in.__traceback__ = exc.__traceback__
    inner = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    if inner is not None and _depth < _MAX_CHAIN:
        stand_in.__cause__ = sanitized_cause(inner, mask, _depth + 1)
    return stand_in


def _stand_in_type(original: type[BaseException]) -> type[SanitizedCause]:
    """The stand-in class for ``original``: same names, :class:`SanitizedCause` and the nearest
    builtin exception class of ``original`` (``OSError``, ``TimeoutError``, ``ValueError`` …)."""
    made = _STAND_INS.get(original)
    if made is None:
        builtin = next(
            (c for c in original.__mro__ if c.__module__ == "builtins" and issubclass(c, Exception)),
            Exception,
        )
        bases: tuple[type, ...] = (SanitizedCause,) if builtin is Exception else (SanitizedCause, builtin)
        made = type(
            original.__name__,
            bases,
            {
                "__module__": original.__module__,
                "__qualname__": original.__qualname__,
                "__doc__": f"Sanitized stand-in for {original.__module__}.{original.__qualname__}.",
                "original": f"{original.__module__}.{original.__qualname__}",
            },
        )
        if len(_STAND_INS) < 256:  # exception classes are few; a bound all the same
            _STAND_INS[original] = made
    return made


def _bare_url(match: re.Match[str]) -> str:
    """A URL in an exception message without user info, query string or fragment."""
    try:
        parts = urlsplit(match.group())
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "<URL>"
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}{parts.path}"
