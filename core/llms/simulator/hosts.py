"""OpenAI-compatible hosts: how each departs from OpenAI's chat-completions wire, and host auth.

A :class:`HostFlavor` lists one host's quirks; ``Simulator(flavor="deepseek")`` picks a preset
from :data:`FLAVORS` (or takes a ``HostFlavor`` of your own) and applies it to every
non-Azure chat route. Written from the recordings in ``tests/llms/wire/openai-compatible`` and
the hosts' documentation:

* DeepSeek and xAI stream reasoning in ``delta.reasoning_content`` (``message.reasoning_content``
  when not streaming; ``xai-stream-tool-call.txt``);
* Groq and OpenRouter use ``delta.reasoning`` / ``message.reasoning``; Groq reports an error
  inside a 200 stream as a named ``event: error`` whose error carries ``status_code``, then closes
  without ``[DONE]`` (``groq-stream-error-tool-use-failed.sse``);
* OpenRouter sends SSE comment lines ``: OPENROUTER PROCESSING`` as keep-alives, and its errors
  carry the HTTP status as an integer ``code`` (``openrouter-429-upstream-rate-limited.json``);
* Mistral's reasoning models put typed chunks in ``content``
  (``[{"type": "thinking", "thinking": [{"type": "text", "text": ...}]}]``) and send the usage on
  the finish chunk, with no separate usage chunk (``mistral-stream-thinking.sse``).

Reasoning text is produced only when the flavor has a ``reasoning`` style, and then when the last
user message contains :data:`REASONING_TRIGGER` (or always with ``always_reason=True``).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Literal, get_args

__all__ = [
    "FLAVORS",
    "REASONING_TRIGGER",
    "ErrorStyle",
    "HostAuth",
    "HostFlavor",
    "ReasoningStyle",
    "resolve_flavor",
]

#: in the last user message: answer with reasoning text (flavors with a ``reasoning`` style).
REASONING_TRIGGER = "[[reasoning]]"

#: where reasoning text goes: ``delta.reasoning_content`` / ``message.reasoning_content``
#: (DeepSeek, xAI), ``delta.reasoning`` / ``message.reasoning`` (OpenRouter, Groq), or Mistral's
#: ``thinking`` chunks inside ``content``.
ReasoningStyle = Literal["reasoning_content", "reasoning", "mistral"]
_REASONING_STYLES: frozenset[str] = frozenset(get_args(ReasoningStyle))
#: the shape of error bodies: OpenAI's ``{"error": {"message", "type", "param", "code"}}``, or
#: OpenRouter's ``{"error": {"code": <HTTP status as an int>, "message"}}``.
ErrorStyle = Literal["openai", "openrouter"]
_ERROR_STYLES: frozenset[str] = frozenset(get_args(ErrorStyle))
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_EVENT_NAME = re.compile(r"^[^\r\n:]+$")
_ONE_LINE = re.compile(r"^[^\r\n]*$")


@dataclass(frozen=True, slots=True)
class HostFlavor:
    """The quirks of one OpenAI-compatible host (every field defaults to OpenAI's behaviour).

    ``reasoning``: where reasoning text goes (None: nowhere, as on OpenAI). ``always_reason``:
    every answer carries reasoning text, not only those asked with :data:`REASONING_TRIGGER`.
    ``keepalive``: the text of an SSE comment line (``: <text>``) sent before the first event and
    then before every ``keepalive_every``-th event. ``done_sentinel``: streams end with
    ``data: [DONE]``. ``usage_in_finish_chunk``: the usage rides on the finish chunk (always, even
    without ``stream_options.include_usage``) instead of a separate ``choices: []`` chunk.
    ``error_style``: the shape of error bodies (HTTP errors and in-stream error events).
    ``error_event_name``: in-stream error events carry ``event: <name>``.
    ``error_status_code``: in-stream errors carry ``"status_code": <status>`` in the error object.
    """

    name: str = "custom"
    reasoning: ReasoningStyle | None = None
    always_reason: bool = False
    keepalive: str | None = None
    keepalive_every: int = 4
    done_sentinel: bool = True
    usage_in_finish_chunk: bool = False
    error_style: ErrorStyle = "openai"
    error_event_name: str | None = None
    error_status_code: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("HostFlavor.name must be a non-empty string")
        if self.reasoning is not None and self.reasoning not in _REASONING_STYLES:
            raise ValueError(
                f"HostFlavor.reasoning must be one of {sorted(_REASONING_STYLES)} or None, "
                f"got {self.reasoning!r}"
            )
        if self.error_style not in _ERROR_STYLES:
            raise ValueError(f"HostFlavor.error_style must be one of {sorted(_ERROR_STYLES)}")
        for name in ("always_reason", "done_sentinel", "usage_in_finish_chunk", "error_status_code"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"HostFlavor.{name} must be a bool")
        keepalive = self.keepalive
        if keepalive is not None and (not isinstance(keepalive, str) or not _ONE_LINE.match(keepalive)):
            raise ValueError("HostFlavor.keepalive must be one line of text or None")
        every = self.keepalive_every
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"HostFlavor.keepalive_every must be an int >= 1, got {every!r}")
        if self.error_event_name is not None and (
            not isinstance(self.error_event_name, str) or not _EVENT_NAME.match(self.error_event_name)
        ):
            raise ValueError("HostFlavor.error_event_name must be an SSE event name (no ':') or None")


OPENAI_FLAVOR = HostFlavor("openai")

#: the presets ``Simulator(flavor=...)`` accepts by name.
FLAVORS: dict[str, HostFlavor] = {
    "openai": OPENAI_FLAVOR,
    "deepseek": HostFlavor("deepseek", reasoning="reasoning_content"),
    "xai": HostFlavor("xai", reasoning="reasoning_content"),
    "groq": HostFlavor("groq", reasoning="reasoning", error_event_name="error", error_status_code=True),
    "openrouter": HostFlavor(
        "openrouter", reasoning="reasoning", keepalive="OPENROUTER PROCESSING", error_style="openrouter"
    ),
    "mistral": HostFlavor("mistral", reasoning="mistral", usage_in_finish_chunk=True),
}


def resolve_flavor(flavor: str | HostFlavor) -> HostFlavor:
    """A preset by name, or the given ``HostFlavor``."""
    if isinstance(flavor, HostFlavor):
        return flavor
    if isinstance(flavor, str) and flavor in FLAVORS:
        return FLAVORS[flavor]
    raise ValueError(f"unknown flavor {flavor!r}; known: {', '.join(FLAVORS)} (or pass a HostFlavor)")


@dataclass(frozen=True, slots=True)
class HostAuth:
    """How the non-Azure routes authenticate: ``header`` None accepts every request (a keyless
    local server); ``Authorization`` wants ``Bearer <key>``; any other header carries the bare key.
    ``api_key`` None accepts any non-empty key."""

    header: str | None = "Authorization"
    api_key: str | None = None

    def __post_init__(self) -> None:
        header = self.header
        if header is not None and (not isinstance(header, str) or not _HEADER_NAME.match(header)):
            raise ValueError(f"auth_header must be an HTTP header name or None, got {self.header!r}")
        if self.header is None and self.api_key is not None:
            raise ValueError("api_key needs an auth header (auth_header=None makes a keyless server)")

    @property
    def bearer(self) -> bool:
        """True when the key travels as ``Authorization: Bearer <key>``."""
        return self.header is not None and self.header.lower() == "authorization"

    @property
    def is_default(self) -> bool:
        """True for OpenAI's ``Authorization: Bearer`` (whatever the key)."""
        return self.bearer

    def key_from(self, headers: dict[str, str]) -> str | None:
        """The key a request carries (``headers`` with lower-case names): None when the header is
        missing, "" when it is empty or not ``Bearer <key>``."""
        if self.header is None:
            return None
        value = headers.get(self.header.lower())
        if value is None:
            return None
        if self.bearer:
            scheme, _, token = value.partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
        return value.strip()

    def key_ok(self, given: str) -> bool:
        """A non-empty key equal to ``api_key`` (any non-empty key when ``api_key`` is None)."""
        if not given:
            return False
        return self.api_key is None or hmac.compare_digest(given.encode(), self.api_key.encode())
