"""Sending a response with a fault applied: delays, drops, stalls, broken and truncated bodies.

The wire content (bodies, SSE events) comes ready-made from ``openai_wire``; this module only
decides what reaches the socket and when. See ``faults`` for what each fault field means.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import socket
import struct
from typing import Any

from aiohttp import web

from .faults import Fault
from .hosts import OPENAI_FLAVOR, HostFlavor
from .openai_wire import (
    DONE_EVENT,
    StreamEvents,
    host_error_body,
    malformed_body,
    malformed_event,
    status_error_body,
)

__all__ = ["drop_connection", "fault_error_body", "send_body", "send_bytes", "send_json", "send_stream"]

log = logging.getLogger("core.llms.simulator")

_JSON = "application/json"
_SSE = "text/event-stream; charset=utf-8"
#: seconds a reset waits after writing, so what was sent reaches the client before the RST
#: (a peer's kernel may discard unread data when the reset arrives).
_RESET_SETTLE = 0.02
_LINGER_ZERO = struct.pack("ii", 1, 0)


def drop_connection(request: web.Request, *, reset: bool = False) -> web.StreamResponse:
    """Close the TCP connection under the request abruptly (FIN), or with ``reset`` abort it with
    a TCP reset (RST, via ``SO_LINGER`` 0); the returned response is never sent."""
    transport = request.transport
    if transport is not None:
        if reset:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
            transport.abort()
        else:
            transport.close()
    return web.Response(status=200)


async def _drop_after_writing(request: web.Request, fault: Fault) -> None:
    """Drop the connection after part of a response was written (see ``drop_connection``)."""
    if fault.reset:
        await asyncio.sleep(_RESET_SETTLE)
    drop_connection(request, reset=fault.reset)


def fault_error_body(
    fault: Fault, flavor: HostFlavor = OPENAI_FLAVOR, *, in_stream: bool = False
) -> dict[str, Any]:
    """The error a fault reports: its dict ``body``, else the host's error body for
    :attr:`Fault.error_status` with the fault's ``message`` and ``error_code`` (in a stream, with
    ``status_code`` when the host adds it)."""
    if isinstance(fault.body, dict):
        return fault.body
    status = fault.error_status
    body = status_error_body(status)
    err = body["error"]
    if fault.message is not None:
        err["message"] = fault.message
    if fault.error_code is not None:
        err["code"] = fault.error_code
    body = host_error_body(body, status, flavor)
    if in_stream and flavor.error_status_code:
        body["error"]["status_code"] = status
    return body


def send_json(status: int, body: Any, headers: dict[str, str]) -> web.Response:
    """A JSON response; a str ``body`` is sent as is (typed JSON, HTML or plain text by its first
    character, like an upstream proxy's error page)."""
    if isinstance(body, str):
        start = body.lstrip()[:1]
        kind = _JSON if start in ("{", "[") else "text/html" if start == "<" else "text/plain"
        return web.Response(status=status, body=body.encode(), headers={**headers, "Content-Type": kind})
    data = json.dumps(body, separators=(",", ":")).encode()
    return web.Response(status=status, body=data, headers={**headers, "Content-Type": _JSON})


async def send_body(
    request: web.Request,
    data: bytes,
    headers: dict[str, str],
    fault: Fault | None,
    completion_id: str,
    flavor: HostFlavor = OPENAI_FLAVOR,
) -> web.StreamResponse:
    """A non-streaming 200 answer, with the fault's body-level effects (the drop and delay were
    handled before): broken JSON, in-band error, stall after the headers, truncated body."""
    if fault is None:
        return web.Response(status=200, body=data, headers={**headers, "Content-Type": _JSON})
    if fault.error_event:
        data = json.dumps(fault_error_body(fault, flavor), separators=(",", ":")).encode()
    elif fault.malformed_json:
        data = malformed_body(completion_id)
    return await send_bytes(request, data, _JSON, headers, fault)


async def send_bytes(
    request: web.Request, data: bytes, content_type: str, headers: dict[str, str], fault: Fault | None
) -> web.StreamResponse:
    """A 200 answer of ``data`` (any content type), stalled after the headers or cut short
    (half the announced body, then the connection closes) by the fault; its other effects are
    the caller's."""
    headers = {**headers, "Content-Type": content_type}
    if fault is None or not (fault.stall or fault.truncate_stream):
        return web.Response(status=200, body=data, headers=headers)
    resp = web.StreamResponse(status=200, headers=headers)
    resp.content_length = len(data)
    try:
        await resp.prepare(request)
        if fault.stall:
            await asyncio.sleep(fault.stall)
        if fault.truncate_stream:
            await resp.write(data[: len(data) // 2])
            drop_connection(request)
            return resp
        await resp.write(data)
        await resp.write_eof()
    except ConnectionError:
        log.debug("simulator: client went away during a non-streaming answer")
    return resp


async def send_stream(
    request: web.Request,
    events: StreamEvents,
    headers: dict[str, str],
    fault: Fault | None,
    *,
    completion_id: str,
    chunk_delay: float,
    flavor: HostFlavor = OPENAI_FLAVOR,
) -> web.StreamResponse:
    """A 200 server-sent-events stream of ``events``, with the fault's stream effects.

    "The first chunk" is the head (Azure's filter chunk, the role chunk) plus the first content or
    tool-call delta: faults that act "after the first chunk" act once the caller has seen content.
    """
    resp = web.StreamResponse(
        status=200, headers={**headers, "Content-Type": _SSE, "Cache-Control": "no-cache"}
    )
    if fault is not None and fault.truncate_stream:
        resp.force_close()
    try:
        await resp.prepare(request)
        if fault is None:
            for event in (*events.head, *events.body, *events.tail):
                await _write(resp, event, chunk_delay)
            await resp.write_eof()
            return resp
        if fault.omit_done:
            events.tail = [e for e in events.tail if not e.endswith(DONE_EVENT)]
        await _faulty_stream(request, resp, events, fault, completion_id, chunk_delay, flavor)
    except ConnectionError:
        log.debug("simulator: client went away during a stream")
    return resp


async def _write(resp: web.StreamResponse, event: bytes, chunk_delay: float) -> None:
    if chunk_delay:
        await asyncio.sleep(chunk_delay)
    await resp.write(event)


async def _faulty_stream(
    request: web.Request,
    resp: web.StreamResponse,
    events: StreamEvents,
    fault: Fault,
    completion_id: str,
    chunk_delay: float,
    flavor: HostFlavor,
) -> None:
    if fault.drop is not None:  # "before_headers" was handled by the route
        if fault.drop == "after_first_chunk":
            for event in (*events.head, *events.body[:1]):
                await _write(resp, event, chunk_delay)
        await _drop_after_writing(request, fault)
        return
    early = fault.at == "before_first_chunk" and fault.after_chunks is None
    if early:
        rest = [*events.head, *events.body]
    else:
        sent = 1 if fault.after_chunks is None else fault.after_chunks
        for event in (*events.head, *events.body[:sent]):
            await _write(resp, event, chunk_delay)
        rest = events.body[sent:]
    if fault.stall:
        await asyncio.sleep(fault.stall)
    if fault.error_event:
        await resp.write(events.error_event(fault_error_body(fault, flavor, in_stream=True)))
        await resp.write_eof()
        return
    if fault.malformed_json:
        await resp.write(malformed_event(completion_id))
    if fault.truncate_stream:
        if fault.after_chunks is not None:
            keep = 0
        else:
            keep = 0 if early else max(0, math.ceil(len(events.body) / 2) - 1)
        for event in rest[:keep]:
            await _write(resp, event, chunk_delay)
        await resp.write_eof()
        return
    for event in (*rest, *events.tail):
        await _write(resp, event, chunk_delay)
    await resp.write_eof()
