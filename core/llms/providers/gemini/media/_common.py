"""What the Gemini / Vertex media calls share: the model they are given (:class:`MediaModel`),
which backend it speaks to, parameter checks (the OpenAI media helpers, which are
provider-neutral, reused), an input image for the wire, base64 from the wire, usage, and the
typed error an ``{"error": {...}}`` object in a 200 answer or a stream event stands for.

Nothing here quotes a credential, a prompt or media bytes: messages name fields, sizes and counts.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, cast

from ....interfaces.errors import InvalidInputError, LLMError, ResponseParsingError
from ....interfaces.llm_interfaces import IConnector, WireResponse
from ....interfaces.messages import ImagePart
from ....interfaces.metadata import ModelMetadata
from ....interfaces.types import Usage
from ...base.implementation import sniff_image_media_type
from ...dialects.gemini.errors import STATUS_CODES, error_from_body
from ...dialects.gemini.parsing import usage_from_wire
from ...openai.media import _common as shared

__all__ = [
    "MAX_INPUT_IMAGE_BYTES",
    "RPC_CODE_NAMES",
    "TRANSPORT_PARAMS",
    "MediaModel",
    "Transport",
    "call_params",
    "check_prompt",
    "choice",
    "decode_base64",
    "error_from_object",
    "flag",
    "image_input",
    "integer",
    "is_vertex",
    "parsing_error",
    "shown",
    "status_of",
    "text_param",
    "transport",
    "usage_from",
    "vertex_only",
    "where",
]

TRANSPORT_PARAMS = shared.TRANSPORT_PARAMS
Transport = shared.Transport

#: google.rpc.Code numbers (an operation's error carries the number) → their names.
RPC_CODE_NAMES: Mapping[int, str] = {
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    6: "ALREADY_EXISTS",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    10: "ABORTED",
    11: "OUT_OF_RANGE",
    12: "UNIMPLEMENTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    15: "DATA_LOSS",
    16: "UNAUTHENTICATED",
}
#: input images: what each may be at most, and the types taken.
MAX_INPUT_IMAGE_BYTES = 20 * 1024 * 1024
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp")
_EXTENSION_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


class MediaModel(Protocol):
    """What a media call uses of the model object (the Gemini model class; a ``BaseLLM``)."""

    _connector: IConnector
    _defaults: dict[str, Any]

    @property
    def metadata(self) -> ModelMetadata: ...

    @property
    def name(self) -> str: ...

    @property
    def provider(self) -> str: ...

    def cost(self, usage: Usage | None) -> float | None: ...

    def _check_seconds(self, name: str, value: Any) -> None: ...


def is_vertex(model: MediaModel) -> bool:
    """Whether the model is served by Vertex AI (``vertex/...``) rather than the Gemini API."""
    return model.provider.startswith("vertex")


def _error(model: MediaModel, message: str, hint: str | None = None) -> InvalidInputError:
    return InvalidInputError(message, provider=model.provider, model=model.name, hint=hint)


def shown(value: Any) -> str:
    """A value for an error message: short, and never the content of bytes or a mapping."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."
    return f"<{type(value).__name__}>"


