"""AWS Bedrock's URL, auth and error rules: :class:`BedrockAdapter`."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Mapping
from typing import ClassVar, Literal
from urllib.parse import quote, urlsplit

from ...interfaces.endpoint import EndpointConfig, Secret, join_url
from ...interfaces.errors import ConfigurationError, LLMError, UnsupportedOperationError
from ...interfaces.llm_interfaces import StreamDecoder
from ..base.auth import resolve_bearer_token
from .catalogue import PROFILE_ONLY
from .credentials import AwsCredentialProvider, CredentialSpec, SessionFactory
from .settings import SIGNING_NAME, BedrockSettings

__all__ = [
    "CONTROL_ENDPOINT",
    "EVENTSTREAM",
    "OPERATION_PATHS",
    "REQUEST_ID_HEADER",
    "STREAM_OPERATIONS",
    "BedrockAdapter",
    "control_endpoint",
]

#: operation -> path under the endpoint (``{model}``: the model id, percent-encoded).
OPERATION_PATHS: Mapping[str, str] = {
    "converse": "/model/{model}/converse",
    "converse_stream": "/model/{model}/converse-stream",
    "invoke": "/model/{model}/invoke",
    "invoke_stream": "/model/{model}/invoke-with-response-stream",
    "count_tokens": "/model/{model}/count-tokens",
    # start a job (POST); a job's status is GET /async-invoke/{arn} (WireRequest.path), the list GET
    "async_invoke": "/async-invoke",
    # the control plane (``bedrock.{region}``, see control_endpoint): batch inference jobs; a
    # job's status is GET /model-invocation-job/{id}, stopping it POST .../{id}/stop (path)
    "model_invocation_job": "/model-invocation-job",
}
#: operations answered with an AWS event stream (``application/vnd.amazon.eventstream``).
STREAM_OPERATIONS = frozenset({"converse_stream", "invoke_stream"})
#: the content type of an AWS event stream, asked for by streamed requests.
EVENTSTREAM = "application/vnd.amazon.eventstream"
#: the response header holding AWS's request id.
REQUEST_ID_HEADER = "x-amzn-RequestId"
#: the Bedrock control plane of a region (CreateModelInvocationJob, GetModelInvocationJob …).
CONTROL_ENDPOINT = "https://bedrock.{region}.amazonaws.com"
#: AWS's own runtime hosts (``bedrock-runtime[-fips].{region}.amazonaws.com[.cn]``).
_AWS_RUNTIME_HOST = re.compile(r"bedrock-runtime(-fips)?(\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?)")
_STREAM_PATHS = tuple(OPERATION_PATHS[op].removeprefix("/model/{model}") for op in STREAM_OPERATIONS)
#: bodies larger than this are hashed for the signature in a worker thread (big images, documents).
_LARGE_BODY = 1 << 20


def control_endpoint(runtime_endpoint: str) -> str:
    """The control-plane endpoint beside a runtime endpoint: AWS's own runtime hosts
    (``https://bedrock-runtime.{region}.amazonaws.com``, its ``-fips`` twin, ``.amazonaws.com.cn``)
    become the ``bedrock.{region}`` host of the same partition; any other URL (a gateway, a
    local simulator) is taken to serve both and returned as it is. A VPC interface endpoint of
    the runtime does not reach the control plane: give that one explicitly."""
    parts = urlsplit(runtime_endpoint)
    host = parts.hostname or ""
    match = _AWS_RUNTIME_HOST.fullmatch(host)
    if match is None:
        return runtime_endpoint.rstrip("/")
    return f"https://bedrock{match.group(1) or ''}{match.group(2)}"


class BedrockAdapter:
    """AWS Bedrock runtime rules (implements ``ProviderAdapter`` and ``RequestSigner``).

    * URL: ``{endpoint}/model/{model id}/converse`` (``converse_stream``: ``/converse-stream``,
      ``invoke``: ``/invoke``, ``invoke_stream``: ``/invoke-with-response-stream``,
      ``count_tokens``: ``/count-tokens``; ``async_invoke``: ``/async-invoke``). The endpoint
      defaults to the region's (``https://bedrock-runtime.{region}.amazonaws.com``); the model id
      is percent-encoded (ARNs), and given its endpoint's cross-region inference-profile prefix
      when its settings say so (:meth:`~.settings.BedrockSettings.profile_prefix`).
      ``model_invocation_job`` (batch inference) is a control-plane path: its requests go to
      :func:`control_endpoint` of the runtime endpoint, signed the same way.
    * Auth: SigV4 (service ``bedrock``, the endpoint's own region) of every attempt's final
      method, URL, headers and body (:meth:`sign_request`), with credentials from
      :class:`~.credentials.AwsCredentialProvider` (botocore's chain, resolved and refreshed in
      a worker thread, cached per identity); or, with a Bedrock API key (``bedrock_api_key`` /
      ``AWS_BEARER_TOKEN_BEDROCK``, the endpoint's ``api_key`` or ``token_provider``) and no
      explicit keys or role, ``Authorization: Bearer <key>`` and no signature.
    * Streams are AWS event streams (``EventStreamDecoder``); the request id comes from
      ``x-amzn-RequestId``; errors are mapped by the Bedrock dialect's ``map_http_error``.

    ``session_factory`` (tests) makes the botocore session of a profile; ``clock`` is the
    credential providers' clock.
    """

    #: ``token_provider`` must be a callable (a credential object with ``get_token`` is Azure's).
    accepts_credentials: ClassVar[bool] = False

    def __init__(
        self, *, session_factory: SessionFactory | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.provider = "bedrock"
        self._session_factory = session_factory
        self._clock = clock
        self._credentials: dict[CredentialSpec, AwsCredentialProvider] = {}

    def __repr__(self) -> str:
        return "BedrockAdapter('bedrock')"

    @staticmethod
    def settings_of(endpoint: EndpointConfig) -> BedrockSettings:
        """The endpoint's :class:`BedrockSettings`; :class:`ConfigurationError` when it has none."""
        settings = endpoint.settings
        if not isinstance(settings, BedrockSettings):
            raise ConfigurationError(
                f"AWS Bedrock endpoint {endpoint.display_name} has no region",
                endpoint=endpoint.display_name,
                hint="pass region= (e.g. 'us-east-1') or set AWS_REGION / AWS_DEFAULT_REGION",
            )
        return settings

    # -- URLs --------------------------------------------------------------------------------

    def wire_model(self, endpoint: EndpointConfig, model: str) -> str:
        """The model id ``endpoint`` is sent for ``model``: with its cross-region inference
        profile prefix when its settings say so (see ``BedrockSettings.cross_region``)."""
        prefix = self.settings_of(endpoint).profile_prefix(model, PROFILE_ONLY)
        return f"{prefix}.{model}" if prefix else model

    def url(self, endpoint: EndpointConfig, operation: str, model: str) -> str:
        path = OPERATION_PATHS.get(operation)
        if path is None:
            raise UnsupportedOperationError(
                f"bedrock has no {operation!r} operation", hint=f"known: {', '.join(OPERATION_PATHS)}"
            )
        if "{model}" in path:
            if not model or not model.strip():
                raise ConfigurationError(
                    f"a Bedrock {operation} request needs a model id", endpoint=endpoint.display_name
                )
            # ':' stays as it is (aiohttp would decode %3A anyway); '/' of an ARN is encoded
            path = path.replace("{model}", quote(self.wire_model(endpoint, model.strip()), safe=":"))
        return join_url(endpoint.endpoint, path)

    # -- auth --------------------------------------------------------------------------------

    def auth_mode(self, endpoint: EndpointConfig) -> Literal["sigv4", "bearer"]:
        """``"bearer"`` with a Bedrock API key (or a token provider) and no explicit keys or
        role; else ``"sigv4"``."""
        settings = self.settings_of(endpoint)
        if settings.uses_sigv4_keys:
            return "sigv4"
        if endpoint.token_provider is not None or settings.bedrock_api_key or endpoint.api_key is not None:
            return "bearer"
        return "sigv4"

    async def auth_headers(self, endpoint: EndpointConfig) -> dict[str, str]:
        """``Authorization: Bearer <API key>`` in bearer mode; nothing for SigV4 (the signature
        is made per request by :meth:`sign_request`)."""
        if self.auth_mode(endpoint) != "bearer":
            return {}
        token: str | None
        if endpoint.token_provider is not None:
            token = await resolve_bearer_token(endpoint)
        else:
            key = self.settings_of(endpoint).bedrock_api_key
            token = key.get_secret_value() if isinstance(key, Secret) else None
            if token is None and endpoint.api_key is not None:
                token = endpoint.api_key.get_secret_value()
        return {"Authorization": f"Bearer {token}"} if token else {}

    def credentials_for(self, endpoint: EndpointConfig) -> AwsCredentialProvider:
        """The credential provider of ``endpoint``'s identity (made on first use, then shared by
        every endpoint of this adapter with the same identity: a backup region too). Models on
        one endpoint share its connector, and so this adapter's providers."""
        spec = CredentialSpec.from_settings(self.settings_of(endpoint))
        provider = self._credentials.get(spec)
        if provider is None:
            provider = self._credentials[spec] = AwsCredentialProvider(
                spec, session_factory=self._session_factory, clock=self._clock
            )
        return provider

    async def sign_request(
        self, endpoint: EndpointConfig, method: str, url: str, headers: Mapping[str, str], body: bytes
    ) -> Mapping[str, str]:
        """The headers that authenticate this attempt: SigV4's (``Authorization``,
        ``X-Amz-Date``, ``X-Amz-Security-Token``) for the endpoint's region, or none in bearer
        mode; streamed operations also ask for an event stream (``Accept``)."""
        added: dict[str, str] = {}
        if url.partition("?")[0].endswith(_STREAM_PATHS):
            added["Accept"] = EVENTSTREAM
        if self.auth_mode(endpoint) != "sigv4":
            return added
        settings = self.settings_of(endpoint)
        try:
            credentials = await self.credentials_for(endpoint)()
        except LLMError as exc:
            raise exc.fill(endpoint=endpoint.display_name, provider=self.provider) from None
        from .signing import sigv4_headers  # (imports botocore: loaded by the credentials already)

        def sign() -> dict[str, str]:
            return sigv4_headers(
                credentials,
                method=method,
                url=url,
                headers={**headers, **added},
                body=body,
                region=settings.region,
                service=SIGNING_NAME,
            )

        signed = await asyncio.to_thread(sign) if len(body) > _LARGE_BODY else sign()
        return {**added, **signed}

    # -- answers -----------------------------------------------------------------------------

    def decoder(self, operation: str) -> StreamDecoder:
        """An AWS event-stream decoder for ``converse_stream`` and ``invoke_stream``."""
        if operation not in STREAM_OPERATIONS:
            raise UnsupportedOperationError(
                f"bedrock does not stream {operation!r}",
                hint=f"streamed: {', '.join(sorted(STREAM_OPERATIONS))}",
            )
        from ..base.eventstream import EventStreamDecoder

        decoder: StreamDecoder = EventStreamDecoder()
        return decoder

    def request_id(self, headers: Mapping[str, str]) -> str | None:
        value = headers.get(REQUEST_ID_HEADER) or headers.get("x-amzn-requestid")
        if value is None and not hasattr(headers, "getall"):  # a plain dict: any spelling
            lowered = REQUEST_ID_HEADER.lower()
            value = next((v for k, v in headers.items() if k.lower() == lowered), None)
        return value or None

    def map_error(self, status: int, headers: Mapping[str, str], body: bytes, endpoint: str) -> LLMError:
        """Bedrock's error (``x-amzn-ErrorType`` and the JSON ``message``) as a typed error."""
        from ..dialects.bedrock_converse.errors import map_http_error

        error: LLMError = map_http_error(status, headers, body, endpoint, self.request_id(headers))
        return error
