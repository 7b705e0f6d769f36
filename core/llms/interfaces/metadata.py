"""Model metadata: what a model is, what it can do, which parameters it takes, what it costs.

Capability queries and cost calculation read only this. A model class is mostly one of these.

The four classes are frozen, slotted, keyword-only dataclasses (not pydantic models: importing
pydantic would cost about half of aiohttp's import on every ``import core.llms``). Each checks
its fields when it is built and raises :class:`~core.llms.interfaces.errors.ConfigurationError`
naming the field; an unknown field is a ``TypeError`` from the constructor, or a
``ConfigurationError`` through :meth:`ModelMetadata.from_mapping`. Copy with changes through
``replace(**changes)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Self, get_args

from . import _fields as checks
from .errors import ConfigurationError
from .types import Usage

__all__ = ["Capabilities", "MediaType", "ModelMetadata", "ParameterRules", "Pricing"]

#: ``"transcription"`` is the output of speech-to-text models (``transcribe`` / ``translate``),
#: which cannot chat: their ``output_media`` lists it instead of ``"text"``.
#: ``"rerank"`` is the output of rerank models (``rerank``).
MediaType = Literal["text", "image", "audio", "video", "pdf", "embedding", "transcription", "rerank"]
_MEDIA_TYPES: frozenset[str] = frozenset(get_args(MediaType))


@dataclass(frozen=True, slots=True, kw_only=True)
class Capabilities:
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

    def __post_init__(self) -> None:
        for name in checks.field_names(Capabilities):
            checks.check_bool("Capabilities", name, getattr(self, name))

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied (checked like a new object)."""
        return checks.replace(self, changes, "Capabilities")


@dataclass(frozen=True, slots=True, kw_only=True)
class ParameterRules:
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
    defaults: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        owner = "ParameterRules"
        checks.check_str(owner, "max_tokens_param", self.max_tokens_param)
        _set(self, "unsupported", checks.check_str_set(owner, "unsupported", self.unsupported))
        _set(self, "extra_allowed", checks.check_str_set(owner, "extra_allowed", self.extra_allowed))
        _set(self, "defaults", checks.check_mapping(owner, "defaults", self.defaults))
        low_high = self.temperature_range
        if not isinstance(low_high, tuple | list) or len(low_high) != 2:
            raise ConfigurationError(f"{owner}.temperature_range must be a (low, high) pair")
        low = checks.check_float(owner, "temperature_range", low_high[0])
        high = checks.check_float(owner, "temperature_range", low_high[1])
        if low > high:
            raise ConfigurationError(f"{owner}.temperature_range must be a (low, high) pair with low <= high")
        _set(self, "temperature_range", (low, high))

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied (checked like a new object)."""
        return checks.replace(self, changes, "ParameterRules")


@dataclass(frozen=True, slots=True, kw_only=True)
class Pricing:
    """Prices in USD. Token prices are per 1M tokens."""

    input_per_1m: float = 0.0
    cached_input_per_1m: float | None = None
    output_per_1m: float = 0.0
    per_image: float | None = None
    per_audio_second: float | None = None
    per_video_second: float | None = None
    #: text-to-speech priced by input characters (tts-1, tts-1-hd), per 1M characters.
    per_1m_characters: float | None = None
    #: rerank priced by searches (Cohere's search units: a query with up to 100 documents), per 1K.
    per_1k_searches: float | None = None
    #: the day these prices were read from the provider's price list (prices change).
    as_of: date | None = None
    #: prompt tokens written to the prompt cache (``Usage.cache_write_input_tokens``), per 1M;
    #: None: billed as input tokens.
    cache_write_input_per_1m: float | None = None
    #: the share of these prices a provider's asynchronous Batch API charges (OpenAI, Azure,
    #: Anthropic, Bedrock and Vertex: half price).
    batch_factor: float = 0.5

    def __post_init__(self) -> None:
        for name in checks.field_names(Pricing):
            value = getattr(self, name)
            if name == "as_of":
                _set(self, name, _check_date("Pricing", name, value))
            elif value is not None or name in ("input_per_1m", "output_per_1m"):
                _set(self, name, checks.check_float("Pricing", name, value))

    @property
    def known(self) -> bool:
        """Whether any token price is set (a model without prices reports ``cost`` None)."""
        return self.input_per_1m != 0.0 or self.output_per_1m != 0.0

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied (checked like a new object)."""
        return checks.replace(self, changes, "Pricing")

    def media_cost(
        self, *, images: int = 0, audio_seconds: float = 0.0, video_seconds: float = 0.0, characters: int = 0
    ) -> float | None:
        """USD cost of media priced per unit (images, seconds, characters); None when a unit
        that was used has no price here."""
        total = 0.0
        for amount, price in (
            (images, self.per_image),
            (audio_seconds, self.per_audio_second),
            (video_seconds, self.per_video_second),
            (characters / 1_000_000, self.per_1m_characters),
        ):
            if amount:
                if price is None:
                    return None
                total += amount * price
        return total

    def cost(self, usage: Usage) -> float:
        """USD cost of ``usage``; cached input tokens are billed at the cached price and tokens
        written to the prompt cache at the cache-write price, where those are known."""
        cached = usage.cached_input_tokens if self.cached_input_per_1m is not None else 0
        written = usage.cache_write_input_tokens if self.cache_write_input_per_1m is not None else 0
        fresh = usage.input_tokens - cached - written
        total = fresh * self.input_per_1m + usage.output_tokens * self.output_per_1m
        if cached:
            total += cached * (self.cached_input_per_1m or 0.0)
        if written:
            total += written * (self.cache_write_input_per_1m or 0.0)
        return total / 1_000_000


