"""The batch progress display (rich live line or plain lines) and the final summary."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import pytest
from rich.console import Console
from rich.live import Live

from core.llms.batch import progress as progress_module
from core.llms.batch.progress import (
    BatchProgress,
    PlainProgress,
    RichProgress,
    format_summary,
    make_progress,
    summary_rows,
)
from core.llms.batch.types import BatchStats
from core.llms.interfaces.errors import ConfigurationError, InvalidInputError

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def plain_text(buffer: io.StringIO) -> str:
    return ANSI.sub("", buffer.getvalue()).replace("\r", "\n")


def rich_console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=True, width=120), buffer


def refresh_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if type(t).__name__ == "_RefreshThread" and t.is_alive()]


class TtyStream(io.StringIO):
    """A text stream that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


def busy_stats() -> BatchStats:
    """A batch one eighth done, with failures, cache hits, tokens and cost; 125 s elapsed."""
    stats = BatchStats(total=10_000, started=100.0, finished=225.0)
    stats.done = 1_234
    stats.failed = 3
    stats.errors = {"RequestTimeoutError": 1, "RateLimitError": 2}
    stats.cached = 100
    stats.resumed = 7
    stats.input_tokens = 1_234_567
    stats.output_tokens = 300_000
    stats.cost_usd = 0.4213
    return stats


@pytest.fixture
def terminal_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment in which rich trusts ``isatty()``."""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


@pytest.fixture
def no_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import rich`` (and every rich submodule) fail as if the package were missing."""
    for name in [name for name in sys.modules if name == "rich" or name.startswith("rich.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "rich", None)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


# ---------------------------------------------------------------------------------- choosing a display


def test_show_false_means_no_display() -> None:
    assert make_progress(False, BatchStats(total=3), stream=TtyStream()) is None


def test_auto_mode_is_off_for_a_non_terminal_stream() -> None:
    assert make_progress(None, BatchStats(total=3), stream=io.StringIO()) is None


def test_auto_mode_is_on_for_a_terminal_with_rich(terminal_env: None) -> None:
    stream = TtyStream()
    progress = make_progress(None, BatchStats(total=3), description="m", stream=stream)
    assert isinstance(progress, RichProgress)
    progress.close()
    assert "0/3" in ANSI.sub("", stream.getvalue())


def test_auto_mode_is_off_on_a_dumb_terminal(monkeypatch: pytest.MonkeyPatch, terminal_env: None) -> None:
    monkeypatch.setenv("TERM", "dumb")
    assert make_progress(None, BatchStats(total=3), stream=TtyStream()) is None
    forced = make_progress(True, BatchStats(total=3), stream=TtyStream())
    assert isinstance(forced, PlainProgress)
    forced.close(summary=False)


def test_auto_mode_is_off_without_rich(terminal_env: None, no_rich: None) -> None:
    assert make_progress(None, BatchStats(total=3), stream=TtyStream()) is None


def test_show_true_without_rich_falls_back_to_plain_text(terminal_env: None, no_rich: None) -> None:
    stream = TtyStream()
    stats = BatchStats(total=4)
    progress = make_progress(True, stats, description="gpt-x", stream=stream, plain_interval=0.01)
    assert isinstance(progress, PlainProgress)
    with progress:
        stats.done = 2
        time.sleep(0.02)
        progress.update()
    out = stream.getvalue()
    assert "[gpt-x] 2/4 (50.0%)" in out
    assert "Batch summary: gpt-x" in out and "Answered" in out
    assert "\x1b[" not in out  # no escape codes in the fallback


def test_show_true_on_a_pipe_writes_plain_lines() -> None:
    progress = make_progress(True, BatchStats(total=4), stream=io.StringIO())
    assert isinstance(progress, PlainProgress)
    progress.close(summary=False)


def test_console_keyword_forces_rich() -> None:
    console, _ = rich_console()
    progress = make_progress(None, BatchStats(), console=console)
    assert isinstance(progress, RichProgress)
    progress.close()
    assert make_progress(False, BatchStats(), console=console) is None


def test_console_without_rich_is_a_configuration_error(no_rich: None) -> None:
    with pytest.raises(ConfigurationError, match="rich"):
        make_progress(True, BatchStats(), console=SimpleNamespace())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"show": "yes"}, InvalidInputError, "show_progress"),
        ({"stats": {"total": 3}}, InvalidInputError, "BatchStats"),
        ({"description": 3}, InvalidInputError, "description"),
        ({"stream": object()}, InvalidInputError, "stream"),
        ({"console": io.StringIO()}, InvalidInputError, "rich Console"),
        ({"refresh_per_second": 0}, ConfigurationError, "refresh_per_second"),
        ({"plain_interval": float("nan")}, ConfigurationError, "plain_interval"),
    ],
)
def test_bad_arguments_are_typed_errors(
    kwargs: dict[str, object], error: type[Exception], words: str
) -> None:
    arguments: dict[str, object] = {"show": True, "stats": BatchStats(), "stream": io.StringIO(), **kwargs}
    with pytest.raises(error, match=words):
        make_progress(**arguments)  # type: ignore[arg-type]


