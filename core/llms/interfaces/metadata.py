"""Model metadata: what a model is, what it can do, which parameters it takes, what it costs.

Capability queries and cost calculation read only this. A model class is mostly one of these.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .types import Usage

__all__ = ["Capabilities", "MediaType", "ModelMetadata", "ParameterRules", "Pricing"]

MediaType = Literal["text", "image", "audio", "video", "pdf", "embedding"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Capabilities(_Frozen):
    """What the model supports beyond plain text chat."""

    streaming: bool = True
    tools: bool = False
    parallel_tools: bool = False
    json_schema: bool = False
    json_mode: bool = False
    vision: bool = False
    pdf: bool = False
    audio_in: bool = False
    reasoning: bool = False
    system_prompt: bool = True


class ParameterRules(_Frozen):
    """How generic parameters map onto this model's wire parameters.

    ``max_tokens`` is always accepted from callers and sent under ``max_tokens_param``.
    A parameter in ``unsupported`` is rejected with :class:`InvalidInputError` unless the caller
    set ``drop_unsupported=True`` on the model, in which case it is dropped and logged once.
    """

    max_tokens_param: str = "max_tokens"
    unsupported: frozenset[str] = frozenset()
    temperature_range: tuple[float, float] = (0.0, 2.0)
    #: parameters this model accepts beyond the provider's common set (e.g. reasoning_effort).
    extra_allowed: frozenset[str] = frozenset()
    #: values applied when the caller gives none.
    defaults: dict[str, object] = Field(default_factory=dict)


class Pricing(_Frozen):
    """Prices in USD. Token prices are per 1M tokens."""

    input_per_1m: float = 0.0
    cached_input_per_1m: float | None = None
    output_per_1m: float = 0.0
    per_image: float | None = None
    per_audio_second: float | None = None
    per_video_second: float | None = None

    def cost(self, usage: Usage) -> float:
        """USD cost of ``usage``; cached input tokens are billed at the cached price if known."""
        cached = usage.cached_input_tokens if self.cached_input_per_1m is not None else 0
        fresh = usage.input_tokens - cached
        total = fresh * self.input_per_1m + usage.output_tokens * self.output_per_1m
        if cached:
            total += cached * (self.cached_input_per_1m or 0.0)
        return total / 1_000_000


class ModelMetadata(_Frozen):
    """Everything the library knows about one model on one provider."""

    name: str
    provider: str
    family: str = ""
    #: the model id sent on the wire, when it differs from ``name`` (e.g. a dated snapshot).
    wire_name: str | None = None
    aliases: tuple[str, ...] = ()
    context_window: int = 8192
    max_output_tokens: int = 4096
    input_media: frozenset[MediaType] = frozenset({"text"})
    output_media: frozenset[MediaType] = frozenset({"text"})
    capabilities: Capabilities = Capabilities()
    parameters: ParameterRules = ParameterRules()
    pricing: Pricing = Pricing()
    deprecation_date: date | None = None
    description: str = ""

    @property
    def model_id(self) -> str:
        """The id to send on the wire."""
        return self.wire_name or self.name

    @property
    def qualified_name(self) -> str:
        """``provider/name``, the key used by the registry and ``create_llm``."""
        return f"{self.provider}/{self.name}"

    def supports_output(self, media: MediaType) -> bool:
        return media in self.output_media

    def supports_input(self, media: MediaType) -> bool:
        return media in self.input_media
