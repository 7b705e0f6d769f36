"""Video generation on Amazon Bedrock (Amazon Nova Reel): ``get_video`` / ``stream_video`` of the
Bedrock model.

A video is an asynchronous invocation: ``StartAsyncInvoke`` (operation ``"async_invoke"``,
``POST /async-invoke``) starts it and names it by its invocation ARN; ``GetAsyncInvoke``
(``GET /async-invoke/{invocationArn}``) reports its ``status`` (``InProgress``, ``Completed``,
``Failed``, with a ``failureMessage``); the service writes the MP4 to the S3 location the job was
given, ``{output_s3_uri}/{invocation id}/output.mp4``, which is then fetched with a signed S3
``GET`` (see :mod:`.s3`). Polls and the download go to the endpoint (region) that started the
job (a backup's job is unknown to the primary), through ``FailoverConnector.pinned``; every
request goes through the connector (retries, breakers). The start carries a
``clientRequestToken`` (the context's ``idempotency_key``, else a random one), so a retried start
never makes a second job.

Parameters (keyword arguments of ``get_video`` / ``stream_video``, or the model's ``defaults``),
all checked before anything is sent (:class:`InvalidInputError` naming the parameter):

``output_s3_uri`` (alias ``s3_uri``)
    ``s3://bucket[/prefix]``, where the service writes the video (the credentials need
    ``s3:PutObject`` there for the job and ``s3:GetObject`` for the download). Required: the call's,
    the model's ``defaults``, or the endpoint settings' ``output_s3_uri`` when the provider's
    settings have one; missing, the call is refused (:class:`ConfigurationError`) before any
    request.
``seconds`` (alias ``duration``)
    6 (the default: one shot, ``TEXT_VIDEO``, a prompt of at most 512 characters), or on
    ``amazon.nova-reel-v1:1`` a multiple of 6 from 12 to 120 (``MULTI_SHOT_AUTOMATED``, a prompt
    of at most 4,000 characters).
``size`` (alias ``dimension``), ``fps``
    ``"1280x720"`` and 24, the only ones the model makes (accepted, and checked).
``seed``
    0 to 2,147,483,646.
``image`` (alias ``input_reference``)
    the first frame of a 6-second video: a 1280x720 PNG or JPEG, as bytes, an
    :class:`ImagePart` (bytes or a ``data:`` URL) or a path (at most 10 MB).
``poll_interval``
    seconds before the first poll (default 2); each next wait is 1.5 times longer, up to 15 s
    (or ``poll_interval`` when larger).
``download``
    True (default): fetch the video from S3 into ``response.data`` (the credentials to sign the
    download are checked before the job is started); False: return once the job completed,
    with ``response.url`` the ``s3://`` URI of the video and no bytes.
``timeout``, ``read_timeout``, ``model``
    seconds for the whole job (start, polls, download; the earlier of it and ``ctx.deadline``
    wins; with neither, :data:`DEFAULT_JOB_TIMEOUT`), the longest silence while reading any one
    answer, and a model id for this call only.

A job that ends ``Failed`` raises :class:`VideoJobFailedError` (``job_id``: the invocation ARN;
the message quotes its ``failureMessage``, credentials masked; ``code`` ``"content_filter"``
when it says the content was blocked, else ``"Failed"``); it is not retried. A job still running
at the deadline raises :class:`RequestTimeoutError` naming the ARN (``job_id`` holds it); so does
any other error once the job exists. Cancelling the call (or leaving a stream early) stops the
polling at once; the job keeps running on the provider.

``stream_video`` yields an :class:`LLMVideoChunk` after the start and after each poll (status
``"in_progress"``; ``progress`` is the service's when it reports one, else an estimate from the
time Nova Reel usually takes, never going down and below 1.0 until the end), then one ``final``
chunk (``"completed"``) with the video's bytes and the whole :class:`LLMVideoResponse`
(``url``: the video's ``s3://`` URI, ``job_id``: the ARN). ``cost``: the model's price per second
of video.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import math
import os
import re
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ....interfaces.context import RequestContext
from ....interfaces.errors import (
    ConfigurationError,
    InvalidInputError,
    ResponseParsingError,
    VideoJobFailedError,
)
from ....interfaces.llm_interfaces import WireResponse
from ....interfaces.media import LLMVideoChunk, LLMVideoResponse
from ....interfaces.messages import ImagePart
from ...base.failover import FailoverConnector
from ...base.media_jobs import POLL_BACKOFF as POLL_BACKOFF
from ...base.media_jobs import JobState, MediaJob, final_response, run_job, too_large_hint
from ...base.redact import cut
from . import s3
from ._common import TRANSPORT_PARAMS, model_ids, shown, transport

if TYPE_CHECKING:
    from ...base.implementation import BaseLLM

__all__ = [
    "DEFAULT_JOB_TIMEOUT",
    "DEFAULT_POLL_INTERVAL",
    "MAX_POLL_INTERVAL",
    "MAX_SECONDS",
    "SHOT_SECONDS",
    "generate_video",
    "stream_video",
]

logger = logging.getLogger("core.llms.media")

#: the length of one shot, in seconds (a ``TEXT_VIDEO`` job makes one).
SHOT_SECONDS = 6
#: the longest video (``MULTI_SHOT_AUTOMATED``), in seconds.
MAX_SECONDS = 120
#: seconds before the first poll, unless ``poll_interval`` says otherwise.
DEFAULT_POLL_INTERVAL = 2.0
#: each wait between polls is :data:`POLL_BACKOFF` times longer than the one before, up to this
#: many seconds (or ``poll_interval``, when it is longer).
MAX_POLL_INTERVAL = 15.0
#: the whole job's time limit when the call has neither ``timeout`` nor ``ctx.deadline`` (a
#: two-minute video takes Nova Reel about 17 minutes).
DEFAULT_JOB_TIMEOUT = 30 * 60.0
#: the seed's largest value.
MAX_SEED = 2_147_483_646
_SIZE = "1280x720"
_FPS = 24
_ONE_SHOT_PROMPT = 512
_MULTI_SHOT_PROMPT = 4000
#: model ids (prefixes) that make one shot only.
_ONE_SHOT_ONLY = ("amazon.nova-reel-v1:0",)
#: about how long Nova Reel takes: 90 s for one shot, 8 s per second of a multi-shot video.
_EXPECTED_ONE_SHOT = 90.0
_EXPECTED_PER_SECOND = 8.0
_PARAMETERS = frozenset(
    {"output_s3_uri", "seconds", "size", "fps", "seed", "image", "poll_interval", "download"}
    | TRANSPORT_PARAMS
)
_ALIASES: Mapping[str, str] = {
    "duration": "seconds",
    "dimension": "size",
    "s3_uri": "output_s3_uri",
    "input_reference": "image",
}
#: the largest reference image read (the service takes at most 10 MB in a request's body).
_MAX_IMAGE_BYTES = 10 * 1024 * 1024
_STATUSES = frozenset({"InProgress", "Completed", "Failed"})
_ARN = re.compile(r"arn:[a-z0-9-]+:bedrock:[a-z0-9-]*:[0-9]*:async-invoke/[A-Za-z0-9]+")
_BLOCKED_WORDS = ("content filter", "blocked", "moderation", "responsible ai", "content polic")
#: the wait between polls (a module attribute, so that tests can watch the waits).
_sleep = asyncio.sleep


@dataclass(slots=True)
class _Call:
    """One video call's checked parameters and its start request's body."""

    payload: dict[str, Any]
    model_id: str
    model_fixed: bool
    output: s3.S3Location
    seconds: int
    poll_interval: float
    download: bool
    timeout: float | None
    read_timeout: float | None


# -- parameters ---------------------------------------------------------------------------------


def _error(model: BaseLLM, message: str, hint: str | None = None) -> InvalidInputError:
    return InvalidInputError(message, provider=model.provider, model=model.name, hint=hint)


def _merged(model: BaseLLM, params: Mapping[str, Any]) -> dict[str, Any]:
    """The model's defaults, then ``params``; aliases renamed, None dropped."""
    merged: dict[str, Any] = {}
    for source in (model._defaults, params):
        seen: dict[str, str] = {}
        for key, value in source.items():
            name = _ALIASES.get(key, key)
            if name in seen:
                raise _error(model, f"pass only one of {seen[name]!r} and {key!r}")
            seen[name] = key
            if name not in _PARAMETERS:
                allowed = sorted(_PARAMETERS | set(_ALIASES))
                raise _error(
                    model,
                    f"unknown parameter {shown(key)} for get_video() with {model.name}",
                    hint=f"allowed: {', '.join(allowed)}",
                )
            merged[name] = value
    return {k: v for k, v in merged.items() if v is not None}


