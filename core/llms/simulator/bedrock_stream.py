"""Sending Bedrock answers with a fault applied: ``application/vnd.amazon.eventstream`` streams,
JSON bodies and binary objects (the S3 route).

Stream faults act as on the chat routes (see :mod:`.faults`), counted in frames:

* ``drop``: close (or, with ``reset``, reset) the connection right after the headers
  (``before_first_chunk``) or after ``messageStart`` and the first content delta;
* ``at`` / ``after_chunks``: where the faults below act (``after_chunks=N``: after
  ``messageStart`` and N content deltas);
* ``error_event``: an exception frame (``:message-type: exception``, ``:exception-type`` from
  :func:`~.bedrock_wire.exception_type_for`), then the stream ends (HTTP status 200);
* ``truncate_stream``: the stream ends without ``messageStop`` / ``metadata`` (or the last
  chunks), and the frame being sent is cut in half: the body ends inside a frame;
* ``malformed_json``: one frame whose CRCs are right but whose JSON payload is cut off, then the
  stream goes on;
* ``stall``: nothing for that many seconds, then the stream goes on;
* ``omit_done``: no effect (Bedrock streams have no end sentinel).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from typing import Any

from aiohttp import web

from .bedrock_wire import exception_type_for
from .eventstream_encoder import exception_message
from .faults import Fault
from .openai_wire import StreamEvents
from .responder import drop_connection, send_bytes

__all__ = ["EVENTSTREAM", "send_eventstream", "send_json_body"]

log = logging.getLogger("core.llms.simulator")

EVENTSTREAM = "application/vnd.amazon.eventstream"
_JSON = "application/json"
_RESET_SETTLE = 0.02


async def _write(resp: web.StreamResponse, frame: bytes, chunk_delay: float) -> None:
    if chunk_delay:
        await asyncio.sleep(chunk_delay)
    await resp.write(frame)


async def send_eventstream(
    request: web.Request,
    events: StreamEvents,
    headers: dict[str, str],
    fault: Fault | None,
    *,
    broken: bytes,
    chunk_delay: float,
) -> web.StreamResponse:
    """A 200 event stream of ``events`` with the fault's stream effects; ``broken`` is the frame a
    ``malformed_json`` fault sends."""
    resp = web.StreamResponse(status=200, headers={**headers, "Content-Type": EVENTSTREAM})
    if fault is not None and (fault.truncate_stream or fault.drop is not None):
        resp.force_close()
    try:
        await resp.prepare(request)
        if fault is None:
            for frame in (*events.head, *events.body, *events.tail):
                await _write(resp, frame, chunk_delay)
            await resp.write_eof()
            return resp
        await _faulty(request, resp, events, fault, broken, chunk_delay)
    except ConnectionError:
        log.debug("simulator: client went away during a Bedrock stream")
    return resp


async def _faulty(
    request: web.Request,
    resp: web.StreamResponse,
    events: StreamEvents,
    fault: Fault,
    broken: bytes,
    chunk_delay: float,
) -> None:
    if fault.drop is not None:  # "before_headers" was handled by the pipeline
        if fault.drop == "after_first_chunk":
            for frame in (*events.head, *events.body[:1]):
                await _write(resp, frame, chunk_delay)
        if fault.reset:
            await asyncio.sleep(_RESET_SETTLE)
        drop_connection(request, reset=fault.reset)
        return
    early = fault.at == "before_first_chunk" and fault.after_chunks is None
    if early:
        rest = [*events.head, *events.body]
    else:
        sent = 1 if fault.after_chunks is None else fault.after_chunks
        for frame in (*events.head, *events.body[:sent]):
            await _write(resp, frame, chunk_delay)
        rest = events.body[sent:]
    if fault.stall:
        await asyncio.sleep(fault.stall)
    if fault.error_event:
        await resp.write(exception_message(*exception_type_for(fault)))
        await resp.write_eof()
        return
    if fault.malformed_json:
        await resp.write(broken)
    if fault.truncate_stream:
        halfway = max(0, math.ceil(len(events.body) / 2) - 1)
        keep = 0 if fault.after_chunks is not None or early else halfway
        for frame in rest[:keep]:
            await _write(resp, frame, chunk_delay)
        following = [*rest[keep:], *events.tail]
        if following:
            await resp.write(following[0][: max(1, len(following[0]) // 2)])
        await resp.write_eof()
        return
    for frame in (*rest, *events.tail):
        await _write(resp, frame, chunk_delay)
    await resp.write_eof()


async def send_json_body(
    request: web.Request, body: dict[str, Any], headers: dict[str, str], fault: Fault | None
) -> web.StreamResponse:
    """A non-streamed 200 JSON answer with the fault's body effects: ``error_event`` answers the
    fault's Bedrock error (``{"message": ...}``) as the body, ``malformed_json`` half the JSON,
    ``stall`` waits after the headers, ``truncate_stream`` sends half the announced body and
    closes."""
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    if fault is not None and fault.error_event:
        data = json.dumps(exception_type_for(fault)[1], separators=(",", ":")).encode()
    elif fault is not None and fault.malformed_json:
        data = data[: len(data) // 2]
    return await send_bytes(request, data, _JSON, headers, fault)

