"""``RequestBatch``: collect requests written like OpenAI SDK calls, then run them.

::

    with RequestBatch() as batch:
        for text in texts:
            batch.chat.completions.create(model="gpt-4.1-mini", messages=[{"role": "user", "content": text}])
    results = RequestManager(client).process_batch(batch)

``create`` returns the :class:`~.types.BatchRequest` it recorded (its ``id`` is the
``custom_id`` given, else ``"#<position>"``). Nothing is sent until the batch is run. The
batch can also be written as an OpenAI Batch API input file (:meth:`RequestBatch.to_jsonl`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..interfaces.errors import ConfigurationError, InvalidInputError
from ..interfaces.messages import normalize_messages
from .types import BatchRequest

__all__ = ["RequestBatch"]


class RequestBatch:
    """An ordered collection of chat requests (see the module docs). Used as a context manager,
    it is sealed on exit: adding to it afterwards raises :class:`ConfigurationError`."""

    def __init__(self) -> None:
        self._requests: list[BatchRequest] = []
        self._ids: set[str] = set()
        self._sealed = False
        self.chat = _Chat(self)

    def __enter__(self) -> RequestBatch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._sealed = True

    def __len__(self) -> int:
        return len(self._requests)

    def __iter__(self) -> Iterator[BatchRequest]:
        return iter(self._requests)

    def __getitem__(self, index: int) -> BatchRequest:
        return self._requests[index]

    def __repr__(self) -> str:
        return f"RequestBatch({len(self._requests)} requests{', sealed' if self._sealed else ''})"

    def add(
        self, messages: Any, *, model: str | None = None, custom_id: str | None = None, **params: Any
    ) -> BatchRequest:
        """Record one request: ``messages`` as ``get_answer`` takes them, ``params`` its keywords."""
        if self._sealed:
            raise ConfigurationError("this RequestBatch is sealed (its with-block ended): make a new one")
        if params.get("stream"):
            raise InvalidInputError("a batched request cannot stream: leave out stream=True")
        params.pop("stream", None)
        position = len(self._requests)
        request_id = custom_id if custom_id is not None else f"#{position}"
        if request_id in self._ids:
            raise InvalidInputError(f"custom_id {request_id!r} is already in this batch")
        normalize_messages(messages)  # refuse malformed messages now, where the caller wrote them
        request = BatchRequest(messages=messages, params=params, id=request_id, model=model)
        self._requests.append(request)
        self._ids.add(request_id)
        return request

    def to_jsonl(self, path: str | os.PathLike[str], *, default_model: str | None = None) -> Path:
        """Write the batch as an OpenAI Batch API input file (``custom_id``, ``method``, ``url``,
        ``body``); messages must be plain JSON (dicts / strings) for that. Returns the path."""
        file = Path(path)
        with file.open("w", encoding="utf-8") as out:
            for request in self._requests:
                model = request.model or default_model
                if model is None:
                    raise InvalidInputError(f"request {request.id!r} names no model: give default_model=")
                messages = request.messages
                if isinstance(messages, str):
                    messages = [{"role": "user", "content": messages}]
                body = {"model": model, "messages": messages, **request.params}
                url = "/v1/chat/completions"
                line = {"custom_id": request.id, "method": "POST", "url": url, "body": body}
                try:
                    out.write(json.dumps(line, ensure_ascii=False) + "\n")
                except TypeError:
                    raise InvalidInputError(
                        f"request {request.id!r} holds values that are not JSON (Message objects, "
                        "pydantic classes …): only plain-JSON requests can be written to a file"
                    ) from None
        return file


class _Chat:
    def __init__(self, batch: RequestBatch) -> None:
        self.completions = _Completions(batch)


class _Completions:
    def __init__(self, batch: RequestBatch) -> None:
        self._batch = batch

    def create(self, *, messages: Any, model: str | None = None, **params: Any) -> BatchRequest:
        """Record a chat completion request (the OpenAI SDK's keywords; ``custom_id`` names it)."""
        custom_id = params.pop("custom_id", None)
        return self._batch.add(messages, model=model, custom_id=custom_id, **params)
