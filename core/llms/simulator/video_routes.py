"""Video generation routes (OpenAI's Videos API, sora-2 / sora-2-pro): registered by
:meth:`.routes.ProviderRoutes.add_to`.

::

    POST /v1/videos                        create a job (JSON, or multipart with an input_reference file)
    GET  /v1/videos/{id}                   the job: status, progress
    GET  /v1/videos/{id}/content           the MP4 (?variant=video|thumbnail|spritesheet)
    ... and the same under /openai/v1/videos (Azure's v1 API; not when the simulator plays a host)

A job is ``queued`` when created; each ``GET`` of it moves it on: ``in_progress`` at 33 %, then
66 %, then ``completed`` at 100 % on the third poll. Its content is a small, structurally valid
MP4 (see :mod:`.mp4`); asking for it before the job completed is a 400.

Markers in the prompt steer a job (for tests; none is sent back):

``[sim:fail]``
    the job ends ``failed`` on its second poll, with the error code ``moderation_blocked``;
    ``[sim:fail=CODE]`` fails it with that code (e.g. ``internal_error``) instead.
``[sim:slow]``
    the job never completes: ``in_progress``, its progress creeping up to 99 %.
``[sim:steps=N]``
    the job completes on the N-th poll (0: already ``completed`` when created).
``[sim:poll_after_ms=N]``
    every answer about the job carries ``openai-poll-after-ms: N`` (the wait the server asks for).

Requests are checked like the real API: ``prompt`` required, ``model`` ``sora-2`` or
``sora-2-pro`` (any deployment name on the Azure route), ``seconds`` ``"4"``, ``"8"`` or
``"12"`` (strings), ``size`` one of ``720x1280``, ``1280x720``, ``1024x1792``, ``1792x1024`` (the
last two for a pro model only), an ``input_reference`` file a PNG, JPEG or WebP image. Scripted
faults apply to every request (the job moves on only when a poll is answered).
"""

from __future__ import annotations

import collections
import json
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .mp4 import mp4_bytes, spritesheet_bytes, thumbnail_bytes
from .openai_request import unparseable_body
from .openai_wire import Rejection, error_envelope
from .responder import send_body, send_bytes

if TYPE_CHECKING:
    from .faults import Fault
    from .routes import Family, ProviderRoutes

__all__ = ["MODERATION_CODE", "VideoJobs", "add_routes"]

MODELS = ("sora-2", "sora-2-pro")
SECONDS = ("4", "8", "12")
SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")
_PRO_SIZES = frozenset({"1024x1792", "1792x1024"})
#: polls before a job completes, unless its prompt says otherwise.
DEFAULT_STEPS = 3
#: the error code of a ``[sim:fail]`` job.
MODERATION_CODE = "moderation_blocked"
_MODERATION_MESSAGE = "Your request was blocked by our moderation system."
#: jobs kept (the oldest are forgotten first).
_MAX_JOBS = 10_000
_MARKERS = re.compile(r"\[sim:(fail|slow|steps|poll_after_ms)(?:=([A-Za-z0-9_.-]{1,64}))?\]")
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
_VARIANTS = ("video", "thumbnail", "spritesheet")


