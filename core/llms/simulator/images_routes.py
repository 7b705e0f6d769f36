"""Simulator routes for OpenAI's and Azure OpenAI's image API: generations and edits.

Routes (registered by :meth:`.routes.ProviderRoutes.add_to`, each through
:meth:`~.routes.ProviderRoutes.serve`: recorded, one fault taken, auth and Azure's ``api-version``
checked):

* ``POST /v1/images/generations`` and ``POST /v1/images/edits`` (OpenAI);
* ``POST /openai/deployments/{deployment}/images/generations|edits?api-version=...`` (Azure: the
  deployment name is the model, when it names one, else the body's ``model``);
* ``POST /openai/v1/images/generations|edits`` (Azure's v1 API, unless the simulator plays a host);
* ``GET /_sim/files/{name}``: the images of ``response_format="url"`` results (no auth, like the
  signed blob URLs the real service hands out); the last 256 are kept.

Models: ``dall-e-2``, ``dall-e-3`` and the GPT image models (any name starting ``gpt-image`` or
``chatgpt-image``), each with the service's own parameter rules (:data:`IMAGE_MODELS`): sizes,
qualities, ``n``, prompt length, ``style`` (dall-e-3), ``response_format`` (DALL-E only; GPT image
models always answer base64), ``output_format`` / ``output_compression`` / ``background`` /
``moderation`` / ``input_fidelity`` / ``stream`` / ``partial_images`` (GPT image models). A
refused request gets the 400 the service sends, with ``param`` and ``code``.

The images are real files (:mod:`.image_files`): PNG, JPEG or WebP as asked, of the requested
size. Image ``i`` of a request is coloured by :func:`image_color` from the prompt, ``i`` and, for
an edit, the SHA-256 of every uploaded image, so a test can tell that an upload arrived whole. A
prompt containing ``[[content_filter]]`` is refused as the safety system would.

GPT image models report ``usage`` like the service: text tokens (a quarter of the prompt's
characters), :data:`INPUT_IMAGE_TOKENS` per uploaded image, and output tokens by quality and shape
(OpenAI's published figures: low 272/408, medium 1056/1584, high 4160/6240 for square/other
sizes), plus 100 per partial image of a stream.

Streams (``"stream": true``, GPT image models) send ``partial_images`` events
``image_generation.partial_image`` (``image_edit.partial_image`` for edits), each a coarser
version of the final picture, then ``image_generation.completed`` (``image_edit.completed``)
with the image and ``usage``, per image. Faults act as on the chat streams: the partial-image
events are the stream's content events (``after_chunks`` counts them), the completed event its
finish. An in-stream error is ``event: error`` with ``{"type": "error", "error": {...}}``. The
fault's stream/drop effects need a JSON request: an edit's stream (multipart) is treated as a
plain response by ``Fault(drop=...)``.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import json
import math
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .faults import Fault
from .image_files import picture, png_size
from .openai_request import CONTENT_FILTER_TRIGGER, unparseable_body
from .openai_wire import Rejection, StreamEvents, error_envelope
from .responder import send_body, send_stream

if TYPE_CHECKING:
    from .routes import Family, ProviderRoutes

__all__ = ["IMAGE_MODELS", "INPUT_IMAGE_TOKENS", "ImageModel", "add_routes", "image_color"]

#: usage tokens counted for each uploaded image of an edit.
INPUT_IMAGE_TOKENS = 323
#: output tokens of one image by quality, for (square, portrait or landscape) sizes.
_OUTPUT_TOKENS = {"low": (272, 408), "medium": (1056, 1584), "high": (4160, 6240)}
_PARTIAL_IMAGE_TOKENS = 100
_KEPT_FILES = 256
_MAX_UPLOAD = 50 * 1024 * 1024
_MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
_CONTENT_POLICY = (
    "Your request was rejected as a result of our safety system. Your prompt may contain text that is "
    "not allowed by our safety system."
)
_SAFE = {"filtered": False, "severity": "safe"}
_FILTER_RESULTS = {"hate": _SAFE, "self_harm": _SAFE, "sexual": _SAFE, "violence": _SAFE}
_PROMPT_FILTER_RESULTS = {**_FILTER_RESULTS, "jailbreak": {"filtered": False, "detected": False}}


@dataclass(frozen=True, slots=True)
class ImageModel:
    """The service's rules for one image model (or family of models)."""

    name: str
    sizes: tuple[str, ...]
    qualities: tuple[str, ...]
    max_n: int
    max_prompt: int
    #: a GPT image model: base64 only; output format, background, moderation, streams.
    gpt: bool = False
    #: input images an edit takes at most; 0: the model does not edit.
    max_edit_images: int = 0
    styles: tuple[str, ...] = ()
    default_size: str = "1024x1024"


