"""Image generation and edits on OpenAI and Azure OpenAI: ``get_image`` / ``stream_image`` of
:class:`~core.llms.providers.openai.model.OpenAIModel` (dall-e-3, gpt-image-1).

``generate_image`` POSTs the prompt to the ``"images"`` operation (``/images/generations``), or,
with ``image=``, a ``multipart/form-data`` upload to ``"image_edits"`` (``/images/edits``); Azure's
adapter puts the deployment (and ``api-version``) in the URL. Every parameter is checked before
anything is sent, against the model family's row of :data:`IMAGE_FAMILIES` (adding a model of a
known family is a catalogue row; a new family is a row here):

``size``, ``quality``
    one of the family's values (dall-e-3: 1024x1024, 1792x1024, 1024x1792 / standard, hd, auto;
    gpt-image-1: 1024x1024, 1536x1024, 1024x1536, auto / low, medium, high, auto).
``n``
    how many images, 1 to the family's maximum (dall-e-3: 1 only; gpt-image-1: 10).
``response_format`` (``"url"`` | ``"b64_json"``) or ``output`` (``"url"`` | ``"bytes"``)
    a URL the provider hosts (about an hour), or the image bytes. dall-e-3 answers with a URL
    unless asked; gpt-image-1 always answers with bytes (only ``"b64_json"`` / ``"bytes"`` are
    accepted, and nothing is sent).
``output_format`` (png | jpeg | webp), ``output_compression`` (0-100, jpeg and webp only),
``background`` (transparent | opaque | auto; transparent needs png or webp), ``moderation``
(low | auto, generations only)
    gpt-image-1.
``style`` (vivid | natural)
    dall-e-3.
``image``, ``mask``, ``input_fidelity`` (high | low)
    an edit (gpt-image-1): ``image`` is one input image or a list of up to 16, each bytes, an
    :class:`~core.llms.interfaces.messages.ImagePart` (bytes or a ``data:`` URL) or a path
    (``os.PathLike`` or a ``str`` that is not a URL); PNG, JPEG or WebP, at most 50 MB each.
    ``mask`` is one PNG (at most 4 MB) whose transparent pixels mark where the first image is
    edited.
``partial_images`` (0-3)
    ``stream_image`` only: how many partial images the stream sends before the final one.
``user``
    the end-user id OpenAI may use to detect abuse.
``timeout``, ``read_timeout``
    seconds for the whole call (every attempt, backoff and failover) and the longest silence
    between received bytes; ``timeout`` may also be a :class:`~core.llms.interfaces.endpoint.Timeouts`.

An unknown name, a name the model's family does not take and a value outside the allowed ones
are :class:`InvalidInputError` naming the parameter and what is allowed. The model's
``defaults`` apply under the call's parameters (``None`` removes one). The prompt is a non-empty
string of at most ``metadata.context_window`` characters.

The answer: :class:`LLMImageResponse` with one :class:`GeneratedImage` per image (bytes decoded
from base64, or the URL), the ``revised_prompt`` dall-e-3 reports, the media type of the
``output_format`` (PNG by default), ``usage`` (gpt-image-1) and ``cost``: gpt-image-1 by its
tokens at the catalogue's prices; dall-e-3 by image, the catalogue's ``per_image`` (standard
1024x1024) scaled by OpenAI's published prices for the size and quality (:data:`DALL_E_3_PRICES`).

``stream_image`` on gpt-image-1 sends ``"stream": true`` and yields an :class:`LLMImageChunk` per
``*.partial_image`` event (``final=False``, ``index`` = its ``partial_image_index``), then the
final image (``final=True``, ``index`` 0) from the ``*.completed`` event; a stream that ends
without that event raises :class:`StreamInterruptedError` (a cut stream is never a success), and
an ``error`` event raises the typed error the body describes. It makes one image (``n`` must be
1). dall-e-3 cannot stream: ``stream_image`` on it makes a normal generation and yields its
image as one final chunk (``partial_images`` is refused).

Image bytes and credentials never appear in errors, reprs or logs: messages name fields, sizes
and counts only.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ....interfaces.context import RequestContext
from ....interfaces.errors import (
    InvalidInputError,
    LLMError,
    ResponseParsingError,
    StreamInterruptedError,
    UnsupportedOperationError,
)
from ....interfaces.llm_interfaces import WireEvent, WireRequest, WireResponse
from ....interfaces.media import GeneratedImage, LLMImageChunk, LLMImageResponse
from ....interfaces.messages import ImagePart
from ....interfaces.types import Usage
from ...base.implementation import sniff_image_media_type
from ...base.multipart import FormField, MultipartForm
from ...base.wire_values import token_count
from ...dialects.openai_chat.errors import error_from_body
from ._common import call_timeouts

if TYPE_CHECKING:
    from ..model import OpenAIModel

__all__ = [
    "DALL_E_3_PRICES",
    "IMAGE_FAMILIES",
    "ImageFamily",
    "ImageStreamParser",
    "generate_image",
    "stream_image",
]

#: OpenAI's published dall-e-3 prices, USD per image by (quality, size); the cost is the
#: catalogue's ``per_image`` scaled by the ratio to standard 1024x1024.
DALL_E_3_PRICES: Mapping[tuple[str, str], float] = {
    ("standard", "1024x1024"): 0.04,
    ("standard", "1024x1792"): 0.08,
    ("standard", "1792x1024"): 0.08,
    ("hd", "1024x1024"): 0.08,
    ("hd", "1024x1792"): 0.12,
    ("hd", "1792x1024"): 0.12,
}


@dataclass(frozen=True, slots=True)
class ImageFamily:
    """What the image models of one family accept (a row of :data:`IMAGE_FAMILIES`)."""

    sizes: tuple[str, ...]
    qualities: tuple[str, ...]
    max_n: int
    #: ``response_format`` values; the first is the one the family answers with unasked.
    response_formats: tuple[str, ...]
    #: False: the family always answers base64 and refuses the ``response_format`` field.
    sends_response_format: bool = True
    output_formats: tuple[str, ...] = ()
    backgrounds: tuple[str, ...] = ()
    moderations: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()
    input_fidelities: tuple[str, ...] = ()
    #: edits: input images at most (0: the family does not edit).
    max_input_images: int = 0
    #: streams: partial images at most (None: the family does not stream).
    max_partial_images: int | None = None
    #: USD per image by (quality, size), relative to the first entry (per-image priced families).
    image_prices: Mapping[tuple[str, str], float] = field(default_factory=dict)
    #: the quality ``"auto"`` is priced as.
    auto_quality: str = "standard"


#: model family (``metadata.family``) -> its image parameter rules.
IMAGE_FAMILIES: Mapping[str, ImageFamily] = {
    "dall-e": ImageFamily(
        sizes=("1024x1024", "1792x1024", "1024x1792"),
        qualities=("standard", "hd", "auto"),
        max_n=1,
        response_formats=("url", "b64_json"),
        styles=("vivid", "natural"),
        image_prices=DALL_E_3_PRICES,
    ),
    "gpt-image": ImageFamily(
        sizes=("1024x1024", "1536x1024", "1024x1536", "auto"),
        qualities=("low", "medium", "high", "auto"),
        max_n=10,
        response_formats=("b64_json",),
        sends_response_format=False,
        output_formats=("png", "jpeg", "webp"),
        backgrounds=("transparent", "opaque", "auto"),
        moderations=("low", "auto"),
        input_fidelities=("high", "low"),
        max_input_images=16,
        max_partial_images=3,
    ),
}

#: every parameter name this module knows (a family takes the ones its row allows).
_ALL_PARAMETERS = (
    "size",
    "quality",
    "n",
    "response_format",
    "output",
    "output_format",
    "output_compression",
    "background",
    "moderation",
    "style",
    "user",
    "image",
    "mask",
    "input_fidelity",
    "partial_images",
    "timeout",
    "read_timeout",
)
_OUTPUT_CHOICES = {"url": "url", "bytes": "b64_json"}
_MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp"}
_MAX_IMAGE_BYTES = 50 * 1024 * 1024
_MAX_MASK_BYTES = 4 * 1024 * 1024


def _allowed_names(family: ImageFamily, stream: bool) -> tuple[str, ...]:
    optional = {
        "output_format": bool(family.output_formats),
        "output_compression": bool(family.output_formats),
        "background": bool(family.backgrounds),
        "moderation": bool(family.moderations),
        "style": bool(family.styles),
        "image": bool(family.max_input_images),
        "mask": bool(family.max_input_images),
        "input_fidelity": bool(family.input_fidelities),
        "partial_images": stream and family.max_partial_images is not None,
    }
    return tuple(name for name in _ALL_PARAMETERS if optional.get(name, True))


def _family(model: OpenAIModel) -> ImageFamily:
    family = IMAGE_FAMILIES.get(model.metadata.family)
    if family is not None:
        return family
    for name, rules in IMAGE_FAMILIES.items():  # a model registered without a known family
        if model.name.startswith(name):
            return rules
    raise UnsupportedOperationError(
        f"{model.name} (family {model.metadata.family!r}) has no image parameter rules",
        provider=model.provider,
        model=model.name,
        hint=f"image families: {', '.join(IMAGE_FAMILIES)}; add a row to IMAGE_FAMILIES",
    )


def _shown(value: Any) -> str:
    """A value for an error message: short, and never the content of bytes."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."
    return f"<{type(value).__name__}>"


