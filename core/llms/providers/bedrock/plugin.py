"""The built-in AWS Bedrock plugin: the ``bedrock`` provider profile and its catalogue rows."""

from __future__ import annotations

from ...hookspecs import hookimpl
from ...interfaces.provider import ProviderProfile
from .adapter import BedrockAdapter
from .catalogue import BEDROCK_GENERIC, BEDROCK_MODELS
from .model import BedrockModel
from .settings import DEFAULT_ENDPOINT, GEOGRAPHIES, BedrockSettings

__all__ = ["PROFILE", "llms_register_providers"]

#: ``AWS_REGION`` (or ``AWS_DEFAULT_REGION``; required), ``AWS_PROFILE``, ``AWS_BEARER_TOKEN_BEDROCK``
#: (a Bedrock API key: bearer auth instead of SigV4), ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` (an
#: endpoint other than the region's) and ``AWS_ENDPOINT_URL_S3`` (where media output is fetched).
#: AWS keys come from botocore's chain (``AWS_ACCESS_KEY_ID`` …, profiles, SSO, instance roles)
#: unless given as keywords.
PROFILE = ProviderProfile(
    name="bedrock",
    adapter=BedrockAdapter,
    model_class=BedrockModel,
    settings=BedrockSettings,
    default_endpoint=DEFAULT_ENDPOINT,
    endpoint_env=("AWS_ENDPOINT_URL_BEDROCK_RUNTIME",),
    settings_env={
        "region": ("AWS_REGION", "AWS_DEFAULT_REGION"),
        "profile": ("AWS_PROFILE",),
        "bedrock_api_key": ("AWS_BEARER_TOKEN_BEDROCK",),
        "s3_endpoint": ("AWS_ENDPOINT_URL_S3",),
    },
    requires_api_key=False,
    # botocore's chain (profiles, SSO, roles) or a Bedrock API key
    credential_env=(
        "AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_BEARER_TOKEN_BEDROCK", "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ),
    model_prefixes=(
        "anthropic.", "amazon.", "meta.", "mistral.", "cohere.", "ai21.", "deepseek.", "openai.", "qwen.",
        "writer.", "us.", "eu.", "apac.", "global.",
    ),
    models=BEDROCK_MODELS,
    generic=BEDROCK_GENERIC,
    open_name_prefixes=tuple(f"{geography}." for geography in GEOGRAPHIES),
    description="AWS Bedrock (Converse API; SigV4 or Bedrock API keys; region backups)",
    notes=(
        "Signed with SigV4 (botocore's credential chain: the `bedrock` extra) or a Bedrock API key "
        "(`AWS_BEARER_TOKEN_BEDROCK`, no extra needed); `region=` picks the endpoint and the signing "
        'region, and a backup may name another (`backups=[{"region": "us-west-2"}]`). Models '
        "served only through cross-region inference profiles get the region's prefix (`us.` …); "
        "`cross_region=` changes that, and profile ids or ARNs are accepted as model names."
    ),
)


@hookimpl
def llms_register_providers() -> list[ProviderProfile]:
    """The ``bedrock`` provider."""
    return [PROFILE]
