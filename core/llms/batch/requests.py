"""Batch input: every accepted request shape turned into a :class:`BatchRequest`, lazily.

Accepted items (mixed freely in one input):

* a :class:`BatchRequest`;
* a string (one user message) or a list of messages (anything ``get_answer`` takes);
* a dict with ``"messages"`` (or ``"prompt"``, one user message), optional ``"id"`` /
  ``"custom_id"``, ``"model"`` and ``"params"`` (a dict); every other key is a ``get_answer``
  keyword (``temperature``, ``max_tokens``, ``tools`` …);
* an OpenAI Batch API line: ``{"custom_id", "method", "url", "body": {"model", "messages", …}}``;
* an Anthropic Message Batches request: ``{"custom_id", "params": {"model", "messages", …}}``.

A whole input is an iterable or async iterable of items, or a path to a JSONL file (one item
per line; read line by line, so a million-line file is never held in memory).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from ..interfaces.context import RequestContext
from ..interfaces.errors import InvalidInputError
from .types import BatchRequest

__all__ = ["BatchInput", "aiter_items", "iter_items", "read_jsonl", "to_batch_request"]

#: what the runners accept as a whole input.
BatchInput = Iterable[Any] | AsyncIterable[Any] | str | os.PathLike[str]

_ID_KEYS = ("id", "custom_id")
_RESERVED = frozenset({"messages", "prompt", "id", "custom_id", "model", "params", "ctx"})


def to_batch_request(item: Any, where: str = "request") -> BatchRequest:
    """``item`` as a :class:`BatchRequest`; anything else raises :class:`InvalidInputError`
    naming ``where`` (the item's position or file line) and what was wrong."""
    if isinstance(item, BatchRequest):
        return item
    if isinstance(item, str | list | tuple):
        return BatchRequest(messages=item)
    if isinstance(item, Mapping):
        return _from_mapping(item, where)
    raise InvalidInputError(
        f"{where}: a batch request must be a BatchRequest, a string, a list of messages or a dict, "
        f"not {type(item).__name__}"
    )


def _from_mapping(item: Mapping[str, Any], where: str) -> BatchRequest:
    try:
        if "body" in item and "messages" not in item:  # an OpenAI Batch API line
            body = item["body"]
            if not isinstance(body, Mapping):
                raise InvalidInputError(f"{where}: 'body' must be a dict (an OpenAI batch line)")
            url = item.get("url")
            if url is not None and not str(url).endswith("chat/completions"):
                raise InvalidInputError(
                    f"{where}: only chat completion lines can run here, not url {str(url)[:60]!r}"
                )
            return _from_body(body, item.get("custom_id"), where)
        if "params" in item and "messages" not in item and isinstance(item["params"], Mapping):
            return _from_body(item["params"], item.get("custom_id"), where)  # Anthropic's shape
        if "messages" in item:
            messages = item["messages"]
        elif "prompt" in item:
            messages = item["prompt"]
            if not isinstance(messages, str):
                raise InvalidInputError(f"{where}: 'prompt' must be a string")
        else:
            raise InvalidInputError(f"{where}: a request dict needs 'messages' (or 'prompt')")
        params = {k: v for k, v in item.items() if k not in _RESERVED}
        extra = item.get("params")
        if extra is not None:
            if not isinstance(extra, Mapping):
                raise InvalidInputError(f"{where}: 'params' must be a dict of get_answer keyword arguments")
            params.update(extra)
        ctx = item.get("ctx")
        if ctx is not None and not isinstance(ctx, RequestContext):
            raise InvalidInputError(f"{where}: 'ctx' must be a RequestContext")
        return BatchRequest(
            messages=messages, params=params, id=_id_of(item, where), model=item.get("model"), ctx=ctx
        )
    except InvalidInputError as exc:
        if not exc.message.startswith(where):
            exc.message = f"{where}: {exc.message}"
            exc.args = (exc.message,)
        raise


def _from_body(body: Mapping[str, Any], custom_id: Any, where: str) -> BatchRequest:
    if "messages" not in body:
        raise InvalidInputError(f"{where}: the request body has no 'messages'")
    params = {k: v for k, v in body.items() if k not in ("messages", "model", "stream")}
    if body.get("stream"):
        raise InvalidInputError(f"{where}: a batch request cannot stream ('stream': true)")
    return BatchRequest(
        messages=body["messages"], params=params, id=_checked_id(custom_id, where), model=body.get("model")
    )


def _id_of(item: Mapping[str, Any], where: str) -> str | None:
    given = [item[k] for k in _ID_KEYS if item.get(k) is not None]
    if len(given) == 2 and given[0] != given[1]:
        raise InvalidInputError(f"{where}: 'id' and 'custom_id' differ; give one")
    return _checked_id(given[0], where) if given else None


def _checked_id(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        kind = type(value).__name__
        raise InvalidInputError(f"{where}: a request id must be a string or an int, not {kind}")
    text = str(value)
    if not text or not text.isprintable() or len(text) > 512:
        raise InvalidInputError(f"{where}: a request id must be 1-512 printable characters")
    return text


def read_jsonl(path: str | os.PathLike[str]) -> Iterator[BatchRequest]:
    """The requests of a JSONL file, one per non-blank line, read lazily. A line that is not
    JSON or not a request raises :class:`InvalidInputError` naming the file and line number."""
    for where, item in iter_items(path):
        if isinstance(item, InvalidInputError):
            raise item
        yield to_batch_request(item, where)


def iter_items(source: Iterable[Any] | str | os.PathLike[str]) -> Iterator[tuple[str, Any]]:
    """``(where, item)`` for each item of a synchronous input, lazily; ``where`` names it in
    errors (``"request #3"``, ``"input.jsonl:4"``). A path is read as JSONL: a line that is not
    JSON comes as an :class:`InvalidInputError` item (the runner turns it into that request's
    failed result; the other lines still run)."""
    if isinstance(source, str | os.PathLike):
        return _jsonl_items(Path(source))
    if isinstance(source, Mapping) or not isinstance(source, Iterable):
        raise InvalidInputError(
            f"a batch input must be an iterable of requests or a JSONL path, not {type(source).__name__}",
            hint="wrap a single request in a list",
        )
    return ((f"request #{i}", item) for i, item in enumerate(source))


def _jsonl_items(file: Path) -> Iterator[tuple[str, Any]]:
    try:
        handle = file.open(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError(f"cannot read the batch input {file}: {exc.strerror or exc}") from None
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{file.name}:{number}"
            try:
                yield where, json.loads(line)
            except ValueError:
                yield where, InvalidInputError(f"{where}: not a JSON line")


async def aiter_items(source: AsyncIterable[Any]) -> AsyncIterator[tuple[str, Any]]:
    """``(where, item)`` for each item of an asynchronous input, lazily."""
    index = 0
    async for item in source:
        yield f"request #{index}", item
        index += 1
