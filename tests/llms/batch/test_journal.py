"""The journal: resuming skips what finished, a run killed with SIGKILL resumes without sending a
finished request twice, torn lines, changed requests, locks; and 10,000 requests with 5 %
injected faults: nothing lost, nothing duplicated, order kept."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.llms import create_llm
from core.llms.batch import Journal, RequestManager
from core.llms.batch.types import BatchResult
from core.llms.interfaces.errors import ConfigurationError, InvalidInputError, LLMError
from core.llms.simulator import Fault, Simulator

KEY = "sim-key-for-batches"
MARKER = re.compile(r"marker(\d+)\b")


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(api_key=KEY, max_recorded=None) as simulator:
        yield simulator


def model(sim: Simulator) -> Any:
    return create_llm("openai/gpt-4.1-mini", endpoint=f"{sim.url}/v1", api_key=KEY, retry={"max_retries": 0})


def prompts(n: int) -> list[dict[str, str]]:
    return [{"messages": f"marker{i} please", "id": f"req-{i}"} for i in range(n)]


def sent_markers(sim: Simulator) -> Counter[int]:
    """How many times each request marker reached the simulator."""
    seen: Counter[int] = Counter()
    for record in sim.requests:
        if record.json and "messages" in record.json:
            match = MARKER.search(json.dumps(record.json["messages"]))
            if match:
                seen[int(match.group(1))] += 1
    return seen


def journal_ids(path: Path) -> list[str]:
    ids = []
    for line in path.read_bytes().splitlines(keepends=True):
        if line.endswith(b"\n"):
            entry = json.loads(line)
            if "id" in entry:
                ids.append(entry["id"])
    return ids


async def test_a_second_run_resumes_from_the_journal(sim: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    llm = model(sim)
    async with llm, RequestManager(llm, journal=path, show_progress=False) as manager:
        first = await manager.aprocess_batch(prompts(10)[:6])
        assert sim.request_count == 6 and all(r.ok for r in first)
        second = await manager.aprocess_batch(prompts(10))
    assert sim.request_count == 10  # only the four new ones were sent
    assert [r.resumed for r in second] == [True] * 6 + [False] * 4
    assert [r.unwrap().text for r in second[:6]] == [r.unwrap().text for r in first]
    assert manager.stats.resumed == 6 and manager.stats.done == 10
    assert len(journal_ids(path)) == 10


async def test_failed_requests_are_sent_again_unless_told_otherwise(sim: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    sim.enqueue(Fault(status=400))
    llm = model(sim)
    async with llm:
        async with RequestManager(llm, journal=path, concurrency=1, show_progress=False) as manager:
            first = await manager.aprocess_batch(prompts(3))
        assert not first[0].ok
        sim.enqueue(Fault(status=400))
        async with RequestManager(
            llm, journal=Journal(path, retry_failed=False), show_progress=False
        ) as manager:
            kept = await manager.aprocess_batch(prompts(3))
        assert sim.request_count == 3 and kept[0].resumed and type(kept[0].error) is type(first[0].error)
        async with RequestManager(llm, journal=path, show_progress=False) as manager:
            again = await manager.aprocess_batch(prompts(3))
    assert sim.request_count == 4 and not again[0].resumed and again[0].error is not None  # the 400 fault


async def test_a_changed_request_under_the_same_id_is_sent_again(sim: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    llm = model(sim)
    async with llm, RequestManager(llm, journal=path, show_progress=False) as manager:
        await manager.aprocess_batch(prompts(2))
        changed = [{"messages": "marker7 other", "id": "req-0"}, prompts(2)[1]]
        results = await manager.aprocess_batch(changed)
    assert sim.request_count == 3
    assert not results[0].resumed and "marker7" in results[0].unwrap().text and results[1].resumed


async def test_a_torn_last_line_is_cut_and_the_request_sent_again(sim: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    llm = model(sim)
    async with llm:
        async with RequestManager(llm, journal=path, show_progress=False) as manager:
            await manager.aprocess_batch(prompts(3))
        data = path.read_bytes()
        path.write_bytes(data[: len(data) - 25])  # the last line loses its end
        async with RequestManager(llm, journal=path, show_progress=False) as manager:
            results = await manager.aprocess_batch(prompts(3))
    assert [r.resumed for r in results].count(True) == 2 and sim.request_count == 4
    assert len(journal_ids(path)) == 3 and path.read_bytes().endswith(b"\n")


async def test_ids_must_be_unique_when_journaled(sim: Simulator, tmp_path: Path) -> None:
    llm = model(sim)
    async with llm, RequestManager(llm, journal=tmp_path / "j.jsonl", show_progress=False) as manager:
        results = await manager.aprocess_batch([{"messages": "a", "id": "x"}, {"messages": "b", "id": "x"}])
    assert results[0].ok and isinstance(results[1].error, InvalidInputError)
    assert "already used" in str(results[1].error)


def test_one_run_at_a_time_holds_a_journal(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.jsonl"):
        second = Journal(tmp_path / "j.jsonl")
        with pytest.raises(ConfigurationError, match="in use"):
            second.open()
    with Journal(tmp_path / "j.jsonl") as again:
        assert len(again) == 0


def test_an_unusable_journal_path_is_a_configuration_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigurationError, match="cannot open the journal"):
        Journal(blocker / "inside.jsonl").open()


def test_arun_needs_a_journal() -> None:
    class Model:
        async def get_answer(self, messages: Any, ctx: Any = None, **params: Any) -> Any: ...

        def stream_answer(self, messages: Any, ctx: Any = None, **params: Any) -> Any: ...

    with pytest.raises(InvalidInputError, match="journal"):
        RequestManager(Model(), show_progress=False).run(["x"])


# ---------------------------------------------------------------------------------- kill and resume

CHILD = """
import sys
from core.llms.batch import RequestManager
url, journal, source = sys.argv[1:4]
with RequestManager("openai/gpt-4.1-mini", endpoint=url + "/v1", api_key="sim-key-for-batches",
                    retry={"max_retries": 0}, concurrency=4, show_progress=False) as manager:
    manager.run(source, journal=journal)