def test_importing_the_module_does_not_import_rich() -> None:
    code = "import sys, core.llms.batch.progress; assert 'rich' not in sys.modules, 'rich imported'"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------------------------- the rich display


def test_rich_display_shows_every_figure() -> None:
    console, buffer = rich_console()
    stats = busy_stats()
    progress = make_progress(True, stats, description="gpt-4o-mini", console=console)
    assert isinstance(progress, RichProgress)
    progress.close(summary=False)
    out = plain_text(buffer)
    assert "gpt-4o-mini" in out
    assert "━" in out  # the bar
    for figure in (
        "1,237/10,000 (12.4%)",
        "9.9 req/s",  # 1,237 in 125 s
        "ETA 14m 46s",  # 8,763 left at 9.896/s
        "3 failed",
        "tokens 1.23M in / 300k out",
        "$0.4213",
        "cache 8.1%",  # 100 of the 1,230 not resumed
    ):
        assert figure in out, figure
    assert max(len(line) for line in out.splitlines()) <= 120


def test_rich_display_without_total_shows_a_count_and_elapsed_time() -> None:
    console, buffer = rich_console()
    stats = BatchStats(started=0.0, finished=65.0)
    stats.done = 42
    progress = make_progress(True, stats, console=console)
    assert progress is not None
    progress.close(summary=False)
    out = plain_text(buffer)
    assert "42 •" in out and "elapsed 1m 05s" in out
    assert "ETA" not in out and "/" not in out.split("42 •")[0]
    assert "⠋" in out or any(ch in out for ch in "⠙⠹⠸⠼⠴⠦⠧⠇⠏")  # spinner frame


def test_rich_display_redraws_on_its_own_timer() -> None:
    console, buffer = rich_console()
    stats = BatchStats(total=100)
    progress = make_progress(True, stats, console=console, refresh_per_second=50)
    assert progress is not None
    try:
        stats.done = 42  # no update() call: the refresh thread reads the stats
        deadline = time.monotonic() + 5
        while "42/100" not in plain_text(buffer) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "42/100" in plain_text(buffer)
    finally:
        progress.close()


def test_rich_display_without_auto_refresh_redraws_at_most_once_per_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(progress_module, "time", clock)
    console, _ = rich_console()
    stats = BatchStats(total=100)
    progress = RichProgress(stats, console=console, auto_refresh=False, refresh_per_second=10)
    redraws: list[int] = []
    monkeypatch.setattr(progress.live, "refresh", lambda: redraws.append(stats.done))
    for _ in range(1000):
        stats.done += 1
        progress.update()
    assert redraws == []
    clock.now += 0.1
    progress.update()
    progress.update()
    assert redraws == [1000]
    monkeypatch.undo()
    progress.close()


def test_markup_in_the_description_is_shown_as_is() -> None:
    console, buffer = rich_console()
    progress = make_progress(True, BatchStats(total=1), description="[bold]m[/bold]", console=console)
    assert progress is not None
    progress.close()
    out = plain_text(buffer)
    assert "[bold]m[/bold]" in out and "Batch summary: [bold]m[/bold]" in out


def test_rich_close_prints_a_summary_table() -> None:
    console, buffer = rich_console()
    progress = make_progress(True, busy_stats(), description="gpt-4o-mini", console=console)
    assert progress is not None
    progress.close()
    out = plain_text(buffer)
    summary = out[out.index("Batch summary: gpt-4o-mini") :]
    for label, value in summary_rows(busy_stats()):
        assert re.search(rf"{re.escape(label.strip())}\s+{re.escape(value)}", summary), (label, value)


def test_close_is_idempotent_and_restores_the_terminal() -> None:
    console, buffer = rich_console()
    streams = (sys.stdout, sys.stderr)
    progress = make_progress(True, BatchStats(total=5), description="m", console=console)
    assert isinstance(progress, RichProgress)
    assert progress.live.is_started
    assert (sys.stdout, sys.stderr) != streams  # rich redirects print() above the live line
    progress.close()
    once = buffer.getvalue()
    progress.close()
    progress.update()
    assert buffer.getvalue() == once  # nothing more: no second summary, no redraw
    assert progress.closed and not progress.live.is_started
    assert (sys.stdout, sys.stderr) == streams
    assert once.rindex("\x1b[?25h") > once.rindex("\x1b[?25l")  # the cursor is shown again
    # rich's refresh thread is told to stop (it ends at once; rich does not join it)
    deadline = time.monotonic() + 5
    while refresh_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not refresh_threads()
    follower = Live(console=console)
    assert console.set_live(follower)  # no live display left on the console
    console.clear_live()


