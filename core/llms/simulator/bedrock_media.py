"""Bedrock's media models: embeddings and images on ``/invoke``, Nova Reel video jobs on
``/async-invoke`` and the S3 objects they write.

* Titan Text Embeddings (``amazon.titan-embed-text-v2:0``: ``inputText``, ``dimensions`` 256 /
  512 / 1024, ``normalize``, ``embeddingTypes``; v1: ``inputText`` only, 1536 values; the
  multimodal ``amazon.titan-embed-image-v1``: ``inputText`` / ``inputImage``,
  ``embeddingConfig.outputEmbeddingLength``) → ``{"embedding": [...], "inputTextTokenCount"}``.
* Cohere Embed (``cohere.embed-english-v3`` / ``-multilingual-v3``: 1024 values;
  ``cohere.embed-v4:0``: 1536 or ``output_dimension``): ``texts`` (at most 96), ``input_type``,
  ``embedding_types`` → ``{"embeddings": [[...]], "id", "response_type": "embeddings_floats",
  "texts"}`` (``embeddings_by_type``: ``{"embeddings": {"float": …, "int8": …}}``).
* Nova Canvas (``amazon.nova-canvas-v1:0``) and Titan Image Generator (v1 / v2):
  ``taskType: "TEXT_IMAGE"``, ``textToImageParams.text``, ``imageGenerationConfig``
  (``numberOfImages`` 1-5, ``width`` / ``height``, ``quality``, ``cfgScale``, ``seed``) →
  ``{"images": [<base64 PNG>, ...]}``: real PNGs of the asked size, their colour from the seed
  and the prompt.
* Nova Reel (``amazon.nova-reel-v1:0`` / ``v1:1``) via ``StartAsyncInvoke``: ``TEXT_VIDEO``
  (6 s, 24 fps, 1280x720), ``MULTI_SHOT_AUTOMATED`` (12-120 s, by 6) or ``MULTI_SHOT_MANUAL``;
  the job is ``InProgress`` and completes on its third ``GetAsyncInvoke`` (prompt markers
  ``[sim:fail]`` / ``[sim:fail=TEXT]``: ``Failed`` on the second poll, ``[sim:slow]``: never
  completes, ``[sim:steps=N]``: completes on the N-th poll, 0: at once). On completion the MP4 is
  written to ``{s3Uri}/{invocation id}/output.mp4`` in the simulator's S3 store (GetAsyncInvoke
  reports ``s3Uri`` as ``{s3Uri}/{invocation id}``), served by ``GET /s3/{bucket}/{key}``.

Malformed bodies get Bedrock's ``Malformed input request: #: …, please reformat your input and
try again.`` (400 ``ValidationException``).
"""

from __future__ import annotations

import base64
import collections
import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .bedrock_wire import BedrockModel, bedrock_error, resolve_model, validation_error
from .embeddings_routes import embedding_vector
from .image_files import picture
from .mp4 import mp4_bytes
from .openai_request import CONTENT_FILTER_TRIGGER
from .openai_wire import Rejection

__all__ = [
    "ACCOUNT_ID",
    "S3_STORE",
    "AsyncJobs",
    "S3Object",
    "S3Store",
    "cohere_embeddings",
    "error_for_unknown_invoke",
    "images_body",
    "titan_embeddings",
]

