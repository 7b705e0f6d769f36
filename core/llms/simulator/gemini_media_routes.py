"""Gemini API and Vertex AI media routes (Imagen, Veo, embeddings; the TTS answer for the chat
route): registered by :meth:`.routes.ProviderRoutes.add_to`.

::

    Gemini API (x-goog-api-key: <key>, or ?key=<key>)
    POST /v1beta/models/{model}:predict                    Imagen (imagen-*)
    POST /v1beta/models/{model}:predictLongRunning         Veo: start an operation (veo-*)
    GET  /v1beta/models/{model}/operations/{id}            the operation (also /v1beta/operations/{id})
    GET  /v1beta/files/{file}:download?alt=media           a finished operation's MP4
    POST /v1beta/models/{model}:embedContent               one text's vector (*embedding*)
    POST /v1beta/models/{model}:batchEmbedContents         up to 100 texts' vectors

    Vertex AI (Authorization: Bearer <token>, or an x-goog-api-key), under
    /v1/projects/{project}/locations/{location}/publishers/google/models/{model} (and /v1beta1/...)
    POST ...:predict                                       Imagen (imagen-*) or text embeddings (*embedding*)
    POST ...:predictLongRunning                            Veo: start an operation
    POST ...:fetchPredictOperation {"operationName"}       the operation (the MP4 inline, base64)

Text to speech is answered on the chat engineer's ``:generateContent`` / ``:streamGenerateContent``
route: for a model whose name contains ``-tts`` (:func:`is_tts_model`) that route calls
:func:`respond_tts` (or builds its own answer from :func:`tts_answer` / :func:`tts_stream_events`).
The speech is raw 16-bit little-endian mono PCM at 24 kHz (``audio/L16;codec=pcm;rate=24000``,
base64 in ``inlineData``), 60 ms a character: a tone, so any decoder reads it.

Errors are Google's ``{"error": {"code", "message", "status"}}``: the Gemini API refuses a missing
key with 403 ``PERMISSION_DENIED`` and a wrong one with 400 ``INVALID_ARGUMENT`` (``ErrorInfo``
reason ``API_KEY_INVALID``), Vertex AI a missing or wrong token with 401 ``UNAUTHENTICATED``. A
scripted ``Fault(status=...)`` answers in the same shape (a 429 with ``RetryInfo`` when the fault
has ``retry_after``); faults that cut or stall a body apply to every route.

Requests are checked like the real services (400 ``INVALID_ARGUMENT`` naming the field): Imagen's
``sampleCount`` (1-4; the service's default when absent: 4), ``aspectRatio``, ``sampleImageSize``
(``imagen-4.0-generate`` / ``-ultra``), ``personGeneration``, ``outputOptions``; the parameters only
Vertex AI takes (``negativePrompt``, ``seed``, ``addWatermark``, ``enhancePrompt``, ``storageUri``;
Veo's ``seed``, ``generateAudio``, ``storageUri``) are refused on the Gemini API; Veo's
``durationSeconds`` (veo-3: 4, 6, 8; veo-2: 5-8), ``aspectRatio``, ``resolution`` (veo-3),
``image`` (PNG/JPEG/WebP bytes); embeddings' ``taskType``, ``outputDimensionality``, ``title``
(``RETRIEVAL_DOCUMENT`` only), batch sizes; TTS's ``responseModalities`` (``["AUDIO"]``) and voices.

Prompt markers (for tests; never sent back):

``[sim:filtered]`` (Imagen)
    every image is removed by the "safety filters" (``raiFilteredReason`` when the request asked
    for reasons with ``includeRaiReason``, else left out); ``[sim:filtered=N]``: the first N.
``[sim:fail]`` (Veo)
    the operation ends with an error (``INVALID_ARGUMENT``, code 3) on its second poll;
    ``[sim:fail=STATUS]`` with that status (e.g. ``INTERNAL``).
``[sim:filtered]`` (Veo)
    the operation ends without a video: ``raiMediaFilteredCount`` 1 and its reason.
``[sim:slow]`` (Veo)
    the operation never ends.
``[sim:steps=N]`` (Veo)
    the operation is done on the N-th poll (default 2; 0: done when started).
``[sim:blocked]`` (TTS)
    the prompt is blocked: ``promptFeedback.blockReason`` ``PROHIBITED_CONTENT``, no candidates.
"""

from __future__ import annotations

