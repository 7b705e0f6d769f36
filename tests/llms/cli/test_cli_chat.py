"""``core-llms chat`` against the simulator (on its own thread: ``main`` runs its own loop):
streamed output, stdin, JSON, the summary, credentials from the environment or a named
variable, ``--api-key`` refused, typed errors with exit code 1."""

from __future__ import annotations

import io
import json

import pytest

from core.llms.simulator import Fault, Simulator

from .support import ANSI, KEY, Run

PROMPT = "Name three rivers of Europe"
ANSWER = f"Simulated answer to: {PROMPT}"


class FlushRecorder(io.StringIO):
    """A stdout that records what had been written at each flush."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[str] = []

    def flush(self) -> None:
        self.flushed.append(self.getvalue())


def test_answer_streams_to_stdout(run: Run, openai_env: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run("chat", PROMPT, "-m", "gpt-4.1-mini")
    assert result.code == 0, result.err
    assert result.out == ANSWER + "\n"
    assert not ANSI.search(result.out) and result.err == ""  # piped: no summary, no escape codes
    sent = openai_env.requests[-1]
    assert sent.json["stream"] is True and sent.json["messages"][-1]["content"] == PROMPT

    stdout = FlushRecorder()
    monkeypatch.setattr("sys.stdout", stdout)
    from core.llms.cli import main

    assert main(["chat", PROMPT, "-m", "gpt-4.1-mini"]) == 0
    assert stdout.getvalue() == ANSWER + "\n"
    partial = [text for text in stdout.flushed if text and not text.endswith("\n")]
    assert len(partial) >= len(ANSWER.split()) - 1  # flushed as the pieces arrived, not at the end
    assert all(ANSWER.startswith(text) for text in partial)


def test_prompt_from_stdin_system_and_parameters(
    run: Run, openai_env: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("from the pipe\n"))
    result = run(
        "chat", "-m", "openai/gpt-4.1-mini", "--system", "Be brief.", "--temperature", "0.5",
        "--max-tokens", "50",
    )  # fmt: skip
    assert result.code == 0 and result.out == "Simulated answer to: from the pipe\n"
    body = openai_env.requests[-1].json
    assert body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert body["temperature"] == 0.5
    assert 50 in (body.get("max_tokens"), body.get("max_completion_tokens"))
    monkeypatch.setattr("sys.stdin", io.StringIO("   \n"))
    empty = run("chat", "-", "-m", "gpt-4.1-mini")
    assert empty.code == 2 and "empty" in empty.err


def test_no_stream_and_json(run: Run, openai_env: Simulator) -> None:
    whole = run("chat", PROMPT, "-m", "gpt-4.1-mini", "--no-stream")
    assert whole.code == 0 and whole.out == ANSWER + "\n"
    assert openai_env.requests[-1].json.get("stream") in (None, False)
    for extra in ((), ("--no-stream",)):
        record = json.loads(run("chat", PROMPT, "-m", "gpt-4.1-mini", "--json", *extra).out)
        assert record["text"] == ANSWER
        assert record["model"] == "openai/gpt-4.1-mini" and record["finish_reason"] == "stop"
        assert record["usage"]["output_tokens"] > 0 and record["cost_usd"] > 0
        assert record["latency_s"] >= 0


def test_summary_on_stderr(run: Run, openai_env: Simulator) -> None:
    verbose = run("chat", PROMPT, "-m", "gpt-4.1-mini", "--verbose")
    assert verbose.out == ANSWER + "\n"
    summary = verbose.err.strip().splitlines()[-1]
    assert "openai/gpt-4.1-mini" in summary and "in /" in summary and "$" in summary and "s" in summary
    assert not ANSI.search(verbose.err)
    coloured = run("chat", PROMPT, "-m", "gpt-4.1-mini", "--color", "always")  # forced terminal layout
    assert coloured.out == ANSWER + "\n"  # the answer itself is never styled
    assert ANSI.search(coloured.err) and "openai/gpt-4.1-mini" in ANSI.sub("", coloured.err)


def test_endpoint_and_key_variable(run: Run, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SIM_KEY", KEY)
    endpoint = ("--endpoint", f"{sim.url}/v1", "--api-key-env", "MY_SIM_KEY")
    result = run("chat", PROMPT, "-m", "openai/gpt-4.1-mini", *endpoint)
    assert result.code == 0 and result.out == ANSWER + "\n"
    assert sim.request_count == 1
    bare = run(
        "chat", PROMPT, "-m", "gpt-4.1-mini", "--endpoint", f"{sim.url}/v1", "--api-key-env", "MY_SIM_KEY"
    )
    assert bare.code == 0 and bare.out == ANSWER + "\n"
    unset = run("chat", PROMPT, "-m", "gpt-4.1-mini", "--api-key-env", "NOT_SET_ANYWHERE")
    assert unset.code == 2 and "NOT_SET_ANYWHERE" in unset.err


@pytest.mark.parametrize("form", [["--api-key", "sk-live-secret-123"], ["--api-key=sk-live-secret-123"]])
def test_a_key_on_the_command_line_is_refused(run: Run, openai_env: Simulator, form: list[str]) -> None:
    result = run("chat", PROMPT, "-m", "gpt-4.1-mini", *form)
    assert result.code == 2
    assert "--api-key is refused" in result.err and "--api-key-env" in result.err
    assert "sk-live-secret-123" not in result.err + result.out
    assert openai_env.request_count == 0


def test_typed_errors_exit_1_with_message_and_hint(
    run: Run, openai_env: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "wrong-key-value")
    denied = run("chat", PROMPT, "-m", "gpt-4.1-mini")
    assert denied.code == 1 and denied.out == ""
    assert "error: AuthenticationError" in denied.err and "Traceback" not in denied.err
    assert "wrong-key-value" not in denied.err
    monkeypatch.delenv("OPENAI_API_KEY")
    no_key = run("chat", PROMPT, "-m", "openai/gpt-4.1-mini", "--json")
    assert no_key.code == 1
    assert "ConfigurationError" in no_key.err and "hint:" in no_key.err and "OPENAI_API_KEY" in no_key.err
    assert json.loads(no_key.out)["error"]["type"] == "ConfigurationError"
    unknown = run("chat", PROMPT, "-m", "no-such-model-anywhere")
    assert unknown.code == 1 and "UnknownModelError" in unknown.err
    debug = run("chat", PROMPT, "-m", "no-such-model-anywhere", "--debug")
    assert debug.code == 1 and "Traceback" in debug.err


def test_an_error_mid_stream_ends_the_line_and_exits_1(run: Run, openai_env: Simulator) -> None:
    openai_env.enqueue(Fault(truncate_stream=True, after_chunks=3))
    result = run("chat", PROMPT, "-m", "gpt-4.1-mini")
    assert result.code == 1
    assert result.out.endswith("\n") and ANSWER.startswith(result.out.rstrip("\n"))
    assert "error:" in result.err and "Traceback" not in result.err


def test_missing_model_is_a_usage_error(run: Run) -> None:
    result = run("chat", PROMPT)
    assert result.code == 2 and "-m/--model" in result.err
