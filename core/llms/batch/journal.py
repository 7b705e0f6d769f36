"""The crash-resumable journal: one JSON line per finished request, appended and flushed as it
finishes, so a run killed at any moment (SIGKILL included) can be run again on the same input
and skip every request the journal holds.

Line shapes::

    {"id": "#12", "index": 12, "fp": "<request fingerprint>", "ok": true, "cached": false,
     "response": {...}}                                   # answered
    {"id": "#13", "index": 13, "fp": "...", "ok": false, "error": {...}}   # failed
    {"job": {"id": "batch_…", "provider": "openai", "request_ids": {...}, ...}}  # a provider
                                                          # Batch API job, recorded once submitted

The fingerprint is the request's cache key (model, messages and answer-changing parameters): a
journal line only stands for a request that is the same as before; a changed request under the
same id runs again. A torn last line (the process died mid-write) is cut off when the journal is
opened again. One run at a time may hold a journal (an advisory file lock; a second run gets
:class:`~core.llms.interfaces.errors.ConfigurationError`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import IO, Any

from ..interfaces.errors import ConfigurationError, LLMError
from .records import error_from_record, error_to_record, response_from_record, response_to_record
from .types import BatchJob, BatchResult

__all__ = ["Journal"]

log = logging.getLogger("core.llms.batch")

try:  # POSIX advisory locks; elsewhere the journal is simply not locked
    import fcntl as _fcntl
except ImportError:  # pragma: no cover - Windows
    _fcntl = None  # type: ignore[assignment]


class Journal:
    """An append-only JSONL journal of finished requests (see the module docs).

    ``retry_failed``: failed requests found in the journal are sent again on the next run (the
    default); False keeps their recorded error.
    """

    def __init__(self, path: str | os.PathLike[str], *, retry_failed: bool = True) -> None:
        self.path = Path(path)
        self.retry_failed = retry_failed
        #: id -> (offset of its line, ok, fingerprint) for every request line read at open.
        self._index: dict[str, tuple[int, bool, str | None]] = {}
        self._jobs: list[dict[str, Any]] = []
        self._writer: IO[bytes] | None = None
        self._reader: IO[bytes] | None = None

    def __repr__(self) -> str:
        state = "open" if self._writer is not None else "closed"
        return f"Journal({str(self.path)!r}, {len(self._index)} entries, {state})"

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> None:
        """Read what the journal holds, cut a torn last line, lock it and open it for appending."""
        if self._writer is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            writer = self.path.open("a+b")
        except OSError as exc:
            raise ConfigurationError(f"cannot open the journal {self.path}: {exc.strerror or exc}") from None
        try:
            self._lock(writer)
            self._load(writer)
            self._reader = self.path.open("rb")
        except BaseException:
            writer.close()
            raise
        self._writer = writer

    def close(self) -> None:
        """Flush and close (idempotent)."""
        writer, self._writer = self._writer, None
        reader, self._reader = self._reader, None
        for handle in (writer, reader):
            if handle is not None:
                with contextlib.suppress(OSError):
                    handle.close()

    def __enter__(self) -> Journal:
        self.open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _lock(self, handle: IO[bytes]) -> None:
        if _fcntl is None:
            return
        try:
            _fcntl.flock(handle.fileno(), _fcntl.LOCK_EX | _fcntl.LOCK_NB)
        except OSError:
            raise ConfigurationError(
                f"the journal {self.path} is in use by another run",
                hint="wait for it to finish, or give this run another journal file",
            ) from None

    def _load(self, handle: IO[bytes]) -> None:
        handle.seek(0)
        offset = 0
        good_end = 0
        for line in handle:
            start, offset = offset, offset + len(line)
            if not line.endswith(b"\n"):
                break  # torn: the process died while writing it
            try:
                entry = json.loads(line)
            except ValueError:
                log.warning("journal %s: unreadable line at byte %d skipped", self.path, start)
                good_end = offset
                continue
            good_end = offset
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                fp = entry.get("fp")
                fp = fp if isinstance(fp, str) else None
                self._index[entry["id"]] = (start, entry.get("ok") is True, fp)
            elif isinstance(entry, dict) and isinstance(entry.get("job"), dict):
                self._jobs.append(entry["job"])
        if good_end != offset:
            log.warning("journal %s: torn last line cut off (%d bytes)", self.path, offset - good_end)
            handle.truncate(good_end)
        handle.seek(0, os.SEEK_END)

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, request_id: object) -> bool:
        return request_id in self._index

    def lookup(
        self, request_id: str, index: int, fingerprint: str | None, *, response_format: Any = None
    ) -> BatchResult | None:
        """The recorded result of ``request_id`` (marked ``resumed``), or None when the journal
        has none for this very request (absent, changed since, or failed and ``retry_failed``)."""
        found = self._index.get(request_id)
        if found is None:
            return None
        offset, ok, recorded_fp = found
        if not ok and self.retry_failed:
            return None
        if fingerprint is not None and recorded_fp is not None and recorded_fp != fingerprint:
            log.info("journal %s: %s changed since it was recorded; sent again", self.path, request_id)
            return None
        entry = self._read(offset)
        if entry is None:
            return None
        result = BatchResult(index=index, id=request_id, resumed=True, cached=entry.get("cached") is True)
        try:
            if ok:
                result.response = response_from_record(entry.get("response"), response_format=response_format)
            else:
                result.error = error_from_record(entry.get("error"))
        except LLMError:
            log.warning("journal %s: the record of %s is damaged; sending it again", self.path, request_id)
            return None
        return result

    def _read(self, offset: int) -> dict[str, Any] | None:
        reader = self._reader
        if reader is None:
            raise ConfigurationError(f"the journal {self.path} is not open")
        if offset < 0:  # written by this run
            return None
        reader.seek(offset)
        try:
            entry = json.loads(reader.readline())
        except ValueError:
            return None
        return entry if isinstance(entry, dict) else None

    def jobs(self) -> list[dict[str, Any]]:
        """The provider Batch API jobs recorded, oldest first (as written by :meth:`write_job`)."""
        return list(self._jobs)

    # ------------------------------------------------------------------ writing

    def write(self, result: BatchResult, fingerprint: str | None) -> None:
        """Append ``result`` and flush it to the operating system (it survives the process being
        killed from then on). A resumed result is not written again."""
        if result.resumed:
            return
        entry: dict[str, Any] = {"id": result.id, "index": result.index, "fp": fingerprint}
        if result.error is None and result.response is not None:
            entry["ok"] = True
            entry["cached"] = result.cached
            entry["response"] = response_to_record(result.response)
        else:
            entry["ok"] = False
            entry["error"] = error_to_record(result.error) if result.error is not None else None
        self._append(entry)
        self._index[result.id] = (-1, entry["ok"], fingerprint)  # -1: not read back by this run

    def write_job(self, job: BatchJob) -> None:
        """Record a submitted provider Batch API job, so that a run killed while it ran polls that
        job again instead of submitting the requests twice."""
        entry = {
            "id": job.id,
            "provider": job.provider,
            "request_ids": job.request_ids,
            "locations": job.locations,
            "created": job.created,
        }
        self._append({"job": entry})
        self._jobs.append(entry)

    def _append(self, entry: dict[str, Any]) -> None:
        writer = self._writer
        if writer is None:
            raise ConfigurationError(f"the journal {self.path} is not open")
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"), default=str).encode() + b"\n"
        writer.write(line)
        writer.flush()