def test_context_manager_closes_on_error() -> None:
    console, buffer = rich_console()
    progress = make_progress(True, BatchStats(total=5), console=console)
    assert isinstance(progress, RichProgress)
    with pytest.raises(KeyError), progress:
        raise KeyError("boom")
    assert progress.closed and not progress.live.is_started
    assert "Batch summary" in plain_text(buffer)


# ---------------------------------------------------------------------------------- the plain display


def test_plain_display_writes_a_line_per_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(progress_module, "time", clock)
    stream = io.StringIO()
    stats = busy_stats()
    progress = make_progress(True, stats, description="m", stream=stream, plain_interval=5)
    assert isinstance(progress, PlainProgress)
    for _ in range(10_000):
        progress.update()
    assert stream.getvalue() == ""
    clock.now += 5
    for _ in range(10_000):
        progress.update()
    clock.now += 4.9
    progress.update()
    lines = stream.getvalue().splitlines()
    assert lines == [
        "[m] 1,237/10,000 (12.4%) | 9.9 req/s | ETA 14m 46s | 3 failed | tokens 1.23M in / 300k out"
        " | $0.4213 | cache 8.1%"
    ]
    clock.now += 0.1
    progress.update()
    assert len(stream.getvalue().splitlines()) == 2
    progress.close()
    assert stream.getvalue().endswith(format_summary(stats, title="Batch summary: m") + "\n")


def test_plain_display_defaults_to_the_current_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    progress = make_progress(True, BatchStats(total=1))
    assert isinstance(progress, PlainProgress)
    progress.close()
    assert "Batch summary" in capsys.readouterr().err


# ---------------------------------------------------------------------------------- update() cost


@pytest.mark.parametrize("kind", ["rich", "rich-manual", "plain"])
def test_a_hundred_thousand_updates_take_well_under_a_second(kind: str) -> None:
    stats = BatchStats(total=100_000)
    progress: BatchProgress | None
    if kind == "plain":
        progress = make_progress(True, stats, stream=io.StringIO(), plain_interval=0.01)
    else:
        console, _ = rich_console()
        progress = RichProgress(stats, console=console, auto_refresh=kind == "rich")
    assert progress is not None
    started = time.perf_counter()
    for _ in range(100_000):
        stats.done += 1
        progress.update()
    spent = time.perf_counter() - started
    progress.close(summary=False)
    assert spent < 1.0, f"{kind}: {spent / 100_000 * 1e9:.0f} ns per update()"


# ---------------------------------------------------------------------------------- the summary


def test_summary_rows() -> None:
    assert summary_rows(busy_stats()) == [
        ("Requests", "1,237 of 10,000"),
        ("Answered", "1,234"),
        ("Failed", "3"),
        ("  RateLimitError", "2"),
        ("  RequestTimeoutError", "1"),
        ("Cached", "100 (8.1% hit ratio)"),
        ("Resumed", "7"),
        ("Tokens in", "1,234,567"),
        ("Tokens out", "300,000"),
        ("Cost", "$0.4213"),
        ("Elapsed", "2m 05s"),
        ("Requests/s", "9.9"),
    ]


def test_summary_of_a_finished_batch() -> None:
    stats = BatchStats(total=2, started=0.0, finished=7_384.0)
    stats.done = 2
    stats.cost_usd = 1234.5678
    rows = dict(summary_rows(stats))
    assert rows["Requests"] == "2"  # all done: no "of"
    assert rows["Failed"] == "0" and rows["Cost"] == "$1,234.57" and rows["Elapsed"] == "2h 03m 04s"
    assert rows["Cached"] == "0 (0.0% hit ratio)"
    empty = dict(summary_rows(BatchStats(started=0.0, finished=0.0)))
    assert empty["Requests"] == "0" and empty["Cost"] == "$0.00" and empty["Requests/s"] == "0.0"


def test_format_summary_is_aligned_plain_text() -> None:
    text = format_summary(busy_stats())
    lines = text.splitlines()
    assert lines[0] == "Batch summary"
    assert len({len(line) for line in lines[1:]}) == 1  # values right-aligned in one column
    assert "    RateLimitError" in text
    assert lines[1].split() == ["Requests", "1,237", "of", "10,000"]
    assert format_summary(BatchStats(), title="").splitlines()[0].split()[0] == "Requests"


def test_summary_rows_rejects_other_objects() -> None:
    with pytest.raises(InvalidInputError, match="BatchStats"):
        summary_rows({"done": 1})  # type: ignore[arg-type]


def test_a_closed_stream_silences_the_plain_display(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(progress_module, "time", clock)
    stream = io.StringIO()
    progress = make_progress(True, BatchStats(total=2), stream=stream, plain_interval=1)
    assert isinstance(progress, PlainProgress)
    stream.close()
    clock.now += 1
    progress.update()  # no "I/O operation on closed file" escapes into the batch
    progress.close()
    assert progress.closed
