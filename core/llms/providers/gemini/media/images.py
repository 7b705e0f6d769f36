"""Imagen on the Gemini API and Vertex AI: ``get_image`` of the Gemini model class
(imagen-4.0-generate-001, imagen-4.0-fast-generate-001, imagen-4.0-ultra-generate-001,
imagen-3.0-generate-002).

``generate_image`` POSTs ``{"instances": [{"prompt"}], "parameters": {...}}`` to the model's
``:predict`` (the adapter's ``"predict"`` operation) and reads ``{"predictions": [...]}``: one
``{"bytesBase64Encoded", "mimeType"}`` per image (``gcsUri`` instead when Vertex wrote them to
``output_gcs_uri``), or ``{"raiFilteredReason"}`` for an image the safety filters removed.

Parameters (checked before anything is sent; the model's ``defaults`` apply under them):

``n`` (alias ``number_of_images``)
    how many images, 1 to 4 (imagen-4.0-ultra: 1); default 1 (``sampleCount`` is always sent:
    the service's own default is 4 images, each billed).
``aspect_ratio``
    ``1:1`` (default), ``3:4``, ``4:3``, ``9:16``, ``16:9``.
``image_size``
    ``1K`` or ``2K`` (imagen-4.0-generate-001 and -ultra only).
``person_generation``
    ``dont_allow``, ``allow_adult`` (the service's default), ``allow_all`` (not in every region).
``output_format`` (alias ``output_mime_type``)
    ``png`` (default) or ``jpeg`` (also spelled ``image/png`` / ``image/jpeg``).
``compression_quality`` (alias ``output_compression``)
    0-100, JPEG only.
``negative_prompt``, ``seed`` (1 to 2147483647; needs ``add_watermark=False``), ``add_watermark``,
``enhance_prompt``, ``safety_filter_level`` (``block_low_and_above``, ``block_medium_and_above``,
``block_only_high``, ``block_none``), ``output_gcs_uri`` (``gs://`` folder to write the images to)
    Vertex AI only; the Gemini API refuses them.
``timeout``, ``read_timeout``, ``model``
    as for chat calls.

The prompt is a non-empty string of at most the model's ``context_window`` tokens (estimated at
four characters a token). ``includeRaiReason`` is always sent, so an image the filters removed
comes back as its reason: the call returns the images that passed, and raises
:class:`~core.llms.interfaces.errors.ContentFilterError` (``filter_results`` naming the reasons)
when none did — or when the answer has no images at all, which is how the service reports a
prompt it refused without reasons.

The answer: :class:`LLMImageResponse` with one :class:`GeneratedImage` per image (bytes, or the
``gs://`` URL), its media type, the prompt Imagen rewrote it to (``revised_prompt``, when
``enhance_prompt`` reports one), and ``cost``: the catalogue's ``per_image`` times the images
returned.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ....interfaces.errors import ContentFilterError, InvalidInputError
from ....interfaces.llm_interfaces import WireRequest, WireResponse
from ....interfaces.media import GeneratedImage, LLMImageResponse
from ._common import (
    TRANSPORT_PARAMS,
    MediaModel,
    call_params,
    check_prompt,
    choice,
    decode_base64,
    flag,
    integer,
    parsing_error,
    text_param,
    transport,
    vertex_only,
    where,
)

if TYPE_CHECKING:
    from ....interfaces.context import RequestContext

__all__ = ["ASPECT_RATIOS", "IMAGEN_MODELS", "ImagenRules", "generate_image", "rules_for"]

logger = logging.getLogger("core.llms.media")

ASPECT_RATIOS = ("1:1", "3:4", "4:3", "9:16", "16:9")
PERSON_GENERATION = ("dont_allow", "allow_adult", "allow_all")
SAFETY_FILTER_LEVELS = ("block_low_and_above", "block_medium_and_above", "block_only_high", "block_none")
_FORMATS = {"png": "image/png", "jpeg": "image/jpeg", "image/png": "image/png", "image/jpeg": "image/jpeg"}
_MAX_SEED = 2_147_483_647
_MAX_NEGATIVE_PROMPT = 10_000


@dataclass(frozen=True, slots=True)
class ImagenRules:
    """What the Imagen models of one name prefix take."""

    max_n: int = 4
    #: ``image_size`` values (empty: the model makes one size per aspect ratio).
    image_sizes: tuple[str, ...] = ()


#: model name prefix → its rules (the longest matching prefix wins; an Imagen model not listed
#: takes :data:`_ANY`, and the service decides the rest).
IMAGEN_MODELS: Mapping[str, ImagenRules] = {
    "imagen-4.0-ultra": ImagenRules(max_n=1, image_sizes=("1K", "2K")),
    "imagen-4.0-fast": ImagenRules(),
    "imagen-4.0": ImagenRules(image_sizes=("1K", "2K")),
    "imagen-3.0": ImagenRules(),
}
_ANY = ImagenRules(image_sizes=("1K", "2K"))

_PARAMS = (
    frozenset(
        {
            "n",
            "aspect_ratio",
            "image_size",
            "person_generation",
            "output_format",
            "compression_quality",
            "negative_prompt",
            "seed",
            "add_watermark",
            "enhance_prompt",
            "safety_filter_level",
            "output_gcs_uri",
        }
    )
    | TRANSPORT_PARAMS
)
_ALIASES = {
    "number_of_images": "n",
    "sample_count": "n",
    "output_mime_type": "output_format",
    "output_compression": "compression_quality",
}
_VERTEX_ONLY = frozenset(
    {"negative_prompt", "seed", "add_watermark", "enhance_prompt", "safety_filter_level", "output_gcs_uri"}
)


def _refuse(model: MediaModel, message: str, hint: str) -> InvalidInputError:
    return InvalidInputError(message, provider=model.provider, model=model.name, hint=hint)


def rules_for(model: MediaModel) -> ImagenRules:
    """The rules of the model's name (its wire id first, then its catalogue name)."""
    for name in (model.metadata.model_id, model.name):
        found = [prefix for prefix in IMAGEN_MODELS if name.startswith(prefix)]
        if found:
            return IMAGEN_MODELS[max(found, key=len)]
    return _ANY


