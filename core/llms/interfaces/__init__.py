"""Contracts of core-llms: protocols, messages, responses, context, metadata and errors.

The media results (``LLMImageResponse``, ``LLMAudioResponse``, ``LLMVideoResponse``, their chunks,
``GeneratedImage``, ``EmbeddingResponse``) are importable from here but loaded on first access
(see :mod:`.media`); they are listed in :data:`MEDIA_NAMES`, not in ``__all__``, so that a star
import does not load them.
"""

from typing import TYPE_CHECKING, Any

from .context import RequestContext
from .errors import (
    AllEndpointsFailedError,
    APIConnectionError,
    AttemptRecord,
    AuthenticationError,
    BadRequestError,
    BatchJobFailedError,
    BudgetExceededError,
    CallCancelledError,
    ConfigurationError,
    ConflictError,
    ContentFilterError,
    ContextWindowExceededError,
    InvalidInputError,
    LLMError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ResponseParsingError,
    ResponseTooLargeError,
    ServiceUnavailableError,
    StreamInterruptedError,
    UnknownModelError,
    UnsafeURLError,
    UnsupportedOperationError,
    VideoJobFailedError,
)
from .llm_interfaces import (
    ILLM,
    IConnector,
    StreamDecoder,
    StreamParser,
    WireEvent,
    WireRequest,
    WireResponse,
)
from .messages import (
    AudioPart,
    ContentPart,
    FilePart,
    FunctionCall,
    ImagePart,
    Message,
    MessagesInput,
    TextPart,
    ToolCall,
    normalize_messages,
)
from .metadata import Capabilities, MediaType, ModelMetadata, ParameterRules, Pricing
from .types import (
    MEDIA_NAMES,
    FinishReason,
    LLMResponse,
    LLMStreamChunk,
    StreamAccumulator,
    ToolCallDelta,
    Usage,
)

if TYPE_CHECKING:
    from .media import EmbeddingResponse as EmbeddingResponse
    from .media import GeneratedImage as GeneratedImage
    from .media import LLMAudioChunk as LLMAudioChunk
    from .media import LLMAudioResponse as LLMAudioResponse
    from .media import LLMImageChunk as LLMImageChunk
    from .media import LLMImageResponse as LLMImageResponse
    from .media import LLMVideoChunk as LLMVideoChunk
    from .media import LLMVideoResponse as LLMVideoResponse
    from .media import RerankResponse as RerankResponse
    from .media import RerankResult as RerankResult
    from .media import Transcription as Transcription
    from .media import TranscriptionSegment as TranscriptionSegment
    from .media import TranscriptionWord as TranscriptionWord

__all__ = [
    "ILLM",
    "APIConnectionError",
    "AllEndpointsFailedError",
    "AttemptRecord",
    "AudioPart",
    "AuthenticationError",
    "BadRequestError",
    "BatchJobFailedError",
    "BudgetExceededError",
    "CallCancelledError",
    "Capabilities",
    "ConfigurationError",
    "ConflictError",
    "ContentFilterError",
    "ContentPart",
    "ContextWindowExceededError",
    "FilePart",
    "FinishReason",
    "FunctionCall",
    "IConnector",
    "ImagePart",
    "InvalidInputError",
    "LLMError",
    "LLMResponse",
    "LLMStreamChunk",
    "MediaType",
    "Message",
    "MessagesInput",
    "ModelMetadata",
    "NotFoundError",
    "ParameterRules",
    "PermissionDeniedError",
    "Pricing",
    "RateLimitError",
    "RequestContext",
    "RequestTimeoutError",
    "ResponseParsingError",
    "ResponseTooLargeError",
    "ServiceUnavailableError",
    "StreamAccumulator",
    "StreamDecoder",
    "StreamInterruptedError",
    "StreamParser",
    "TextPart",
    "ToolCall",
    "ToolCallDelta",
    "UnknownModelError",
    "UnsafeURLError",
    "UnsupportedOperationError",
    "Usage",
    "VideoJobFailedError",
    "WireEvent",
    "WireRequest",
    "WireResponse",
    "normalize_messages",
]


def __getattr__(name: str) -> Any:
    if name in MEDIA_NAMES:
        from . import media

        return getattr(media, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *MEDIA_NAMES])
