"""Video generation (sora-2, sora-2-pro): ``get_video`` / ``stream_video`` of
:class:`~core.llms.providers.openai.model.OpenAIModel`.

A video is a job on the provider: ``POST /videos`` creates it (JSON, or a multipart upload when
a reference image goes with it), ``GET /videos/{id}`` reports its ``status`` (``queued``,
``in_progress``, ``completed``, ``failed``) and ``progress`` (0-100), ``GET /videos/{id}/content``
downloads the MP4 once it is ``completed``. Each request goes through the model's connector
(retries, failover, breakers apply to each one).

Parameters (keyword arguments of ``get_video`` / ``stream_video``, or the model's ``defaults``),
all checked before anything is sent (:class:`InvalidInputError` naming the parameter and what it
may be):

``seconds`` (alias ``duration``)
    4, 8 or 12 (the provider's default when not given: 4).
``size``
    ``"720x1280"``, ``"1280x720"``; sora-2-pro also ``"1024x1792"``, ``"1792x1024"``.
``input_reference`` (alias ``image``)
    an image the video starts from: bytes (PNG, JPEG or WebP), an :class:`ImagePart`, a path
    (``str`` or ``os.PathLike``), an ``https://`` or ``data:`` URL, or ``{"file_id": ...}`` /
    ``{"image_url": ...}``. Bytes and files are uploaded (multipart); URLs and ids go as JSON.
``poll_interval``
    seconds before the first poll (default 2); each next wait is 1.5 times longer, up to 15 s
    (or ``poll_interval`` when larger). A wait the server asks for (``openai-poll-after-ms``,
    ``retry-after-ms`` or ``Retry-After`` on a poll's answer) replaces the computed one.
``download``
    True (default): download the video into ``response.data``; False: return once the job
    completed, without the bytes (``job_id`` names it).
``timeout``
    seconds for the whole job: creation, every poll and the download, with their retries
    (a :class:`~core.llms.interfaces.endpoint.Timeouts`: its ``total``, and its ``read`` unless
    ``read_timeout`` is given). The earlier of it and ``ctx.deadline`` wins; with neither, a job
    gets :data:`DEFAULT_JOB_TIMEOUT`.
``read_timeout``
    the longest silence while reading any one answer.

A job that ends ``failed`` raises :class:`~core.llms.interfaces.errors.VideoJobFailedError`
(``job_id``, ``code``: the provider's reason, e.g. ``moderation_blocked``). A job still running
at the deadline raises :class:`~core.llms.interfaces.errors.RequestTimeoutError` whose message
names the job and whose ``job_id`` attribute holds it; so does any other error once the job
exists. Cancelling the call (or leaving a stream early) stops the polling at once; the job keeps
running on the provider (its id is logged at DEBUG).

``stream_video`` yields an :class:`LLMVideoChunk` after the creation and after each poll whose
status or progress changed (``progress`` never goes down), then one ``final`` chunk with the
video's bytes and the whole :class:`LLMVideoResponse`. ``cost``: the model's price per second of
video (sora-2-pro's high resolutions cost 0.50 / 0.30 of its 720p price).

A video is downloaded whole, within the endpoint's ``max_response_bytes`` (64 MiB unless set);
a larger one raises :class:`ResponseTooLargeError` whose hint says how to raise the cap.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ....interfaces.context import RequestContext
from ....interfaces.errors import InvalidInputError, ResponseParsingError, VideoJobFailedError
from ....interfaces.llm_interfaces import WireResponse
from ....interfaces.media import LLMVideoChunk, LLMVideoResponse
from ....interfaces.messages import ImagePart
from ...base.http_errors import parse_retry_after
from ...base.implementation import sniff_image_media_type
from ...base.media_jobs import POLL_BACKOFF as POLL_BACKOFF
from ...base.media_jobs import JobState, MediaJob, final_response, run_job, too_large_hint, video_body
from ...base.multipart import FormField, MultipartForm
from ._common import call_timeouts

if TYPE_CHECKING:
    from ..model import OpenAIModel

__all__ = [
    "DEFAULT_JOB_TIMEOUT",
    "DEFAULT_POLL_INTERVAL",
    "MAX_POLL_INTERVAL",
    "SECONDS",
    "SIZES",
    "generate_video",
    "stream_video",
]

logger = logging.getLogger("core.llms.media")

#: the clip lengths the provider makes, in seconds.
SECONDS: tuple[int, ...] = (4, 8, 12)
#: every size; the last two are sora-2-pro's only.
SIZES: tuple[str, ...] = ("720x1280", "1280x720", "1024x1792", "1792x1024")
_PRO_SIZES = frozenset({"1024x1792", "1792x1024"})
#: seconds before the first poll, unless ``poll_interval`` says otherwise.
DEFAULT_POLL_INTERVAL = 2.0
#: each wait between polls is :data:`POLL_BACKOFF` times longer than the one before, up to this
#: many seconds (or ``poll_interval``, when it is longer).
MAX_POLL_INTERVAL = 15.0
#: a wait the server asks for is followed up to this many seconds.
_MAX_POLL_HINT = 60.0
#: the whole job's time limit when the call has neither ``timeout`` nor ``ctx.deadline``.
DEFAULT_JOB_TIMEOUT = 20 * 60.0
#: the largest reference image read from a file.
_MAX_REFERENCE_BYTES = 50 * 1024 * 1024
#: sora-2-pro's price per second at 1024x1792 / 1792x1024 over its 720p price (USD 0.50 / 0.30).
_PRO_HIGH_RES_FACTOR = 0.50 / 0.30

_PARAMETERS = frozenset(
    {"seconds", "size", "input_reference", "poll_interval", "download", "timeout", "read_timeout"}
)
_ALIASES: Mapping[str, str] = {"duration": "seconds", "image": "input_reference"}
#: job statuses: still running, done, failed (OpenAI's four, and the spellings of other hosts).
_RUNNING = frozenset({"queued", "in_progress", "pending", "preprocessing", "processing", "running"})
_DONE = frozenset({"completed", "succeeded"})
_FAILED = frozenset({"failed", "cancelled", "canceled", "expired"})
_REFERENCE_TYPES = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}
_MODERATION_CODES = frozenset({"moderation_blocked", "content_policy_violation", "content_filter"})
#: the wait between polls (a module attribute, so that tests can watch the waits).
_sleep = asyncio.sleep


@dataclass(slots=True)
class _Call:
    """One video call's checked parameters and its request."""

    payload: dict[str, Any]
    form: MultipartForm | None
    seconds: int | None
    size: str | None
    poll_interval: float
    download: bool
    timeout: float | None
    read_timeout: float | None
    model_id: str
    model_fixed: bool = False