@dataclass(frozen=True, slots=True)
class _Call:
    request: WireRequest
    media_type: str
    n: int


def _prepare(model: MediaModel, prompt: Any, params: Mapping[str, Any]) -> _Call:
    """Check everything and build the request (nothing is sent)."""
    rules = rules_for(model)
    merged = call_params(model, params, _PARAMS, call="get_image", aliases=_ALIASES)
    prompt = check_prompt(model, prompt)
    vertex_only(model, merged, _VERTEX_ONLY)
    parameters: dict[str, Any] = {}
    n = integer(model, "n", merged.get("n", 1), 1, rules.max_n)
    parameters["sampleCount"] = n
    if "aspect_ratio" in merged:
        parameters["aspectRatio"] = choice(model, "aspect_ratio", merged["aspect_ratio"], ASPECT_RATIOS)
    if "image_size" in merged:
        if not rules.image_sizes:
            raise _refuse(
                model,
                f"image_size is not supported by {model.name}: it makes one size per aspect ratio",
                "imagen-4.0-generate-001 and imagen-4.0-ultra-generate-001 take image_size='1K' or '2K'",
            )
        parameters["sampleImageSize"] = choice(model, "image_size", merged["image_size"], rules.image_sizes)
    if "person_generation" in merged:
        parameters["personGeneration"] = choice(
            model, "person_generation", merged["person_generation"], PERSON_GENERATION
        )
    media_type = "image/png"
    output: dict[str, Any] = {}
    if "output_format" in merged:
        fmt = choice(model, "output_format", merged["output_format"], tuple(_FORMATS))
        media_type = output["mimeType"] = _FORMATS[fmt]
    if "compression_quality" in merged:
        if media_type != "image/jpeg":
            raise _refuse(model, "compression_quality needs output_format='jpeg'", "set output_format='jpeg'")
        output["compressionQuality"] = integer(
            model, "compression_quality", merged["compression_quality"], 0, 100
        )
    if output:
        parameters["outputOptions"] = output
    if "negative_prompt" in merged:
        parameters["negativePrompt"] = text_param(
            model, "negative_prompt", merged["negative_prompt"], _MAX_NEGATIVE_PROMPT
        )
    if "add_watermark" in merged:
        parameters["addWatermark"] = flag(model, "add_watermark", merged["add_watermark"])
    if "seed" in merged:
        parameters["seed"] = integer(model, "seed", merged["seed"], 1, _MAX_SEED)
        if parameters.get("addWatermark", True):
            raise _refuse(
                model,
                "seed needs add_watermark=False (a watermarked image cannot be reproduced)",
                "pass add_watermark=False with seed",
            )
    if "enhance_prompt" in merged:
        parameters["enhancePrompt"] = flag(model, "enhance_prompt", merged["enhance_prompt"])
    if "safety_filter_level" in merged:
        parameters["safetySetting"] = choice(
            model, "safety_filter_level", merged["safety_filter_level"], SAFETY_FILTER_LEVELS
        )
    if "output_gcs_uri" in merged:
        uri = text_param(model, "output_gcs_uri", merged["output_gcs_uri"], 2_000)
        if not uri.startswith("gs://"):
            raise _refuse(
                model, "output_gcs_uri must be a gs:// URI", "e.g. output_gcs_uri='gs://bucket/folder'"
            )
        parameters["storageUri"] = uri
    parameters["includeRaiReason"] = True
    how = transport(model, merged)
    request = WireRequest(
        "predict",
        {"instances": [{"prompt": prompt}], "parameters": parameters},
        model=how.model_id,
        model_fixed=how.model_fixed,
        read_timeout=how.read_timeout,
        total_timeout=how.total_timeout,
    )
    return _Call(request, media_type, n)


