"""Veo video generation on the Gemini API and Vertex AI: ``get_video`` / ``stream_video`` of the
Gemini model class (veo-3.0-generate-001, veo-3.0-fast-generate-001, veo-2.0-generate-001 …).

A video is a long-running operation: ``POST :predictLongRunning`` (the adapter's
``"predict_long_running"`` operation) with ``{"instances": [{"prompt", "image"?}], "parameters":
{...}}`` answers ``{"name": "<operation>"}``; the operation is then polled — on the Gemini API
``GET /v1beta/<operation name>`` (``"operation"``, the name as the request's path), on Vertex AI
``POST :fetchPredictOperation {"operationName"}`` (``"operation"`` with that body) — until it
says ``"done": true``. Its ``response`` holds the video: on the Gemini API
``generateVideoResponse.generatedSamples[0].video.uri``, a file downloaded with the endpoint's
credentials (a ``GET`` of the URI's ``/files/...`` path on the same endpoint: the key goes
nowhere else); on Vertex AI ``videos[0]`` with ``bytesBase64Encoded`` (or a ``gcsUri`` when
``output_gcs_uri`` was given, returned as the response's ``url``). Each request goes through the
model's connector (retries and breakers apply to each); once the operation exists, every
follow-up goes to the endpoint that started it (a backup's operation is unknown to the primary).

Parameters (keyword arguments, or the model's ``defaults``), all checked before anything is
sent (:class:`InvalidInputError` naming the parameter and what it may be):

``duration_seconds`` (aliases ``seconds``, ``duration``)
    veo-3: 4, 6 or 8; veo-2: 5 to 8 (the service's default: 8).
``aspect_ratio``
    ``16:9`` (default) or ``9:16``.
``resolution``
    ``720p`` (default) or ``1080p`` (veo-3 only).
``image`` (alias ``input_reference``)
    an image the video starts from: bytes (PNG, JPEG or WebP), an :class:`ImagePart`, a path, a
    ``data:`` URL; on Vertex AI also a ``gs://`` URI.
``negative_prompt``, ``person_generation`` (``allow_all``, ``allow_adult``, ``dont_allow``),
``enhance_prompt``
    as the service takes them.
``seed`` (0 to 4294967295), ``generate_audio``, ``output_gcs_uri``
    Vertex AI only. Veo 3 on Vertex AI is sent ``generateAudio: true`` unless ``generate_audio``
    says otherwise (the cost is the catalogue's price, which is the price with audio).
``poll_interval``
    seconds before the first poll (default 5); each next wait is 1.5 times longer, up to 20 s
    (or ``poll_interval`` when larger).
``download``
    True (default): the video's bytes in ``response.data``; False: return when the operation is
    done, with the video's URI in ``response.url`` and no bytes.
``timeout``
    seconds for the whole job: creation, every poll and the download, with their retries (a
    :class:`~core.llms.interfaces.endpoint.Timeouts`: its ``total``). The earlier of it and
    ``ctx.deadline`` wins; with neither, a job gets :data:`DEFAULT_JOB_TIMEOUT`.
``read_timeout``, ``model``
    as for chat calls.

An operation that ends with an ``error``, or whose video the safety filters removed
(``raiMediaFilteredCount``), raises :class:`~core.llms.interfaces.errors.VideoJobFailedError`
(``job_id``: the operation's name; ``code``: Google's status name, or ``rai_media_filtered``);
it is not retried. A job still running at the deadline raises
:class:`~core.llms.interfaces.errors.RequestTimeoutError` whose message names the operation and
whose ``job_id`` attribute holds it; so does any other error once the operation exists.
Cancelling the call stops the polling at once; the operation keeps running on the service.

``stream_video`` yields an :class:`LLMVideoChunk` after the creation and after each poll whose
progress changed (``status`` ``"running"``; ``progress`` from the operation's metadata when it
reports one, else 0), then one ``final`` chunk with the bytes and the whole
:class:`LLMVideoResponse`. ``cost``: the catalogue's price per second of video times the
duration asked (or the default 8 s).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from ....interfaces.errors import InvalidInputError, ResponseParsingError, VideoJobFailedError
from ....interfaces.llm_interfaces import WireResponse
from ....interfaces.media import LLMVideoChunk, LLMVideoResponse
from ...base.media_jobs import POLL_BACKOFF as POLL_BACKOFF
from ...base.media_jobs import JobState, MediaJob, final_response, run_job, too_large_hint, video_body
from ._common import (
    TRANSPORT_PARAMS,
    MediaModel,
    call_params,
    check_prompt,
    choice,
    decode_base64,
    flag,
    image_input,
    integer,
    is_vertex,
    status_of,
    text_param,
    transport,
    vertex_only,
)

if TYPE_CHECKING:
    from ....interfaces.context import RequestContext

__all__ = [
    "DEFAULT_JOB_TIMEOUT",
    "DEFAULT_POLL_INTERVAL",
    "MAX_POLL_INTERVAL",
    "VEO_MODELS",
    "VeoRules",
    "generate_video",
    "stream_video",
]

logger = logging.getLogger("core.llms.media")


@dataclass(frozen=True, slots=True)
class VeoRules:
    """What the Veo models of one name prefix take."""

    durations: tuple[int, ...]
    resolutions: tuple[str, ...] = ()
    aspect_ratios: tuple[str, ...] = ("16:9", "9:16")
    #: the clip length when none is asked for (the service's default).
    default_duration: int = 8


#: model name prefix → its rules (the longest matching prefix wins; a model not listed takes
#: :data:`_ANY` and the service decides).
VEO_MODELS: Mapping[str, VeoRules] = {
    "veo-3": VeoRules(durations=(4, 6, 8), resolutions=("720p", "1080p")),
    "veo-2": VeoRules(durations=(5, 6, 7, 8)),
}
_ANY = VeoRules(durations=tuple(range(1, 61)), resolutions=("720p", "1080p"))
PERSON_GENERATION = ("allow_all", "allow_adult", "dont_allow")
#: seconds before the first poll, unless ``poll_interval`` says otherwise.
DEFAULT_POLL_INTERVAL = 5.0
#: each wait between polls is :data:`POLL_BACKOFF` times longer than the one before, up to this
#: many seconds (or ``poll_interval``, when it is longer).
MAX_POLL_INTERVAL = 20.0
#: the whole job's time limit when the call has neither ``timeout`` nor ``ctx.deadline``.
DEFAULT_JOB_TIMEOUT = 20 * 60.0
_MAX_SEED = 4_294_967_295
_MAX_NEGATIVE_PROMPT = 10_000
#: an operation name the service gives: path segments of safe characters, no ``..``.
_OPERATION_NAME = re.compile(r"^(?!.*(?:^|/)\.\.?(?:/|$))[A-Za-z0-9._~-]+(?:/[A-Za-z0-9._~-]+)*$")
_FILTERED_CODE = "rai_media_filtered"

_PARAMS = (
    frozenset(
        {
            "duration_seconds",
            "aspect_ratio",
            "resolution",
            "image",
            "negative_prompt",
            "person_generation",
            "enhance_prompt",
            "seed",
            "generate_audio",
            "output_gcs_uri",
            "poll_interval",
            "download",
        }
    )
    | TRANSPORT_PARAMS
)
_ALIASES = {"seconds": "duration_seconds", "duration": "duration_seconds", "input_reference": "image"}
_VERTEX_ONLY = frozenset({"seed", "generate_audio", "output_gcs_uri"})
#: the wait between polls (a module attribute, so that tests can watch the waits).
_sleep = asyncio.sleep


def rules_for(model: MediaModel) -> VeoRules:
    """The rules of the model's name (its wire id first, then its catalogue name)."""
    for name in (model.metadata.model_id, model.name):
        found = [prefix for prefix in VEO_MODELS if name.startswith(prefix)]
        if found:
            return VEO_MODELS[max(found, key=len)]
    return _ANY


