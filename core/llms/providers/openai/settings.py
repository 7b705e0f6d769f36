"""OpenAI's own endpoint fields: :class:`OpenAISettings`."""

from __future__ import annotations

from dataclasses import dataclass

from ...interfaces import _fields as checks

__all__ = ["OpenAISettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenAISettings:
    """``organization`` → ``OpenAI-Organization``, ``project`` → ``OpenAI-Project`` headers
    (``OPENAI_ORG_ID`` / ``OPENAI_PROJECT_ID`` when not given)."""

    organization: str | None = None
    project: str | None = None

    def __post_init__(self) -> None:
        for name in ("organization", "project"):
            value = getattr(self, name)
            if value is not None:
                checks.check_str("OpenAISettings", name, value)