import base64
import binascii
import collections
import itertools
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .embeddings_routes import embedding_vector
from .gemini_tts import (
    TTS_MIME_TYPE,
    VOICES,
    is_tts_model,
    respond_tts,
    tts_answer,
    tts_stream_events,
)
from .google_wire import (
    _MARKERS,
    _RPC_CODES,
    GoogleWire,
    _color,
    _gemini_only,
    _instance,
    _int,
    _invalid,
    _markers,
    _not_found,
    _object,
    _one_of,
    _send,
    google_error,
)
from .image_files import picture
from .mp4 import mp4_bytes
from .openai_wire import Rejection
from .responder import send_bytes

if TYPE_CHECKING:
    from .faults import Fault
    from .routes import ProviderRoutes

__all__ = [
    "TTS_MIME_TYPE",
    "VOICES",
    "GoogleWire",
    "VeoOperations",
    "add_routes",
    "google_error",
    "is_tts_model",
    "respond_tts",
    "tts_answer",
    "tts_stream_events",
]


# Imagen
_ASPECT_SIZES = {
    "1:1": (1024, 1024),
    "3:4": (896, 1280),
    "4:3": (1280, 896),
    "9:16": (768, 1408),
    "16:9": (1408, 768),
}
_PERSON_GENERATION = ("dont_allow", "allow_adult", "allow_all")
_IMAGE_MIME = {"image/png": "png", "image/jpeg": "jpeg"}
_IMAGEN_VERTEX_ONLY = (
    "negativePrompt",
    "seed",
    "addWatermark",
    "enhancePrompt",
    "storageUri",
    "safetySetting",
)
_RAI_REASON = (
    "Your current safety filter threshold filtered out the generated image. You will not be charged for "
    "blocked images. Try rephrasing the prompt. Support codes: 58061214"
)
# Veo
_VEO_DEFAULT_STEPS = 2
_VEO_VERTEX_ONLY = ("seed", "generateAudio", "storageUri")
_VEO_FILTER_REASON = (
    "Unable to generate videos because the prompt or image could not be processed by the safety filters. "
    "Support codes: 29310472"
)
_MAX_OPERATIONS = 10_000
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
# embeddings
_GEMINI_BATCH = 100
_VERTEX_BATCH = 250
_TASK_TYPES = frozenset(
    {
        "TASK_TYPE_UNSPECIFIED",
        "RETRIEVAL_QUERY",
        "RETRIEVAL_DOCUMENT",
        "SEMANTIC_SIMILARITY",
        "CLASSIFICATION",
        "CLUSTERING",
        "QUESTION_ANSWERING",
        "FACT_VERIFICATION",
        "CODE_RETRIEVAL_QUERY",
    }
)
# TTS


# --------------------------------------------------------------------------- Imagen


def _imagen(model: str, body: Any, vertex: bool) -> dict[str, Any]:
    """The ``:predict`` answer of an Imagen model (see the module docstring)."""
    _, prompt, parameters = _instance(body)
    if not vertex:
        _gemini_only(parameters, _IMAGEN_VERTEX_ONLY)
    ultra = "ultra" in model
    count = _int(parameters.get("sampleCount", 4), "sampleCount", 1, 1 if ultra else 4)
    aspect = _one_of(parameters.get("aspectRatio", "1:1"), "aspectRatio", tuple(_ASPECT_SIZES))
    scale = 1
    if "sampleImageSize" in parameters:
        if not model.startswith("imagen-4.0-generate") and not ultra:
            raise _invalid(f"sampleImageSize is not supported by {model}.")
        scale = 2 if _one_of(parameters["sampleImageSize"], "sampleImageSize", ("1K", "2K")) == "2K" else 1
    if "personGeneration" in parameters:
        _one_of(parameters["personGeneration"], "personGeneration", _PERSON_GENERATION)
    output = _object(parameters.get("outputOptions"), "outputOptions")
    mime = _one_of(output.get("mimeType", "image/png"), "outputOptions.mimeType", tuple(_IMAGE_MIME))
    if "compressionQuality" in output:
        _int(output["compressionQuality"], "outputOptions.compressionQuality", 0, 100)
    if "seed" in parameters:
        _int(parameters["seed"], "seed", 1, 2_147_483_647)
        if parameters.get("addWatermark", True) is not False:
            raise _invalid("Seed is not supported when watermark is enabled (set addWatermark to false).")
    reasons = parameters.get("includeRaiReason") is True
    markers = _markers(prompt)
    filtered = 0
    if "filtered" in markers:
        value = markers["filtered"]
        filtered = int(value) if value.isdigit() else count
    width, height = _ASPECT_SIZES[aspect]
    storage = parameters.get("storageUri") if vertex else None
    predictions: list[dict[str, Any]] = []
    for i in range(count):
        if i < filtered:
            if reasons:
                predictions.append({"raiFilteredReason": _RAI_REASON})
            continue
        if isinstance(storage, str) and storage:
            predictions.append(
                {"gcsUri": f"{storage.rstrip('/')}/sample_{i}.{_IMAGE_MIME[mime]}", "mimeType": mime}
            )
            continue
        image = picture(width * scale, height * scale, _color(f"{prompt}\0{i}".encode()), _IMAGE_MIME[mime])
        item: dict[str, Any] = {
            "bytesBase64Encoded": base64.b64encode(image).decode("ascii"),
            "mimeType": mime,
        }
        if vertex and parameters.get("enhancePrompt") is True:
            item["prompt"] = f"A detailed, high-quality image of {_MARKERS.sub('', prompt).strip()}"
        predictions.append(item)
    return {"predictions": predictions} if predictions else {}


