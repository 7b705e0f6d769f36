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
import contextlib
import logging
import math
import os
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ....interfaces.context import RequestContext
from ....interfaces.errors import (
    InvalidInputError,
    LLMError,
    RequestTimeoutError,
    ResponseParsingError,
    ResponseTooLargeError,
    VideoJobFailedError,
)
from ....interfaces.llm_interfaces import IConnector, WireRequest, WireResponse
from ....interfaces.media import LLMVideoChunk, LLMVideoResponse
from ....interfaces.messages import ImagePart
from ...base.failover import FailoverConnector
from ...base.http_errors import parse_retry_after
from ...base.implementation import sniff_image_media_type
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
#: each wait between polls is this much longer than the one before ...
POLL_BACKOFF = 1.5
#: ... up to this many seconds (or ``poll_interval``, when it is longer).
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
    return _Call(payload, form, seconds, size, poll_interval, download, timeout, read_timeout)


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


class _Job:
    """The requests of one video job and its deadline."""

    __slots__ = ("call", "ctx", "deadline", "endpoint", "id", "model", "request_id", "started")

    def __init__(self, model: OpenAIModel, call: _Call, ctx: RequestContext | None, started: float) -> None:
        self.model = model
        self.call = call
        self.ctx = ctx
        self.started = started
        # the earlier of ctx.deadline and the call's timeout; the default timeout when neither
        given = ctx.deadline if ctx is not None and ctx.deadline is not None else math.inf
        timeout = call.timeout
        if timeout is None and given == math.inf:
            timeout = DEFAULT_JOB_TIMEOUT
        self.deadline = min(given, started + timeout if timeout is not None else math.inf)
        self.id: str | None = None
        self.endpoint: str | None = None
        self.request_id: str | None = None

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    async def send(self, method: str, path: str = "") -> WireResponse:
        """One request of the job, with what is left of its time as the call's limit."""
        remaining = self.remaining()
        if remaining <= 0:
            raise self.timed_out(None, None)
        call = self.call
        create = method == "POST"
        request = WireRequest(
            "videos",
            call.payload if create else {},
            model=self.model.metadata.model_id,
            method=method,
            path=path,
            form=call.form if create else None,
            read_timeout=call.read_timeout,
            total_timeout=remaining,
        )
        return await self._connector().send(request, self.ctx)

    def _connector(self) -> IConnector:
        """The model's connector; once the job exists, pinned to the endpoint that holds it (a
        backup's job is unknown to the primary)."""
        connector = self.model._connector
        if self.endpoint is not None and isinstance(connector, FailoverConnector):
            return connector.pinned(self.endpoint)
        return connector

    def timed_out(self, status: str | None, progress: float | None) -> RequestTimeoutError:
        elapsed = time.monotonic() - self.started
        if self.id is None:
            error = RequestTimeoutError(
                f"the video job was not created within the call's deadline ({elapsed:.1f} s)",
                endpoint=self.endpoint,
                hint="pass a longer timeout= (or a later ctx deadline)",
            )
        else:
            where = f"; last status {status}, {progress:.0%} done" if status is not None else ""
            error = RequestTimeoutError(
                f"video job {self.id} did not finish within the call's deadline ({elapsed:.1f} s{where})",
                endpoint=self.endpoint,
                request_id=self.request_id,
                hint="the job keeps running on the provider; pass a longer timeout= (or a later ctx "
                "deadline) for the next job",
            )
        error.job_id = self.id  # type: ignore[attr-defined]  # (RequestTimeoutError has no field for it)
        return error

    def tag(self, error: LLMError) -> None:
        """Name the job on an error raised once it exists (message and ``job_id``)."""
        if self.id is None:
            return
        if getattr(error, "job_id", None) is None:
            error.job_id = self.id  # type: ignore[attr-defined]
        if self.id not in error.message:
            error.message = f"video job {self.id}: {error.message}"
            error.args = (error.message, *error.args[1:])

    def parse(self, wire: WireResponse) -> tuple[str, float, dict[str, Any]]:
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
        if status in _DONE:
            return status, 1.0, data
        progress = data.get("progress")
        if isinstance(progress, bool) or not isinstance(progress, int | float) or not math.isfinite(progress):
            progress = 0
        return status, min(max(progress / 100.0, 0.0), 1.0), data

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


