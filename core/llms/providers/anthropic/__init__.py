"""The built-in ``anthropic`` provider: Claude through Anthropic's Messages API (the
``anthropic_messages`` dialect), its adapter, settings and catalogue."""

from __future__ import annotations

from .adapter import DEFAULT_BASE_URL, AnthropicAdapter
from .settings import AnthropicSettings

__all__ = ["DEFAULT_BASE_URL", "AnthropicAdapter", "AnthropicSettings"]
