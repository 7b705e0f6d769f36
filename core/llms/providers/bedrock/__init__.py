"""AWS Bedrock provider: a profile (data) on the Bedrock Converse dialect, signed with SigV4 (or
a Bedrock API key), with region backups.

* :mod:`.adapter` — :class:`BedrockAdapter` (operation URLs, SigV4 or bearer auth, request ids,
  error mapping through the dialect, event-stream decoding);
* :mod:`.settings` — :class:`BedrockSettings` (``region``, ``profile``, keys, ``role_arn``,
  ``bedrock_api_key``, ``cross_region``, ``s3_endpoint``);
* :mod:`.credentials` — :class:`AwsCredentialProvider` (botocore's credential chain, resolved
  and refreshed in a worker thread: cached, single-flight, never on the event loop);
* :mod:`.signing` — :func:`sigv4_headers` (botocore's ``SigV4Auth`` over the request as sent);
* :mod:`.catalogue` — the rows (Claude, Nova, Llama, Mistral, Cohere, gpt-oss; embeddings,
  images, video);
* :mod:`.plugin` — the profile.

Nothing here imports botocore (or boto3) until a SigV4 request needs credentials.
"""

from __future__ import annotations

from .adapter import BedrockAdapter
from .credentials import AwsCredentialProvider, CredentialSpec, FrozenCredentials
from .settings import DEFAULT_ENDPOINT, BedrockSettings, geography_of

__all__ = [
    "DEFAULT_ENDPOINT",
    "AwsCredentialProvider",
    "BedrockAdapter",
    "BedrockSettings",
    "CredentialSpec",
    "FrozenCredentials",
    "geography_of",
]