def call_params(
    model: MediaModel,
    params: Mapping[str, Any],
    allowed: frozenset[str],
    *,
    call: str,
    aliases: Mapping[str, str] | None = None,
    other_calls: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The model's ``defaults`` under ``params``, aliases renamed, ``None`` dropped; an unknown
    name raises :class:`InvalidInputError` listing the allowed ones (see the OpenAI helper)."""
    return shared.call_params(
        cast(Any, model), params, allowed, call=call, aliases=aliases, other_calls=other_calls
    )


def choice(model: MediaModel, name: str, value: Any, allowed: tuple[str, ...], *, why: str = "") -> str:
    """``value`` when it is one of ``allowed``, else :class:`InvalidInputError` naming both."""
    return shared.choice(cast(Any, model), name, value, allowed, why=why)


def transport(model: MediaModel, params: Mapping[str, Any]) -> Transport:
    """The call's model id (``model=``), ``timeout`` and ``read_timeout``, checked."""
    return shared.transport(cast(Any, model), params)


def integer(model: MediaModel, name: str, value: Any, low: int, high: int) -> int:
    """An integer from ``low`` to ``high`` (a float with no fraction is taken), else
    :class:`InvalidInputError` naming the range."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        span = str(low) if low == high else f"an integer from {low} to {high}"
        raise _error(model, f"{name}={shown(value)} is not allowed for {model.name}", hint=f"allowed: {span}")
    return value


def flag(model: MediaModel, name: str, value: Any) -> bool:
    """A bool, else :class:`InvalidInputError`."""
    if not isinstance(value, bool):
        raise _error(model, f"{name} must be True or False, not {shown(value)}")
    return value


def text_param(model: MediaModel, name: str, value: Any, limit: int) -> str:
    """A non-empty string of at most ``limit`` characters."""
    if not isinstance(value, str) or not value.strip():
        raise _error(model, f"{name} must be a non-empty string, not {shown(value)}")
    if len(value) > limit:
        raise _error(model, f"{name} has {len(value):,} characters; at most {limit:,} are allowed")
    return value


def vertex_only(model: MediaModel, merged: Mapping[str, Any], names: frozenset[str]) -> None:
    """Refuse, on the Gemini API, the parameters only Vertex AI takes."""
    if is_vertex(model):
        return
    for name in sorted(names):
        if name in merged:
            raise _error(
                model,
                f"{name} is supported on Vertex AI only, not by the Gemini API ({model.name})",
                hint=f"use vertex/{model.name} for {name}, or leave it out",
            )


def check_prompt(model: MediaModel, prompt: Any, what: str = "prompt") -> str:
    """A non-empty string within the model's input window (estimated at four characters a token)."""
    if not isinstance(prompt, str):
        raise _error(model, f"{what} must be a string, not {type(prompt).__name__}")
    if not prompt.strip():
        raise _error(model, f"{what} must not be empty")
    window = model.metadata.context_window
    estimate = math.ceil(len(prompt) / 4)
    if estimate > window:
        raise _error(
            model,
            f"{what} of ~{estimate:,} tokens ({len(prompt):,} characters) is more than {model.name} "
            f"takes ({window:,} tokens)",
            hint=f"shorten the {what}",
        )
    return prompt


def where(wire: WireResponse) -> dict[str, Any]:
    """The fields of an error about ``wire``'s answer."""
    return {"endpoint": wire.endpoint, "status": wire.status, "request_id": wire.request_id}


def parsing_error(message: str, wire: WireResponse) -> ResponseParsingError:
    return ResponseParsingError(message, **where(wire))


def decode_base64(value: Any, what: str, **fields: Any) -> bytes:
    """Bytes from a base64 string of the wire; :class:`ResponseParsingError` naming ``what`` (and
    the length only) when it is not base64. URL-safe base64 is taken too."""
    if not isinstance(value, str) or not value:
        raise ResponseParsingError(f"{what} is not a base64 string", **fields)
    try:
        if "-" in value or "_" in value:
            return base64.urlsafe_b64decode(value)
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ResponseParsingError(
            f"{what} is not valid base64 ({len(value)} characters)", **fields
        ) from None


def usage_from(metadata: Any) -> Usage | None:
    """``usageMetadata`` as :class:`Usage` (the Gemini dialect's reading); None without one."""
    return usage_from_wire(metadata)


def status_of(error: Mapping[str, Any]) -> tuple[int, str | None]:
    """The HTTP status and the canonical name of a Google error object (``{"code", "status"}``;
    an operation's error carries the RPC code number instead)."""
    name = error.get("status")
    name = name if isinstance(name, str) and name else None
    code = error.get("code")
    if type(code) is int and 400 <= code <= 599:
        return code, name
    if type(code) is int and name is None:
        name = RPC_CODE_NAMES.get(code)
    return STATUS_CODES.get(name or "", 500), name


def error_from_object(body: Mapping[str, Any], *, endpoint: str | None, request_id: str | None) -> LLMError:
    """The typed error of ``{"error": {"code", "message", "status"}}`` (Google's shape) found in a
    200 answer or a stream event (the Gemini dialect's mapping)."""
    return error_from_body(None, dict(body), endpoint=endpoint, request_id=request_id)


async def image_input(model: MediaModel, name: str, value: Any) -> dict[str, str]:
    """An input image as the wire takes it: ``{"bytesBase64Encoded", "mimeType"}`` from bytes, an
    :class:`ImagePart` (bytes or a ``data:`` URL) or a path; on Vertex AI also
    ``{"gcsUri", "mimeType"}`` from a ``gs://`` URI. PNG, JPEG or WebP, at most 20 MB."""
    declared: str | None = None
    if isinstance(value, ImagePart):
        if value.data is not None:
            data, declared = value.data, value.media_type
            return _inline_image(model, name, data, declared)
        value = value.url
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
    elif isinstance(value, str) and value.startswith("data:"):
        data, declared = _data_url(model, name, value)
    elif isinstance(value, str) and value.startswith("gs://"):
        return _gcs_image(model, name, value)
    elif isinstance(value, str) and value.startswith(("http://", "https://")):
        raise _error(
            model,
            f"{name} is an http(s) URL; pass the image's bytes (or a path)",
            hint="download it first; the provider takes the image inline"
            + (" or as a gs:// URI" if is_vertex(model) else ""),
        )
    elif isinstance(value, str | os.PathLike):
        data = await _read_image(model, name, Path(value))
    else:
        raise _error(model, f"{name} must be image bytes, an ImagePart or a path, not {type(value).__name__}")
    return _inline_image(model, name, data, declared)


def _inline_image(model: MediaModel, name: str, data: bytes, declared: str | None) -> dict[str, str]:
    if not data:
        raise _error(model, f"{name} is empty")
    if len(data) > MAX_INPUT_IMAGE_BYTES:
        raise _error(model, f"{name} has {len(data):,} bytes; at most {MAX_INPUT_IMAGE_BYTES:,} are allowed")
    try:
        media_type = sniff_image_media_type(data)
    except InvalidInputError:
        media_type = (declared or "").lower()
    if media_type not in _IMAGE_TYPES:
        raise _error(model, f"{name} ({len(data):,} bytes) is not a PNG, JPEG or WebP image")
    return {"bytesBase64Encoded": base64.b64encode(data).decode("ascii"), "mimeType": media_type}


def _gcs_image(model: MediaModel, name: str, uri: str) -> dict[str, str]:
    if not is_vertex(model):
        raise _error(
            model, f"{name} is a gs:// URI, which only Vertex AI reads", hint="pass the image's bytes"
        )
    media_type = _EXTENSION_TYPES.get(Path(uri.split("?", 1)[0]).suffix.lower())
    if media_type is None:
        raise _error(model, f"{name} is a gs:// URI without a .png, .jpg or .webp name")
    return {"gcsUri": uri, "mimeType": media_type}


def _data_url(model: MediaModel, name: str, url: str) -> tuple[bytes, str]:
    head, sep, body = url[5:].partition(",")
    media_type, _, encoding = head.partition(";")
    if not sep or encoding != "base64":
        raise _error(model, f"{name} is a data: URL that is not base64-encoded")
    try:
        return base64.b64decode(body, validate=True), media_type
    except (binascii.Error, ValueError):
        raise _error(model, f"{name} is a data: URL whose base64 is invalid") from None


async def _read_image(model: MediaModel, name: str, path: Path) -> bytes:
    def read() -> bytes:
        size = path.stat().st_size
        if size > MAX_INPUT_IMAGE_BYTES:
            raise _error(model, f"{name} {path.name!r} has {size:,} bytes; at most {MAX_INPUT_IMAGE_BYTES:,}")
        return path.read_bytes()

    try:
        return await asyncio.to_thread(read)
    except OSError as exc:
        raise _error(
            model, f"{name}: cannot read {path.name!r}: {exc.strerror or type(exc).__name__}"
        ) from None
