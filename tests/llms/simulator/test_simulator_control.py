"""HTTP control routes (/_sim/...) and the ``python -m core.llms.simulator`` entry point."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from typing import Any

import aiohttp
import pytest
from simulator_helpers import Api, user


async def _control(api: Api, method: str, path: str, body: Any = None, *, raw: bytes | None = None) -> Any:
    kwargs: dict[str, Any] = {"data": raw} if raw is not None else {"json": body}
    async with api.session.request(method, f"{api.sim.url}/_sim/{path}", **kwargs) as resp:
        return resp.status, await resp.json()


async def test_post_faults_enqueues_in_order(api: Api) -> None:
    status, body = await _control(
        api, "POST", "faults", [{"status": 503}, {"status": 429, "retry_after": 0.5}]
    )
    assert (status, body) == (200, {"queued": 2})
    assert (await _control(api, "POST", "faults", {"status": 500}))[1] == {"queued": 3}
    _, listing = await _control(api, "GET", "faults")
    assert [f["status"] for f in listing["queued"]] == [503, 429, 500]
    assert listing["default"] is None
    statuses = []
    for _ in range(4):
        status, headers, _ = await api.post(user("x"))
        statuses.append(status)
        if status == 429:
            assert headers["Retry-After"] == "0.5"
    assert statuses == [503, 429, 500, 200]


async def test_control_requests_are_not_recorded_or_faulted(api: Api) -> None:
    await _control(api, "PUT", "default-fault", {"status": 503})
    _, listing = await _control(api, "GET", "faults")
    assert listing["default"]["status"] == 503
    assert api.sim.request_count == 0
    assert (await api.post(user("x")))[0] == 503
    assert api.sim.request_count == 1


async def test_default_fault_put_and_clear(api: Api) -> None:
    status, body = await _control(api, "PUT", "default-fault", {"status": 500, "delay": 0})
    assert status == 200 and body["default"]["status"] == 500
    assert (await api.post(user("x")))[0] == 500
    status, body = await _control(api, "PUT", "default-fault", None)
    assert (status, body) == (200, {"default": None})
    assert (await api.post(user("x")))[0] == 200


async def test_delete_faults_clears_queue_and_default(api: Api) -> None:
    await _control(api, "POST", "faults", [{"status": 503}])
    await _control(api, "PUT", "default-fault", {"status": 500})
    assert (await _control(api, "DELETE", "faults"))[0] == 200
    assert (await api.post(user("x")))[0] == 200


@pytest.mark.parametrize(
    ("body", "raw", "match"),
    [
        ([{"status": 503, "bogus": 1}], None, "unknown Fault field"),
        ({"drop": "never"}, None, "drop"),
        (["not a dict"], None, "JSON object"),
        (None, b"{broken", "not valid JSON"),
    ],
)
async def test_bad_fault_dicts_are_400(api: Api, body: Any, raw: bytes | None, match: str) -> None:
    status, err = await _control(api, "POST", "faults", body, raw=raw)
    assert status == 400
    assert re.search(match, err["error"]["message"])
    assert (await _control(api, "GET", "faults"))[1]["queued"] == []


async def test_get_requests_redacts_credentials(api: Api) -> None:
    await api.post(user("look at me"), headers={"Authorization": "Bearer sk-very-secret"})
    await api.post(user("azure"), "azure", headers={"api-key": "azure-very-secret"})
    status, records = await _control(api, "GET", "requests")
    assert status == 200
    assert [r["path"] for r in records] == [
        "/v1/chat/completions",
        "/openai/deployments/gpt-4o/chat/completions",
    ]
    assert records[0]["json"]["messages"][0]["content"] == "look at me"
    assert records[0]["headers"]["authorization"] == "<redacted>"
    assert records[1]["headers"]["api-key"] == "<redacted>"
    assert records[1]["query"] == {"api-version": "2024-10-21"}
    assert "very-secret" not in str(records)
    assert (await _control(api, "DELETE", "requests"))[0] == 200
    assert (await _control(api, "GET", "requests"))[1] == []


async def test_reset_route(api: Api) -> None:
    await api.post(user("x"))
    await _control(api, "POST", "faults", [{"status": 503}])
    assert (await _control(api, "POST", "reset"))[0] == 200
    assert api.sim.requests == []
    assert (await api.post(user("x")))[0] == 200


# ---------------------------------------------------------------------------- python -m core.llms.simulator


async def _start_cli(*args: str, env: dict[str, str] | None = None) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "core.llms.simulator",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=20)
    except BaseException:
        proc.kill()
        await proc.communicate()
        raise
    match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line.decode())
    if match is None:
        proc.kill()
        _, err = await proc.communicate()
        raise AssertionError(f"no URL printed: {line!r} {err!r}")
    return proc, match.group(1)


async def test_main_entry_point_serves_and_stops_on_sigterm(session: aiohttp.ClientSession) -> None:
    proc, url = await _start_cli()
    try:
        async with session.post(
            f"{url}/v1/chat/completions",
            json=user("from a subprocess"),
            headers={"Authorization": "Bearer k"},
        ) as resp:
            assert resp.status == 200
            body = await resp.json()
        assert body["choices"][0]["message"]["content"] == "Simulated answer to: from a subprocess"
        async with session.post(f"{url}/_sim/faults", json=[{"status": 503}]) as resp:
            assert resp.status == 200
        async with session.post(
            f"{url}/v1/chat/completions", json=user("x"), headers={"Authorization": "Bearer k"}
        ) as resp:
            assert resp.status == 503
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=20)
    assert proc.returncode == 0
    assert b"stopped" in out


async def test_main_entry_point_api_key_from_env(session: aiohttp.ClientSession) -> None:
    proc, url = await _start_cli("--api-key-env", "SIM_TEST_KEY", env={"SIM_TEST_KEY": "sk-cli"})
    try:
        for key, expected in (("sk-cli", 200), ("sk-other", 401)):
            async with session.post(
                f"{url}/v1/chat/completions", json=user("x"), headers={"Authorization": f"Bearer {key}"}
            ) as resp:
                assert resp.status == expected
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.communicate(), timeout=20)
    assert proc.returncode == 0


async def test_main_entry_point_rejects_missing_key_env() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "core.llms.simulator",
        "--api-key-env",
        "SIM_TEST_KEY_THAT_IS_NOT_SET",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if k != "SIM_TEST_KEY_THAT_IS_NOT_SET"},
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout=20)
    assert proc.returncode == 2
    assert b"SIM_TEST_KEY_THAT_IS_NOT_SET" in err