# -- parameters ---------------------------------------------------------------------------------


def _merged(model: OpenAIModel, params: Mapping[str, Any]) -> dict[str, Any]:
    """The metadata's defaults, the model's, then ``params``; aliases renamed, None dropped."""
    merged: dict[str, Any] = {}
    for source in (model.metadata.parameters.defaults, model._defaults, params):
        for key, value in source.items():
            name = _ALIASES.get(key, key)
            if name != key and name in source:
                raise InvalidInputError(f"pass only one of {key!r} and {name!r}")
            if name not in _PARAMETERS:
                allowed = sorted(_PARAMETERS | set(_ALIASES))
                raise InvalidInputError(
                    f"unknown parameter {key!r} for {model.name}", hint=f"allowed: {', '.join(allowed)}"
                )
            merged[name] = value
    return {k: v for k, v in merged.items() if v is not None}


def _shown(value: Any) -> str:
    return repr(value)[:40] if isinstance(value, int | float | str) else f"<{type(value).__name__}>"


def _check_seconds(value: Any) -> int:
    number: int | None = None
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    if number not in SECONDS:
        raise InvalidInputError(
            f"seconds={_shown(value)} is not a clip length the provider makes",
            hint=f"allowed: {', '.join(map(str, SECONDS))} (seconds)",
        )
    return number


def _is_pro(model: OpenAIModel) -> bool:
    return any(name.startswith("sora-2-pro") for name in (model.metadata.name, model.metadata.model_id))


def _check_size(model: OpenAIModel, value: Any) -> str:
    if isinstance(value, tuple | list) and len(value) == 2 and all(type(v) is int for v in value):
        value = f"{value[0]}x{value[1]}"
    allowed = SIZES if _is_pro(model) else tuple(s for s in SIZES if s not in _PRO_SIZES)
    size = value.strip().lower().replace(" ", "") if isinstance(value, str) else None
    if size not in allowed:
        extra = " (1024x1792 and 1792x1024 are sora-2-pro's)" if size in _PRO_SIZES else ""
        raise InvalidInputError(
            f"size={_shown(value)} is not a size {model.name} makes{extra}",
            hint=f"allowed: {', '.join(allowed)}",
        )
    return size


def _check_positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise InvalidInputError(
            f"{name}={_shown(value)} must be a positive number of seconds", hint=f"e.g. {name}=2"
        )
    return float(value)


