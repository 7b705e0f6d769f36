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

aiohttp is imported by :func:`map_transport_error` itself, not with this module: it is loaded
already whenever there is a transport error to map (the connector's first session loads it), and
``import core.llms`` stays without it.
"""

from __future__ import annotations

import asyncio
import errno as _errno
import ssl

from ...interfaces.errors import APIConnectionError, ConfigurationError, LLMError, RequestTimeoutError

__all__ = ["map_transport_error"]

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