#: the account id in the simulator's ARNs.
ACCOUNT_ID = "123456789012"
_MALFORMED = "Malformed input request: #{where}: {detail}, please reformat your input and try again."
_COHERE_TYPES = ("float", "int8", "uint8", "binary", "ubinary")
_COHERE_INPUT_TYPES = ("search_document", "search_query", "classification", "clustering", "image")
_COHERE_MAX_TEXTS = 96
_TITAN_SIZES = frozenset(
    {
        (1024, 1024), (768, 768), (512, 512), (768, 1152), (384, 576), (1152, 768), (576, 384), (768, 1280),
        (384, 640), (1280, 768), (640, 384), (896, 1152), (448, 576), (1152, 896), (576, 448), (768, 1408),
        (384, 704), (1408, 768), (704, 384), (640, 1408), (320, 704), (1408, 640), (704, 320), (1152, 640),
        (1173, 640),
    }
)  # fmt: skip
_IMAGE_TASKS = (
    "TEXT_IMAGE",
    "COLOR_GUIDED_GENERATION",
    "IMAGE_VARIATION",
    "INPAINTING",
    "OUTPAINTING",
    "BACKGROUND_REMOVAL",
    "VIRTUAL_TRY_ON",
)
_S3_URI = re.compile(r"^s3://([a-z0-9][.\-a-z0-9]{1,61}[a-z0-9])(/.*)?$")
_S3_PATTERN = r"s3://[a-z0-9][\.\-a-z0-9]{1,61}[a-z0-9](/.*)?"
_INVOCATION_ARN = re.compile(
    r"^arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:async-invoke/([a-z0-9]{12})$"
)
_MARKERS = re.compile(r"\[sim:(fail|slow|steps)(?:=([^\]]{1,200}))?\]")
_DEFAULT_STEPS = 3
_MAX_JOBS = 10_000
_FAILED = "The video could not be generated: your request was blocked by our content filters."


def _malformed(detail: str, where: str = "") -> Rejection:
    return validation_error(_MALFORMED.format(where=where, detail=detail))


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def _check_keys(body: Mapping[str, Any], allowed: frozenset[str], required: tuple[str, ...] = ()) -> None:
    for key in required:
        if key not in body:
            raise _malformed(f"required key [{key}] not found")
    extra = sorted(set(body) - allowed)
    if extra:
        raise _malformed(f"extraneous key [{extra[0]}] is not permitted")


def _vector(text: str, dimensions: int, salt: str) -> tuple[float, ...]:
    return embedding_vector(f"{salt}\0{text}".encode(), dimensions)


# --------------------------------------------------------------------------- Titan embeddings


def titan_embeddings(body: Any, model: BedrockModel) -> tuple[dict[str, Any], int]:
    """A Titan embeddings answer and its input token count."""
    if not isinstance(body, Mapping):
        raise _malformed("expected type: JSONObject")
    base = model.base or ""
    if base.startswith("amazon.titan-embed-image"):
        return _titan_multimodal(body)
    v2 = "v2" in base
    allowed = {"inputText"} | ({"dimensions", "normalize", "embeddingTypes"} if v2 else set())
    _check_keys(body, frozenset(allowed), ("inputText",))
    text = body["inputText"]
    if not isinstance(text, str):
        raise _malformed("expected type: String", "/inputText")
    if not text:
        raise _malformed("expected minLength: 1, actual: 0", "/inputText")
    dimensions = body.get("dimensions", 1024) if v2 else 1536
    if v2 and (dimensions not in (256, 512, 1024) or isinstance(dimensions, bool)):
        raise _malformed(f"{dimensions} is not a valid enum value", "/dimensions")
    normalize = body.get("normalize", True)
    if not isinstance(normalize, bool):
        raise _malformed("expected type: Boolean", "/normalize")
    types = body.get("embeddingTypes")
    if types is not None and (
        not isinstance(types, list) or not types or any(t not in ("float", "binary") for t in types)
    ):
        raise _malformed(f"{json.dumps(types)} is not a valid list of [float, binary]", "/embeddingTypes")
    vector = list(_vector(text, dimensions, "titan"))
    if not normalize:
        scale = 1.5 + int(hashlib.sha256(text.encode()).hexdigest()[:4], 16) / 0xFFFF
        vector = [v * scale for v in vector]
    tokens = _tokens(text)
    answer: dict[str, Any] = {"embedding": vector, "inputTextTokenCount": tokens}
    if types is not None:
        by_type: dict[str, Any] = {}
        if "float" in types:
            by_type["float"] = vector
        if "binary" in types:
            by_type["binary"] = [1 if v > 0 else 0 for v in vector]
        answer["embeddingsByType"] = by_type
    return answer, tokens


