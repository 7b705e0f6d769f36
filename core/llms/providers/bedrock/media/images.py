"""Image generation on Amazon Bedrock: ``get_image`` of the Bedrock model (``InvokeModel``,
operation ``"invoke"``), for Amazon Nova Canvas (``amazon.nova-canvas-v1:0``) and Titan Image
Generator (``amazon.titan-image-generator-v2:0``, and v1): the ``TEXT_IMAGE`` task (``stream_image``
yields the same images as final chunks: these models send no partial images)::

    {"taskType": "TEXT_IMAGE",
     "textToImageParams": {"text": ..., "negativeText": ..., "style": ...},
     "imageGenerationConfig": {"width": ..., "height": ..., "quality": ..., "numberOfImages": ...,
                               "cfgScale": ..., "seed": ...}}

Parameters (keyword arguments, or the model's ``defaults``), each checked against the model's
family (a row of :data:`IMAGE_FAMILIES`) before anything is sent:

``size``
    ``"WIDTHxHEIGHT"`` (or a ``(width, height)`` pair). Titan: one of its list
    (:data:`TITAN_SIZES`); Nova Canvas: each side 320-4096 and a multiple of 16, the aspect ratio
    within 1:4 and 4:1, fewer than 4,194,304 pixels. Default: the model's (1024x1024).
``quality``
    ``standard`` or ``premium``.
``n`` (alias ``number_of_images``)
    how many images, 1 to 5.
``seed``
    0 to 2,147,483,646.
``negative_prompt`` (alias ``negative_text``)
    what the image must not show (as long as a prompt may be).
``cfg_scale``
    how strictly the image follows the prompt, 1.1 to 10.
``style``
    Nova Canvas only: one of :data:`NOVA_STYLES`.
``timeout``, ``read_timeout``, ``model``
    seconds for the whole call, the longest silence between received bytes, and a model id for
    this call only.

The prompt is 1 to 1,024 characters (Nova Canvas) or 512 (Titan).

The answer's ``images`` (base64 PNG) become :class:`GeneratedImage` bytes; an ``error`` in a 200
answer raises :class:`ContentFilterError` when it says the content was blocked, else
:class:`BadRequestError`. ``cost``: the catalogue's ``per_image`` (the price of a standard
1024x1024 image) scaled by the family's published price for the quality and size tier
(:attr:`ImageFamily.prices`: Nova Canvas up to 1024x1024 / up to 2048x2048 pixels; Titan priced
as 512x512 / as 1024x1024), times the images returned.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ....interfaces.context import RequestContext
from ....interfaces.errors import (
    BadRequestError,
    ContentFilterError,
    InvalidInputError,
    LLMError,
    ResponseParsingError,
    UnsupportedOperationError,
)
from ....interfaces.llm_interfaces import WireRequest, WireResponse
from ....interfaces.media import GeneratedImage, LLMImageChunk, LLMImageResponse
from ...base.implementation import sniff_image_media_type
from ._common import TRANSPORT_PARAMS, model_ids, shown, transport

if TYPE_CHECKING:
    from ...base.implementation import BaseLLM

__all__ = [
    "IMAGE_FAMILIES",
    "MAX_SEED",
    "NOVA_STYLES",
    "TITAN_SIZES",
    "ImageFamily",
    "generate_image",
    "stream_image",
]

#: the largest ``seed`` (both families).
MAX_SEED = 2_147_483_646
#: Titan Image Generator's sizes (width, height).
TITAN_SIZES: tuple[tuple[int, int], ...] = (
    (1024, 1024), (768, 768), (512, 512),
    (768, 1152), (384, 576), (1152, 768), (576, 384),
    (768, 1280), (384, 640), (1280, 768), (640, 384),
    (896, 1152), (448, 576), (1152, 896), (576, 448),
    (768, 1408), (384, 704), (1408, 768), (704, 384),
    (640, 1408), (320, 704), (1408, 640), (704, 320),
    (1152, 640), (1173, 640),
)  # fmt: skip
#: Nova Canvas's visual styles (``style``).
NOVA_STYLES: tuple[str, ...] = (
    "3D_ANIMATED_FAMILY_FILM",
    "DESIGN_SKETCH",
    "FLAT_VECTOR_ILLUSTRATION",
    "GRAPHIC_NOVEL_ILLUSTRATION",
    "MAXIMALISM",
    "MIDCENTURY_RETRO",
    "PHOTOREALISM",
    "SOFT_DIGITAL_PAINTING",
)
_QUALITIES = ("standard", "premium")
_MAX_IMAGES = 5
_CFG_RANGE = (1.1, 10.0)
#: words of an ``error`` in a 200 answer that mean the content was blocked.
_BLOCKED_WORDS = ("content filter", "blocked", "moderation", "responsible ai", "content polic")


@dataclass(frozen=True, slots=True)
class ImageFamily:
    """What the image models of one family take (a row of :data:`IMAGE_FAMILIES`)."""

    #: model id prefixes (without an inference-profile prefix) of the family's models.
    prefixes: tuple[str, ...]
    #: the longest prompt (and negative prompt), in characters.
    max_prompt: int
    #: allowed sizes; empty: Nova Canvas's rules (sides 320-4096, multiples of 16 …).
    sizes: tuple[tuple[int, int], ...] = ()
    styles: tuple[str, ...] = ()
    #: USD per image by (quality, size tier), the first entry being what ``per_image`` prices.
    prices: Mapping[tuple[str, str], float] = field(default_factory=dict)
    #: the largest pixel count of the ``"small"`` price tier.
    small_pixels: int = 1024 * 1024


#: family name -> its rules; a model's family is found from ``metadata.family`` or its id.
IMAGE_FAMILIES: Mapping[str, ImageFamily] = {
    "nova-canvas": ImageFamily(
        prefixes=("amazon.nova-canvas",),
        max_prompt=1024,
        styles=NOVA_STYLES,
        # up to 1024x1024 / up to 2048x2048 (us-east-1 list prices)
        prices={
            ("standard", "small"): 0.04,
            ("premium", "small"): 0.06,
            ("standard", "large"): 0.06,
            ("premium", "large"): 0.08,
        },
    ),
    "titan-image": ImageFamily(
        prefixes=("amazon.titan-image-generator",),
        max_prompt=512,
        sizes=TITAN_SIZES,
        # priced as 1024x1024 / as 512x512 (Titan Image Generator v2 list prices)
        prices={
            ("standard", "large"): 0.01,
            ("premium", "large"): 0.012,
            ("standard", "small"): 0.008,
            ("premium", "small"): 0.01,
        },
        small_pixels=512 * 704,  # 384x704 (270,336 pixels) is priced as 512x512, 768x768 as 1024x1024
    ),
}
_PARAMETERS = frozenset(
    {"size", "quality", "n", "seed", "negative_prompt", "cfg_scale", "style"} | TRANSPORT_PARAMS
)
_ALIASES: Mapping[str, str] = {"number_of_images": "n", "negative_text": "negative_prompt"}


def family_of(model: BaseLLM) -> ImageFamily:
    """The image family of ``model`` (by ``metadata.family``, else its model id)."""
    family = IMAGE_FAMILIES.get(model.metadata.family)
    if family is not None:
        return family
    for model_id in model_ids(model):
        for rules in IMAGE_FAMILIES.values():
            if model_id.startswith(rules.prefixes):
                return rules
    raise UnsupportedOperationError(
        f"{model.name} has no Bedrock image rules",
        provider=model.provider,
        model=model.name,
        hint="image models: amazon.nova-canvas-v1:0, amazon.titan-image-generator-v2:0; "
        "add a row to IMAGE_FAMILIES for another",
    )


@dataclass(slots=True)
class _Call:
    request: WireRequest
    family: ImageFamily
    width: int
    height: int
    quality: str


class _Checker:
    def __init__(self, model: BaseLLM, family: ImageFamily) -> None:
        self.model = model
        self.family = family

    def error(self, message: str, hint: str | None = None) -> InvalidInputError:
        return InvalidInputError(message, provider=self.model.provider, model=self.model.name, hint=hint)

    def merged(self, params: Mapping[str, Any]) -> dict[str, Any]:
        allowed = set(_PARAMETERS) - ({"style"} if not self.family.styles else set())
        merged: dict[str, Any] = {}
        for source in (self.model._defaults, params):
            seen: dict[str, str] = {}
            for key, value in source.items():
                name = _ALIASES.get(key, key)
                if name in seen:
                    raise self.error(f"pass only one of {seen[name]!r} and {key!r}")
                seen[name] = key
                if name not in allowed:
                    why = "is not supported by" if name in _PARAMETERS else "is an unknown parameter for"
                    raise self.error(
                        f"{shown(key)} {why} get_image() with {self.model.name}",
                        hint=f"allowed: {', '.join(sorted(allowed | set(_ALIASES)))}",
                    )
                merged[name] = value
        return {k: v for k, v in merged.items() if v is not None}

    def text(self, name: str, value: Any) -> str:
        limit = self.family.max_prompt
        if not isinstance(value, str):
            raise self.error(f"{name} must be a string, not {type(value).__name__}")
        if not value.strip():
            raise self.error(f"{name} must not be empty")
        if len(value) > limit:
            raise self.error(
                f"{name} has {len(value):,} characters; {self.model.name} takes at most {limit:,}",
                hint=f"shorten the {name}",
            )
        return value

    def size(self, value: Any) -> tuple[int, int]:
        width = height = None
        if isinstance(value, tuple | list) and len(value) == 2 and all(type(v) is int for v in value):
            width, height = value
        elif isinstance(value, str):
            w, sep, h = value.strip().lower().replace(" ", "").partition("x")
            if sep and w.isdigit() and h.isdigit():
                width, height = int(w), int(h)
        if width is None or height is None:
            raise self.error(
                f"size={shown(value)} must be 'WIDTHxHEIGHT' or a (width, height) pair",
                hint="e.g. size='1024x1024'",
            )
        sizes = self.family.sizes
        if sizes:
            if (width, height) not in sizes:
                raise self.error(
                    f"size={width}x{height} is not a size {self.model.name} makes",
                    hint="allowed: " + ", ".join(f"{w}x{h}" for w, h in sizes),
                )
            return width, height
        problems = []
        if not (320 <= width <= 4096 and 320 <= height <= 4096):
            problems.append("each side must be 320 to 4096 pixels")
        if width % 16 or height % 16:
            problems.append("each side must be a multiple of 16")
        if max(width, height) > 4 * min(width, height):
            problems.append("the aspect ratio must be within 1:4 and 4:1")
        if width * height >= 4_194_304:
            problems.append("the image must have fewer than 4,194,304 pixels (e.g. 2048x2032)")
        if problems:
            raise self.error(
                f"size={width}x{height} is not a size {self.model.name} makes: {'; '.join(problems)}",
                hint="e.g. 1024x1024, 1280x720, 720x1280, 2048x2032",
            )
        return width, height

    def integer(self, name: str, value: Any, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(
                f"{name}={shown(value)} is not allowed for {self.model.name}",
                hint=f"allowed: an integer from {low:,} to {high:,}",
            )
        return value

    def choice(self, name: str, value: Any, allowed: tuple[str, ...], upper: bool = False) -> str:
        given = value.upper() if upper and isinstance(value, str) else value
        if not isinstance(given, str) or given not in allowed:
            raise self.error(
                f"{name}={shown(value)} is not allowed for {self.model.name}",
                hint="allowed: " + ", ".join(allowed),
            )
        return given


def _prepare(model: BaseLLM, family: ImageFamily, prompt: Any, params: Mapping[str, Any]) -> _Call:
    """Check everything and build the request (nothing is sent)."""
    check = _Checker(model, family)
    merged = check.merged(params)
    text = check.text("prompt", prompt)
    wire = transport(model, merged)
    to_image: dict[str, Any] = {"text": text}
    if "negative_prompt" in merged:
        to_image["negativeText"] = check.text("negative_prompt", merged["negative_prompt"])
    if "style" in merged:
        to_image["style"] = check.choice("style", merged["style"], family.styles, upper=True)
    config: dict[str, Any] = {}
    width = height = 1024
    if "size" in merged:
        width, height = check.size(merged["size"])
        config["width"], config["height"] = width, height
    quality = "standard"
    if "quality" in merged:
        quality = config["quality"] = check.choice("quality", merged["quality"], _QUALITIES)
    if "n" in merged:
        config["numberOfImages"] = check.integer("n", merged["n"], 1, _MAX_IMAGES)
    if "cfg_scale" in merged:
        value = merged["cfg_scale"]
        low, high = _CFG_RANGE
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise check.error(
                f"cfg_scale={shown(value)} is not allowed for {model.name}",
                hint=f"allowed: a number from {low} to {high}",
            )
        config["cfgScale"] = float(value)
    if "seed" in merged:
        config["seed"] = check.integer("seed", merged["seed"], 0, MAX_SEED)
    payload: dict[str, Any] = {"taskType": "TEXT_IMAGE", "textToImageParams": to_image}
    if config:
        payload["imageGenerationConfig"] = config
    request = WireRequest(
        "invoke",
        payload,
        model=wire.model_id,
        model_fixed=wire.model_fixed,
        read_timeout=wire.read_timeout,
        total_timeout=wire.total_timeout,
    )
    return _Call(request, family, width, height, quality)


def _body_error(message: str, wire: WireResponse) -> LLMError:
    """The typed error of an ``error`` field in a 200 answer (message collapsed and capped)."""
    text = " ".join(message.split())[:500]
    where: dict[str, Any] = {"endpoint": wire.endpoint, "status": wire.status, "request_id": wire.request_id}
    lowered = text.lower()
    if any(word in lowered for word in _BLOCKED_WORDS):
        return ContentFilterError(
            f"the image request was blocked: {text}",
            hint="the provider's content filters refused the prompt or its result: change the prompt",
            **where,
        )
    return BadRequestError(f"the image request failed: {text}", **where)


def _cost(model: BaseLLM, call: _Call, images: int) -> float | None:
    per_image = model.metadata.pricing.per_image
    if per_image is None or not images:
        return None
    prices = call.family.prices
    factor = 1.0
    if prices:
        base = next(iter(prices.values()))
        tier = "small" if call.width * call.height <= call.family.small_pixels else "large"
        factor = prices.get((call.quality, tier), base) / base
    return per_image * factor * images


def _parse(model: BaseLLM, call: _Call, wire: WireResponse) -> LLMImageResponse:
    where: dict[str, Any] = {"endpoint": wire.endpoint, "status": wire.status, "request_id": wire.request_id}
    data = wire.data
    if not isinstance(data, dict):
        raise ResponseParsingError(
            f"the image response is a JSON {type(data).__name__}, not an object", **where
        )
    error = data.get("error")
    if isinstance(error, str) and error.strip():
        raise _body_error(error, wire)
    if isinstance(error, dict) and error:
        message = error.get("message")
        raise _body_error(message if isinstance(message, str) and message else "no reason given", wire)
    items = data.get("images")
    if not isinstance(items, list) or not items:
        raise ResponseParsingError("the image response has no images ('images' is missing or empty)", **where)
    images = []
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item:
            raise ResponseParsingError(f"images[{i}] of the image response is not a base64 string", **where)
        try:
            raw = base64.b64decode(item, validate=True)
        except (binascii.Error, ValueError):
            raise ResponseParsingError(
                f"images[{i}] of the image response is not valid base64 ({len(item)} characters)", **where
            ) from None
        try:
            media_type = sniff_image_media_type(raw)
        except InvalidInputError:
            media_type = "image/png"
        images.append(GeneratedImage(data=raw, media_type=media_type))
    return LLMImageResponse(
        images=images,
        model=model.name,
        provider=model.provider,
        cost=_cost(model, call, len(images)),
        endpoint=wire.endpoint,
        request_id=wire.request_id,
        latency=wire.latency,
    )


async def generate_image(
    model: BaseLLM, prompt: str, ctx: RequestContext | None, params: dict[str, Any]
) -> LLMImageResponse:
    """Generate images from ``prompt`` (see the module docstring for the parameters)."""
    call = _prepare(model, family_of(model), prompt, params)
    wire = await model._connector.send(call.request, ctx)
    return _parse(model, call, wire)


async def stream_image(
    model: BaseLLM, prompt: str, ctx: RequestContext | None, params: dict[str, Any]
) -> AsyncIterator[LLMImageChunk]:
    """The images of :func:`generate_image` as final chunks (these models send no partial
    images); the last one carries the call's ``cost``."""
    response = await generate_image(model, prompt, ctx, params)
    last = len(response.images) - 1
    for index, image in enumerate(response.images):
        yield LLMImageChunk(
            image=image, index=index, final=True, cost=response.cost if index == last else None
        )
