"""map_transport_error: every transport exception family → a typed error with a safe message."""

from __future__ import annotations

import errno
import ssl

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey

from core.llms.interfaces.errors import (
    APIConnectionError,
    ConfigurationError,
    LLMError,
    RequestTimeoutError,
)
from core.llms.providers.base.transport_errors import map_transport_error

NAME = "https://api.example.test/v1"
KEY = ConnectionKey("api.example.test", 443, True, True, None, None, None)


def _refused() -> OSError:
    return ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('10.0.0.1', 443)")


def _cert_error() -> ssl.SSLCertVerificationError:
    err = ssl.SSLCertVerificationError(1, "certificate verify failed: self-signed certificate")
    err.verify_message = "self-signed certificate"
    return err


CASES: list[tuple[BaseException, type[LLMError], str, str | None]] = [
    (aiohttp.ConnectionTimeoutError("t"), RequestTimeoutError, "timed out connecting", "timeouts"),
    (aiohttp.SocketTimeoutError("t"), RequestTimeoutError, "read timed out", "timeouts"),
    (aiohttp.ServerTimeoutError("t"), RequestTimeoutError, "read timed out", "timeouts"),
    (TimeoutError(), RequestTimeoutError, "total timeout", "timeouts"),
    (
        aiohttp.ClientConnectorCertificateError(KEY, _cert_error()),
        APIConnectionError,
        "TLS certificate verification failed",
        "ca_bundle",
    ),
    (
        aiohttp.ClientConnectorSSLError(KEY, ssl.SSLError(1, "[SSL] wrong version number")),
        APIConnectionError,
        "TLS handshake",
        "verify_tls",
    ),
    (ssl.SSLError(1, "handshake failure"), APIConnectionError, "TLS handshake", "ca_bundle"),
    (
        aiohttp.ClientConnectorDNSError(KEY, OSError(-2, "Name or service not known")),
        APIConnectionError,
        "could not resolve",
        "host name",
    ),
    (
        aiohttp.ClientProxyConnectionError(KEY, _refused()),
        APIConnectionError,
        "proxy",
        "proxy",
    ),
    (aiohttp.ClientConnectorError(KEY, _refused()), APIConnectionError, "could not connect", None),
    (aiohttp.ServerDisconnectedError(), APIConnectionError, "server disconnected", None),
    (aiohttp.ClientConnectionResetError("reset"), APIConnectionError, "reset", None),
    (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), APIConnectionError, "reset", None),
    (aiohttp.ClientPayloadError("Response payload is not completed"), APIConnectionError, "payload", None),
    (_refused(), APIConnectionError, "connection refused", None),
    (
        OSError(errno.ENETUNREACH, "Network is unreachable"),
        APIConnectionError,
        "Network is unreachable",
        None,
    ),
    (aiohttp.ClientError("odd"), APIConnectionError, "ClientError", None),
    (RuntimeError("boom"), APIConnectionError, "RuntimeError", None),
]


@pytest.mark.parametrize(("exc", "cls", "text", "hint"), CASES, ids=lambda v: type(v).__name__)
def test_mapping(exc: BaseException, cls: type[LLMError], text: str, hint: str | None) -> None:
    error = map_transport_error(exc, NAME)
    assert type(error) is cls
    assert text in error.message
    assert error.endpoint == NAME
    if hint is not None:
        assert error.hint is not None and hint in error.hint
    assert error.failover and error.retryable


def test_invalid_url_is_a_configuration_error_without_the_url() -> None:
    error = map_transport_error(aiohttp.InvalidURL("https://h/v1?key=SECRET123"), NAME)
    assert isinstance(error, ConfigurationError)
    assert not error.retryable and not error.failover
    assert "SECRET123" not in str(error) + repr(error)


def test_messages_never_echo_the_exception_text_that_may_hold_a_url() -> None:
    exc = aiohttp.ClientError("GET https://h/v1?key=SECRET123 failed")
    error = map_transport_error(exc, NAME)
    assert "SECRET123" not in str(error) + repr(error)


def test_dns_error_detail_uses_strerror() -> None:
    error = map_transport_error(
        aiohttp.ClientConnectorDNSError(KEY, OSError(-2, "Name or service not known")), NAME
    )
    assert error.message == f"could not resolve the host of {NAME}: Name or service not known"


def test_certificate_error_names_the_verify_reason() -> None:
    error = map_transport_error(aiohttp.ClientConnectorCertificateError(KEY, _cert_error()), NAME)
    assert error.message.endswith(": self-signed certificate")
