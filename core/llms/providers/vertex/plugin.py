"""The built-in Vertex AI plugin: the ``vertex`` provider profile (Gemini on Vertex AI, and Claude
through the Anthropic dialect: :mod:`.anthropic`)."""

from __future__ import annotations

from ...hookspecs import hookimpl
from ...interfaces.provider import ProviderProfile
from ..gemini.catalogue import VERTEX_GENERIC, VERTEX_MODELS
from ..gemini.model import GeminiModel
from .adapter import DEFAULT_ENDPOINT, VertexAdapter
from .anthropic import VERTEX_CLAUDE_ROWS
from .settings import VertexSettings

__all__ = ["PROFILE", "llms_register_providers"]

#: ``GOOGLE_CLOUD_PROJECT`` (or ``GCLOUD_PROJECT``), ``GOOGLE_CLOUD_LOCATION`` (default
#: us-central1), ``GOOGLE_APPLICATION_CREDENTIALS`` (a credentials file; else Application Default
#: Credentials); optional ``VERTEX_AI_ENDPOINT`` (a private endpoint or proxy). No API key is read
#: from the environment: pass ``api_key=`` for a Vertex AI key.
PROFILE = ProviderProfile(
    name="vertex",
    adapter=VertexAdapter,
    model_class=GeminiModel,
    settings=VertexSettings,
    default_endpoint=DEFAULT_ENDPOINT,
    endpoint_env=("VERTEX_AI_ENDPOINT",),
    settings_env={
        "project": ("GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT"),
        "location": ("GOOGLE_CLOUD_LOCATION",),
        "credentials_file": ("GOOGLE_APPLICATION_CREDENTIALS",),
    },
    requires_api_key=False,
    # Application Default Credentials: a key file, or the project gcloud / the metadata server serves
    credential_env=("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT"),
    models=(*VERTEX_MODELS, *VERTEX_CLAUDE_ROWS),
    generic=VERTEX_GENERIC,
    description="Google Vertex AI (Gemini, and Claude via rawPredict; Google credentials, regional hosts)",
    notes="project/location settings; a backup may name another location; google-auth on first call",
)


@hookimpl
def llms_register_providers() -> list[ProviderProfile]:
    """The ``vertex`` provider."""
    return [PROFILE]
