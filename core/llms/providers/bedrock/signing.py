"""AWS Signature Version 4 of one request: :func:`sigv4_headers`, made by botocore's ``SigV4Auth``
on an ``AWSRequest``.

What is signed is what is sent: the URL as aiohttp puts it on the wire (yarl normalises the
percent-encoding of a path: ``%3A`` in a model id goes out as ``:``; the signature must be made
over that form, since AWS computes it from the path it receives), the query string as
parameters (botocore then encodes the canonical query string as AWS does), the body bytes and
the request's headers (``host`` from the URL; ``x-amz-date`` and, with temporary credentials,
``x-amz-security-token`` added).

botocore is imported on first use (by then the credential provider imported it in a worker
thread); importing this module imports neither botocore nor yarl. botocore's signer logs each
request's canonical form at DEBUG, which quotes the signed headers (the session token among
them): those records of the ``botocore.auth`` logger are dropped (:class:`NoSigningDetails`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from .credentials import FrozenCredentials
from .settings import SIGNING_NAME

__all__ = ["SIGNED_HEADERS", "NoSigningDetails", "sigv4_headers", "wire_url"]

#: the headers SigV4 adds to a request (returned by :func:`sigv4_headers`, when set).
SIGNED_HEADERS = ("Authorization", "X-Amz-Date", "Date", "X-Amz-Security-Token", "X-Amz-Content-SHA256")
#: what botocore's signer logs about a request: its canonical form, string to sign and signature.
_DETAILS = ("CanonicalRequest", "StringToSign", "Signature", "String to sign")


class NoSigningDetails(logging.Filter):
    """Drops the records of a request's canonical form, string to sign and signature that
    botocore's signer logs at DEBUG: the canonical request quotes every signed header, the
    session token (``x-amz-security-token``) among them."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith(_DETAILS))


_FILTER = NoSigningDetails()


def _quiet_signer() -> None:
    """Put :class:`NoSigningDetails` on botocore's signer logger (once)."""
    signer_log = logging.getLogger("botocore.auth")
    if _FILTER not in signer_log.filters:
        signer_log.addFilter(_FILTER)


def wire_url(url: str) -> str:
    """``url`` as aiohttp sends it: normalised by yarl (which aiohttp requires) when it is
    installed, else as it is."""
    try:
        from yarl import URL
    except ImportError:  # pragma: no cover - aiohttp (a dependency) requires yarl
        return url
    return str(URL(url))


def _split_query(url: str) -> tuple[str, list[tuple[str, str]]]:
    """``url`` without its query string, and the query's ``(name, value)`` pairs, decoded (``+``
    stays ``+``, as AWS reads it)."""
    base, _, query = url.partition("?")
    base = base.partition("#")[0]
    pairs: list[tuple[str, str]] = []
    for item in query.partition("#")[0].split("&"):
        if item:
            name, _, value = item.partition("=")
            pairs.append((unquote(name), unquote(value)))
    return base, pairs


def sigv4_headers(
    credentials: FrozenCredentials,
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    region: str,
    service: str = SIGNING_NAME,
) -> dict[str, str]:
    """The headers that sign the request (``Authorization``, ``X-Amz-Date``, and
    ``X-Amz-Security-Token`` with temporary credentials) for ``service`` in ``region``.

    ``url`` is normalised to its wire form (:func:`wire_url`); ``headers`` are the request's
    headers (all are signed, with ``host``). Time comes from botocore's clock."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    _quiet_signer()
    base, params = _split_query(wire_url(url))
    request: Any = AWSRequest(method=method.upper(), url=base, data=body or b"", headers=dict(headers))
    if params:
        request.params = params
    SigV4Auth(credentials, service, region).add_auth(request)
    signed = request.headers
    return {name: signed[name] for name in SIGNED_HEADERS if signed.get(name) is not None}