IMAGE_MODELS: dict[str, ImageModel] = {
    "dall-e-2": ImageModel(
        "dall-e-2", ("256x256", "512x512", "1024x1024"), ("standard",), 10, 1000, max_edit_images=1
    ),
    "dall-e-3": ImageModel(
        "dall-e-3",
        ("1024x1024", "1792x1024", "1024x1792"),
        ("standard", "hd", "auto"),
        1,
        4000,
        styles=("vivid", "natural"),
    ),
    "gpt-image": ImageModel(
        "gpt-image",
        ("1024x1024", "1536x1024", "1024x1536", "auto"),
        ("low", "medium", "high", "auto"),
        10,
        32000,
        gpt=True,
        max_edit_images=16,
    ),
}

_COMMON = frozenset({"prompt", "model", "n", "size", "quality", "response_format", "user", "stream"})
_GPT_ONLY = frozenset(
    {"background", "moderation", "output_format", "output_compression", "partial_images", "input_fidelity"}
)
_GENERATION_FIELDS = _COMMON | (_GPT_ONLY - {"input_fidelity"}) | {"style"}
_EDIT_FIELDS = _COMMON | (_GPT_ONLY - {"moderation"}) | {"image", "image[]", "mask"}
_CHOICES: dict[str, tuple[str, ...]] = {
    "background": ("transparent", "opaque", "auto"),
    "moderation": ("low", "auto"),
    "output_format": ("png", "jpeg", "webp"),
    "input_fidelity": ("high", "low"),
}
_INT_FIELDS = frozenset({"n", "output_compression", "partial_images"})


def model_rules(model: str) -> ImageModel | None:
    """The rules of ``model``; None when the simulator does not serve it as an image model."""
    if model in IMAGE_MODELS:
        return IMAGE_MODELS[model]
    if model.startswith(("gpt-image", "chatgpt-image")):
        return IMAGE_MODELS["gpt-image"]
    return None


def image_color(prompt: str, index: int, uploads: Sequence[bytes] = ()) -> tuple[int, int, int]:
    """The colour of image ``index`` for ``prompt`` (and, for an edit, the uploaded images)."""
    digest = hashlib.sha256()
    for upload in uploads:
        digest.update(hashlib.sha256(upload).digest())
    digest.update(prompt.encode("utf-8", "surrogatepass") + b"\x00" + str(index).encode())
    r, g, b = digest.digest()[:3]
    return r, g, b


def _reject(message: str, param: str | None = None, code: str | None = None) -> Rejection:
    return Rejection(400, error_envelope(message, param=param, code=code))


def _listed(values: Sequence[str]) -> str:
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


def _invalid_value(name: str, value: Any, allowed: Sequence[str]) -> Rejection:
    shown = json.dumps(value)[:60] if not isinstance(value, str) else f"'{value[:60]}'"
    return _reject(
        f"Invalid value: {shown}. Supported values are: {_listed(allowed)}.", param=name, code="invalid_value"
    )


@dataclass(slots=True)
class _ImageRequest:
    """A checked image request."""

    model: str
    rules: ImageModel
    prompt: str
    edit: bool
    n: int = 1
    size: str = "1024x1024"
    quality: str = "auto"
    response_format: str = "b64_json"
    output_format: str = "png"
    background: str = "auto"
    stream: bool = False
    partial_images: int = 0
    images: list[bytes] = field(default_factory=list)
    mask: bytes | None = None

    @property
    def dimensions(self) -> tuple[int, int]:
        width, _, height = (self.size if self.size != "auto" else "1024x1024").partition("x")
        return int(width), int(height)


# --------------------------------------------------------------------------- reading requests