def _one_shot_only(model: BaseLLM) -> bool:
    return any(model_id.startswith(_ONE_SHOT_ONLY) for model_id in model_ids(model))


def _check_seconds(model: BaseLLM, value: Any) -> int:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    one_shot = _one_shot_only(model)
    if number == SHOT_SECONDS:
        return number
    if number is not None and not one_shot and number % SHOT_SECONDS == 0 and 12 <= number <= MAX_SECONDS:
        return number
    allowed = "6" if one_shot else f"6, or a multiple of 6 from 12 to {MAX_SECONDS} (multi-shot)"
    extra = " (longer videos need amazon.nova-reel-v1:1)" if one_shot else ""
    raise _error(
        model, f"seconds={shown(value)} is not a length {model.name} makes{extra}", hint=f"allowed: {allowed}"
    )


def _check_positive(model: BaseLLM, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise _error(
            model, f"{name}={shown(value)} must be a positive number of seconds", hint=f"e.g. {name}=2"
        )
    return float(value)


def _settings_output(model: BaseLLM) -> Any:
    """The ``output_s3_uri`` of the primary endpoint's provider settings, if they have one."""
    connector = model._connector
    if isinstance(connector, FailoverConnector) and connector.connectors:
        settings = connector.connectors[0].endpoint.settings
        return getattr(settings, "output_s3_uri", None)
    return None


def _client_token(ctx: RequestContext | None) -> str:
    """The start's ``clientRequestToken``: the context's idempotency key when it fits the
    service's rules (1-256 printable ASCII characters), else a fresh random one."""
    key = ctx.idempotency_key if ctx is not None else None
    if key and len(key) <= 256 and all("!" <= c <= "~" for c in key):
        return key
    return uuid.uuid4().hex


async def _prepare(
    model: BaseLLM, prompt: Any, ctx: RequestContext | None, params: Mapping[str, Any]
) -> _Call:
    """Check the prompt and every parameter; build the start request's body."""
    merged = _merged(model, params)
    seconds = _check_seconds(model, merged["seconds"]) if "seconds" in merged else SHOT_SECONDS
    multi = seconds > SHOT_SECONDS
    if not isinstance(prompt, str) or not prompt.strip():
        what = "an empty string" if isinstance(prompt, str) else type(prompt).__name__
        raise _error(model, f"prompt must be a non-empty string, not {what}")
    limit = _MULTI_SHOT_PROMPT if multi else _ONE_SHOT_PROMPT
    if len(prompt) > limit:
        raise _error(
            model,
            f"prompt has {len(prompt):,} characters; a {seconds}-second video takes at most {limit:,}",
            hint="shorten the prompt" + ("" if multi else " (a multi-shot video, seconds=12+, takes 4,000)"),
        )
    if "size" in merged:
        size = merged["size"]
        if isinstance(size, tuple | list) and len(size) == 2 and all(type(v) is int for v in size):
            size = f"{size[0]}x{size[1]}"
        if not isinstance(size, str) or size.strip().lower().replace(" ", "") != _SIZE:
            raise _error(
                model, f"size={shown(size)} is not a size {model.name} makes", hint=f"allowed: {_SIZE}"
            )
    if "fps" in merged:
        fps = merged["fps"]
        if isinstance(fps, bool) or fps != _FPS:
            raise _error(
                model, f"fps={shown(fps)} is not a frame rate {model.name} makes", hint=f"allowed: {_FPS}"
            )
    config: dict[str, Any] = {"durationSeconds": seconds, "fps": _FPS, "dimension": _SIZE}
    if "seed" in merged:
        seed = merged["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
            raise _error(
                model,
                f"seed={shown(seed)} is not allowed",
                hint=f"allowed: an integer from 0 to {MAX_SEED:,}",
            )
        config["seed"] = seed
    poll_interval = (
        _check_positive(model, "poll_interval", merged["poll_interval"])
        if "poll_interval" in merged
        else DEFAULT_POLL_INTERVAL
    )
    download = merged.get("download", True)
    if not isinstance(download, bool):
        raise _error(model, f"download={shown(download)} must be True or False")
    raw_output = merged.get("output_s3_uri")
    if raw_output is None:
        raw_output = _settings_output(model)
    if raw_output is None:
        raise ConfigurationError(
            f"{model.name} writes its videos to S3: pass output_s3_uri='s3://<bucket>/<prefix>'",
            provider=model.provider,
            model=model.name,
            hint="get_video(..., output_s3_uri='s3://my-bucket/videos'), or "
            "create_llm(..., defaults={'output_s3_uri': 's3://my-bucket/videos'}); the credentials "
            "need s3:PutObject there (and s3:GetObject to download the video)",
        )
    output = s3.parse_s3_uri(raw_output, what="output_s3_uri")
    wire = transport(model, merged)
    if multi:
        model_input: dict[str, Any] = {
            "taskType": "MULTI_SHOT_AUTOMATED",
            "multiShotAutomatedParams": {"text": prompt},
        }
        if "image" in merged:
            raise _error(
                model,
                "image (a first frame) is for a 6-second video, not a multi-shot one",
                hint="pass seconds=6 with image=, or leave image out",
            )
    else:
        to_video: dict[str, Any] = {"text": prompt}
        if "image" in merged:
            to_video["images"] = [await _reference_image(model, merged["image"])]
        model_input = {"taskType": "TEXT_VIDEO", "textToVideoParams": to_video}
    model_input["videoGenerationConfig"] = config
    payload = {
        "modelId": wire.model_id,
        "modelInput": model_input,
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": output.uri}},
        "clientRequestToken": _client_token(ctx),
    }
    if download:
        await s3.check_fetchable(model)  # the credentials to sign the download, before the job starts
    return _Call(
        payload,
        wire.model_id,
        wire.model_fixed,
        output,
        seconds,
        poll_interval,
        download,
        wire.total_timeout,
        wire.read_timeout,
    )


async def _reference_image(model: BaseLLM, value: Any) -> dict[str, Any]:
    """``image``: the video's first frame (bytes, an :class:`ImagePart` with bytes or a
    ``data:`` URL, or a path), a PNG or JPEG of 1280x720, as ``textToVideoParams.images[0]``."""
    data: bytes | None = None
    url = value.url if isinstance(value, ImagePart) and value.data is None else value
    if isinstance(value, bytes | bytearray | memoryview):
        data = bytes(value)
    elif isinstance(value, ImagePart) and isinstance(value.data, bytes):
        data = value.data
    elif isinstance(url, str) and url.startswith("data:"):
        head, _, body = url[5:].partition(",")
        try:
            data = base64.b64decode(body, validate=True) if head.endswith(";base64") else None
        except (binascii.Error, ValueError):
            data = None
        if data is None:
            raise _error(model, "image is a data: URL that is not valid base64")
    elif isinstance(value, str | os.PathLike) and not (
        isinstance(value, str) and value.startswith(("http://", "https://"))
    ):
        path = Path(value)
        try:
            data = await asyncio.to_thread(_read_image, path)
        except OSError as exc:
            raise _error(
                model, f"image: cannot read {path.name!r}: {exc.strerror or type(exc).__name__}"
            ) from None
    if data is None:
        raise _error(
            model,
            f"image must be PNG or JPEG bytes, an ImagePart or a path, not {type(value).__name__}"
            + (" (a URL: download it first)" if isinstance(value, str | ImagePart) else ""),
        )
    if len(data) > _MAX_IMAGE_BYTES:
        raise _error(model, f"image has {len(data):,} bytes; at most {_MAX_IMAGE_BYTES:,} are sent")
    kind = (
        "png"
        if data.startswith(b"\x89PNG\r\n\x1a\n")
        else "jpeg"
        if data.startswith(b"\xff\xd8\xff")
        else None
    )
    if kind is None:
        raise _error(
            model,
            f"image ({len(data):,} bytes) is not a PNG or JPEG image",
            hint="Nova Reel takes PNG or JPEG",
        )
    size = _png_size(data) if kind == "png" else _jpeg_size(data)
    if size is not None and size != (1280, 720):
        raise _error(
            model,
            f"image is {size[0]}x{size[1]}; the first frame of a Nova Reel video must be 1280x720",
            hint="resize (or crop) it to 1280x720",
        )
    return {"format": kind, "source": {"bytes": base64.b64encode(data).decode("ascii")}}


def _read_image(path: Path) -> bytes:
    if path.stat().st_size > _MAX_IMAGE_BYTES:
        raise OSError(0, f"larger than {_MAX_IMAGE_BYTES:,} bytes")
    return path.read_bytes()


def _png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a JPEG's start-of-frame segment (None when it has none)."""
    at = 2
    while at + 9 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            at += 2
            continue
        length = int.from_bytes(data[at + 2 : at + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(data[at + 5 : at + 7], "big")
            width = int.from_bytes(data[at + 7 : at + 9], "big")
            return width, height
        if length < 2:
            return None
        at += 2 + length
    return None


# -- the job ------------------------------------------------------------------------------------


class _Job(MediaJob[_Call]):
    """One Nova Reel job: ``StartAsyncInvoke``, ``GetAsyncInvoke`` polls, the video from S3."""

    model: BaseLLM
    default_timeout = DEFAULT_JOB_TIMEOUT
    max_poll_interval = MAX_POLL_INTERVAL

    created = "started"
    every_poll = True

    @property
    def invocation_id(self) -> str:
        return (self.id or "").rsplit("/", 1)[-1]

    def late_hint(self) -> str:
        return (
            "the job keeps running on the provider (its video will be written under "
            f"{self.call.output.uri}); pass a longer timeout= (or a later ctx deadline) for the next job"
        )

    def progress_note(self, status: str | None, progress: float | None) -> str:
        return (
            f"; last status {status}, ~{progress:.0%} done"
            if status is not None and progress is not None
            else ""
        )

    async def start(self) -> JobState:
        """``StartAsyncInvoke``; its answer names the job by its invocation ARN."""
        wire = await self.send("async_invoke", self.call.payload)
        data = wire.data
        arn = data.get("invocationArn") if isinstance(data, dict) else None
        if not isinstance(arn, str) or not _ARN.fullmatch(arn):
            what = "an unreadable invocationArn" if isinstance(arn, str) else "no invocationArn"
            raise ResponseParsingError(
                f"{wire.endpoint} started a video job with {what}",
                endpoint=wire.endpoint,
                status=wire.status,
                request_id=wire.request_id,
            )
        self.id = arn
        self.endpoint, self.request_id = wire.endpoint, wire.request_id
        logger.debug("video job %s started on %s", self.id, self.endpoint)
        return JobState("in_progress", 0.0)

    async def poll(self) -> JobState:
        """``GetAsyncInvoke``: its status (``InProgress`` …) and progress."""
        # the ARN's "/" encoded; its ":" as they are (aiohttp would decode "%3A" after the request
        # was signed: the signed URL and the one sent must be the same)
        wire = await self.send("async_invoke", {}, method="GET", path="/" + quote(self.id or "", safe=":"))
        data = wire.data
        status = data.get("status") if isinstance(data, dict) else None
        if not isinstance(status, str) or status not in _STATUSES:
            what = f"status {status!r}"[:60] if isinstance(data, dict) else f"a {type(data).__name__}"
            raise ResponseParsingError(
                f"{wire.endpoint} answered a video job's poll with {what}",
                endpoint=wire.endpoint,
                status=wire.status,
                request_id=wire.request_id,
            )
        assert isinstance(data, dict)
        if status == "Failed":
            return JobState("in_progress", 0.0, failure=self.failed(data, wire))
        if status == "Completed":
            return JobState("completed", 1.0, done=True, data=data)
        return JobState("in_progress", self.progress(data))

    def progress(self, data: Mapping[str, Any]) -> float:
        """The job's progress (0.0-0.99 while running): the service's ``progress`` when it reports
        one (0-100), else an estimate from the elapsed time (the runner keeps it from going down)."""
        reported = data.get("progress")
        if isinstance(reported, int | float) and not isinstance(reported, bool) and math.isfinite(reported):
            value = reported / 100.0
        else:
            expected = max(_EXPECTED_ONE_SHOT, self.call.seconds * _EXPECTED_PER_SECOND)
            value = self.clock.elapsed() / expected
        return min(max(value, 0.0), 0.99)

    def failed(self, data: Mapping[str, Any], wire: WireResponse) -> VideoJobFailedError:
        raw = data.get("failureMessage")
        message = (
            cut(" ".join(raw.split()), 500) if isinstance(raw, str) and raw.strip() else "no reason given"
        )
        blocked = any(word in message.lower() for word in _BLOCKED_WORDS)
        return VideoJobFailedError(
            f"video job {self.id} failed: {message}",
            job_id=self.id,
            code="content_filter" if blocked else "Failed",
            endpoint=wire.endpoint,
            request_id=wire.request_id,
            hint="the provider's content filters refused the prompt: change it"
            if blocked
            else "the job failed on the provider; a new job may succeed",
        )

    def video_location(self, data: Mapping[str, Any]) -> s3.S3Location:
        """Where the service wrote the video: ``{s3Uri}/output.mp4`` of the job's answer when its
        ``s3Uri`` names the job's folder (as the service reports it) in the bucket it was given,
        else ``{output_s3_uri}/{invocation id}/output.mp4``."""
        asked = self.call.output
        folder = asked.child(self.invocation_id)
        config = data.get("outputDataConfig")
        s3_config = config.get("s3OutputDataConfig") if isinstance(config, dict) else None
        reported = s3_config.get("s3Uri") if isinstance(s3_config, dict) else None
        if isinstance(reported, str):
            try:
                location: s3.S3Location | None = s3.parse_s3_uri(reported, what="the job's s3Uri")
            except InvalidInputError:
                location = None
            if (
                location is not None
                and location.bucket == asked.bucket
                and location.key.rstrip("/").rsplit("/", 1)[-1] == self.invocation_id
            ):
                folder = location
        return folder.child("output.mp4")

    async def finish(self, state: JobState) -> LLMVideoResponse:
        location = self.video_location(state.data)
        video: bytes | None = None
        media_type = "video/mp4"
        if self.call.download:
            remaining = self.remaining()
            if remaining <= 0:
                raise self.timed_out("completed", 1.0)
            assert self.endpoint is not None
            with too_large_hint():
                video, media_type = await s3.fetch_object(
                    self.model,
                    self.endpoint,
                    location,
                    ctx=self.ctx,
                    total_timeout=remaining,
                    read_timeout=self.call.read_timeout,
                )
        return LLMVideoResponse(
            model=self.model.name,
            provider=self.model.provider,
            data=video,
            url=location.uri,
            media_type=media_type,
            duration_seconds=float(self.call.seconds),
            cost=self.model.metadata.pricing.media_cost(video_seconds=self.call.seconds),
            endpoint=self.endpoint,
            request_id=self.request_id,
            job_id=self.id,
        )


async def generate_video(
    model: BaseLLM, prompt: str, ctx: RequestContext | None, params: dict[str, Any]
) -> LLMVideoResponse:
    """Start a video job, wait for it, fetch the video (see the module docstring)."""
    return await final_response(stream_video(model, prompt, ctx, params))


def stream_video(
    model: BaseLLM, prompt: str, ctx: RequestContext | None, params: dict[str, Any]
) -> AsyncIterator[LLMVideoChunk]:
    """Start a video job and yield its progress; the final chunk carries the video."""
    return run_job(
        _Job, model, ctx, lambda: _prepare(model, prompt, ctx, params), lambda seconds: _sleep(seconds)
    )
