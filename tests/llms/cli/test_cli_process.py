"""``python -m core.llms.cli`` as a process: piped output, chat through the simulator, Ctrl-C
(exit 130), ``simulator`` delegating to the simulator's own command line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.llms.simulator import Simulator

from .support import ANSI, KEY

ROOT = Path(__file__).resolve().parents[3]
#: (a process started from a background shell ignores SIGINT; the child takes Python's default
#: handler back, as an interactive shell's foreground process has it)
_WITH_SIGINT = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from core.llms.cli import main; sys.exit(main(sys.argv[1:]))"
)


def cli(
    *argv: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core.llms.cli", *argv],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_module_runs_and_pipes_plain_text() -> None:
    done = cli("models", "--provider", "openai")
    assert done.returncode == 0, done.stderr
    assert not ANSI.search(done.stdout)
    first_column = [line.split("\t")[0] for line in done.stdout.splitlines()]
    assert first_column[0] == "model" and "openai/gpt-4.1-mini" in first_column
    version = cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("core-llms ")
    forced = cli("models", "--provider", "openai", env={**os.environ, "FORCE_COLOR": "1"})
    assert ANSI.search(forced.stdout)


def test_chat_process_against_the_simulator(sim: Simulator) -> None:
    env = {**os.environ, "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": f"{sim.url}/v1"}
    done = cli("chat", "-m", "gpt-4.1-mini", env=env, stdin="hello from a pipe")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Simulated answer to: hello from a pipe\n"
    assert done.stderr == ""
    refused = cli("chat", "hi", "-m", "gpt-4.1-mini", "--api-key", "sk-abc", env=env)
    assert refused.returncode == 2 and "sk-abc" not in refused.stderr
    failed = cli("chat", "hi", "-m", "gpt-4.1-mini", env={**env, "OPENAI_API_KEY": "bad"})
    assert failed.returncode == 1 and "AuthenticationError" in failed.stderr
    assert "Traceback" not in failed.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is a POSIX signal")
def test_ctrl_c_stops_cleanly_with_exit_130(slow_sim: Simulator) -> None:
    env = {**os.environ, "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": f"{slow_sim.url}/v1"}
    prompt = " ".join(f"word{i}" for i in range(30))
    proc = subprocess.Popen(
        [sys.executable, "-c", _WITH_SIGINT, "chat", prompt, "-m", "gpt-4.1-mini"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.read(9)  # the answer has started to stream
        assert first == b"Simulated"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert b"interrupted" in err and b"Traceback" not in err
    assert (first + out).endswith(b"\n")  # the partial answer's line is ended


def test_simulator_command_delegates() -> None:
    helped = cli("simulator", "--help")
    assert helped.returncode == 0 and "--chunk-delay" in helped.stdout
    proc = subprocess.Popen(
        [sys.executable, "-m", "core.llms.cli", "simulator", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 20
        line = proc.stdout.readline()
        while "listening" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
        assert "core-llms simulator listening on http://127.0.0.1:" in line
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0


def test_simulator_in_process_help(capsys: pytest.CaptureFixture[str]) -> None:
    from core.llms.cli import main

    assert main(["--color", "never", "simulator", "--help"]) == 0
    assert "--fault-rate" in capsys.readouterr().out
