"""Anthropic's Message Batches API. Registered by :meth:`.routes.ProviderRoutes.add_to`.

Routes (Anthropic's auth, ``anthropic-version`` and error bodies, as the Messages route; each
request recorded and given one fault by :meth:`~.routes.ProviderRoutes.serve`)::

    POST   /v1/messages/batches                 create: {"requests": [{"custom_id", "params"}]}
    GET    /v1/messages/batches                 list, newest first (limit, before_id, after_id)
    GET    /v1/messages/batches/{id}            the batch (each GET moves it on, see below)
    GET    /v1/messages/batches/{id}/results    its results, JSON Lines, once it ended
    POST   /v1/messages/batches/{id}/cancel     in_progress → canceling
    DELETE /v1/messages/batches/{id}            an ended batch only

The creation is validated as Anthropic does it: a non-empty ``requests`` list (at most 100,000),
each with a ``custom_id`` of 1-64 ``[a-zA-Z0-9_-]`` unique in the batch and a ``params`` object;
a bad one refuses the whole batch (400 ``invalid_request_error``). Each ``params`` is checked as
a Messages request only when it runs: an invalid one (or one asking to stream) ends ``errored``
with the ``invalid_request_error`` the Messages route would have answered.

Progress is deterministic, driven by the batch's own ``GET``: the first one after the creation
runs the first half of the requests (the batch stays ``in_progress``, every request counted as
``processing``, as Anthropic counts until the end), the second runs the rest and ends it
(``ended_at``, ``results_url``, the final ``request_counts``). A cancellation makes the batch
``canceling``; its next ``GET`` ends it, the requests not yet run ``canceled``. Answers are
generated like the Messages route's (tools, thinking with its signature, stop sequences, usage
with the prompt cache's reads and writes).

Faults: the creation takes one fault like any request; then each request of the batch takes the
next one, in order (``sim.enqueue(Fault(), Fault(status=529))``: the creation goes through, the
first request ends ``errored`` with ``overloaded_error``). An error status or an ``error_event``
makes the request ``errored`` with that error; other faults mean nothing inside a batch. A user
message holding :data:`EXPIRE_TRIGGER` ends ``expired``. The results' download takes its own
fault: a ``drop`` cuts it after the first line (``before_first_chunk``: before any),
``truncate_stream`` ends it cleanly half-way.
"""

from __future__ import annotations

import datetime
import itertools
import json
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .anthropic_request import anthropic_error, parse_messages_request
from .anthropic_routes import AnthropicWire
from .anthropic_wire import MessageContext, PromptCache, fault_error, message_body
from .faults import Fault
from .generation import SchemaError, generate_answer
from .openai_wire import Rejection
from .responder import drop_connection, send_body

if TYPE_CHECKING:
    from .routes import ProviderRoutes

__all__ = ["EXPIRE_TRIGGER", "MAX_BATCH_REQUESTS", "POLLS_TO_END", "add_routes"]

#: in a request's messages: the request ends ``expired`` (it did not run within 24 hours).
EXPIRE_TRIGGER = "[[batch-expired]]"
#: the most requests one batch may hold.
MAX_BATCH_REQUESTS = 100_000
#: the ``GET`` of a batch that ends it (the first ones run part of it).
POLLS_TO_END = 2

_CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}\Z")
_PATTERN = "^[a-zA-Z0-9_-]{1,64}$"
_ENTRY_FIELDS = frozenset({"custom_id", "params"})
_JSONL = "application/binary"
_DAY = datetime.timedelta(days=1)
#: what a route's action answers: a JSON object, or a response it wrote itself.
_Answer = dict[str, Any] | web.StreamResponse
#: a route's action: ``act(request, body, headers, fault)``.
_Act = Callable[[web.Request, Any, dict[str, str], "Fault | None"], Awaitable[_Answer]]