"""


def test_a_run_killed_mid_way_resumes_without_sending_a_finished_request_twice(
    sim_thread: Simulator, tmp_path: Path
) -> None:
    n = 400
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(p) + "\n" for p in prompts(n)))
    journal = tmp_path / "run.jsonl"
    sim_thread.set_default_fault(Fault(delay=0.01))  # ~4 requests per 10 ms: the kill lands mid-run
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, sim_thread.url, str(journal), str(source)],
        cwd=Path(__file__).resolve().parents[3],
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not (journal.exists() and len(journal_ids(journal)) >= 60):
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            assert time.monotonic() < deadline, "the child run made no progress"
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stderr:
            child.stderr.close()
    finished_before = {int(i.split("-")[1]) for i in journal_ids(journal)}
    assert 60 <= len(finished_before) < n, "the kill did not land mid-run"
    sent_before = sent_markers(sim_thread)
    assert all(sent_before[i] == 1 for i in finished_before)
    sim_thread.set_default_fault(None)
    sim_thread.reset()

    with RequestManager(
        "openai/gpt-4.1-mini", endpoint=f"{sim_thread.url}/v1", api_key=KEY, concurrency=8,
        show_progress=False,
    ) as manager:
        stats = manager.run(source, journal=journal)
    sent_after = sent_markers(sim_thread)
    assert not finished_before & set(sent_after), "a request the journal held was sent again"
    assert set(sent_after) == set(range(n)) - finished_before
    assert all(count == 1 for count in sent_after.values())
    assert stats.resumed == len(finished_before) and stats.completed == n and stats.failed == 0
    ids = journal_ids(journal)
    assert sorted(set(ids)) == sorted(f"req-{i}" for i in range(n)) and len(ids) == n

    count = sim_thread.request_count
    with RequestManager(  # a third run reads every answer back in input order, sending nothing
        "openai/gpt-4.1-mini", endpoint=f"{sim_thread.url}/v1", api_key=KEY, journal=journal,
        show_progress=False,
    ) as manager:
        final = manager.process_batch(source)
    assert sim_thread.request_count == count
    assert all(r.resumed and f"marker{i}" in r.unwrap().text for i, r in enumerate(final))


# ---------------------------------------------------------------------------------- faults at scale


async def test_ten_thousand_requests_with_five_percent_faults_lose_and_repeat_nothing(tmp_path: Path) -> None:
    n = 10_000
    async with Simulator(api_key=KEY, max_recorded=None, fault_rate=0.05, seed=14) as sim:
        llm = model(sim)
        async with llm, RequestManager(
            llm, concurrency=64, journal=tmp_path / "run.jsonl", show_progress=False
        ) as manager:
            results: list[BatchResult] = await manager.aprocess_batch(prompts(n))
        sent = sent_markers(sim)
    assert len(results) == n
    assert [r.index for r in results] == list(range(n))
    assert [r.id for r in results] == [f"req-{i}" for i in range(n)]
    failed = [r for r in results if not r.ok]
    assert 0.03 * n < len(failed) < 0.07 * n, len(failed)
    assert all(isinstance(r.error, LLMError) and r.response is None for r in failed)
    for i, result in enumerate(results):
        if result.ok:
            assert MARKER.search(result.unwrap().text).group(1) == str(i)  # type: ignore[union-attr]
    assert sent == Counter(range(n)), "each request reached the provider exactly once"
    assert manager.stats.done + manager.stats.failed == n and manager.stats.failed == len(failed)
    ids = journal_ids(tmp_path / "run.jsonl")
    assert len(ids) == n and len(set(ids)) == n
