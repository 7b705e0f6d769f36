"""Anthropic's own endpoint fields: :class:`AnthropicSettings`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ...interfaces import _fields as checks
from ...interfaces.errors import ConfigurationError

__all__ = ["AnthropicSettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AnthropicSettings:
    """``version`` → the ``anthropic-version`` header (``2023-06-01``); ``beta`` → the
    ``anthropic-beta`` header of every call on the endpoint: a beta name, a comma-separated list
    or a list of names (``ANTHROPIC_BETA`` when not given). A call's ``betas=`` replaces it for
    that call."""

    version: str = "2023-06-01"
    beta: str | None = None

    def __post_init__(self) -> None:
        version = checks.check_str("AnthropicSettings", "version", self.version)
        if not version.strip() or any(c in version for c in "\r\n"):
            raise ConfigurationError("AnthropicSettings.version must be a one-line, non-empty string")
        beta = self.beta
        if beta is None:
            return
        if isinstance(beta, Sequence) and not isinstance(beta, str):
            if not all(isinstance(b, str) for b in beta):
                raise ConfigurationError("AnthropicSettings.beta must be a string or a list of strings")
            beta = ",".join(beta)
        beta = checks.check_str("AnthropicSettings", "beta", beta)
        names = [b.strip() for b in beta.split(",") if b.strip()]
        if not names or any(c in beta for c in "\r\n"):
            raise ConfigurationError("AnthropicSettings.beta must name at least one beta, on one line")
        object.__setattr__(self, "beta", ",".join(names))
