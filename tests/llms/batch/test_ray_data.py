"""LLMBatchMapper and RayActorRateLimiter on a real local Ray (2 CPUs), against the simulator
served from a background thread of this process on a real port (the Ray workers reach it over
loopback). One Ray for the whole module; the mapper's settings checks and row handling are also
run in this process, without Ray, where that is enough."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray")
ray_data = pytest.importorskip("ray.data")
pd = pytest.importorskip("pandas")
np = pytest.importorskip("numpy")

from core.llms.batch.ray_data import OUTPUT_FIELDS, LLMBatchMapper  # noqa: E402
from core.llms.interfaces.errors import ConfigurationError, InvalidInputError  # noqa: E402
from core.llms.simulator import Fault, RandomFaults, Simulator  # noqa: E402

CANARY = "zq8Xv2Lm7Pw4Rt9Kc3Hn"
KEY_VARIABLE = "CORE_LLMS_TEST_RAY_KEY"
MODEL = "openai/gpt-4o-mini"
ROWS = 200
OUTPUT_COLUMNS = ["llm_" + name for name in OUTPUT_FIELDS]


class SimThread:
    """The simulator on its own event loop in a daemon thread of the test process."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="simulator", daemon=True)
        self.thread.start()
        self.sim = Simulator(api_key=CANARY)
        self.call(self.sim.start)

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` (a coroutine function or a plain one) on the simulator's loop."""

        async def run() -> Any:
            result = fn()
            return await result if asyncio.iscoroutine(result) else result

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(30)

    @property
    def url(self) -> str:
        return self.sim.url

    def stop(self) -> None:
        self.call(self.sim.stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    served = SimThread()
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture(autouse=True)
def _fresh_sim(sim: SimThread) -> None:
    sim.call(sim.sim.reset)


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in ("RAY_DEDUP_LOGS", KEY_VARIABLE)}
    os.environ["RAY_DEDUP_LOGS"] = "0"
    os.environ[KEY_VARIABLE] = CANARY  # the local workers inherit the driver's environment
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        logging_level="ERROR",
        log_to_driver=False,
        ignore_reinit_error=False,
    )
    logging.getLogger("ray").setLevel(logging.WARNING)  # Ray Data's DEBUG stats flood failure reports
    context = ray_data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    try:
        yield
    finally:
        ray.shutdown()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def settings(sim: SimThread, **extra: Any) -> dict[str, Any]:
    options = {"endpoint": sim.url + "/v1", "api_key": CANARY, "failure_threshold": 1_000_000}
    options.update(extra.pop("create_llm_options", {}))
    return {
        "model": MODEL,
        "create_llm_options": options,
        "prompt_column": "prompt",
        "params": {"max_tokens": 16},
        **extra,
    }


def items(n: int = ROWS) -> list[dict[str, Any]]:
    return [{"id": f"row-{i}", "prompt": f"question number {i}"} for i in range(n)]


def run(mapper_settings: dict[str, Any], rows: list[dict[str, Any]] | None = None, **options: Any) -> Any:
    """The dataset of ``rows`` mapped by two LLMBatchMapper actors, as a pandas DataFrame."""
    ds = ray_data.from_items(rows if rows is not None else items())
    mapped = ds.map_batches(
        LLMBatchMapper,
        fn_constructor_kwargs=mapper_settings,
        compute=ray_data.ActorPoolStrategy(size=2),
        num_cpus=0.5,
        batch_size=options.pop("batch_size", 25),
        batch_format=options.pop("batch_format", "pandas"),
        **options,
    )
    return mapped.to_pandas()


def plain(value: Any) -> Any:
    return None if value is None or (not isinstance(value, list | dict) and pd.isna(value)) else value


def check_rows(frame: Any, n: int = ROWS) -> None:
    """Every input row exactly once, and each answer belongs to its own row."""
    assert len(frame) == n
    assert sorted(frame["id"]) == sorted(f"row-{i}" for i in range(n))
    for row in frame.itertuples():
        text, error = plain(row.llm_text), plain(row.llm_error)
        assert (text is None) != (error is None), row
        if text is not None:
            assert row.prompt in text  # the simulator echoes the question: no answer swapped rows


def secrets_in(frame: Any) -> list[str]:
    return [column for column in frame.columns if frame[column].astype(str).str.contains(CANARY).any()]


# ---------------------------------------------------------------------------------- on Ray


@pytest.mark.usefixtures("ray_cluster")
class TestOnRay:
    def test_every_row_answered_once_in_place(self, sim: SimThread) -> None:
        frame = run(settings(sim))
        check_rows(frame)
        assert list(frame.columns) == ["id", "prompt", *OUTPUT_COLUMNS]
        assert frame["llm_error_type"].map(plain).isna().all()
        assert (frame["llm_finish_reason"] == "stop").all()
        assert (frame["llm_input_tokens"] > 0).all() and (frame["llm_output_tokens"] > 0).all()
        assert (frame["llm_cost"] > 0).all() and not frame["llm_cached"].any()
        assert set(frame["llm_model"]) == {"gpt-4o-mini"}
        assert len(sim.sim.requests) == ROWS
        assert not secrets_in(frame)

    def test_faults_fill_the_error_columns(self, sim: SimThread) -> None:
        faults = RandomFaults(0.2, [Fault(status=500)], seed=11)
        sim.call(lambda: sim.sim.set_fault_generator(faults))
        frame = run(settings(sim, create_llm_options={"retry": {"max_retries": 0}}), batch_format="numpy")
        check_rows(frame)
        failed = frame[frame["llm_error_type"].map(plain).notna()]
        assert faults.injected > 10
        assert len(failed) == faults.injected == len(sim.sim.requests) - (ROWS - faults.injected)
        assert set(failed["llm_error_type"]) == {"ServiceUnavailableError"}
        assert failed["llm_text"].map(plain).isna().all()
        assert (failed["llm_input_tokens"] == 0).all() and (failed["llm_cost"] == 0).all()
        assert failed["llm_error"].str.contains("500").all()
        assert not secrets_in(frame)

    @pytest.mark.parametrize("kind", ["disk", "redis"])
    def test_second_run_is_served_from_the_cache(self, sim: SimThread, kind: str, request: Any) -> None:
        if kind == "disk":
            folder: Path = request.getfixturevalue("tmp_path")
            cache = {"kind": "disk", "path": str(folder / "cache.db")}
        else:
            url = request.getfixturevalue("redis_url")
            cache = {"kind": "redis", "url": url, "prefix": f"ray-test-{time.monotonic_ns()}:"}
        rows = items(80)
        first = run(settings(sim, cache=cache), rows)
        check_rows(first, 80)
        assert not first["llm_cached"].any() and len(sim.sim.requests) == 80
        second = run(settings(sim, cache=cache), rows)
        check_rows(second, 80)
        assert second["llm_cached"].all()
        assert (second["llm_cost"] == 0).all()
        assert len(sim.sim.requests) == 80  # nothing sent again
        by_id = first.set_index("id")["llm_text"]
        assert all(by_id[row.id] == row.llm_text for row in second.itertuples())

    def test_api_key_read_from_an_environment_variable(self, sim: SimThread) -> None:
        mapper_settings = settings(sim, create_llm_options={"api_key_env": KEY_VARIABLE})
        del mapper_settings["create_llm_options"]["api_key"]
        frame = run(mapper_settings, items(30), batch_size=10)
        check_rows(frame, 30)
        assert frame["llm_error"].map(plain).isna().all()
        assert sim.sim.requests[0].headers.get("authorization") == f"Bearer {CANARY}"

    def test_a_bad_setting_fails_the_dataset_without_the_key(self, sim: SimThread) -> None:
        with pytest.raises(Exception) as caught:
            run(settings(sim, cache={"kind": "tape"}), items(4))
        text = f"{caught.value!r} {caught.value}"
        assert "cache" in text and "tape" in text
        assert CANARY not in text

    def test_auth_errors_never_show_the_key(self, sim: SimThread) -> None:
        sim.call(lambda: sim.sim.set_default_fault(Fault(status=401, message=f"bad key {CANARY}")))
        frame = run(settings(sim, create_llm_options={"retry": {"max_retries": 0}}), items(20), batch_size=10)
        check_rows(frame, 20)
        assert set(frame["llm_error_type"]) == {"AuthenticationError"}
        assert not secrets_in(frame)


@pytest.mark.usefixtures("ray_cluster")
class TestSharedActorLimiter:
    WINDOW = 2.0
    RPM = 10  # requests per WINDOW seconds, for the whole cluster

    def test_both_workers_share_one_budget(self, sim: SimThread) -> None:
        from core.llms.batch.ray_limiter import RayActorRateLimiter

        arrivals: list[float] = []
        sim.call(lambda: sim.sim.set_fault_generator(lambda: arrivals.append(time.monotonic())))
        limits = {"rpm": self.RPM}
        # made on the driver: it lives as long as the driver, whichever workers come and go
        limiter = RayActorRateLimiter("test-shared-budget", limits, window=self.WINDOW)
        try:
            shared = {"name": "test-shared-budget", "window": self.WINDOW, "hold": 0.5}
            frame = run(
                settings(sim, rate_limits=limits, shared_limiter=shared, concurrency_per_worker=8),
                items(30),
                batch_size=5,
            )
            check_rows(frame, 30)
            assert frame["llm_error"].map(plain).isna().all()
            counts = asyncio.run(limiter.counts())
            assert counts["granted"] == 30 and counts["outstanding"] == 0
            assert counts["polls"] > 0  # callers did wait in the workers
            arrivals.sort()
            assert len(arrivals) == 30
            # a sliding window: never more than RPM requests within WINDOW seconds, across both workers
            # (each worker alone allowed RPM: together they would have sent 2 * RPM at once)
            gaps = [arrivals[i + self.RPM] - arrivals[i] for i in range(len(arrivals) - self.RPM)]
            # (the first requests of a worker also open its connections, hence the margin)
            assert min(gaps) >= 0.75 * self.WINDOW, gaps
            assert arrivals[-1] - arrivals[0] >= 1.5 * self.WINDOW
        finally:
            assert RayActorRateLimiter.destroy("test-shared-budget")

    async def test_the_limiter_on_the_driver(self) -> None:
        from core.llms.batch.ray_limiter import RayActorRateLimiter

        limiter = RayActorRateLimiter("test-driver-limits", {"rpm": 2, "tpm": 100}, window=1.0, hold=0.2)
        try:
            assert "test-driver-limits" in repr(limiter)
            started = time.monotonic()
            permits = [await limiter.acquire("openai/m", 10) for _ in range(3)]  # the third waits ~1 s
            assert time.monotonic() - started >= 0.8
            assert [p.tokens for p in permits] == [10, 10, 10]
            for permit in permits:
                await limiter.settle(permit, 5)
            await limiter.observe("openai/m", headers={"authorization": "x", "x-request-id": "y"})
            with pytest.raises(InvalidInputError, match="can never fit"):
                await limiter.acquire("openai/m", 1_000)
            assert (await limiter.counts())["outstanding"] == 0
            import pickle

            again = pickle.loads(pickle.dumps(limiter))  # reconnects to the same actor by name
            assert (await again.counts())["granted"] == 3
            with pytest.raises(ConfigurationError, match="other rate limits"):
                RayActorRateLimiter("test-driver-limits", {"rpm": 3}, window=1.0)
            await limiter.close()
            with pytest.raises(ConfigurationError, match="closed"):
                await limiter.acquire("openai/m", 1)
        finally:
            assert RayActorRateLimiter.destroy("test-driver-limits")
        assert not RayActorRateLimiter.destroy("test-driver-limits")


# ---------------------------------------------------------------------------------- in process


@pytest.fixture
def make_mapper(sim: SimThread) -> Iterator[Callable[..., LLMBatchMapper]]:
    made: list[LLMBatchMapper] = []

    def make(**extra: Any) -> LLMBatchMapper:
        mapper = LLMBatchMapper(**settings(sim, **extra))
        made.append(mapper)
        return mapper

    yield make
    for mapper in made:
        mapper.close()


class TestInProcess:
    def test_template_system_and_per_row_params(self, make_mapper: Any, sim: SimThread) -> None:
        mapper = make_mapper(
            prompt_column=None,
            template="Translate {word} into {language}",
            system="You translate.",
            params_column="opts",
        )
        batch = pd.DataFrame(
            {
                "word": ["cat", "dog"],
                "language": ["French", "German"],
                "opts": [{"temperature": 0.5, "seed": None}, None],
            }
        )
        out = mapper(batch)
        assert list(out["llm_text"]) == [
            "Simulated answer to: Translate cat into French",
            "Simulated answer to: Translate dog into German",
        ]
        sent = [r.json for r in sim.sim.requests]
        assert sent[0]["messages"][0] == {"role": "system", "content": "You translate."}
        assert sent[0]["temperature"] == 0.5 and "seed" not in sent[0]
        assert "temperature" not in sent[1] and sent[1]["max_tokens"] == 16
        assert list(batch.columns) == ["word", "language", "opts"]  # the input batch is not changed

    def test_messages_column_in_every_shape(self, make_mapper: Any) -> None:
        mapper = make_mapper(prompt_column=None, messages_column="chat")
        chat = np.empty(4, dtype=object)
        chat[:] = [
            np.array([{"role": "user", "content": "hello there", "name": None}], dtype=object),
            '[{"role": "user", "content": "from json"}]',
            "a plain string",
            None,
        ]
        out = mapper({"chat": chat, "n": np.arange(4)})
        assert list(out["n"]) == [0, 1, 2, 3]
        assert [t and t.removeprefix("Simulated answer to: ") for t in out["llm_text"]] == [
            "hello there",
            "from json",
            "a plain string",
            None,
        ]
        assert list(out["llm_error_type"]) == [None, None, None, "InvalidInputError"]
        assert out["llm_input_tokens"].dtype == np.int64 and out["llm_cached"].dtype == bool

    def test_a_bad_row_fails_alone(self, make_mapper: Any) -> None:
        mapper = make_mapper()
        batch = pd.DataFrame({"prompt": ["one", 7, float("nan"), "four"]})
        out = mapper(batch)
        errors = [plain(v) for v in out["llm_error_type"]]
        assert errors == [None, "InvalidInputError", "InvalidInputError", None]
        assert out["llm_text"][3] == "Simulated answer to: four"

    def test_pyarrow_batches(self, make_mapper: Any) -> None:
        pa = pytest.importorskip("pyarrow")
        out = make_mapper()(pa.table({"prompt": ["x y", "z"]}))
        assert isinstance(out, pa.Table)
        assert out.column("llm_text").to_pylist() == ["Simulated answer to: x y", "Simulated answer to: z"]
        assert out.schema.field("llm_cost").type == pa.float64()

    def test_an_empty_batch(self, make_mapper: Any, sim: SimThread) -> None:
        out = make_mapper()(pd.DataFrame({"prompt": pd.Series([], dtype=object)}))
        assert len(out) == 0 and "llm_text" in out.columns and len(sim.sim.requests) == 0

    def test_an_unreachable_endpoint_fails_every_row(self, make_mapper: Any) -> None:
        options = {"endpoint": "http://127.0.0.1:9/v1", "retry": {"max_retries": 0}}
        out = make_mapper(create_llm_options=options)(pd.DataFrame({"prompt": ["a", "b", "c"]}))
        assert list(out["llm_error_type"]) == ["APIConnectionError"] * 3
        assert out["llm_text"].map(plain).isna().all()

    @pytest.mark.parametrize(
        ("raised", "expected"),
        [
            (InvalidInputError("the whole batch is wrong"), "InvalidInputError"),
            (RuntimeError(f"a bug showing {CANARY}"), "LLMError"),
        ],
    )
    def test_a_whole_batch_failure_lands_on_every_row(
        self, make_mapper: Any, raised: Exception, expected: str, caplog: pytest.LogCaptureFixture
    ) -> None:
        mapper = make_mapper()

        async def fail(requests: Any) -> Any:
            raise raised

        mapper._manager.aprocess_batch = fail
        with caplog.at_level(logging.DEBUG, logger="core.llms.batch"):
            out = mapper(pd.DataFrame({"prompt": ["a", None, "c"]}))
        assert CANARY not in caplog.text
        assert list(out["llm_error_type"]) == [expected, "InvalidInputError", expected]
        assert not secrets_in(out)

    def test_missing_columns_and_clashes_are_named(self, make_mapper: Any) -> None:
        with pytest.raises(InvalidInputError, match="'prompt'"):
            make_mapper()(pd.DataFrame({"question": ["a"]}))
        with pytest.raises(InvalidInputError, match="llm_text"):
            make_mapper()(pd.DataFrame({"prompt": ["a"], "llm_text": ["b"]}))
        with pytest.raises(InvalidInputError, match=r"\['language'\]"):
            make_mapper(prompt_column=None, template="{word} {language}")(pd.DataFrame({"word": ["a"]}))
        out = make_mapper(output_prefix="out_")(pd.DataFrame({"prompt": ["a"], "llm_text": ["b"]}))
        assert list(out["llm_text"]) == ["b"] and out["out_text"][0] == "Simulated answer to: a"

    @pytest.mark.parametrize(
        ("extra", "message"),
        [
            ({"prompt_column": None, "template": "no placeholder"}, "placeholder"),
            ({"prompt_column": None, "template": "{a.b}"}, "name a column"),
            ({"messages_column": "m"}, "one of"),
            ({"cache": {"kind": "disk"}}, "'path'"),
            ({"cache": "disk"}, "must be a dict"),
            ({"shared_limiter": "x"}, "rate_limits"),
            ({"rate_limits": {"rpm": 5}, "redis_url": "redis://x", "shared_limiter": "x"}, "not both"),
            ({"concurrency_per_worker": 0}, "at least 1"),
            ({"create_llm_options": {"api_key_env": "CORE_LLMS_TEST_UNSET_VARIABLE"}}, "not set"),
        ],
    )
    def test_settings_are_checked(self, make_mapper: Any, extra: dict[str, Any], message: str) -> None:
        if "api_key_env" in extra.get("create_llm_options", {}):
            extra["create_llm_options"] = {**extra["create_llm_options"], "api_key": None}
        with pytest.raises(ConfigurationError, match=message) as caught:
            make_mapper(**extra)
        assert CANARY not in f"{caught.value} {caught.value!r} {caught.value.hint}"

    def test_the_key_is_never_shown(self, make_mapper: Any, sim: SimThread) -> None:
        mapper = make_mapper()
        assert CANARY not in repr(mapper) and CANARY not in str(vars(mapper))
        assert "gpt-4o-mini" in repr(mapper) and "api_key" in repr(mapper)
        sim.call(lambda: sim.sim.enqueue(Fault(status=400, message=f"key {CANARY} is odd")))
        out = mapper(pd.DataFrame({"prompt": ["a", "b"]}))
        assert not secrets_in(out)

    def test_close_is_idempotent_and_final(self, make_mapper: Any) -> None:
        mapper = make_mapper()
        mapper(pd.DataFrame({"prompt": ["a"]}))
        mapper.close()
        mapper.close()
        with pytest.raises(ConfigurationError, match="closed"):
            mapper(pd.DataFrame({"prompt": ["a"]}))


def test_importing_the_batch_layer_does_not_import_ray() -> None:
    code = (
        "import sys, core.llms, core.llms.batch, core.llms.batch.manager, core.llms.batch.ray_data, "
        "core.llms.batch.ray_limiter\n"
        "bad = [m for m in ('ray', 'pandas', 'pyarrow') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[3])
