"""Vertex AI's own endpoint fields: :class:`VertexSettings`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ...interfaces import _fields as checks
from ...interfaces.errors import ConfigurationError

__all__ = ["DEFAULT_LOCATION", "VertexSettings"]

#: the location used when none is given (nor ``GOOGLE_CLOUD_LOCATION``).
DEFAULT_LOCATION = "us-central1"
_LOCATION = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
_PROJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:-]{0,127}$")
_VERSION = re.compile(r"^v\d+(?:(?:alpha|beta)\d*)?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class VertexSettings:
    """Where a Vertex AI endpoint serves Gemini, and the Google credentials it uses.

    ``project`` (``GOOGLE_CLOUD_PROJECT``) and ``location`` (``GOOGLE_CLOUD_LOCATION``, default
    ``us-central1``; ``global``, ``us`` and ``eu`` too) name the endpoint; a backup naming only
    another location (``backups=[{"location": "europe-west4"}]``) is served from that region.
    ``api_version``: ``v1`` (default) or ``v1beta1``.

    Credentials, tried in order: the endpoint's ``api_key`` (``x-goog-api-key``) or
    ``token_provider`` (a callable returning an OAuth access token), else ``credentials`` (a
    google-auth credentials object: service account, workload identity federation, impersonated
    …), else ``credentials_file`` (a JSON key or external-account file,
    ``GOOGLE_APPLICATION_CREDENTIALS``), else Application Default Credentials (the metadata
    server on Google Cloud, ``gcloud auth application-default login`` …). The last three need
    the ``google-auth`` package (``pip install 'core-llms[vertex]'``), imported on the first call.
    """

    project: str
    location: str = DEFAULT_LOCATION
    credentials: Any = field(default=None, repr=False)
    credentials_file: str | None = None
    api_version: str = "v1"

    def __post_init__(self) -> None:
        owner = "VertexSettings"
        project = checks.check_str(owner, "project", self.project).strip()
        if not _PROJECT.match(project):
            raise ConfigurationError(
                f"{owner}.project must be a Google Cloud project id such as 'my-project'"
            )
        object.__setattr__(self, "project", project)
        location = checks.check_str(owner, "location", self.location).strip().lower()
        if not _LOCATION.match(location):
            raise ConfigurationError(
                f"{owner}.location must be a Vertex AI location such as 'us-central1', 'europe-west4' "
                "or 'global'"
            )
        object.__setattr__(self, "location", location)
        if (
            self.credentials_file is not None
            and not checks.check_str(owner, "credentials_file", self.credentials_file).strip()
        ):
            raise ConfigurationError(f"{owner}.credentials_file must not be empty")
        if self.credentials is not None and not callable(getattr(self.credentials, "refresh", None)):
            raise ConfigurationError(
                f"{owner}.credentials must be a google-auth credentials object (with refresh()), "
                f"not {type(self.credentials).__name__}",
                hint="e.g. google.oauth2.service_account.Credentials.from_service_account_file(...), or "
                "pass credentials_file= / token_provider=",
            )
        if not _VERSION.match(checks.check_str(owner, "api_version", self.api_version)):
            raise ConfigurationError(f"{owner}.api_version must be an API version such as 'v1' or 'v1beta1'")
