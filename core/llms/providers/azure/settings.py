"""Azure OpenAI's own endpoint fields: :class:`AzureSettings`."""

from __future__ import annotations

from dataclasses import dataclass

from ...interfaces import _fields as checks
from ...interfaces.errors import ConfigurationError

__all__ = ["V1_API_VERSION", "AzureSettings"]

#: ``api_version`` value selecting Azure's version-less v1 API (``/openai/v1/...``).
V1_API_VERSION = "v1"


@dataclass(frozen=True, slots=True, kw_only=True)
class AzureSettings:
    """The deployment an endpoint serves the model from, and the API version to call.

    ``deployment_name`` defaults to the model name given to ``create_llm`` (``azure/<deployment>``)
    when neither the caller nor ``AZURE_OPENAI_DEPLOYMENT`` names one; ``api_version`` comes from
    ``OPENAI_API_VERSION`` / ``AZURE_OPENAI_API_VERSION`` when not given (``"v1"`` selects the
    version-less v1 API). Each backup may name its own deployment and version.
    """

    deployment_name: str
    api_version: str

    def __post_init__(self) -> None:
        for name in ("deployment_name", "api_version"):
            value = checks.check_str("AzureSettings", name, getattr(self, name))
            if not value.strip():
                raise ConfigurationError(f"AzureSettings.{name} must not be empty")