async def _run(
    model: OpenAIModel, prompt: Any, ctx: RequestContext | None, params: Mapping[str, Any]
) -> AsyncGenerator[LLMVideoChunk, None]:
    """Create the job, poll it until it ends, download the video; yield the progress."""
    started = time.monotonic()
    call = await _prepare(model, prompt, params)
    job = _Job(model, call, ctx, started)
    try:
        wire = await job.send("POST")
        job.endpoint, job.request_id = wire.endpoint, wire.request_id
        status, progress, data = job.parse(wire)
        logger.debug("video job %s created on %s (%s)", job.id, wire.endpoint, status)
        job_path = "/" + quote(job.id or "", safe="")
        interval = call.poll_interval
        longest = max(MAX_POLL_INTERVAL, interval)
        last_chance = False
        shown: tuple[str, float] | None = None
        while True:
            if status in _FAILED:
                raise job.failed(data, wire)
            if status in _DONE:
                break
            if shown != (status, progress):
                shown = (status, progress)
                yield LLMVideoChunk(progress=progress, status=status, job_id=job.id)
            hint = _poll_hint(wire)
            wait = interval if hint is None else hint
            interval = min(interval * POLL_BACKOFF, longest)
            remaining = job.remaining()
            if wait >= remaining:
                if last_chance or remaining <= 0:
                    raise job.timed_out(status, progress)
                last_chance = True  # one more poll just before the deadline
                wait = max(remaining - min(1.0, remaining / 4), 0.0)
            await _sleep(wait)
            wire = await job.send("GET", job_path)
            status, reported, data = job.parse(wire)
            progress = max(progress, reported)
        seconds = _job_seconds(data, call.seconds)
        size = data.get("size") if isinstance(data.get("size"), str) else call.size
        video: bytes | None = None
        media_type = "video/mp4"
        if call.download:
            video, media_type = await _download(job, job_path + "/content")
        response = LLMVideoResponse(
            model=model.name,
            provider=model.provider,
            data=video,
            media_type=media_type,
            duration_seconds=seconds,
            cost=job.cost(seconds, size),
            endpoint=job.endpoint,
            request_id=job.request_id,
            job_id=job.id,
        )
        yield LLMVideoChunk(
            progress=1.0, status=status, data=video, final=True, job_id=job.id, response=response
        )
    except LLMError as exc:
        job.tag(exc)
        raise
    except (asyncio.CancelledError, GeneratorExit):
        if job.id is not None:
            logger.debug(
                "video job %s: the call stopped before the job ended; it keeps running on %s",
                job.id,
                job.endpoint,
            )
        raise


async def _download(job: _Job, path: str) -> tuple[bytes, str]:
    try:
        wire = await job.send("GET", path)
    except ResponseTooLargeError as exc:
        exc.hint = (
            "the video is larger than the endpoint's max_response_bytes: raise it, e.g. "
            "create_llm(..., max_response_bytes=512 * 1024 * 1024), or pass download=False"
        )
        raise
    content_type = (wire.headers.get("Content-Type", "") if wire.headers is not None else "").split(";")[0]
    if wire.data is not None or not wire.body:
        what = "JSON" if wire.data is not None else "an empty body"
        raise ResponseParsingError(
            f"{wire.endpoint} answered the video's download with {what}, not a video",
            endpoint=wire.endpoint,
            status=wire.status,
            request_id=wire.request_id,
        )
    media_type = content_type.strip().lower() if content_type.startswith("video/") else "video/mp4"
    return wire.body, media_type


async def generate_video(
    model: OpenAIModel, prompt: str, ctx: RequestContext | None, params: dict[str, Any]
) -> LLMVideoResponse:
    """Create a video job, wait for it, download the video (see the module docstring)."""
    response: LLMVideoResponse | None = None
    async with contextlib.aclosing(_run(model, prompt, ctx, params)) as chunks:
        async for chunk in chunks:
            if chunk.final:
                response = chunk.response
    assert response is not None  # the last chunk is the final one, or an error was raised
    return response


def stream_video(
    model: OpenAIModel, prompt: str, ctx: RequestContext | None, params: dict[str, Any]
) -> AsyncIterator[LLMVideoChunk]:
    """Create a video job and yield its progress; the final chunk carries the video."""
    return _run(model, prompt, ctx, params)