def _parse_multipart(raw: bytes, content_type: str) -> list[tuple[str, str | None, bytes]]:
    """The parts of a ``multipart/form-data`` body: (name, filename or None, value)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.startswith("multipart/form-data") or match is None:
        raise _reject(
            "Invalid Content-Type header (expected multipart/form-data with a boundary).",
            code="invalid_content_type",
        )
    delimiter = b"--" + match.group(1).encode()
    pieces = raw.split(delimiter)
    if len(pieces) < 3 or not pieces[-1].startswith(b"--"):
        raise _reject("Could not parse multipart form.", code="invalid_multipart")
    parts: list[tuple[str, str | None, bytes]] = []
    for piece in pieces[1:-1]:
        if not piece.startswith(b"\r\n") or not piece.endswith(b"\r\n"):
            raise _reject("Could not parse multipart form.", code="invalid_multipart")
        head, sep, value = piece[2:-2].partition(b"\r\n\r\n")
        if not sep:
            raise _reject("Could not parse multipart form.", code="invalid_multipart")
        headers = head.decode("utf-8", "replace")
        name = re.search(r'\bname="([^"]*)"', headers)
        if name is None:
            raise _reject("Could not parse multipart form.", code="invalid_multipart")
        filename = re.search(r'\bfilename="([^"]*)"', headers)
        parts.append((name.group(1), filename.group(1) if filename else None, value))
    return parts


def _form_fields(parts: list[tuple[str, str | None, bytes]]) -> dict[str, Any]:
    """The fields of an edit form as a JSON-like dict: files under ``image`` (a list) and ``mask``,
    integer fields as ints, ``stream`` as a bool."""
    fields: dict[str, Any] = {}
    images: list[bytes] = []
    for name, filename, value in parts:
        if name in ("image", "image[]"):
            if filename is None:
                raise _reject(
                    f"Invalid type for '{name}': expected a file.", param="image", code="invalid_type"
                )
            images.append(value)
            continue
        if name == "mask":
            if filename is None:
                raise _reject("Invalid type for 'mask': expected a file.", param="mask", code="invalid_type")
            fields["mask"] = value
            continue
        text = value.decode("utf-8", "replace")
        if name in _INT_FIELDS:
            if not re.fullmatch(r"-?\d{1,9}", text.strip()):
                raise _reject(
                    f"Invalid type for '{name}': expected an integer, but got a string instead.",
                    param=name,
                    code="invalid_type",
                )
            fields[name] = int(text)
        elif name == "stream":
            if text not in ("true", "false"):
                raise _invalid_value("stream", text, ("true", "false"))
            fields[name] = text == "true"
        else:
            fields[name] = text
    if images:
        fields["image"] = images
    return fields


def _image_kind(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _check_request(fields: dict[str, Any], model: str, *, edit: bool) -> _ImageRequest:
    """Check ``fields`` like the service; a :class:`Rejection` names what is wrong."""
    known = _EDIT_FIELDS if edit else _GENERATION_FIELDS
    for name in fields:
        if name not in known:
            raise _reject(f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")
    rules = model_rules(model)
    if rules is None:
        raise _reject(
            f"Invalid value: '{model[:60]}'. The model is not an image model.",
            param="model",
            code="invalid_value",
        )
    if edit and not rules.max_edit_images:
        raise _reject(
            f"Invalid value: '{model[:60]}'. Value must be 'dall-e-2' or a GPT image model.",
            param="model",
            code="invalid_value",
        )
    if not rules.gpt:
        for name in _GPT_ONLY | {"stream"}:
            if name in fields and not (name == "stream" and fields[name] is False):
                raise _reject(f"Unknown parameter: '{name}'.", param=name, code="unknown_parameter")
    elif "response_format" in fields:
        raise _reject(
            "Unknown parameter: 'response_format'.", param="response_format", code="unknown_parameter"
        )
    if "style" in fields and not rules.styles:
        raise _reject("Unknown parameter: 'style'.", param="style", code="unknown_parameter")
    prompt = fields.get("prompt")
    if prompt is None:
        raise _reject(
            "Missing required parameter: 'prompt'.", param="prompt", code="missing_required_parameter"
        )
    if not isinstance(prompt, str):
        raise _reject("Invalid type for 'prompt': expected a string.", param="prompt", code="invalid_type")
    if not prompt:
        raise _reject(
            "Invalid 'prompt': empty string. Expected a string with minimum length 1.",
            param="prompt",
            code="empty_string",
        )
    if len(prompt) > rules.max_prompt:
        raise _reject(
            f"Invalid 'prompt': string too long. Expected a string with maximum length {rules.max_prompt}, "
            f"but got a string with length {len(prompt)} instead.",
            param="prompt",
            code="string_above_max_length",
        )
    req = _ImageRequest(model=model, rules=rules, prompt=prompt, edit=edit, size=rules.default_size)
    req.response_format = "b64_json" if rules.gpt else "url"
    req.quality = "auto" if rules.gpt or "auto" in rules.qualities else rules.qualities[0]
    for name, allowed in (
        ("size", rules.sizes),
        ("quality", rules.qualities),
        ("style", rules.styles),
        ("response_format", ("url", "b64_json")),
        *_CHOICES.items(),
    ):
        value = fields.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or value not in allowed:
            raise _invalid_value(name, value, allowed)
        if hasattr(req, name):
            setattr(req, name, value)
    for name, low, high in (("n", 1, 10), ("output_compression", 0, 100), ("partial_images", 0, 3)):
        value = fields.get(name)
        if value is None:
            continue
        if type(value) is not int:
            raise _reject(f"Invalid type for '{name}': expected an integer.", param=name, code="invalid_type")
        if not low <= value <= high:
            kind = "integer_below_min_value" if value < low else "integer_above_max_value"
            raise _reject(
                f"Invalid '{name}': {value}. Expected a value between {low} and {high}.",
                param=name,
                code=kind,
            )
    req.n = fields.get("n", 1)
    if req.n > rules.max_n:
        raise _reject("You must provide n=1 for this model.", param="n", code="invalid_value")
    stream = fields.get("stream", False)
    if not isinstance(stream, bool):
        raise _reject("Invalid type for 'stream': expected a boolean.", param="stream", code="invalid_type")
    req.stream = stream
    req.partial_images = fields.get("partial_images", 0)
    if req.background == "transparent" and req.output_format == "jpeg":
        raise _reject(
            "Transparent background is not supported for the 'jpeg' output format; use 'png' or 'webp'.",
            param="background",
            code="invalid_value",
        )
    if "output_compression" in fields and req.output_format == "png":
        raise _reject(
            "Compression less than 100 is only supported for the 'jpeg' and 'webp' output formats.",
            param="output_compression",
            code="invalid_value",
        )
    if "user" in fields and not isinstance(fields["user"], str):
        raise _reject("Invalid type for 'user': expected a string.", param="user", code="invalid_type")
    if edit:
        _check_uploads(req, fields)
    return req


def _check_uploads(req: _ImageRequest, fields: dict[str, Any]) -> None:
    images: list[bytes] = fields.get("image") or []
    if not images:
        raise _reject(
            "Missing required parameter: 'image'.", param="image", code="missing_required_parameter"
        )
    if len(images) > req.rules.max_edit_images:
        raise _reject(
            f"Invalid 'image': too many images ({len(images)}); at most {req.rules.max_edit_images}.",
            param="image",
            code="array_above_max_length",
        )
    for i, image in enumerate(images, 1):
        kind = _image_kind(image)
        if kind is None or (not req.rules.gpt and kind != "png") or len(image) > _MAX_UPLOAD:
            raise _reject(
                f"Invalid image file or mode for image {i}, please check your image file.",
                param="image",
                code="invalid_image_file",
            )
    mask = fields.get("mask")
    if mask is not None:
        size = png_size(mask)
        if size is None:
            raise _reject(
                "Invalid mask image format - mask must be a PNG file.", param="mask", code="invalid_image"
            )
        first = png_size(images[0])
        if first is not None and first != size:
            raise _reject(
                "Invalid mask image format - mask size does not match image size.",
                param="mask",
                code="invalid_image",
            )
    req.images = images
    req.mask = mask


# --------------------------------------------------------------------------- answering


def _usage(req: _ImageRequest, partials: int = 0) -> dict[str, Any]:
    text = max(1, math.ceil(len(req.prompt) / 4))
    images = INPUT_IMAGE_TOKENS * len(req.images)
    width, height = req.dimensions
    quality = req.quality if req.quality in _OUTPUT_TOKENS else "medium"
    output = _OUTPUT_TOKENS[quality][0 if width == height else 1] * req.n + _PARTIAL_IMAGE_TOKENS * partials
    return {
        "input_tokens": text + images,
        "input_tokens_details": {"text_tokens": text, "image_tokens": images},
        "output_tokens": output,
        "total_tokens": text + images + output,
    }


def _blend(color: tuple[int, int, int], step: int, steps: int) -> tuple[int, int, int]:
    """Partial image ``step`` of ``steps``: the colour on its way from mid-grey."""
    r, g, b = (128 + (c - 128) * (step + 1) // (steps + 1) for c in color)
    return r, g, b


class _ImageRoutes:
    """The handlers of one simulator's image routes, and the files its URL results point at."""

    def __init__(self, routes: ProviderRoutes) -> None:
        self._routes = routes
        self._files: collections.OrderedDict[str, tuple[bytes, str]] = collections.OrderedDict()

    def add_to(self, app: web.Application) -> None:
        add = app.router.add_post
        for edit, tail in ((False, "generations"), (True, "edits")):
            add(f"/v1/images/{tail}", self._handler("openai", edit))
            add(f"/openai/deployments/{{deployment}}/images/{tail}", self._handler("azure", edit))
            if self._routes.azure_v1:
                add(f"/openai/v1/images/{tail}", self._handler("azure", edit))
        app.router.add_get("/_sim/files/{name}", self._file)

    def _handler(self, family: Family, edit: bool) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            deployment = request.match_info.get("deployment")  # None on the other routes
            return await self._serve(request, family, deployment, edit)

        return handle

    async def _file(self, request: web.Request) -> web.StreamResponse:
        entry = self._files.get(request.match_info["name"])
        if entry is None:
            return web.Response(status=404, text="The specified blob does not exist.")
        data, media_type = entry
        return web.Response(body=data, headers={"Content-Type": media_type})

    async def _serve(
        self, request: web.Request, family: Family, deployment: str | None, edit: bool
    ) -> web.StreamResponse:
        async def produce(
            n: int, body: Any, headers: dict[str, str], fault: Fault | None
        ) -> web.StreamResponse:
            if edit:
                raw = await request.read()
                fields = _form_fields(_parse_multipart(raw, request.headers.get("Content-Type", "")))
            elif isinstance(body, dict):
                fields = body
            else:
                raise unparseable_body()
            model = self._model(fields, deployment, edit)
            req = _check_request(fields, model, edit=edit)
            if CONTENT_FILTER_TRIGGER in req.prompt:
                raise Rejection(400, _content_policy_body(family == "azure"))
            if req.stream:
                return await self._stream(request, n, req, headers, fault)
            data = self._body(request, n, req, family == "azure")
            return await send_body(request, data, headers, fault, f"img_sim_{n}")

        return await self._routes.serve(request, family, deployment, produce)

    @staticmethod
    def _model(fields: dict[str, Any], deployment: str | None, edit: bool) -> str:
        """Azure: the deployment's model (its name, when it names an image model, else the body's
        ``model``); OpenAI: the body's ``model``, by default the service's (dall-e-2 for
        generations, gpt-image-1 for edits)."""
        if deployment is not None and model_rules(deployment) is not None:
            return deployment
        model = fields.get("model")
        if model is None:
            if deployment is not None:
                raise Rejection(
                    404,
                    {
                        "error": {
                            "code": "DeploymentNotFound",
                            "message": "The API deployment for this resource does not exist.",
                        }
                    },
                )
            return "gpt-image-1" if edit else "dall-e-2"
        if not isinstance(model, str):
            raise _reject("Invalid type for 'model': expected a string.", param="model", code="invalid_type")
        return model

    def _images(self, req: _ImageRequest, index: int) -> tuple[tuple[int, int, int], bool]:
        return image_color(req.prompt, index, req.images), req.background == "transparent"

    def _body(self, request: web.Request, n: int, req: _ImageRequest, azure: bool) -> bytes:
        width, height = req.dimensions
        fmt = req.output_format
        items: list[dict[str, Any]] = []
        for i in range(req.n):
            color, transparent = self._images(req, i)
            image = picture(width, height, color, fmt, transparent=transparent)
            item: dict[str, Any] = {}
            if req.response_format == "url":
                item["url"] = self._store(request, f"img-{n}-{i}.{fmt}", image, _MEDIA_TYPES[fmt])
            else:
                item["b64_json"] = base64.b64encode(image).decode("ascii")
            if req.rules.styles:  # dall-e-3 rewrites the prompt and says how
                item["revised_prompt"] = f"A simulated picture of: {req.prompt}"
            if azure:
                item["content_filter_results"] = _FILTER_RESULTS
                item["prompt_filter_results"] = _PROMPT_FILTER_RESULTS
            items.append(item)
        body: dict[str, Any] = {"created": int(time.time()), "data": items}
        if req.rules.gpt:
            body.update(
                background="transparent" if req.background == "transparent" else "opaque",
                output_format=fmt,
                quality=req.quality if req.quality != "auto" else "medium",
                size=f"{width}x{height}",
                usage=_usage(req),
            )
        return json.dumps(body, separators=(",", ":")).encode()

    def _store(self, request: web.Request, name: str, data: bytes, media_type: str) -> str:
        self._files[name] = (data, media_type)
        while len(self._files) > _KEPT_FILES:
            self._files.popitem(last=False)
        return f"{request.scheme}://{request.host}/_sim/files/{name}"

    async def _stream(
        self, request: web.Request, n: int, req: _ImageRequest, headers: dict[str, str], fault: Fault | None
    ) -> web.StreamResponse:
        prefix = "image_edit" if req.edit else "image_generation"
        width, height = req.dimensions
        created = int(time.time())
        common = {
            "created_at": created,
            "size": f"{width}x{height}",
            "quality": req.quality,
            "background": req.background,
            "output_format": req.output_format,
        }
        events = StreamEvents(error_event=_stream_error)
        for i in range(req.n):
            color, transparent = self._images(req, i)
            for k in range(req.partial_images):
                partial = picture(
                    width,
                    height,
                    _blend(color, k, req.partial_images),
                    req.output_format,
                    transparent=transparent,
                )
                event = {
                    "type": f"{prefix}.partial_image",
                    "b64_json": base64.b64encode(partial).decode("ascii"),
                    **common,
                    "partial_image_index": k,
                }
                events.body.append(_sse(event))
            final = picture(width, height, color, req.output_format, transparent=transparent)
            completed = {
                "type": f"{prefix}.completed",
                "b64_json": base64.b64encode(final).decode("ascii"),
                **common,
                "usage": _usage(req, req.partial_images),
            }
            (events.tail if i == req.n - 1 else events.body).append(_sse(completed))
        return await send_stream(
            request,
            events,
            headers,
            fault,
            completion_id=f"img_sim_{n}",
            chunk_delay=self._routes._chunk_delay,
        )


def _sse(event: dict[str, Any]) -> bytes:
    data = json.dumps(event, separators=(",", ":"))
    return f"event: {event['type']}\ndata: {data}\n\n".encode()


def _stream_error(body: dict[str, Any]) -> bytes:
    """An error inside an image stream: ``event: error`` with ``{"type": "error", "error": ...}``."""
    return _sse({"type": "error", **body})


def _content_policy_body(azure: bool) -> dict[str, Any]:
    error: dict[str, Any] = {
        "code": "content_policy_violation",
        "message": _CONTENT_POLICY,
        "param": None,
        "type": "invalid_request_error",
    }
    if azure:  # shaped like Azure's chat content-filter body
        error["innererror"] = {
            "code": "ResponsibleAIPolicyViolation",
            "content_filter_result": {
                **_PROMPT_FILTER_RESULTS,
                "violence": {"filtered": True, "severity": "high"},
            },
        }
    return {"error": error}


def add_routes(app: web.Application, routes: ProviderRoutes) -> None:
    """Add the image routes to ``app`` (see the module docs)."""
    _ImageRoutes(routes).add_to(app)