async def _prepare(model: OpenAIModel, prompt: Any, params: Mapping[str, Any]) -> _Call:
    """Check the prompt and every parameter; build the create request's body (or form)."""
    if not isinstance(prompt, str) or not prompt.strip():
        what = "an empty string" if isinstance(prompt, str) else type(prompt).__name__
        raise InvalidInputError(f"prompt must be a non-empty string, not {what}")
    merged = _merged(model, params)
    seconds = _check_seconds(merged["seconds"]) if "seconds" in merged else None
    size = _check_size(model, merged["size"]) if "size" in merged else None
    poll_interval = (
        _check_positive("poll_interval", merged["poll_interval"])
        if "poll_interval" in merged
        else DEFAULT_POLL_INTERVAL
    )
    download = merged.get("download", True)
    if not isinstance(download, bool):
        raise InvalidInputError(f"download={_shown(download)} must be True or False")
    timeout, read_timeout = call_timeouts(model, merged.get("timeout"), merged.get("read_timeout"))
    payload: dict[str, Any] = {"model": model.metadata.model_id, "prompt": prompt}
    if seconds is not None:
        payload["seconds"] = str(seconds)
    if size is not None:
        payload["size"] = size
    form = None
    if "input_reference" in merged:
        reference = await _reference(merged["input_reference"])
        if isinstance(reference, FormField):
            fields = [FormField(name, str(value)) for name, value in payload.items()]
            form = MultipartForm([*fields, reference])
        else:
            payload["input_reference"] = reference
    return _Call(
        payload, form, seconds, size, poll_interval, download, timeout, read_timeout, model.metadata.model_id
    )


async def _reference(value: Any) -> FormField | dict[str, str]:
    """``input_reference``: a file to upload (bytes, an ImagePart's bytes, a path), or the JSON
    reference to a URL or an uploaded file."""
    match value:
        case bytes() | bytearray() | memoryview():
            return _image_field(bytes(value), None)
        case ImagePart(data=bytes() as data):
            return _image_field(data, value.media_type)
        case ImagePart(url=str() as url):
            return {"image_url": url}
        case str() if value.startswith(("https://", "http://", "data:")):
            return {"image_url": value}
        case str() | os.PathLike():
            return _image_field(await _read_reference(Path(value)), None)
        case Mapping() if len(value) == 1 and next(iter(value)) in ("file_id", "image_url"):
            key, ref = next(iter(value.items()))
            if isinstance(ref, str) and ref:
                return {key: ref}
    raise InvalidInputError(
        f"input_reference must be image bytes, an ImagePart, a path, a URL or "
        f"{{'file_id': ...}} / {{'image_url': ...}}, not {type(value).__name__}"
    )


def _image_field(data: bytes, media_type: str | None) -> FormField:
    try:
        sniffed = sniff_image_media_type(data)
    except InvalidInputError:
        sniffed = None
    kind = sniffed or media_type
    if kind not in _REFERENCE_TYPES:
        raise InvalidInputError(
            f"input_reference ({len(data)} bytes) is not a PNG, JPEG or WebP image",
            hint="the provider takes a PNG, JPEG or WebP reference image",
        )
    return FormField(
        "input_reference", data, filename=f"reference{_REFERENCE_TYPES[kind]}", content_type=kind
    )


async def _read_reference(path: Path) -> bytes:
    def read() -> bytes:
        size = path.stat().st_size
        if size > _MAX_REFERENCE_BYTES:
            raise InvalidInputError(
                f"input_reference {path.name!r} is {size:,} bytes, more than {_MAX_REFERENCE_BYTES:,}"
            )
        return path.read_bytes()

    try:
        return await asyncio.to_thread(read)
    except OSError as exc:
        raise InvalidInputError(
            f"input_reference: cannot read {str(path)[:200]!r}: {exc.strerror or type(exc).__name__}"
        ) from None


# -- the job ------------------------------------------------------------------------------------