_NESTED: dict[str, type[Capabilities | ParameterRules | Pricing]] = {
    "capabilities": Capabilities,
    "parameters": ParameterRules,
    "pricing": Pricing,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelMetadata:
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
    capabilities: Capabilities = field(default_factory=Capabilities)
    parameters: ParameterRules = field(default_factory=ParameterRules)
    pricing: Pricing = field(default_factory=Pricing)
    deprecation_date: date | None = None
    description: str = ""
    #: the API the model is called through when its provider has several (OpenAI and Azure:
    #: ``"chat"`` for Chat Completions, ``"responses"`` for the Responses API); empty: the
    #: provider's default. A call may choose with ``api=``.
    api: str = ""

    def __post_init__(self) -> None:
        owner = "ModelMetadata"
        for name in ("name", "provider", "family", "description", "api"):
            checks.check_str(owner, name, getattr(self, name))
        if not self.name or not self.provider:
            raise ConfigurationError(f"{owner}.name and {owner}.provider must not be empty")
        if self.wire_name is not None:
            checks.check_str(owner, "wire_name", self.wire_name)
        _set(self, "aliases", checks.check_str_tuple(owner, "aliases", self.aliases))
        checks.check_int(owner, "context_window", self.context_window, minimum=1)
        checks.check_int(owner, "max_output_tokens", self.max_output_tokens, minimum=1)
        _set(self, "input_media", checks.check_str_set(owner, "input_media", self.input_media, _MEDIA_TYPES))
        _set(
            self, "output_media", checks.check_str_set(owner, "output_media", self.output_media, _MEDIA_TYPES)
        )
        for name, cls in _NESTED.items():
            if not isinstance(getattr(self, name), cls):
                raise ConfigurationError(f"{owner}.{name} must be a {cls.__name__}")
        _set(self, "deprecation_date", _check_date(owner, "deprecation_date", self.deprecation_date))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Self:
        """Build from plain data (a plugin's table, a file): nested ``capabilities``,
        ``parameters`` and ``pricing`` may be mappings too. An unknown or missing field raises
        :class:`ConfigurationError` naming it."""
        if not isinstance(data, Mapping):
            raise ConfigurationError(f"ModelMetadata settings must be a mapping, not {type(data).__name__}")
        values = dict(data)
        for name, nested in _NESTED.items():
            if isinstance(values.get(name), Mapping):
                values[name] = checks.build(nested, values[name], f"ModelMetadata.{name}")
        return checks.build(cls, values, "ModelMetadata")

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied (checked like a new object), e.g.
        ``meta.replace(provider="azure")``."""
        return checks.replace(self, changes, "ModelMetadata")

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


def _check_date(owner: str, name: str, when: object) -> date | None:
    """A date, from a ``date`` or an ISO ``YYYY-MM-DD`` string; None stays None."""
    if when is None or isinstance(when, date):
        return when
    if isinstance(when, str):
        try:
            return date.fromisoformat(when)
        except ValueError:
            raise ConfigurationError(f"{owner}.{name} must be a date (YYYY-MM-DD)") from None
    raise ConfigurationError(f"{owner}.{name} must be a date, not {type(when).__name__}")


def _set(obj: object, name: str, value: object) -> None:
    """Store a normalised value on a frozen dataclass while it is being built."""
    object.__setattr__(obj, name, value)