def _titan_multimodal(body: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    _check_keys(body, frozenset({"inputText", "inputImage", "embeddingConfig"}))
    text, image = body.get("inputText"), body.get("inputImage")
    if text is None and image is None:
        raise _malformed("required key [inputText] or [inputImage] not found")
    config = body.get("embeddingConfig") or {}
    dimensions = config.get("outputEmbeddingLength", 1024) if isinstance(config, Mapping) else None
    if dimensions not in (256, 384, 1024):
        raise _malformed(f"{dimensions} is not a valid enum value", "/embeddingConfig/outputEmbeddingLength")
    key = f"{text or ''}\0{hashlib.sha256(str(image).encode()).hexdigest() if image else ''}"
    tokens = _tokens(text) if isinstance(text, str) else 0
    return {"embedding": list(_vector(key, dimensions, "titan-mm")), "inputTextTokenCount": tokens}, tokens


# --------------------------------------------------------------------------- Cohere embeddings


def _quantise(vector: tuple[float, ...], kind: str) -> list[int] | list[float]:
    match kind:
        case "int8":
            return [max(-128, min(127, round(v * 127))) for v in vector]
        case "uint8":
            return [max(0, min(255, round((v + 1) * 127.5))) for v in vector]
        case "binary" | "ubinary":
            bits = [1 if v > 0 else 0 for v in vector]
            packed = [
                int("".join(map(str, bits[i : i + 8])).ljust(8, "0"), 2) for i in range(0, len(bits), 8)
            ]
            return packed if kind == "ubinary" else [b - 256 if b > 127 else b for b in packed]
        case _:
            return list(vector)


def cohere_embeddings(body: Any, model: BedrockModel, n: int) -> tuple[dict[str, Any], int]:
    """A Cohere Embed answer and its input token count."""
    if not isinstance(body, Mapping):
        raise _malformed("expected type: JSONObject")
    v4 = "v4" in (model.base or "")
    allowed = {"texts", "images", "input_type", "truncate", "embedding_types"}
    if v4:
        allowed |= {"inputs", "output_dimension", "max_tokens"}
    _check_keys(body, frozenset(allowed), ("input_type",))
    input_type = body["input_type"]
    if input_type not in _COHERE_INPUT_TYPES:
        raise _malformed(f"{input_type} is not a valid enum value", "/input_type")
    texts = body.get("texts")
    images = body.get("images")
    if texts is None and images is None and body.get("inputs") is None:
        raise _malformed("required key [texts] not found")
    texts = texts or []
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise _malformed("expected type: JSONArray of strings", "/texts")
    if len(texts) > _COHERE_MAX_TEXTS:
        raise _malformed(f"expected maximum item count: {_COHERE_MAX_TEXTS}, found: {len(texts)}", "/texts")
    truncate = body.get("truncate", "END")
    if truncate not in ("NONE", "START", "END"):
        raise _malformed(f"{truncate} is not a valid enum value", "/truncate")
    dimensions = 1536 if v4 else 1024
    if v4 and body.get("output_dimension") is not None:
        dimensions = body["output_dimension"]
        if dimensions not in (256, 512, 1024, 1536):
            raise _malformed(f"{dimensions} is not a valid enum value", "/output_dimension")
    types = body.get("embedding_types")
    if types is not None and (not isinstance(types, list) or any(t not in _COHERE_TYPES for t in types)):
        raise _malformed(
            f"{json.dumps(types)} is not a valid list of {list(_COHERE_TYPES)}", "/embedding_types"
        )
    items = [*texts, *(f"image:{hashlib.sha256(str(i).encode()).hexdigest()}" for i in images or [])]
    vectors = [_vector(f"{input_type}\0{item}", dimensions, "cohere") for item in items]
    tokens = sum(_tokens(t) for t in texts)
    answer: dict[str, Any] = {"id": f"00000000-0000-4000-b000-{n:012d}"}
    if types is None:
        answer["embeddings"] = [list(v) for v in vectors]
        answer["response_type"] = "embeddings_floats"
    else:
        answer["embeddings"] = {kind: [_quantise(v, kind) for v in vectors] for kind in types}
        answer["response_type"] = "embeddings_by_type"
    answer["texts"] = list(texts)
    if images:
        answer["images"] = [{"width": 0, "height": 0, "format": "unknown", "bit_depth": 0} for _ in images]
    return answer, tokens


# --------------------------------------------------------------------------- images


def _colour(text: str, seed: int) -> tuple[int, int, int]:
    digest = hashlib.sha256(f"{seed}\0{text}".encode()).digest()
    return digest[0], digest[1], digest[2]


def _check_size(width: Any, height: Any, nova: bool) -> None:
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _malformed("expected type: Integer", f"/imageGenerationConfig/{name}")
    if not nova:
        if (width, height) not in _TITAN_SIZES:
            raise validation_error(
                f"Malformed input request: #/imageGenerationConfig: {width}x{height} is not a supported "
                "image "
                "size, please reformat your input and try again."
            )
        return
    for name, value in (("width", width), ("height", height)):
        if not 320 <= value <= 4096:
            raise _malformed(f"{value} is not between 320 and 4096", f"/imageGenerationConfig/{name}")
        if value % 16:
            raise _malformed(f"{value} is not a multiple of 16", f"/imageGenerationConfig/{name}")
    if width * height > 4_194_304:
        raise validation_error(
            "The total pixel count must be no greater than 4,194,304 (for example 2048x2048)."
        )
    if not 0.25 <= width / height <= 4:
        raise validation_error("The aspect ratio must be between 1:4 and 4:1.")


def images_body(body: Any, model: BedrockModel) -> dict[str, Any]:
    """A Nova Canvas / Titan Image Generator answer: ``{"images": [<base64 PNG>, ...]}``."""
    if not isinstance(body, Mapping):
        raise _malformed("expected type: JSONObject")
    nova = model.nova
    if "taskType" not in body:
        raise _malformed("required key [taskType] not found")
    task = body["taskType"]
    if task not in _IMAGE_TASKS:
        raise _malformed(f"{task} is not a valid enum value", "/taskType")
    if task != "TEXT_IMAGE":
        raise validation_error(f"The simulator generates images for taskType TEXT_IMAGE only, not {task}.")
    params = body.get("textToImageParams")
    if not isinstance(params, Mapping):
        raise _malformed("required key [textToImageParams] not found")
    text = params.get("text")
    if not isinstance(text, str) or not text:
        raise _malformed("expected minLength: 1, actual: 0", "/textToImageParams/text")
    if len(text) > 1024:
        raise _malformed(f"expected maxLength: 1024, actual: {len(text)}", "/textToImageParams/text")
    if CONTENT_FILTER_TRIGGER in text:
        raise validation_error("This request has been blocked by our content filters.")
    config = body.get("imageGenerationConfig") or {}
    if not isinstance(config, Mapping):
        raise _malformed("expected type: JSONObject", "/imageGenerationConfig")
    count = config.get("numberOfImages", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 5:
        raise _malformed(f"{count} is not between 1 and 5", "/imageGenerationConfig/numberOfImages")
    width, height = config.get("width", 1024), config.get("height", 1024)
    _check_size(width, height, nova)
    quality = config.get("quality", "standard")
    if quality not in ("standard", "premium"):
        raise _malformed(f"{quality} is not a valid enum value", "/imageGenerationConfig/quality")
    seed = config.get("seed", 12)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= 2_147_483_646:
        raise _malformed(f"{seed} is not between 0 and 2147483646", "/imageGenerationConfig/seed")
    cfg = config.get("cfgScale")
    if cfg is not None and (
        isinstance(cfg, bool) or not isinstance(cfg, int | float) or not 1.1 <= cfg <= 10
    ):
        raise _malformed(f"{cfg} is not between 1.1 and 10", "/imageGenerationConfig/cfgScale")
    images = [
        base64.b64encode(picture(width, height, _colour(text, seed + i))).decode() for i in range(count)
    ]
    return {"images": images}


# --------------------------------------------------------------------------- S3 objects


@dataclass(slots=True)
class S3Object:
    data: bytes
    content_type: str
    last_modified: dt.datetime

    @property
    def etag(self) -> str:
        return '"' + hashlib.md5(self.data, usedforsecurity=False).hexdigest() + '"'


class S3Store:
    """The objects the simulator's jobs wrote (and clients put), by bucket and key."""

    def __init__(self) -> None:
        self._objects: dict[tuple[str, str], S3Object] = {}

    def put(self, bucket: str, key: str, data: bytes, content_type: str) -> None:
        self._objects[bucket, key] = S3Object(
            data, content_type, dt.datetime.now(dt.UTC).replace(microsecond=0)
        )

    def get(self, bucket: str, key: str) -> S3Object | None:
        return self._objects.get((bucket, key))

    def has_bucket(self, bucket: str) -> bool:
        return any(b == bucket for b, _ in self._objects)

    def keys(self, bucket: str, prefix: str = "") -> list[tuple[str, S3Object]]:
        return sorted((k, o) for (b, k), o in self._objects.items() if b == bucket and k.startswith(prefix))


#: the app key of the simulator's S3 store (shared by the Bedrock routes and the batch routes).
S3_STORE = web.AppKey("core_llms_sim_s3_store", S3Store)


# --------------------------------------------------------------------------- Nova Reel jobs


def _iso(stamp: dt.datetime) -> str:
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


@dataclass(slots=True)
class _Job:
    id: str
    arn: str
    model_arn: str
    bucket: str
    prefix: str
    seconds: int
    width: int
    height: int
    submitted: dt.datetime
    token: str | None
    steps: int = _DEFAULT_STEPS
    fail: str | None = None
    slow: bool = False
    polls: int = 0
    status: str = "InProgress"
    modified: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    ended: dt.datetime | None = None

    @property
    def s3_uri(self) -> str:
        base = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        return f"{base}/{self.id}"

    @property
    def key(self) -> str:
        """The video's S3 key."""
        return f"{self.prefix.strip('/')}/{self.id}/output.mp4".lstrip("/")

    def summary(self) -> dict[str, Any]:
        body: dict[str, Any] = {"invocationArn": self.arn, "modelArn": self.model_arn}
        if self.token is not None:
            body["clientRequestToken"] = self.token
        body["status"] = self.status
        if self.status == "Failed":
            body["failureMessage"] = self.fail or _FAILED
        body["submitTime"] = _iso(self.submitted)
        body["lastModifiedTime"] = _iso(self.modified)
        if self.ended is not None:
            body["endTime"] = _iso(self.ended)
        body["outputDataConfig"] = {"s3OutputDataConfig": {"s3Uri": self.s3_uri}}
        return body


class AsyncJobs:
    """The Nova Reel jobs of one simulator (the oldest forgotten past 10,000) and its S3 store."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.store = S3Store()
        self._jobs: collections.OrderedDict[str, _Job] = collections.OrderedDict()
        self._tokens: dict[str, str] = {}
        self._count = 0

    def start(self, body: Any) -> _Job:
        """Validate a StartAsyncInvoke body and create its job (the same ``clientRequestToken``
        gives the same job back)."""
        if not isinstance(body, Mapping):
            raise validation_error("Malformed input request, please reformat your input and try again.")
        token = body.get("clientRequestToken")
        if token is not None and not isinstance(token, str):
            raise _coral(token, "clientRequestToken", "Member must be a string")
        if token is not None and token in self._tokens and self._tokens[token] in self._jobs:
            return self._jobs[self._tokens[token]]
        model_id = body.get("modelId")
        if not isinstance(model_id, str) or not model_id:
            raise _coral(None, "modelId", "Member must not be null")
        model = resolve_model(model_id)
        if model.kind != "video":
            raise validation_error(
                f"The model {model_id} does not support asynchronous invocation (StartAsyncInvoke)."
            )
        output = body.get("outputDataConfig")
        s3 = output.get("s3OutputDataConfig") if isinstance(output, Mapping) else None
        uri = s3.get("s3Uri") if isinstance(s3, Mapping) else None
        if not isinstance(uri, str):
            raise _coral(None, "outputDataConfig.s3OutputDataConfig.s3Uri", "Member must not be null")
        match = _S3_URI.match(uri)
        if match is None:
            raise _coral(
                uri,
                "outputDataConfig.s3OutputDataConfig.s3Uri",
                f"Member must satisfy regular expression pattern: {_S3_PATTERN}",
            )
        prompt, seconds = _reel_input(body.get("modelInput"), model)
        self._count += 1
        job_id = hashlib.sha256(f"core-llms-sim-reel-{self._count}".encode()).hexdigest()[:12]
        job = _Job(
            id=job_id,
            arn=f"arn:aws:bedrock:{self.region}:{ACCOUNT_ID}:async-invoke/{job_id}",
            model_arn=model.arn(self.region),
            bucket=match.group(1),
            prefix=(match.group(2) or "").lstrip("/"),
            seconds=seconds,
            width=1280,
            height=720,
            submitted=dt.datetime.now(dt.UTC),
            token=token,
        )
        for name, value in _MARKERS.findall(prompt):
            match name:
                case "fail":
                    job.fail = f"The video could not be generated: {value}" if value else _FAILED
                case "slow":
                    job.slow = True
                case "steps" if value.isdigit():
                    job.steps = int(value)
        if job.steps == 0 and job.fail is None and not job.slow:
            self._complete(job)
        self._jobs[job.id] = job
        if token is not None:
            self._tokens[token] = job.id
        while len(self._jobs) > _MAX_JOBS:
            self._jobs.popitem(last=False)
        return job

    def _complete(self, job: _Job) -> None:
        now = dt.datetime.now(dt.UTC)
        job.status, job.modified, job.ended = "Completed", now, now
        video = mp4_bytes(seconds=job.seconds, width=job.width, height=job.height, seed=job.id.encode())
        self.store.put(job.bucket, job.key, video, "video/mp4")

    def poll(self, arn: str) -> _Job:
        """GetAsyncInvoke: the job named by ``arn``, moved on by one poll."""
        if _INVOCATION_ARN.match(arn) is None:
            raise _coral(
                arn,
                "invocationArn",
                "Member must satisfy regular expression pattern: "
                "arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:async-invoke/[a-z0-9]{12}",
            )
        job = self._jobs.get(arn.rsplit("/", 1)[1])
        if job is None or job.arn != arn:
            raise validation_error(f"The invocation {arn} was not found.")
        if job.status != "InProgress":
            return job
        job.polls += 1
        job.modified = dt.datetime.now(dt.UTC)
        if job.fail is not None and job.polls >= 2:
            job.status, job.ended = "Failed", job.modified
        elif not job.slow and job.polls >= job.steps:
            self._complete(job)
        return job

    def listing(self, query: Mapping[str, str]) -> dict[str, Any]:
        """ListAsyncInvokes (``statusEquals``, ``maxResults``, ``sortOrder``; jobs do not move)."""
        status = query.get("statusEquals")
        if status is not None and status not in ("InProgress", "Completed", "Failed"):
            raise _coral(
                status, "statusEquals", "Member must satisfy enum value set: [InProgress, Completed, Failed]"
            )
        raw_max = query.get("maxResults", "1000")
        if not raw_max.isdigit() or not 1 <= int(raw_max) <= 1000:
            raise _coral(raw_max, "maxResults", "Member must have value between 1 and 1000")
        order = query.get("sortOrder", "Descending")
        jobs = [j for j in self._jobs.values() if status is None or j.status == status]
        if order == "Descending":
            jobs.reverse()
        return {"asyncInvokeSummaries": [j.summary() for j in jobs[: int(raw_max)]]}


def _coral(value: Any, where: str, constraint: str) -> Rejection:
    shown = "null" if value is None else str(value)[:200]
    return validation_error(
        f"1 validation error detected: Value '{shown}' at '{where}' failed to satisfy constraint: "
        f"{constraint}"
    )


def _reel_input(model_input: Any, model: BedrockModel) -> tuple[str, int]:
    """The prompt and length of a Nova Reel ``modelInput``."""
    if not isinstance(model_input, Mapping):
        raise _coral(None, "modelInput", "Member must not be null")
    task = model_input.get("taskType")
    tasks = ("TEXT_VIDEO", "MULTI_SHOT_AUTOMATED", "MULTI_SHOT_MANUAL")
    if task not in tasks:
        raise _malformed(f"{task} is not a valid enum value", "/taskType")
    if task != "TEXT_VIDEO" and (model.base or "").endswith("v1:0"):
        raise validation_error(f"The taskType {task} needs amazon.nova-reel-v1:1.")
    config = model_input.get("videoGenerationConfig") or {}
    if not isinstance(config, Mapping):
        raise _malformed("expected type: JSONObject", "/videoGenerationConfig")
    if config.get("fps", 24) != 24:
        raise _malformed(f"{config['fps']} is not a valid enum value", "/videoGenerationConfig/fps")
    if config.get("dimension", "1280x720") != "1280x720":
        raise _malformed(
            f"{config['dimension']} is not a valid enum value", "/videoGenerationConfig/dimension"
        )
    seed = config.get("seed", 42)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= 2_147_483_646:
        raise _malformed(f"{seed} is not between 0 and 2147483646", "/videoGenerationConfig/seed")
    if task == "TEXT_VIDEO":
        params = model_input.get("textToVideoParams")
        text = params.get("text") if isinstance(params, Mapping) else None
        if not isinstance(text, str) or not text:
            raise _malformed("required key [text] not found", "/textToVideoParams")
        if len(text) > 512:
            raise _malformed(f"expected maxLength: 512, actual: {len(text)}", "/textToVideoParams/text")
        seconds = config.get("durationSeconds", 6)
        if seconds != 6:
            raise _malformed(f"{seconds} is not a valid enum value", "/videoGenerationConfig/durationSeconds")
        return text, 6
    if task == "MULTI_SHOT_AUTOMATED":
        params = model_input.get("multiShotAutomatedParams")
        text = params.get("text") if isinstance(params, Mapping) else None
        if not isinstance(text, str) or not text:
            raise _malformed("required key [text] not found", "/multiShotAutomatedParams")
        if len(text) > 4000:
            raise _malformed(
                f"expected maxLength: 4000, actual: {len(text)}", "/multiShotAutomatedParams/text"
            )
        seconds = config.get("durationSeconds")
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int)
            or not 12 <= seconds <= 120
            or seconds % 6
        ):
            raise _malformed(
                f"{seconds} is not a multiple of 6 between 12 and 120",
                "/videoGenerationConfig/durationSeconds",
            )
        return text, seconds
    params = model_input.get("multiShotManualParams")
    shots = params.get("shots") if isinstance(params, Mapping) else None
    if not isinstance(shots, list) or not shots or len(shots) > 20:
        raise _malformed("expected between 1 and 20 shots", "/multiShotManualParams/shots")
    texts = [s.get("text") for s in shots if isinstance(s, Mapping)]
    if len(texts) != len(shots) or not all(isinstance(t, str) and t for t in texts):
        raise _malformed("required key [text] not found", "/multiShotManualParams/shots")
    return " ".join(str(t) for t in texts), 6 * len(shots)


def error_for_unknown_invoke(model: BedrockModel) -> Rejection:
    """InvokeModel for a model the simulator does not serve there."""
    return bedrock_error(
        400,
        "ValidationException",
        "The simulator serves InvokeModel for Anthropic Claude (Messages body), Titan and Cohere embeddings "
        "and "
        f"Nova Canvas / Titan image models; use Converse for {model.model_id}.",
    )