def _parse(model: MediaModel, call: _Call, wire: WireResponse) -> LLMImageResponse:
    data = wire.data
    if not isinstance(data, dict):
        raise parsing_error(
            f"{wire.endpoint} answered an image request with a JSON {type(data).__name__}", wire
        )
    predictions = data.get("predictions", [])
    if not isinstance(predictions, list):
        raise parsing_error(
            f"{wire.endpoint} answered an image request whose predictions are not a list", wire
        )
    images: list[GeneratedImage] = []
    filtered: list[str] = []
    for i, item in enumerate(predictions):
        if not isinstance(item, dict):
            raise parsing_error(f"predictions[{i}] of the image answer is not an object", wire)
        encoded, uri = item.get("bytesBase64Encoded"), item.get("gcsUri")
        if encoded is not None:
            image = GeneratedImage(
                data=decode_base64(encoded, f"predictions[{i}].bytesBase64Encoded", **where(wire))
            )
        elif isinstance(uri, str) and uri:
            image = GeneratedImage(url=uri)
        elif item.get("raiFilteredReason") is not None:
            filtered.append(" ".join(str(item["raiFilteredReason"]).split())[:300])
            continue
        elif isinstance(item.get("contentType"), str) or "safetyAttributes" in item:
            continue  # the prompt's own safety attributes (includeSafetyAttributes), not an image
        else:
            raise parsing_error(
                f"predictions[{i}] of the image answer has no image and no filter reason", wire
            )
        mime = item.get("mimeType")
        image.media_type = mime if isinstance(mime, str) and mime.startswith("image/") else call.media_type
        revised = item.get("prompt")
        image.revised_prompt = revised if isinstance(revised, str) and revised else None
        images.append(image)
    if not images:
        raise _filtered(wire, filtered, call.n)
    if filtered:
        logger.debug(
            "%s: %d of %d images were removed by the safety filters", model.name, len(filtered), call.n
        )
    return LLMImageResponse(
        images=images,
        model=model.name,
        provider=model.provider,
        cost=model.metadata.pricing.media_cost(images=len(images)),
        endpoint=wire.endpoint,
        request_id=wire.request_id,
        latency=wire.latency,
    )


def _filtered(wire: WireResponse, reasons: list[str], asked: int) -> ContentFilterError:
    if reasons:
        message = f"all {asked} images were removed by the provider's safety filters: {reasons[0]}"
        results: dict[str, Any] = {
            f"image_{i}": {"filtered": True, "reason": r} for i, r in enumerate(reasons)
        }
    else:
        message = "the provider returned no images (its safety filters removed them, or refused the prompt)"
        results = {"images": {"filtered": True}}
    return ContentFilterError(
        message,
        filter_results=results,
        code="rai_filtered",
        hint="change the prompt (or person_generation); a filtered image is not billed",
        **where(wire),
    )


async def generate_image(
    model: MediaModel, prompt: str, ctx: RequestContext | None, params: dict[str, Any]
) -> LLMImageResponse:
    """Generate images with Imagen: see the module docs for the parameters."""
    call = _prepare(model, prompt, params)
    wire = await model._connector.send(call.request, ctx)
    return _parse(model, call, wire)