@dataclass(slots=True)
class _Job:
    id: str
    model: str
    prompt: str
    seconds: str
    size: str
    created_at: int
    steps: int
    fail_code: str | None = None
    slow: bool = False
    poll_after_ms: int | None = None
    polls: int = 0
    status: str = "queued"
    progress: int = 0
    completed_at: int | None = None
    error: dict[str, str] | None = None

    def advance(self) -> None:
        """One poll: move the job on (see the module docstring)."""
        if self.status in ("completed", "failed"):
            return
        self.polls += 1
        if self.fail_code is not None and self.polls >= 2:
            self.status = "failed"
            message = _MODERATION_MESSAGE if self.fail_code == MODERATION_CODE else "Video generation failed."
            self.error = {"code": self.fail_code, "message": message}
            return
        if self.slow:
            self.status, self.progress = "in_progress", min(99, self.progress + 1)
            return
        if self.polls >= self.steps:
            self.complete()
            return
        self.status = "in_progress"
        self.progress = max(self.progress, min(99, self.polls * 100 // self.steps))

    def complete(self) -> None:
        self.status, self.progress, self.completed_at = "completed", 100, int(time.time())

    def body(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "video",
            "created_at": self.created_at,
            "completed_at": self.completed_at,
            "expires_at": None if self.completed_at is None else self.completed_at + 86_400,
            "error": self.error,
            "model": self.model,
            "progress": self.progress,
            "prompt": self.prompt,
            "remixed_from_video_id": None,
            "seconds": self.seconds,
            "size": self.size,
            "status": self.status,
        }


class VideoJobs:
    """The video jobs of one simulator, by id (the oldest forgotten past :data:`_MAX_JOBS`)."""

    def __init__(self) -> None:
        self._jobs: collections.OrderedDict[str, _Job] = collections.OrderedDict()
        self._count = 0

    def __len__(self) -> int:
        return len(self._jobs)

    def get(self, job_id: str) -> _Job | None:
        return self._jobs.get(job_id)

    def create(self, model: str, prompt: str, seconds: str, size: str) -> _Job:
        self._count += 1
        job = _Job(
            id=f"video_sim{self._count:06d}",
            model=model,
            prompt=prompt,
            seconds=seconds,
            size=size,
            created_at=int(time.time()),
            steps=DEFAULT_STEPS,
        )
        for name, value in _MARKERS.findall(prompt):
            match name:
                case "fail":
                    job.fail_code = value or MODERATION_CODE
                case "slow":
                    job.slow = True
                case "steps" if value.isdigit():
                    job.steps = int(value)
                case "poll_after_ms" if value.isdigit():
                    job.poll_after_ms = int(value)
        if job.steps == 0 and job.fail_code is None and not job.slow:
            job.complete()
        self._jobs[job.id] = job
        while len(self._jobs) > _MAX_JOBS:
            self._jobs.popitem(last=False)
        return job


# -- requests -------------------------------------------------------------------------------------


def _reject(message: str, param: str | None = None, code: str | None = None) -> Rejection:
    return Rejection(400, error_envelope(message, param=param, code=code))


def _bad_value(param: str, value: Any, allowed: tuple[str, ...]) -> Rejection:
    options = ", ".join(f"'{a}'" for a in allowed[:-1]) + f" and '{allowed[-1]}'"
    shown = str(value)[:100]
    return _reject(f"Invalid value: '{shown}'. Supported values are: {options}.", param, "invalid_value")


def _not_found(job_id: str) -> Rejection:
    return Rejection(404, error_envelope(f"Video with id '{job_id[:100]}' not found.", param="video_id"))


def parse_multipart(raw: bytes, content_type: str) -> dict[str, tuple[str | None, str | None, bytes]]:
    """A ``multipart/form-data`` body → ``{name: (filename, content type, value)}`` (the first
    part of each name); ``ValueError`` when it is not one."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        raise ValueError("no boundary")
    delimiter = b"--" + match.group(1).encode()
    parts = raw.split(delimiter)
    if len(parts) < 3 or not parts[-1].startswith(b"--"):
        raise ValueError("not a multipart body")
    fields: dict[str, tuple[str | None, str | None, bytes]] = {}
    for part in parts[1:-1]:
        head, sep, value = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("a part without headers")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, content = line.partition(":")
            headers[name.strip().lower()] = content.strip()
        disposition = headers.get("content-disposition", "")
        field = re.search(r'\bname="([^"]*)"', disposition)
        if field is None:
            raise ValueError("a part without a name")
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        fields.setdefault(
            field.group(1),
            (
                filename.group(1) if filename else None,
                headers.get("content-type"),
                value.removesuffix(b"\r\n"),
            ),
        )
    return fields


async def _create_fields(request: web.Request, body: Any) -> dict[str, Any]:
    """The create request's fields: its JSON object, or its form (files as bytes)."""
    if isinstance(body, dict):
        return body
    content_type = request.headers.get("Content-Type", "")
    if content_type.startswith("multipart/form-data"):
        try:
            form = parse_multipart(await request.read(), content_type)
        except ValueError:
            raise _reject("Could not parse multipart form.") from None
        fields: dict[str, Any] = {}
        for name, (filename, _, value) in form.items():
            fields[name] = value if filename is not None else value.decode("utf-8", "replace")
        return fields
    raise unparseable_body()


def _check_create(fields: dict[str, Any], family: Family) -> tuple[str, str, str, str]:
    """model, prompt, seconds, size of a create request; a :class:`Rejection` when it is wrong."""
    prompt = fields.get("prompt")
    if prompt is None:
        raise _reject("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter")
    if not isinstance(prompt, str):
        raise _reject("Invalid type for 'prompt': expected a string.", "prompt", "invalid_type")
    if not prompt.strip():
        raise _reject("Invalid 'prompt': empty string.", "prompt", "empty_string")
    model = fields.get("model") or "sora-2"
    if not isinstance(model, str):
        raise _reject("Invalid type for 'model': expected a string.", "model", "invalid_type")
    if family == "openai" and model not in MODELS:
        raise _bad_value("model", model, MODELS)
    seconds = fields.get("seconds", "4")
    if seconds not in SECONDS:
        raise _bad_value("seconds", seconds, SECONDS)
    size = fields.get("size", "720x1280")
    if size not in SIZES:
        raise _bad_value("size", size, SIZES)
    if size in _PRO_SIZES and "pro" not in model:
        raise _reject(
            f"Invalid value: '{size}'. This size is only supported by sora-2-pro.", "size", "invalid_value"
        )
    reference = fields.get("input_reference")
    if isinstance(reference, bytes):
        riff_webp = reference[:4] == b"RIFF" and reference[8:12] == b"WEBP"
        if not (reference.startswith(_IMAGE_MAGIC) or riff_webp):
            raise _reject(
                "Invalid file format for 'input_reference'. Supported formats are: image/jpeg, image/png "
                "and image/webp.",
                "input_reference",
                "invalid_value",
            )
    elif reference is not None and not (
        isinstance(reference, dict)
        and len(reference) == 1
        and isinstance(reference.get("file_id", reference.get("image_url")), str)
    ):
        raise _reject(
            "Invalid 'input_reference': expected a file, or {file_id} / {image_url}.", "input_reference"
        )
    return model, prompt, seconds, size


# -- responses ------------------------------------------------------------------------------------


def _job_headers(job: _Job, headers: dict[str, str]) -> dict[str, str]:
    if job.poll_after_ms is None or job.status in ("completed", "failed"):
        return headers
    return {**headers, "openai-poll-after-ms": str(job.poll_after_ms)}


async def _send_job(
    request: web.Request, job: _Job, headers: dict[str, str], fault: Fault | None
) -> web.StreamResponse:
    data = json.dumps(job.body(), separators=(",", ":")).encode()
    return await send_body(request, data, _job_headers(job, headers), fault, job.id)


def _size(job: _Job) -> tuple[int, int]:
    width, _, height = job.size.partition("x")
    return int(width), int(height)


def add_routes(app: web.Application, routes: ProviderRoutes) -> None:
    """Add the video routes to ``app`` (each simulator keeps its own jobs)."""
    jobs = VideoJobs()

    def handlers(family: Family) -> tuple[Any, Any, Any]:
        v1 = family == "azure"

        async def create(request: web.Request) -> web.StreamResponse:
            async def produce(
                n: int, body: Any, headers: dict[str, str], fault: Fault | None
            ) -> web.StreamResponse:
                model, prompt, seconds, size = _check_create(await _create_fields(request, body), family)
                return await _send_job(request, jobs.create(model, prompt, seconds, size), headers, fault)

            return await routes.serve(request, family, None, produce, check_api_version=not v1)

        async def retrieve(request: web.Request) -> web.StreamResponse:
            async def produce(
                n: int, body: Any, headers: dict[str, str], fault: Fault | None
            ) -> web.StreamResponse:
                job = jobs.get(request.match_info["video_id"])
                if job is None:
                    raise _not_found(request.match_info["video_id"])
                job.advance()
                return await _send_job(request, job, headers, fault)

            return await routes.serve(request, family, None, produce, check_api_version=not v1)

        async def content(request: web.Request) -> web.StreamResponse:
            async def produce(
                n: int, body: Any, headers: dict[str, str], fault: Fault | None
            ) -> web.StreamResponse:
                job = jobs.get(request.match_info["video_id"])
                if job is None:
                    raise _not_found(request.match_info["video_id"])
                variant = request.query.get("variant", "video")
                if variant not in _VARIANTS:
                    raise _bad_value("variant", variant, _VARIANTS)
                if job.status != "completed":
                    raise _reject(
                        f"Video '{job.id}' is not ready yet (status {job.status}); poll GET /videos/{job.id} "
                        "until it is completed.",
                        code="video_not_ready",
                    )
                seed = job.id.encode()
                if variant == "thumbnail":
                    return await send_bytes(request, thumbnail_bytes(seed), "image/webp", headers, fault)
                if variant == "spritesheet":
                    return await send_bytes(request, spritesheet_bytes(seed), "image/jpeg", headers, fault)
                width, height = _size(job)
                video = mp4_bytes(seconds=int(job.seconds), width=width, height=height, seed=seed)
                return await send_bytes(request, video, "video/mp4", headers, fault)

            return await routes.serve(request, family, None, produce, check_api_version=not v1)

        return create, retrieve, content

    prefixes: list[tuple[str, Family]] = [("/v1", "openai")]
    if routes.azure_v1:
        prefixes.append(("/openai/v1", "azure"))
    for prefix, family in prefixes:
        create, retrieve, content = handlers(family)
        app.router.add_post(f"{prefix}/videos", create)
        app.router.add_get(f"{prefix}/videos/{{video_id}}", retrieve)
        app.router.add_get(f"{prefix}/videos/{{video_id}}/content", content)