@dataclass(slots=True)
class _Call:
    """One checked call: the wire request and what reading the answer needs."""

    request: WireRequest
    family: ImageFamily
    size: str
    quality: str
    output_format: str
    n: int


class _Checker:
    """Checks the merged parameters of one call against the model's family."""

    def __init__(self, model: OpenAIModel, family: ImageFamily, stream: bool) -> None:
        self.model = model
        self.family = family
        self.stream = stream
        self.allowed = _allowed_names(family, stream)

    def error(self, message: str, hint: str | None = None) -> InvalidInputError:
        return InvalidInputError(message, provider=self.model.provider, model=self.model.name, hint=hint)

    def names(self, params: Mapping[str, Any]) -> None:
        allowed = ", ".join(self.allowed)
        for name in params:
            if name in self.allowed:
                continue
            if name == "partial_images" and self.family.max_partial_images is not None:
                raise self.error(
                    "partial_images is for stream_image() only",
                    hint="use stream_image(..., partial_images=2)",
                )
            if name in _ALL_PARAMETERS:
                raise self.error(
                    f"parameter {name!r} is not supported by {self.model.name}", hint=f"allowed: {allowed}"
                )
            raise self.error(
                f"unknown parameter {_shown(name)} for {self.model.name}", hint=f"allowed: {allowed}"
            )

    def choice(self, name: str, value: Any, allowed: tuple[str, ...]) -> str:
        if not isinstance(value, str) or value not in allowed:
            raise self.error(
                f"{name}={_shown(value)} is not allowed for {self.model.name}",
                hint="allowed: " + ", ".join(repr(v) for v in allowed),
            )
        return value

    def integer(self, name: str, value: Any, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            span = str(low) if low == high else f"an integer from {low} to {high}"
            raise self.error(
                f"{name}={_shown(value)} is not allowed for {self.model.name}", hint=f"allowed: {span}"
            )
        return value


def _merged(model: OpenAIModel, params: Mapping[str, Any]) -> dict[str, Any]:
    """The model's defaults under the call's parameters; ``None`` values send nothing."""
    merged = {**model._defaults, **params}
    return {k: v for k, v in merged.items() if v is not None}


def _check_prompt(check: _Checker, prompt: Any) -> str:
    if not isinstance(prompt, str):
        raise check.error(f"prompt must be a string, not {type(prompt).__name__}")
    if not prompt.strip():
        raise check.error("prompt must not be empty")
    limit = check.model.metadata.context_window
    if len(prompt) > limit:
        raise check.error(
            f"prompt has {len(prompt)} characters; {check.model.name} takes at most {limit}",
            hint="shorten the prompt",
        )
    return prompt


def _timeouts(check: _Checker, params: dict[str, Any]) -> tuple[float | None, float | None]:
    """(read timeout, total timeout) of the call, checked."""
    total, read = call_timeouts(check.model, params.pop("timeout", None), params.pop("read_timeout", None))
    return read, total


async def _prepare(
    model: OpenAIModel, family: ImageFamily, prompt: Any, params: Mapping[str, Any], *, stream: bool
) -> _Call:
    """Check everything and build the request (nothing is sent)."""
    check = _Checker(model, family, stream)
    merged = _merged(model, params)
    check.names(merged)
    prompt = _check_prompt(check, prompt)
    read_timeout, total_timeout = _timeouts(check, merged)
    wire: dict[str, Any] = {}
    size = family.sizes[0]
    if "size" in merged:
        size = wire["size"] = check.choice("size", merged.pop("size"), family.sizes)
    quality = "auto" if "auto" in family.qualities else family.qualities[0]
    if "quality" in merged:
        quality = wire["quality"] = check.choice("quality", merged.pop("quality"), family.qualities)
    n = 1
    if "n" in merged:
        n = wire["n"] = check.integer("n", merged.pop("n"), 1, family.max_n)
    if stream and n != 1:
        raise check.error(
            f"stream_image makes one image, not n={n}", hint="use get_image(..., n=...) for several images"
        )
    fmt = _response_format(check, merged)
    if fmt is not None and family.sends_response_format:
        wire["response_format"] = fmt
    output_format = "png"
    if "output_format" in merged:
        output_format = wire["output_format"] = check.choice(
            "output_format", merged.pop("output_format"), family.output_formats
        )
    if "output_compression" in merged:
        wire["output_compression"] = check.integer(
            "output_compression", merged.pop("output_compression"), 0, 100
        )
        if output_format not in ("jpeg", "webp"):
            raise check.error(
                "output_compression needs output_format='jpeg' or 'webp'", hint="set output_format='webp'"
            )
    if "background" in merged:
        wire["background"] = check.choice("background", merged.pop("background"), family.backgrounds)
        if wire["background"] == "transparent" and output_format == "jpeg":
            raise check.error(
                "background='transparent' needs output_format='png' or 'webp' (jpeg has no transparency)"
            )
    for name, allowed in (
        ("moderation", family.moderations),
        ("style", family.styles),
        ("input_fidelity", family.input_fidelities),
    ):
        if name in merged:
            wire[name] = check.choice(name, merged.pop(name), allowed)
    if "user" in merged:
        user = merged.pop("user")
        if not isinstance(user, str) or not user:
            raise check.error(f"user must be a non-empty string, not {_shown(user)}")
        wire["user"] = user
    if "partial_images" in merged:
        wire["partial_images"] = check.integer(
            "partial_images", merged.pop("partial_images"), 0, family.max_partial_images or 0
        )
    if stream:
        wire["stream"] = True
    images = merged.pop("image", None)
    mask = merged.pop("mask", None)
    model_id = model.metadata.model_id
    common: dict[str, Any] = {
        "read_timeout": read_timeout,
        "total_timeout": total_timeout,
        "stream": stream,
        "model": model_id,
    }
    if images is None:
        for name, given in (("mask", mask is not None), ("input_fidelity", "input_fidelity" in wire)):
            if given:
                raise check.error(f"{name} is for edits: pass image= (the image to edit) too")
        payload = {"model": model_id, "prompt": prompt, **wire}
        request = WireRequest("images", payload, **common)
    else:
        if "moderation" in wire:
            raise check.error("moderation is not supported for edits (image=)")
        files = await _input_images(check, images)
        mask_field = None if mask is None else await _mask(check, mask)
        payload = {"model": model_id, "prompt": prompt, **wire}
        form = MultipartForm(_form_fields(payload, files, mask_field))
        request = WireRequest("image_edits", payload, form=form, **common)
    return _Call(request, family, size, quality, output_format, n)


def _response_format(check: _Checker, params: dict[str, Any]) -> str | None:
    """``response_format`` or its plain spelling ``output`` (url | bytes), checked; None: unasked."""
    fmt = output = None
    if "response_format" in params:
        fmt = check.choice("response_format", params.pop("response_format"), check.family.response_formats)
    if "output" in params:
        choices = tuple(k for k, v in _OUTPUT_CHOICES.items() if v in check.family.response_formats)
        asked = check.choice("output", params.pop("output"), choices)
        output = _OUTPUT_CHOICES[asked]
        if fmt is not None and fmt != output:
            raise check.error(f"output={asked!r} and response_format={fmt!r} disagree: pass one of them")
    return fmt or output


def _form_fields(
    payload: Mapping[str, Any], images: list[tuple[bytes, str]], mask: FormField | None
) -> list[FormField]:
    fields = [FormField("model", str(payload["model"])), FormField("prompt", str(payload["prompt"]))]
    name = "image" if len(images) == 1 else "image[]"
    for i, (data, media_type) in enumerate(images):
        fields.append(FormField(name, data, f"image-{i}.{_EXTENSIONS[media_type]}", media_type))
    if mask is not None:
        fields.append(mask)
    for key, value in payload.items():
        if key in ("model", "prompt"):
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        fields.append(FormField(key, text))
    return fields


async def _input_images(check: _Checker, images: Any) -> list[tuple[bytes, str]]:
    """The images to edit as (bytes, media type), checked."""
    if isinstance(images, str | bytes | bytearray | memoryview | ImagePart | os.PathLike):
        images = [images]
    elif not isinstance(images, Iterable) or isinstance(images, Mapping):
        raise check.error(
            "image must be an image (bytes, an ImagePart or a path) or a list of them, "
            f"not {type(images).__name__}"
        )
    items = list(images)
    limit = check.family.max_input_images
    if not items or len(items) > limit:
        raise check.error(f"image takes 1 to {limit} images, not {len(items)}")
    out = []
    for i, item in enumerate(items):
        where = "image" if len(items) == 1 else f"image[{i}]"
        data, media_type = await _image_bytes(check, where, item)
        if media_type not in _EXTENSIONS:
            raise check.error(f"{where} is {media_type}; {check.model.name} edits PNG, JPEG or WebP images")
        if len(data) > _MAX_IMAGE_BYTES:
            raise check.error(f"{where} has {len(data)} bytes; at most {_MAX_IMAGE_BYTES} are allowed")
        out.append((data, media_type))
    return out


async def _mask(check: _Checker, mask: Any) -> FormField:
    if isinstance(mask, list | tuple):
        raise check.error("mask must be one PNG image (bytes, an ImagePart or a path), not a list")
    data, media_type = await _image_bytes(check, "mask", mask)
    if media_type != "image/png":
        raise check.error(f"mask must be a PNG image (with transparency), not {media_type}")
    if len(data) > _MAX_MASK_BYTES:
        raise check.error(f"mask has {len(data)} bytes; at most {_MAX_MASK_BYTES} are allowed")
    return FormField("mask", data, "mask.png", "image/png")


async def _image_bytes(check: _Checker, where: str, item: Any) -> tuple[bytes, str]:
    """(bytes, media type) of one input image: bytes, an ImagePart (bytes or a ``data:`` URL) or a
    path (``os.PathLike`` or a ``str`` that is not a URL)."""
    declared: str | None = None
    match item:
        case bytes() | bytearray() | memoryview():
            data = bytes(item)
        case ImagePart(data=bytes() as part_data):
            data, declared = part_data, item.media_type
        case ImagePart(url=str() as url):
            data, declared = _data_url(check, where, url)
        case str() if item.startswith(("http://", "https://", "data:")):
            if not item.startswith("data:"):
                raise check.error(
                    f"{where} is a URL; pass the image's bytes (or a data: URL)",
                    hint="download it first; the provider takes uploads only",
                )
            data, declared = _data_url(check, where, item)
        case str() | os.PathLike():
            path = Path(item)
            try:
                data = await asyncio.to_thread(path.read_bytes)
            except OSError as exc:
                raise check.error(
                    f"{where}: cannot read {path.name!r}: {exc.strerror or type(exc).__name__}"
                ) from None
        case _:
            raise check.error(f"{where} must be bytes, an ImagePart or a path, not {type(item).__name__}")
    if not data:
        raise check.error(f"{where} is empty")
    if declared is not None:
        return data, declared.lower()
    try:
        return data, sniff_image_media_type(data)
    except InvalidInputError:
        raise check.error(
            f"{where} ({len(data)} bytes) is not a PNG, JPEG or WebP image",
            hint="pass ImagePart(data=..., media_type=...) to name the type yourself",
        ) from None


def _data_url(check: _Checker, where: str, url: str) -> tuple[bytes, str]:
    if not url.startswith("data:"):
        raise check.error(
            f"{where} is an ImagePart with an http(s) URL; pass its bytes (or a data: URL)",
            hint="the provider takes uploads only",
        )
    head, sep, body = url[5:].partition(",")
    media_type, _, encoding = head.partition(";")
    if not sep or encoding != "base64":
        raise check.error(f"{where} is a data: URL that is not base64-encoded")
    try:
        return base64.b64decode(body, validate=True), media_type or "application/octet-stream"
    except (binascii.Error, ValueError):
        raise check.error(f"{where} is a data: URL whose base64 is invalid") from None


# --------------------------------------------------------------------------- answers


def _decode(value: Any, where: str, **fields: Any) -> bytes:
    """Base64 image bytes from the wire; :class:`ResponseParsingError` (naming ``where`` and the
    length only) when they are not base64."""
    if not isinstance(value, str) or not value:
        raise ResponseParsingError(f"{where} is not a base64 string", **fields)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ResponseParsingError(
            f"{where} is not valid base64 ({len(value)} characters)", **fields
        ) from None


def _usage(value: Any) -> Usage | None:
    """The images API's ``usage`` (input / output tokens, cached input in the input details)."""
    if not isinstance(value, dict):
        return None
    details = value.get("input_tokens_details")
    cached = token_count(details.get("cached_tokens")) if isinstance(details, dict) else 0
    return Usage(
        input_tokens=token_count(value.get("input_tokens")),
        output_tokens=token_count(value.get("output_tokens")),
        cached_input_tokens=cached,
    )


def _cost(model: OpenAIModel, call: _Call, usage: Usage | None, images: int) -> float | None:
    """Token-priced models by ``usage``; per-image-priced ones by the image count, scaled by the
    family's price table for the size and quality."""
    pricing = model.metadata.pricing
    if usage is not None and pricing.known:
        return pricing.cost(usage)
    if pricing.per_image is None or not images:
        return None
    prices = call.family.image_prices
    factor = 1.0
    if prices:
        base = next(iter(prices.values()))
        quality = call.family.auto_quality if call.quality == "auto" else call.quality
        factor = prices.get((quality, call.size), base) / base
    return pricing.per_image * factor * images


def _media_type(value: Any, default: str) -> str:
    return _MEDIA_TYPES.get(value, default) if isinstance(value, str) else default


def _parse_response(model: OpenAIModel, call: _Call, wire: WireResponse) -> LLMImageResponse:
    where: dict[str, Any] = {"endpoint": wire.endpoint, "request_id": wire.request_id, "status": wire.status}
    data = wire.data
    if not isinstance(data, dict):
        raise ResponseParsingError(
            f"the image response is a JSON {type(data).__name__}, not an object", **where
        )
    items = data.get("data")
    if not isinstance(items, list) or not items:
        raise ResponseParsingError("the image response has no images (data is missing or empty)", **where)
    media_type = _media_type(data.get("output_format"), _MEDIA_TYPES[call.output_format])
    images = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ResponseParsingError(f"data[{i}] of the image response is not an object", **where)
        url = item.get("url")
        revised = item.get("revised_prompt")
        revised = revised if isinstance(revised, str) and revised else None
        if item.get("b64_json") is not None:
            image = GeneratedImage(data=_decode(item["b64_json"], f"data[{i}].b64_json", **where))
        elif isinstance(url, str) and url:
            image = GeneratedImage(url=url)
        else:
            raise ResponseParsingError(
                f"data[{i}] of the image response has neither b64_json nor url", **where
            )
        image.media_type = media_type
        image.revised_prompt = revised
        images.append(image)
    usage = _usage(data.get("usage"))
    return LLMImageResponse(
        images=images,
        model=model.name,
        provider=model.provider,
        usage=usage,
        cost=_cost(model, call, usage, len(images)),
        endpoint=wire.endpoint,
        request_id=wire.request_id,
        latency=wire.latency,
    )


class ImageStreamParser:
    """One streamed image generation or edit → :class:`LLMImageChunk` (implements ``StreamParser``).

    ``image_generation.partial_image`` / ``image_edit.partial_image`` events become partial chunks,
    ``image_generation.completed`` / ``image_edit.completed`` the final one (its ``usage`` is kept
    on :attr:`usage`); ``error`` events raise the typed error; other events are skipped. ``close``
    raises :class:`StreamInterruptedError` unless the completed event arrived.
    """

    __slots__ = ("_cost", "_done", "_media_type", "_partials", "endpoint", "request_id", "usage")

    def __init__(
        self,
        endpoint: str | None,
        request_id: str | None,
        media_type: str = "image/png",
        cost: Callable[[Usage | None], float | None] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.request_id = request_id
        self._media_type = media_type
        self._cost = cost
        self._done = False
        self._partials = 0
        self.usage: Usage | None = None

    def _where(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "request_id": self.request_id}

    def feed(self, event: WireEvent) -> list[LLMImageChunk]:
        data = event.data
        if self._done or not data or data == "[DONE]":
            return []
        try:
            obj = json.loads(data)
        except (ValueError, RecursionError):
            raise ResponseParsingError(
                f"image stream event is not valid JSON ({len(data)} characters)", **self._where()
            ) from None
        if not isinstance(obj, dict):
            raise ResponseParsingError(
                f"image stream event is a JSON {type(obj).__name__}, not an object", **self._where()
            )
        kind = obj.get("type")
        kind = kind if isinstance(kind, str) else event.event or ""
        if event.event == "error" or kind == "error" or obj.get("error"):
            raise self._error(obj)
        if kind.endswith(".partial_image"):
            index = obj.get("partial_image_index")
            index = index if type(index) is int and index >= 0 else self._partials
            self._partials += 1
            image = self._image(obj, f"{kind} event")
            return [LLMImageChunk(image=image, index=index, final=False)]
        if kind.endswith(".completed"):
            self._done = True
            usage = self.usage = _usage(obj.get("usage"))
            cost = self._cost(usage) if self._cost is not None and usage is not None else None
            image = self._image(obj, f"{kind} event")
            return [LLMImageChunk(image=image, index=0, final=True, usage=usage, cost=cost)]
        return []

    def _image(self, obj: dict[str, Any], where: str) -> GeneratedImage:
        data = _decode(obj.get("b64_json"), f"b64_json of the {where}", **self._where())
        return GeneratedImage(data=data, media_type=_media_type(obj.get("output_format"), self._media_type))

    def _error(self, obj: dict[str, Any]) -> LLMError:
        return error_from_body(None, obj, endpoint=self.endpoint, request_id=self.request_id)

    def close(self) -> list[LLMImageChunk]:
        if not self._done:
            raise StreamInterruptedError(
                f"the image stream ended before its completed event "
                f"({self._partials} partial images arrived)",
                **self._where(),
            )
        return []


# --------------------------------------------------------------------------- entry points


async def generate_image(
    model: OpenAIModel, prompt: str, ctx: RequestContext | None, params: dict[str, Any]
) -> LLMImageResponse:
    """Generate (or, with ``image=``, edit) images: see the module docs for the parameters."""
    call = await _prepare(model, _family(model), prompt, params, stream=False)
    wire = await model._connector.send(call.request, ctx)
    return _parse_response(model, call, wire)


async def stream_image(
    model: OpenAIModel, prompt: str, ctx: RequestContext | None, params: dict[str, Any]
) -> AsyncIterator[LLMImageChunk]:
    """Yield partial images then the final one (gpt-image-1); a family that cannot stream
    (dall-e-3) yields its generated image as one final chunk."""
    family = _family(model)
    if family.max_partial_images is None:
        response = await generate_image(model, prompt, ctx, params)
        for i, image in enumerate(response.images):
            last = i == len(response.images) - 1
            yield LLMImageChunk(
                image=image,
                index=i,
                final=True,
                usage=response.usage if last else None,
                cost=response.cost if last else None,
            )
        return
    call = await _prepare(model, family, prompt, params, stream=True)
    media_type = _MEDIA_TYPES[call.output_format]

    def parser(endpoint: str, request_id: str | None) -> ImageStreamParser:
        return ImageStreamParser(endpoint, request_id, media_type, model.cost)

    async for chunk in model._connector.stream(call.request, parser, ctx):
        yield chunk