@dataclass(slots=True)
class _Call:
    """One video call's checked parameters and its request body."""

    payload: dict[str, Any]
    model_id: str
    model_fixed: bool
    seconds: int
    poll_interval: float
    download: bool
    timeout: float | None
    read_timeout: float | None


def _refuse(model: MediaModel, message: str, hint: str | None = None) -> InvalidInputError:
    return InvalidInputError(message, provider=model.provider, model=model.name, hint=hint)


def _seconds(model: MediaModel, rules: VeoRules, value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value not in rules.durations:
        shown = repr(value)[:40] if isinstance(value, int | float | str) else f"<{type(value).__name__}>"
        raise _refuse(
            model,
            f"duration_seconds={shown} is not a clip length {model.name} makes",
            hint=f"allowed: {', '.join(map(str, rules.durations))} (seconds)",
        )
    return value


async def _prepare(model: MediaModel, prompt: Any, params: Mapping[str, Any]) -> _Call:
    """Check everything and build the request body (nothing is sent)."""
    rules = rules_for(model)
    merged = call_params(model, params, _PARAMS, call="get_video", aliases=_ALIASES)
    prompt = check_prompt(model, prompt)
    vertex_only(model, merged, _VERTEX_ONLY)
    instance: dict[str, Any] = {"prompt": prompt}
    parameters: dict[str, Any] = {"sampleCount": 1}
    seconds = rules.default_duration
    if "duration_seconds" in merged:
        seconds = parameters["durationSeconds"] = _seconds(model, rules, merged["duration_seconds"])
    if "aspect_ratio" in merged:
        parameters["aspectRatio"] = choice(model, "aspect_ratio", merged["aspect_ratio"], rules.aspect_ratios)
    if "resolution" in merged:
        if not rules.resolutions:
            raise _refuse(
                model, f"resolution is not supported by {model.name} (720p only)", "use a veo-3 model"
            )
        parameters["resolution"] = choice(model, "resolution", merged["resolution"], rules.resolutions)
    if "negative_prompt" in merged:
        parameters["negativePrompt"] = text_param(
            model, "negative_prompt", merged["negative_prompt"], _MAX_NEGATIVE_PROMPT
        )
    if "person_generation" in merged:
        parameters["personGeneration"] = choice(
            model, "person_generation", merged["person_generation"], PERSON_GENERATION
        )
    if "enhance_prompt" in merged:
        parameters["enhancePrompt"] = flag(model, "enhance_prompt", merged["enhance_prompt"])
    if "seed" in merged:
        parameters["seed"] = integer(model, "seed", merged["seed"], 0, _MAX_SEED)
    if "generate_audio" in merged:
        parameters["generateAudio"] = flag(model, "generate_audio", merged["generate_audio"])
    elif is_vertex(model) and rules is VEO_MODELS["veo-3"]:
        parameters["generateAudio"] = True  # Vertex AI wants it said for Veo 3 (the audio price is the row's)
    if "output_gcs_uri" in merged:
        uri = text_param(model, "output_gcs_uri", merged["output_gcs_uri"], 2_000)
        if not uri.startswith("gs://"):
            raise _refuse(
                model, "output_gcs_uri must be a gs:// URI", "e.g. output_gcs_uri='gs://bucket/folder'"
            )
        parameters["storageUri"] = uri
    poll_interval = merged.get("poll_interval", DEFAULT_POLL_INTERVAL)
    if (
        isinstance(poll_interval, bool)
        or not isinstance(poll_interval, int | float)
        or not 0 < poll_interval <= 600
    ):
        raise _refuse(
            model, "poll_interval must be a number of seconds above 0, at most 600", "e.g. poll_interval=5"
        )
    download = flag(model, "download", merged.get("download", True))
    how = transport(model, merged)
    if "image" in merged:
        instance["image"] = await image_input(model, "image", merged["image"])
    payload = {"instances": [instance], "parameters": parameters}
    return _Call(
        payload,
        how.model_id,
        how.model_fixed,
        seconds,
        float(poll_interval),
        download,
        how.total_timeout,
        how.read_timeout,
    )


# -- the operation -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Video:
    """The finished operation's video: bytes, or where it is."""

    data: bytes | None
    uri: str | None
    media_type: str


class _Job(MediaJob[_Call]):
    """One Veo operation: ``:predictLongRunning``, its polls, the video's download."""

    model: MediaModel
    default_timeout = DEFAULT_JOB_TIMEOUT
    max_poll_interval = MAX_POLL_INTERVAL

    noun = "video operation"
    deadline_word = "by"
    stopped = "video operation %s: the call stopped before it was done; it keeps running on %s"

    def progress_note(self, status: str | None, progress: float | None) -> str:
        return f"; {progress:.0%} done" if progress else ""

    async def start(self) -> JobState:
        wire = await self.send("predict_long_running", self.call.payload)
        self.endpoint, self.request_id = wire.endpoint, wire.request_id
        state = self.read(wire)
        logger.debug("video operation %s started on %s", self.id, wire.endpoint)
        return state

    async def poll(self) -> JobState:
        assert self.id is not None
        if is_vertex(self.model):
            return self.read(await self.send("operation", {"operationName": self.id}))
        return self.read(await self.send("operation", {}, method="GET", path="/" + quote(self.id, safe="/")))

    def read(self, wire: WireResponse) -> JobState:
        """An operation object → its state (done, progress 0.0-1.0; why it made no video)."""
        data = wire.data
        if not isinstance(data, dict):
            raise self._bad(wire, f"a video operation that is a JSON {type(data).__name__}")
        if self.id is None:
            name = data.get("name")
            if not isinstance(name, str) or len(name) > 500 or not _OPERATION_NAME.match(name):
                raise self._bad(wire, "a video operation without a usable name")
            self.id = name
        done = data.get("done", False)
        if not isinstance(done, bool):
            raise self._bad(wire, "a video operation whose 'done' is not true or false")
        if done or "error" in data:
            return JobState("done", 1.0 if done else 0.0, True, self.failed(data, wire), data=data, wire=wire)
        metadata = data.get("metadata")
        progress = metadata.get("progressPercent") if isinstance(metadata, dict) else None
        if isinstance(progress, bool) or not isinstance(progress, int | float) or not math.isfinite(progress):
            progress = 0
        return JobState("running", min(max(progress / 100.0, 0.0), 1.0))

    @staticmethod
    def _bad(wire: WireResponse, what: str) -> ResponseParsingError:
        return ResponseParsingError(
            f"{wire.endpoint} answered {what}",
            endpoint=wire.endpoint,
            status=wire.status,
            request_id=wire.request_id,
        )

    def failed(self, data: dict[str, Any], wire: WireResponse) -> VideoJobFailedError | None:
        """The error of a finished operation that made no video, or None."""
        error = data.get("error")
        if error is not None:
            error = error if isinstance(error, dict) else {}
            _, name = status_of(error)
            message = " ".join(str(error.get("message") or "no reason given").split())[:500]
            return VideoJobFailedError(
                f"video operation {self.id} failed: {message}",
                job_id=self.id,
                code=name or "failed",
                endpoint=wire.endpoint,
                request_id=wire.request_id,
                body=error or None,
                hint="the prompt or the image was refused: change it"
                if name in ("INVALID_ARGUMENT", "FAILED_PRECONDITION")
                else "the operation failed on the provider; a new job may succeed",
            )
        response = data.get("response")
        response = response if isinstance(response, dict) else {}
        inner = response.get("generateVideoResponse")
        body = inner if isinstance(inner, dict) else response
        filtered = body.get("raiMediaFilteredCount")
        if _samples(body) or not (type(filtered) is int and filtered > 0):
            return None
        reasons = body.get("raiMediaFilteredReasons")
        reason = reasons[0] if isinstance(reasons, list) and reasons and isinstance(reasons[0], str) else ""
        return VideoJobFailedError(
            f"video operation {self.id} made no video: the provider's safety filters removed it"
            + (f" ({' '.join(reason.split())[:300]})" if reason else ""),
            job_id=self.id,
            code=_FILTERED_CODE,
            endpoint=wire.endpoint,
            request_id=wire.request_id,
            hint="change the prompt (or person_generation, or the image)",
        )

    def video(self, data: Mapping[str, Any], wire: WireResponse) -> _Video:
        """The video of a finished operation."""
        response = data.get("response")
        response = response if isinstance(response, dict) else {}
        inner = response.get("generateVideoResponse")
        samples = _samples(inner if isinstance(inner, dict) else response)
        if not samples:
            raise self._bad(wire, f"a finished video operation ({self.id}) without a video")
        sample = samples[0]
        inner_video = sample.get("video")
        video: dict[str, Any] = inner_video if isinstance(inner_video, dict) else sample
        mime = video.get("mimeType") or video.get("encoding")
        media_type = mime if isinstance(mime, str) and mime.startswith("video/") else "video/mp4"
        encoded = video.get("bytesBase64Encoded") or video.get("encodedVideo")
        if encoded is not None:
            fields = {"endpoint": wire.endpoint, "status": wire.status, "request_id": wire.request_id}
            return _Video(decode_base64(encoded, "the operation's video bytes", **fields), None, media_type)
        uri = video.get("uri") or video.get("gcsUri")
        if not isinstance(uri, str) or not uri or len(uri) > 4_000:
            raise self._bad(wire, f"a finished video operation ({self.id}) without the video's bytes or URI")
        return _Video(None, _without_key(uri), media_type)

    async def finish(self, state: JobState) -> LLMVideoResponse:
        assert state.wire is not None
        video = self.video(state.data, state.wire)
        body, url, media_type = video.data, video.uri, video.media_type
        if body is None and self.call.download and url is not None:
            path = _file_path(url)
            if path is not None:
                with too_large_hint():
                    wire = await self.send(
                        "operation", {}, method="GET", path=path, headers={"Accept": "*/*"}
                    )
                body, media_type = video_body(wire)
        return LLMVideoResponse(
            model=self.model.name,
            provider=self.model.provider,
            data=body,
            url=url,
            media_type=media_type,
            duration_seconds=float(self.call.seconds),
            cost=self.model.metadata.pricing.media_cost(video_seconds=self.call.seconds),
            endpoint=self.endpoint,
            request_id=self.request_id,
            job_id=self.id,
        )


def _samples(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The generated videos of an operation's response (the Gemini API's ``generatedSamples``,
    Vertex AI's ``videos``; ``predictions`` taken too)."""
    for key in ("generatedSamples", "videos", "predictions"):
        items = body.get(key)
        if isinstance(items, list):
            return [item for item in items if isinstance(item, dict)]
    return []


def _without_key(uri: str) -> str:
    """``uri`` without a ``key`` query parameter: the credential goes in a header, never in a URL
    that is kept (``response.url``) or sent."""
    parts = urlsplit(uri)
    if "key" not in parts.query.lower():
        return uri
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() != "key"]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def _file_path(uri: str) -> str | None:
    """The path (and query) to download a Gemini API file URI from the endpoint, or None for a URI
    that is not one (a ``gs://`` location)."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        return None
    start = parts.path.find("/files/")
    if start < 0:
        return None
    path = parts.path[start:]
    if ".." in path.split("/"):
        return None
    query = parts.query if "alt=" in parts.query else "&".join(q for q in (parts.query, "alt=media") if q)
    return f"{quote(path, safe='/:')}?{query}"


async def generate_video(
    model: MediaModel, prompt: str, ctx: RequestContext | None, params: dict[str, Any]
) -> LLMVideoResponse:
    """Start a Veo operation, wait for it, download the video (see the module docstring)."""
    return await final_response(stream_video(model, prompt, ctx, params))


def stream_video(
    model: MediaModel, prompt: str, ctx: RequestContext | None, params: dict[str, Any]
) -> AsyncIterator[LLMVideoChunk]:
    """Start a Veo operation and yield its progress; the final chunk carries the video."""
    return run_job(_Job, model, ctx, lambda: _prepare(model, prompt, params), lambda seconds: _sleep(seconds))
