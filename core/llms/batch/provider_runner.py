"""A batch through the provider's asynchronous Batch API (``RequestManager(provider_batch=True)``).

The journal and the cache are consulted first, exactly as for live calls; what is left is
submitted as one job, whose id is written to the journal at once. A run killed while the job
runs finds that id in the journal next time and waits for the same job instead of submitting the
requests again. The job is polled every ``poll_interval`` seconds; its results are matched back
to their requests by id, and a request the provider returned nothing for gets a
:class:`~core.llms.interfaces.errors.BatchJobFailedError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from ..interfaces.errors import BatchJobFailedError, LLMError
from .requests import BatchInput, aiter_items, iter_items
from .types import BatchJob, BatchRequest, BatchResult, IBatchAPI

if TYPE_CHECKING:
    from .manager import RequestManager, _Run

__all__ = ["run_provider_batch"]

log = logging.getLogger("core.llms.batch")


async def run_provider_batch(manager: RequestManager, run: _Run, requests: BatchInput) -> None:
    """Run ``requests`` through the provider's Batch API (see the module docs)."""
    given = manager._provider_batch
    owned = not isinstance(given, IBatchAPI)
    if owned:
        from .provider_api import batch_api_for

        api: IBatchAPI = batch_api_for(manager._llm, **manager._batch_options)
    else:
        api = given  # type: ignore[assignment]
    try:
        pending, fingerprints = await _pending(manager, run, requests)
        if not pending:
            return
        job = await _submit_or_resume(api, run, pending)
        await _wait(manager, api, run, job)
        await _collect(api, run, job, pending, fingerprints)
    finally:
        if owned:
            await api.close()


async def _pending(
    manager: RequestManager, run: _Run, requests: BatchInput
) -> tuple[list[tuple[int, str, BatchRequest]], dict[int, str | None]]:
    """Deliver what the journal or the cache already holds; return the rest."""
    pending: list[tuple[int, str, BatchRequest]] = []
    fingerprints: dict[int, str | None] = {}
    if isinstance(requests, str) or not hasattr(requests, "__aiter__"):
        items = list(iter_items(requests))
    else:
        items = [pair async for pair in aiter_items(requests)]  # type: ignore[arg-type]
    for where, item in items:
        index = run.take()
        request_id, request, error = run.prepare(index, where, item)
        if request is None:
            run.deliver(BatchResult(index=index, id=request_id, error=error), None)
            continue
        if request.model is not None and request.model != getattr(manager._llm, "name", None):
            error = LLMError(
                f"{where}: a provider batch runs one model; this request names {request.model!r}",
                hint="group the requests by model and run one batch per model",
            )
            run.deliver(BatchResult(index=index, id=request_id, error=error), None)
            continue
        fingerprint = None
        if run.fingerprints:
            found, fingerprint = await run.recall(index, request_id, request, manager._llm, request.params)
            if found is not None:
                run.deliver(found, fingerprint)
                continue
        fingerprints[index] = fingerprint
        pending.append((index, request_id, request))
    return pending, fingerprints


async def _submit_or_resume(
    api: IBatchAPI, run: _Run, pending: list[tuple[int, str, BatchRequest]]
) -> BatchJob:
    wanted = {request_id: index for index, request_id, _ in pending}
    if run.journal is not None:
        for recorded in reversed(run.journal.jobs()):
            ids = recorded.get("request_ids")
            if recorded.get("provider") == api.provider and isinstance(ids, dict) and set(wanted) <= set(ids):
                job = BatchJob(
                    id=str(recorded["id"]),
                    provider=api.provider,
                    status="in_progress",
                    request_ids={key: wanted.get(key, -1) for key in ids},
                    locations=dict(recorded.get("locations") or {}),
                )
                log.info("resuming %s batch job %s from the journal", api.provider, job.id)
                return await api.refresh(job)
    job = await api.submit(pending)
    if run.journal is not None:
        run.journal.write_job(job)
    return job


async def _wait(manager: RequestManager, api: IBatchAPI, run: _Run, job: BatchJob) -> None:
    while not job.finished:
        await asyncio.sleep(manager.poll_interval)
        try:
            fresh = await api.refresh(job)
        except LLMError as exc:
            if not exc.retryable:
                raise
            log.warning("batch job %s: status check failed (%s); trying again", job.id, type(exc).__name__)
            continue
        job.status, job.counts, job.raw = fresh.status, fresh.counts, fresh.raw
        job.locations.update(fresh.locations)
        if run.progress is not None:
            run.progress.update()


async def _collect(
    api: IBatchAPI,
    run: _Run,
    job: BatchJob,
    pending: list[tuple[int, str, BatchRequest]],
    fingerprints: dict[int, str | None],
) -> None:
    left = {index: request_id for index, request_id, _ in pending}
    async for result in api.results(job):
        request_id = left.pop(result.index, None)
        if request_id is None:
            continue  # not ours (an earlier run's job also held requests answered since) or a repeat
        result.id = request_id
        fingerprint = fingerprints.get(result.index)
        if result.response is not None and run.cache is not None and fingerprint is not None:
            with contextlib.suppress(LLMError):
                await run.cache.put(fingerprint, result.response)
        run.deliver(result, fingerprint)
    code = job.status if job.status in ("failed", "expired", "cancelled") else "missing"
    for index, request_id in left.items():
        error = BatchJobFailedError(
            f"the {api.provider} batch job {job.id} ended {job.status} without a result for {request_id!r}",
            job_id=job.id,
            code=code,
        )
        run.deliver(BatchResult(index=index, id=request_id, error=error), fingerprints.get(index))