# --------------------------------------------------------------------------- embeddings


def _dimensions(model: str) -> int:
    return 3072 if model.startswith("gemini-embedding") else 768


def _text_of(content: Any, where: str) -> str:
    parts = content.get("parts") if isinstance(content, dict) else None
    if not isinstance(parts, list) or not parts:
        raise _invalid(f"{where}.parts must not be empty.")
    texts = [p.get("text") if isinstance(p, dict) else None for p in parts]
    if not all(isinstance(t, str) for t in texts):
        raise _invalid(f"{where}.parts must be text parts.")
    text = "".join(t for t in texts if isinstance(t, str))
    if not text.strip():
        raise _invalid(f"{where} has no text to embed.")
    return text


def _embed_options(item: dict[str, Any], model: str, where: str) -> int:
    task = item.get("taskType", item.get("task_type"))
    if task is not None:
        _one_of(task, f"{where}taskType", _TASK_TYPES)
    if item.get("title") is not None and task != "RETRIEVAL_DOCUMENT":
        raise _invalid("title is only valid with task type RETRIEVAL_DOCUMENT.")
    size = _dimensions(model)
    dims = item.get("outputDimensionality")
    return size if dims is None else _int(dims, f"{where}outputDimensionality", 1, size)


def _embed_one(model: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _invalid("Invalid JSON payload received. Expected an object.")
    text = _text_of(body.get("content"), "content")
    dims = _embed_options(body, model, "")
    return {"embedding": {"values": list(embedding_vector(text.encode(), dims))}}


def _embed_batch(model: str, body: Any) -> dict[str, Any]:
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests:
        raise _invalid("* BatchEmbedContentsRequest.requests: requests must not be empty.")
    if len(requests) > _GEMINI_BATCH:
        raise _invalid(
            f"* BatchEmbedContentsRequest.requests: at most {_GEMINI_BATCH} requests can be in one batch"
        )
    vectors = []
    for i, item in enumerate(requests):
        if not isinstance(item, dict):
            raise _invalid(f"requests[{i}] must be an object.")
        if item.get("model") != f"models/{model}":
            raise _invalid(
                f"Model in requests[{i}] ({str(item.get('model'))[:80]}) must be the URL's (models/{model})."
            )
        text = _text_of(item.get("content"), f"requests[{i}].content")
        dims = _embed_options(item, model, f"requests[{i}].")
        vectors.append({"values": list(embedding_vector(text.encode(), dims))})
    return {"embeddings": vectors}


def _vertex_embeddings(model: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _invalid("Invalid JSON payload received. Expected an object.")
    instances = body.get("instances")
    if not isinstance(instances, list) or not instances:
        raise _invalid("instances must not be empty.")
    most = 1 if model.startswith("gemini-embedding") else _VERTEX_BATCH
    if len(instances) > most:
        raise _invalid(
            f"Model {model} supports up to {most} instances per prediction request, got {len(instances)}."
        )
    parameters = _object(body.get("parameters"), "parameters")
    size = _dimensions(model)
    dims = parameters.get("outputDimensionality")
    dims = size if dims is None else _int(dims, "outputDimensionality", 1, size)
    predictions = []
    characters = 0
    for i, instance in enumerate(instances):
        content = instance.get("content") if isinstance(instance, dict) else None
        if not isinstance(content, str) or not content.strip():
            raise _invalid(f"instances[{i}].content must be a non-empty string.")
        _embed_options({"task_type": instance.get("task_type"), "title": instance.get("title")}, model, "")
        characters += len(content)
        tokens = max(1, math.ceil(len(content) / 4))
        predictions.append(
            {
                "embeddings": {
                    "statistics": {"truncated": False, "token_count": tokens},
                    "values": list(embedding_vector(content.encode(), dims)),
                }
            }
        )
    return {"predictions": predictions, "metadata": {"billableCharacterCount": characters}}


# --------------------------------------------------------------------------- Veo


@dataclass(slots=True)
class _Operation:
    name: str
    model: str
    prompt: str
    vertex: bool
    seconds: int
    size: tuple[int, int]
    steps: int
    storage: str | None = None
    fail: str | None = None
    filtered: bool = False
    slow: bool = False
    polls: int = 0
    done: bool = False
    file_id: str = ""

    def advance(self) -> None:
        """One poll: move the operation on (see the module docstring)."""
        if self.done:
            return
        self.polls += 1
        if self.slow:
            return
        if (self.fail is not None and self.polls >= 2) or self.polls >= self.steps:
            self.done = True

    def body(self, origin: str) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if not self.done:
            return out
        out["done"] = True
        if self.fail is not None:
            message = (
                "The prompt could not be processed."
                if self.fail == "INVALID_ARGUMENT"
                else "Video generation failed."
            )
            out["error"] = {"code": _RPC_CODES.get(self.fail, 2), "message": message}
            return out
        samples: list[dict[str, Any]] = []
        result: dict[str, Any] = {}
        if self.filtered:
            result = {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": [_VEO_FILTER_REASON]}
        elif self.vertex:
            video = (
                {"gcsUri": f"{self.storage.rstrip('/')}/{self.file_id}/sample_0.mp4", "mimeType": "video/mp4"}
                if self.storage
                else {
                    "bytesBase64Encoded": base64.b64encode(self.video()).decode("ascii"),
                    "mimeType": "video/mp4",
                }
            )
            samples.append(video)
        else:
            samples.append({"video": {"uri": f"{origin}/v1beta/files/{self.file_id}:download?alt=media"}})
        if self.vertex:
            out["response"] = {
                "@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
                "raiMediaFilteredCount": 0,
                **result,
                "videos": samples,
            }
        else:
            out["response"] = {
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
                "generateVideoResponse": {**result, "generatedSamples": samples} if samples else result,
            }
        return out

    def video(self) -> bytes:
        width, height = self.size
        return mp4_bytes(seconds=self.seconds, width=width, height=height, seed=self.name.encode())


class VeoOperations:
    """The Veo operations of one simulator, by name (the oldest forgotten past 10,000), and the
    downloadable files of the finished ones."""

    def __init__(self) -> None:
        self._operations: collections.OrderedDict[str, _Operation] = collections.OrderedDict()
        self._files: dict[str, str] = {}
        self._count = itertools.count(1)

    def __len__(self) -> int:
        return len(self._operations)

    def get(self, name: str) -> _Operation | None:
        return self._operations.get(name)

    def by_id(self, op_id: str) -> _Operation | None:
        for name in (f"operations/{op_id}",):
            if name in self._operations:
                return self._operations[name]
        suffix = f"/operations/{op_id}"
        return next((op for name, op in reversed(self._operations.items()) if name.endswith(suffix)), None)

    def file(self, file_id: str) -> _Operation | None:
        name = self._files.get(file_id)
        return None if name is None else self._operations.get(name)

    def start(
        self, model: str, prompt: str, parameters: dict[str, Any], vertex: bool, prefix: str
    ) -> _Operation:
        n = next(self._count)
        op_id = uuid.UUID(int=n, version=4).hex if vertex else f"sim{n:06d}"
        aspect = parameters.get("aspectRatio", "16:9")
        tall = aspect == "9:16"
        p1080 = parameters.get("resolution") == "1080p"
        width, height = (1920, 1080) if p1080 else (1280, 720)
        op = _Operation(
            name=f"{prefix}/operations/{op_id}",
            model=model,
            prompt=prompt,
            vertex=vertex,
            seconds=int(parameters.get("durationSeconds", 8)),
            size=(height, width) if tall else (width, height),
            steps=_VEO_DEFAULT_STEPS,
            storage=parameters.get("storageUri") if vertex else None,
            file_id=f"sim-video-{n:06d}",
        )
        for name, value in _MARKERS.findall(prompt):
            match name:
                case "fail":
                    op.fail = value.upper() if value else "INVALID_ARGUMENT"
                case "filtered":
                    op.filtered = True
                case "slow":
                    op.slow = True
                case "steps" if value.isdigit():
                    op.steps = int(value)
        if op.steps == 0 and op.fail is None and not op.slow:
            op.done = True
        self._operations[op.name] = op
        self._files[op.file_id] = op.name
        while len(self._operations) > _MAX_OPERATIONS:
            old = self._operations.popitem(last=False)[1]
            self._files.pop(old.file_id, None)
        return op


def _veo_rules(model: str) -> tuple[tuple[int, ...], bool]:
    """The durations a Veo model makes and whether it takes ``resolution``."""
    if model.startswith("veo-2"):
        return (5, 6, 7, 8), False
    return (4, 6, 8), True


def _check_veo(model: str, body: Any, vertex: bool) -> tuple[str, dict[str, Any]]:
    instance, prompt, parameters = _instance(body)
    if not vertex:
        _gemini_only(parameters, _VEO_VERTEX_ONLY)
    durations, resolution = _veo_rules(model)
    if "sampleCount" in parameters:
        _int(parameters["sampleCount"], "sampleCount", 1, 4)
    if "durationSeconds" in parameters:
        seconds = parameters["durationSeconds"]
        if isinstance(seconds, bool) or seconds not in durations:
            allowed = ", ".join(map(str, durations))
            raise _invalid(
                f"The duration {str(seconds)[:20]} is not supported by {model}. Supported: {allowed}."
            )
    if "aspectRatio" in parameters:
        _one_of(parameters["aspectRatio"], "aspectRatio", ("16:9", "9:16"))
    if "resolution" in parameters:
        if not resolution:
            raise _invalid(f"resolution is not supported by {model}.")
        _one_of(parameters["resolution"], "resolution", ("720p", "1080p"))
    if "personGeneration" in parameters:
        _one_of(
            parameters["personGeneration"], "personGeneration", ("allow_all", "allow_adult", "dont_allow")
        )
    image = instance.get("image")
    if image is not None:
        _check_image(image, vertex)
    return prompt, parameters


def _check_image(image: Any, vertex: bool) -> None:
    if not isinstance(image, dict):
        raise _invalid("instances[0].image must be an object.")
    if vertex and isinstance(image.get("gcsUri"), str):
        if not image["gcsUri"].startswith("gs://") or "mimeType" not in image:
            raise _invalid("instances[0].image.gcsUri must be a gs:// URI, with mimeType.")
        return
    try:
        data = base64.b64decode(image.get("bytesBase64Encoded") or "", validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise _invalid("instances[0].image.bytesBase64Encoded is not valid base64.") from None
    webp = data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if not data or not (data.startswith(_IMAGE_MAGIC) or webp):
        raise _invalid(
            "Unable to process input image. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
        )
    if image.get("mimeType") not in ("image/png", "image/jpeg", "image/webp"):
        raise _invalid("instances[0].image.mimeType must be image/png, image/jpeg or image/webp.")


# --------------------------------------------------------------------------- routes

#: a route's answer: ``(request, parsed JSON body)`` → the JSON object to send.
Answer = Callable[[web.Request, Any], dict[str, Any]]


def add_routes(app: web.Application, routes: ProviderRoutes) -> None:
    """Add the Gemini API and Vertex AI media routes to ``app`` (each simulator keeps its own
    operations)."""
    operations = VeoOperations()
    gemini = GoogleWire(routes, vertex=False)
    vertex = GoogleWire(routes, vertex=True)

    def serve(wire: GoogleWire, answer: Answer, label: str) -> Callable[[web.Request], Any]:
        """A handler: the shared pipeline, then ``answer(request, body)`` → the JSON object sent."""

        async def handler(request: web.Request) -> web.StreamResponse:
            async def produce(
                n: int, body: Any, headers: dict[str, str], fault: Fault | None
            ) -> web.StreamResponse:
                return await _send(request, answer(request, body), headers, fault, label)

            return await routes.serve(request, "other", None, produce, wire=wire, stream=False)

        return handler

    def model_of(request: web.Request) -> str:
        return request.match_info["model"]

    def predict(is_vertex: bool) -> Answer:
        def answer(request: web.Request, body: Any) -> dict[str, Any]:
            model = model_of(request)
            if model.startswith("imagen"):
                return _imagen(model, body, is_vertex)
            if is_vertex and "embedding" in model:
                return _vertex_embeddings(model, body)
            raise _not_found(
                f"models/{model[:100]} is not found for API version {'v1' if is_vertex else 'v1beta'}, or is "
                "not supported for predict. Call ListModels to see the list of available models and their "
                "supported methods."
            )

        return answer

    def start(is_vertex: bool) -> Answer:
        def answer(request: web.Request, body: Any) -> dict[str, Any]:
            model = model_of(request)
            if not model.startswith("veo"):
                raise _not_found(
                    f"models/{model[:100]} is not found, or is not supported for predictLongRunning."
                )
            prompt, parameters = _check_veo(model, body, is_vertex)
            prefix = request.path.rsplit(":", 1)[0].split("/", 2)[2] if is_vertex else f"models/{model}"
            op = operations.start(model, prompt, parameters, is_vertex, prefix)
            return op.body(str(request.url.origin()))

        return answer

    def poll_gemini(request: web.Request, body: Any) -> dict[str, Any]:
        op_id = request.match_info["op"]
        model = request.match_info.get("model")
        op = operations.get(f"models/{model}/operations/{op_id}") if model else operations.by_id(op_id)
        if op is None or op.vertex:
            raise _not_found(f"Operation {op_id[:100]} not found.")
        op.advance()
        return op.body(str(request.url.origin()))

    def poll_vertex(request: web.Request, body: Any) -> dict[str, Any]:
        name = body.get("operationName") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name:
            raise _invalid("operationName is required.")
        op = operations.get(name)
        if op is None or not op.vertex:
            raise _not_found(f"Operation {name[:200]} not found.")
        op.advance()
        return op.body(str(request.url.origin()))

    async def download(request: web.Request) -> web.StreamResponse:
        async def produce(
            n: int, body: Any, headers: dict[str, str], fault: Fault | None
        ) -> web.StreamResponse:
            file_id = request.match_info["file"]
            op = operations.file(file_id)
            if op is None or op.vertex:
                raise _not_found(f"File files/{file_id[:100]} not found.")
            if request.query.get("alt") != "media":
                raise _invalid("Download requires alt=media.")
            if not op.done or op.fail is not None or op.filtered:
                raise Rejection(
                    400,
                    google_error(
                        400, f"File files/{file_id[:100]} is not ready.", name="FAILED_PRECONDITION"
                    ),
                )
            return await send_bytes(request, op.video(), "video/mp4", headers, fault)

        return await routes.serve(request, "other", None, produce, wire=gemini, stream=False)

    def embed_one(request: web.Request, body: Any) -> dict[str, Any]:
        model = model_of(request)
        if "embedding" not in model:
            raise _not_found(f"models/{model[:100]} is not found, or is not supported for embedContent.")
        return _embed_one(model, body)

    def embed_batch(request: web.Request, body: Any) -> dict[str, Any]:
        model = model_of(request)
        if "embedding" not in model:
            raise _not_found(
                f"models/{model[:100]} is not found, or is not supported for batchEmbedContents."
            )
        return _embed_batch(model, body)

    base = "/v1beta/models/{model}"
    app.router.add_post(base + ":predict", serve(gemini, predict(False), "predict"))
    app.router.add_post(base + ":predictLongRunning", serve(gemini, start(False), "operation"))
    app.router.add_post(base + ":embedContent", serve(gemini, embed_one, "embed"))
    app.router.add_post(base + ":batchEmbedContents", serve(gemini, embed_batch, "embed"))
    app.router.add_get(base + "/operations/{op}", serve(gemini, poll_gemini, "operation"))
    app.router.add_get("/v1beta/operations/{op}", serve(gemini, poll_gemini, "operation"))
    app.router.add_get("/v1beta/files/{file}:download", download)
    for version in ("v1", "v1beta1"):
        prefix = f"/{version}/projects/{{project}}/locations/{{location}}/publishers/google/models/{{model}}"
        app.router.add_post(prefix + ":predict", serve(vertex, predict(True), "predict"))
        app.router.add_post(prefix + ":predictLongRunning", serve(vertex, start(True), "operation"))
        app.router.add_post(prefix + ":fetchPredictOperation", serve(vertex, poll_vertex, "operation"))
