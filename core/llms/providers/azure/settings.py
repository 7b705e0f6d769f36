"""Azure OpenAI's own endpoint fields: :class:`AzureSettings`, and the API version each
operation is called with when none is given (:data:`DEFAULT_API_VERSIONS`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ...interfaces import _fields as checks
from ...interfaces.errors import ConfigurationError

__all__ = ["DEFAULT_API_VERSIONS", "V1_API_VERSION", "V1_OPERATIONS", "AzureSettings"]

#: ``api_version`` value selecting Azure's version-less v1 API (``/openai/v1/...``).
V1_API_VERSION = "v1"

#: the ``api-version`` a deployment route is called with when the endpoint names none: the GA
#: version for chat and embeddings, the first previews that serve gpt-image-1 (images) and
#: gpt-4o-mini-tts / gpt-4o-transcribe (audio).
DEFAULT_API_VERSIONS: Mapping[str, str] = {
    "chat": "2024-10-21",
    "embeddings": "2024-10-21",
    "images": "2025-04-01-preview",
    "image_edits": "2025-04-01-preview",
    "speech": "2025-03-01-preview",
    "speech_events": "2025-03-01-preview",
    "transcriptions": "2025-03-01-preview",
    "translations": "2025-03-01-preview",
}
#: operations Azure serves on its v1 API only (``/openai/v1/...``, the deployment in the body's
#: ``model``), whatever ``api_version`` says: the Responses API and videos (sora-2).
V1_OPERATIONS = frozenset({"responses", "videos"})


@dataclass(frozen=True, slots=True, kw_only=True)
class AzureSettings:
    """The deployment an endpoint serves the model from, and the API version to call.

    ``deployment_name`` defaults to the model name given to ``create_llm`` (``azure/<deployment>``)
    when neither the caller nor ``AZURE_OPENAI_DEPLOYMENT`` names one. ``api_version`` comes from
    ``OPENAI_API_VERSION`` / ``AZURE_OPENAI_API_VERSION`` when not given; None (neither) calls
    each operation with its own default (:data:`DEFAULT_API_VERSIONS`), and ``"v1"`` selects the
    version-less v1 API for every operation. The Responses API and videos are always called on
    the v1 API. Each backup may name its own deployment and version.
    """

    deployment_name: str
    api_version: str | None = None

    def __post_init__(self) -> None:
        for name in ("deployment_name", "api_version"):
            value = getattr(self, name)
            if value is None and name == "api_version":
                continue
            value = checks.check_str("AzureSettings", name, value)
            if not value.strip():
                raise ConfigurationError(f"AzureSettings.{name} must not be empty")

    def api_version_for(self, operation: str) -> str:
        """The ``api-version`` of ``operation`` on a deployment route: the one set, else the
        operation's default (chat's for an operation without one)."""
        if self.api_version is not None:
            return self.api_version
        return DEFAULT_API_VERSIONS.get(operation, DEFAULT_API_VERSIONS["chat"])