class _Job(MediaJob[_Call]):
    """One sora video job: ``POST /videos``, ``GET /videos/{id}``, ``GET /videos/{id}/content``."""

    model: OpenAIModel
    default_timeout = DEFAULT_JOB_TIMEOUT
    max_poll_interval = MAX_POLL_INTERVAL

    @property
    def path(self) -> str:
        return "/" + quote(self.id or "", safe="")

    async def start(self) -> JobState:
        wire = await self.send("videos", self.call.payload, form=self.call.form)
        self.endpoint, self.request_id = wire.endpoint, wire.request_id
        state = self.parse(wire)
        logger.debug("video job %s created on %s (%s)", self.id, wire.endpoint, state.status)
        return state

    async def poll(self) -> JobState:
        return self.parse(await self.send("videos", {}, method="GET", path=self.path))

    def parse(self, wire: WireResponse) -> JobState:
        """A job object → its status and progress (0.0-1.0)."""
        data = wire.data
        status = data.get("status") if isinstance(data, dict) else None
        if not isinstance(status, str) or not (status in _RUNNING or status in _DONE or status in _FAILED):
            shown = f"status {status!r}"[:60] if isinstance(data, dict) else f"a {type(data).__name__}"
            raise ResponseParsingError(
                f"{wire.endpoint} answered a video job with {shown}",
                endpoint=wire.endpoint,
                status=wire.status,
                request_id=wire.request_id,
            )
        assert isinstance(data, dict)
        if self.id is None:
            job_id = data.get("id")
            if not isinstance(job_id, str) or not job_id or len(job_id) > 200:
                raise ResponseParsingError(
                    f"{wire.endpoint} created a video job without an id",
                    endpoint=wire.endpoint,
                    status=wire.status,
                    request_id=wire.request_id,
                )
            self.id = job_id
        if status in _FAILED:
            return JobState(status, 0.0, failure=self.failed(data, wire))
        if status in _DONE:
            return JobState(status, 1.0, done=True, data=data)
        progress = data.get("progress")
        if isinstance(progress, bool) or not isinstance(progress, int | float) or not math.isfinite(progress):
            progress = 0
        return JobState(status, min(max(progress / 100.0, 0.0), 1.0), wait=_poll_hint(wire))

    def failed(self, data: dict[str, Any], wire: WireResponse) -> VideoJobFailedError:
        error = data.get("error")
        error = error if isinstance(error, dict) else {}
        code = error.get("code")
        code = str(code)[:100] if code is not None else data.get("status")
        message = " ".join(str(error.get("message") or "no reason given").split())[:500]
        moderated = code in _MODERATION_CODES
        return VideoJobFailedError(
            f"video job {self.id} failed: {message}",
            job_id=self.id,
            code=code,
            endpoint=wire.endpoint,
            request_id=wire.request_id,
            body=error or None,
            hint="the provider's moderation refused the prompt or the reference image: change it"
            if moderated
            else "the job failed on the provider; a new job may succeed",
        )

    async def finish(self, state: JobState) -> LLMVideoResponse:
        data, call = state.data, self.call
        seconds = _job_seconds(data, call.seconds)
        size = data.get("size") if isinstance(data.get("size"), str) else call.size
        video: bytes | None = None
        media_type = "video/mp4"
        if call.download:
            with too_large_hint():
                wire = await self.send("videos", {}, method="GET", path=self.path + "/content")
            video, media_type = video_body(wire)
        return LLMVideoResponse(
            model=self.model.name,
            provider=self.model.provider,
            data=video,
            media_type=media_type,
            duration_seconds=seconds,
            cost=self.cost(seconds, size),
            endpoint=self.endpoint,
            request_id=self.request_id,
            job_id=self.id,
        )

    def cost(self, seconds: float | None, size: str | None) -> float | None:
        if not seconds:
            return None
        cost = self.model.metadata.pricing.media_cost(video_seconds=seconds)
        if cost is not None and size in _PRO_SIZES and _is_pro(self.model):
            cost *= _PRO_HIGH_RES_FACTOR
        return cost


def _poll_hint(wire: WireResponse) -> float | None:
    """The wait a poll's answer asks for (``openai-poll-after-ms``, ``retry-after-ms``,
    ``Retry-After``), in seconds."""
    headers = wire.headers
    if headers is None:
        return None
    raw = headers.get("openai-poll-after-ms")
    if raw is not None:
        try:
            ms = float(raw)
        except ValueError:
            ms = math.nan
        if math.isfinite(ms) and ms >= 0:
            return min(ms / 1000.0, _MAX_POLL_HINT)
    hint = parse_retry_after(headers)
    return None if hint is None else min(hint, _MAX_POLL_HINT)


def _job_seconds(data: Mapping[str, Any], asked: int | None) -> float | None:
    value = data.get("seconds")
    try:
        seconds = (
            float(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else None
        )
    except ValueError:
        seconds = None
    if seconds is not None and math.isfinite(seconds) and seconds > 0:
        return seconds
    return float(asked) if asked is not None else None


async def generate_video(
    model: OpenAIModel, prompt: str, ctx: RequestContext | None, params: dict[str, Any]
) -> LLMVideoResponse:
    """Create a video job, wait for it, download the video (see the module docstring)."""
    return await final_response(stream_video(model, prompt, ctx, params))


def stream_video(
    model: OpenAIModel, prompt: str, ctx: RequestContext | None, params: dict[str, Any]
) -> AsyncIterator[LLMVideoChunk]:
    """Create a video job and yield its progress; the final chunk carries the video."""
    return run_job(_Job, model, ctx, lambda: _prepare(model, prompt, params), lambda seconds: _sleep(seconds))