def _time(moment: datetime.datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _reject(message: str, status: int = 400, kind: str = "invalid_request_error") -> Rejection:
    return Rejection(status, anthropic_error(message, kind))


@dataclass(slots=True)
class _Entry:
    """One request of a batch: its id, its params, its fault and (once run) its result."""

    custom_id: str
    params: dict[str, Any]
    fault: Fault | None
    result: dict[str, Any] | None = None


@dataclass(slots=True)
class _Batch:
    id: str
    number: int
    entries: list[_Entry]
    created: datetime.datetime = field(default_factory=_now)
    status: str = "in_progress"
    polls: int = 0
    done: int = 0
    ended: datetime.datetime | None = None
    cancel_initiated: datetime.datetime | None = None

    def counts(self) -> dict[str, int]:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if self.status != "ended":
            counts["processing"] = len(self.entries)
            return counts
        for entry in self.entries:
            kind = entry.result["type"] if entry.result is not None else "canceled"
            counts[kind] += 1
        return counts

    def body(self, origin: str) -> dict[str, Any]:
        ended = self.status == "ended"
        return {
            "id": self.id,
            "type": "message_batch",
            "processing_status": self.status,
            "request_counts": self.counts(),
            "ended_at": _time(self.ended),
            "created_at": _time(self.created),
            "expires_at": _time(self.created + _DAY),
            "archived_at": None,
            "cancel_initiated_at": _time(self.cancel_initiated),
            "results_url": f"{origin}/v1/messages/batches/{self.id}/results" if ended else None,
        }


class _Batches:
    """The batches of one simulator, and how their requests run."""

    def __init__(self, routes: ProviderRoutes) -> None:
        self.routes = routes
        self.batches: dict[str, _Batch] = {}
        self.cache = PromptCache()
        self._numbers = itertools.count(1)
        self._call_ids = itertools.count(1)

    def next_call_id(self) -> str:
        return f"toolu_sim_b{next(self._call_ids):04d}"

    def create(self, body: Any) -> _Batch:
        entries = _entries(body)
        number = next(self._numbers)
        faults = self.routes.faults
        batch = _Batch(
            f"msgbatch_sim_{number:06d}",
            number,
            [_Entry(custom_id, params, faults.next()) for custom_id, params in entries],
        )
        self.batches[batch.id] = batch
        return batch

    def get(self, batch_id: str) -> _Batch:
        batch = self.batches.get(batch_id)
        if batch is None:
            raise _reject(f"Message batch {batch_id[:80]!r} not found", 404, "not_found_error")
        return batch

    def advance(self, batch: _Batch) -> None:
        """One ``GET`` of the batch: run part of it, or end it (see the module docs)."""
        if batch.status == "ended":
            return
        if batch.status == "canceling":
            self._end(batch)
            return
        batch.polls += 1
        total = len(batch.entries)
        upto = total if batch.polls >= POLLS_TO_END else math.ceil(total * batch.polls / POLLS_TO_END)
        for index in range(batch.done, upto):
            batch.entries[index].result = self._run(batch, index)
        batch.done = max(batch.done, upto)
        if batch.done >= total:
            self._end(batch)

    def _end(self, batch: _Batch) -> None:
        for entry in batch.entries[batch.done :]:
            entry.result = {"type": "canceled"}
        batch.status = "ended"
        batch.ended = _now()

    def _run(self, batch: _Batch, index: int) -> dict[str, Any]:
        """One request's result, as the Messages route would have answered it."""
        entry = batch.entries[index]
        if EXPIRE_TRIGGER in json.dumps(entry.params.get("messages"), ensure_ascii=False):
            return {"type": "expired"}
        fault = entry.fault
        if fault is not None and (fault.error_event or (fault.status is not None and fault.status >= 400)):
            return _errored(fault_error(fault))
        try:
            req = parse_messages_request(entry.params, context_chars=self.routes._context_chars)
            if req.chat.stream:
                raise _reject("stream: batch requests cannot be streamed")
            answer = generate_answer(
                req.chat,
                echo_words=self.routes._echo_words,
                next_call_id=self.next_call_id,
                reasoning=req.thinking,
            )
        except Rejection as rejection:
            return _errored(rejection.body)
        except SchemaError as exc:
            return _errored(anthropic_error(f"Invalid schema: {exc}"))
        read, written, one_hour = self.cache.use(req.cache_points)
        ctx = MessageContext(
            f"msg_sim_b{batch.number:03d}_{index:06d}", req.chat.model, read, written, one_hour
        )
        return {"type": "succeeded", "message": message_body(answer, req, ctx)}


def _errored(envelope: dict[str, Any]) -> dict[str, Any]:
    return {"type": "errored", "error": {**envelope, "request_id": None}}


def _entries(body: Any) -> list[tuple[str, dict[str, Any]]]:
    """The ``(custom_id, params)`` of a creation body, checked (a :class:`Rejection` otherwise)."""
    if not isinstance(body, dict):
        raise _reject("There was an error parsing the body of your request (expected a JSON object)")
    extra = sorted(set(body) - {"requests"})
    if extra:
        raise _reject(f"{extra[0]}: Extra inputs are not permitted")
    requests = body.get("requests")
    if requests is None:
        raise _reject("requests: Field required")
    if not isinstance(requests, list):
        raise _reject("requests: Input should be a valid list")
    if not requests:
        raise _reject("requests: List should have at least 1 item after validation, not 0")
    if len(requests) > MAX_BATCH_REQUESTS:
        raise _reject(
            f"requests: List should have at most {MAX_BATCH_REQUESTS} items after validation, "
            f"not {len(requests)}"
        )
    seen: set[str] = set()
    out: list[tuple[str, dict[str, Any]]] = []
    for i, item in enumerate(requests):
        if not isinstance(item, dict):
            raise _reject(f"requests.{i}: Input should be a valid dictionary")
        extra = sorted(set(item) - _ENTRY_FIELDS)
        if extra:
            raise _reject(f"requests.{i}.{extra[0]}: Extra inputs are not permitted")
        custom_id = item.get("custom_id")
        if custom_id is None:
            raise _reject(f"requests.{i}.custom_id: Field required")
        if not isinstance(custom_id, str) or not _CUSTOM_ID.match(custom_id):
            raise _reject(f"requests.{i}.custom_id: String should match pattern '{_PATTERN}'")
        if custom_id in seen:
            raise _reject(
                f"requests.{i}.custom_id: Duplicate custom_id '{custom_id}': custom_ids must be unique"
            )
        seen.add(custom_id)
        params = item.get("params")
        if params is None:
            raise _reject(f"requests.{i}.params: Field required")
        if not isinstance(params, dict):
            raise _reject(f"requests.{i}.params: Input should be a valid dictionary")
        out.append((custom_id, params))
    return out


def _check_version(request: web.Request) -> None:
    if not request.headers.get("anthropic-version"):
        raise _reject("anthropic-version: header is required")


def _origin(request: web.Request) -> str:
    return str(request.url.origin())


def _lines(batch: _Batch) -> list[bytes]:
    return [
        json.dumps(
            {"custom_id": e.custom_id, "result": e.result or {"type": "canceled"}},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        + b"\n"
        for e in batch.entries
    ]


async def _send_results(
    request: web.Request, batch: _Batch, headers: dict[str, str], fault: Fault | None
) -> web.StreamResponse:
    """The results file, one write per line, with the fault's cut (see the module docs)."""
    lines = _lines(batch)
    resp = web.StreamResponse(status=200, headers={**headers, "Content-Type": _JSONL})
    if fault is not None and fault.truncate_stream:
        lines = lines[: len(lines) // 2]
        resp.force_close()
    try:
        await resp.prepare(request)
        if fault is not None and fault.drop is not None:
            if fault.drop == "after_first_chunk":
                await resp.write(lines[0])
            drop_connection(request, reset=fault.reset)
            return resp
        for line in lines:
            await resp.write(line)
        await resp.write_eof()
    except ConnectionError:
        pass  # the client went away
    return resp


def _list(store: _Batches, request: web.Request) -> dict[str, Any]:
    query = request.query
    try:
        limit = int(query.get("limit", "20"))
    except ValueError:
        raise _reject("limit: Input should be a valid integer") from None
    if not 1 <= limit <= 1000:
        raise _reject("limit: Input should be between 1 and 1000")
    newest_first = list(reversed(store.batches.values()))
    ids = [b.id for b in newest_first]
    after, before = query.get("after_id"), query.get("before_id")
    if after is not None and before is not None:
        raise _reject("pass only one of before_id and after_id")
    if after is not None:
        start = ids.index(after) + 1 if after in ids else len(ids)
        page = newest_first[start : start + limit]
        has_more = start + limit < len(ids)
    elif before is not None:
        end = ids.index(before) if before in ids else 0
        page = newest_first[max(0, end - limit) : end]
        has_more = end - limit > 0
    else:
        page = newest_first[:limit]
        has_more = limit < len(ids)
    origin = _origin(request)
    return {
        "data": [b.body(origin) for b in page],
        "has_more": has_more,
        "first_id": page[0].id if page else None,
        "last_id": page[-1].id if page else None,
    }


def add_routes(app: web.Application, routes: ProviderRoutes) -> None:
    """Add the Message Batches routes to ``app``."""
    wire = AnthropicWire(routes)
    store = _Batches(routes)

    def route(act: _Act, *, stream: bool = False) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.StreamResponse:
            async def produce(
                n: int, body: Any, headers: dict[str, str], fault: Fault | None
            ) -> web.StreamResponse:
                _check_version(request)
                answer = await act(request, body, headers, fault)
                if isinstance(answer, web.StreamResponse):
                    return answer
                data = json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode()
                return await send_body(request, data, headers, fault, str(answer.get("id", "")))

            return await routes.serve(request, "other", None, produce, stream=stream, wire=wire)

        return handler

    async def create(
        request: web.Request, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> _Answer:
        return store.create(body).body(_origin(request))

    async def listing(
        request: web.Request, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> _Answer:
        return _list(store, request)

    async def retrieve(
        request: web.Request, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> _Answer:
        batch = store.get(request.match_info["batch_id"])
        store.advance(batch)
        return batch.body(_origin(request))

    async def results(
        request: web.Request, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> _Answer:
        batch = store.get(request.match_info["batch_id"])
        if batch.status != "ended":
            raise _reject(
                f"Message batch {batch.id} has not ended yet: its results are available once its "
                "processing_status is 'ended'"
            )
        return await _send_results(request, batch, headers, fault)

    async def cancel(
        request: web.Request, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> _Answer:
        batch = store.get(request.match_info["batch_id"])
        if batch.status == "in_progress":
            batch.status = "canceling"
            batch.cancel_initiated = _now()
        return batch.body(_origin(request))

    async def delete(
        request: web.Request, body: Any, headers: dict[str, str], fault: Fault | None
    ) -> _Answer:
        batch = store.get(request.match_info["batch_id"])
        if batch.status != "ended":
            raise _reject(
                f"Message batch {batch.id} cannot be deleted while it is {batch.status}: cancel it and "
                "wait for it to end first"
            )
        del store.batches[batch.id]
        return {"id": batch.id, "type": "message_batch_deleted"}

    app.router.add_post("/v1/messages/batches", route(create))
    app.router.add_get("/v1/messages/batches", route(listing))
    app.router.add_get("/v1/messages/batches/{batch_id}", route(retrieve))
    app.router.add_delete("/v1/messages/batches/{batch_id}", route(delete))
    app.router.add_get("/v1/messages/batches/{batch_id}/results", route(results, stream=True))
    app.router.add_post("/v1/messages/batches/{batch_id}/cancel", route(cancel))
