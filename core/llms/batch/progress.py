"""The progress display of a batch and its final summary.

:func:`make_progress` picks one of two displays for a :class:`~.types.BatchStats`:

* a live ``rich`` line (spinner, bar, completed/total, failures, tokens, cost, cache-hit ratio,
  requests per second, ETA) when ``rich`` is installed and the output is a terminal;
* otherwise a plain-text line every few seconds (CI logs, pipes, files, no ``rich``).

Both end with a summary table on :meth:`BatchProgress.close`. :meth:`BatchProgress.update` is
called after every finished request, up to millions of times, so it never renders: the rich
display redraws itself from the live :class:`~.types.BatchStats` on its own timer (about ten
times a second), and the plain display checks the clock and writes a line at most every few
seconds.

``rich`` is imported only here, and only when a rich display is made.
"""

from __future__ import annotations

import math
import sys
import time
from abc import ABC, abstractmethod
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from ..interfaces.errors import ConfigurationError, InvalidInputError
from .types import BatchStats

if TYPE_CHECKING:
    from rich.console import Console, ConsoleRenderable
    from rich.live import Live

__all__ = [
    "BatchProgress",
    "PlainProgress",
    "RichProgress",
    "format_summary",
    "make_progress",
    "summary_rows",
]

#: seconds between two lines of the plain display.
PLAIN_INTERVAL = 5.0
#: redraws per second of the rich display.
REFRESH_PER_SECOND = 10.0


# ---------------------------------------------------------------------------------- formatting


def _count(value: int) -> str:
    return f"{value:,}"


def _compact(value: float) -> str:
    """``950``, ``12.3k``, ``4.56M``: token counts in the live line."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            scaled = value / limit
            return f"{scaled:.3g}{suffix}" if scaled < 100 else f"{scaled:.0f}{suffix}"
    return f"{value:.0f}"


def _money(value: float) -> str:
    """``$0.0042`` below a dollar (cheap models cost fractions of a cent), ``$1,234.57`` above."""
    if not math.isfinite(value):
        return "$?"
    if value == 0:
        return "$0.00"
    return f"${value:,.4f}" if abs(value) < 1 else f"${value:,.2f}"


def _duration(seconds: float | None) -> str:
    """``42.1s``, ``3m 07s``, ``2h 05m 09s``; ``-`` when unknown."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s"


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.1f}%"


def _rate(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _progress_text(stats: BatchStats) -> str:
    """``1,234/10,000 (12.3%)`` or ``1,234`` without a total."""
    completed, total = stats.completed, stats.total
    if total is None:
        return _count(completed)
    share = f" ({_percent(completed / total)})" if total > 0 else ""
    return f"{_count(completed)}/{_count(total)}{share}"


def _pace_fields(stats: BatchStats) -> list[str]:
    """Speed and time left (or elapsed without a total) for the progress line."""
    return [
        f"{_rate(stats.requests_per_second)} req/s",
        f"ETA {_duration(stats.eta)}" if stats.total is not None else f"elapsed {_duration(stats.elapsed)}",
    ]


def _tally_fields(stats: BatchStats) -> list[str]:
    """Failures, tokens, cost and cache hits for the progress line."""
    return [
        f"{_count(stats.failed)} failed",
        f"tokens {_compact(stats.input_tokens)} in / {_compact(stats.output_tokens)} out",
        _money(stats.cost_usd),
        f"cache {_percent(stats.cache_hit_ratio)}",
    ]


# The live figures read only scalar fields of ``stats`` (never its ``errors`` dict), so the rich
# refresh thread may read them while the batch runs.


def summary_rows(stats: BatchStats) -> list[tuple[str, str]]:
    """The final summary as ``(label, value)`` strings, in display order.

    Failures are followed by one indented row per error class (most frequent first), e.g.
    ``("  RateLimitError", "7")``.
    """
    if not isinstance(stats, BatchStats):
        raise InvalidInputError(f"summary_rows needs a BatchStats, not {type(stats).__name__}")
    completed = stats.completed
    if stats.total is not None and stats.total != completed:
        requests = f"{_count(completed)} of {_count(stats.total)}"
    else:
        requests = _count(completed)
    rows: list[tuple[str, str]] = [
        ("Requests", requests),
        ("Answered", _count(stats.done)),
        ("Failed", _count(stats.failed)),
    ]
    breakdown = sorted(dict(stats.errors).items(), key=lambda item: (-item[1], item[0]))
    rows.extend((f"  {name}", _count(count)) for name, count in breakdown)
    rows += [
        ("Cached", f"{_count(stats.cached)} ({_percent(stats.cache_hit_ratio)} hit ratio)"),
        ("Resumed", _count(stats.resumed)),
        ("Tokens in", _count(stats.input_tokens)),
        ("Tokens out", _count(stats.output_tokens)),
        ("Cost", _money(stats.cost_usd)),
        ("Elapsed", _duration(stats.elapsed)),
        ("Requests/s", _rate(stats.requests_per_second)),
    ]
    return rows


def format_summary(stats: BatchStats, *, title: str = "Batch summary") -> str:
    """The final summary as aligned plain text: a title line, then one ``label  value`` line
    per row of :func:`summary_rows` (values right-aligned)."""
    rows = summary_rows(stats)
    label_width = max(len(label) for label, _ in rows)
    value_width = max(len(value) for _, value in rows)
    lines = [title] if title else []
    lines += [f"  {label:<{label_width}}  {value:>{value_width}}" for label, value in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- displays


class BatchProgress(ABC):
    """A progress display of one batch, fed by a live :class:`BatchStats`.

    ``update()`` after every finished request (cheap: a clock check at most; a redraw happens
    no more than once per interval), ``close()`` at the end, also on error or
    cancellation: it stops the display and prints the final summary. ``close()`` is idempotent
    and the object is a context manager that closes on exit.
    """

    def __init__(self, stats: BatchStats, *, description: str = "", interval: float = PLAIN_INTERVAL) -> None:
        self.stats = stats
        self.description = description
        self._interval = interval
        self._next = time.monotonic() + interval
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    def update(self) -> None:
        """Note that ``stats`` changed. Redraws at most once per interval (a clock check)."""
        now = time.monotonic()
        if now < self._next or self._closed:
            return
        self._next = now + self._interval
        self._tick()

    def close(self, *, summary: bool = True) -> None:
        """Stop the display and (unless ``summary=False``) print the final summary. A second
        call does nothing."""
        if self._closed:
            return
        self._closed = True
        self._finish(summary)

    @abstractmethod
    def _tick(self) -> None:
        """Redraw; called by :meth:`update` at most once per interval."""

    @abstractmethod
    def _finish(self, summary: bool) -> None:
        """Stop drawing and print the summary."""

    @property
    def _title(self) -> str:
        return f"Batch summary: {self.description}" if self.description else "Batch summary"

    def __enter__(self) -> BatchProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"{type(self).__name__}({self.description!r}, {self.stats.completed} done, {state})"


class PlainProgress(BatchProgress):
    """Plain text: one line every ``interval`` seconds while requests finish, then the
    summary. For pipes, CI logs and machines without ``rich``."""

    def __init__(
        self,
        stats: BatchStats,
        *,
        description: str = "",
        stream: IO[str] | None = None,
        interval: float = PLAIN_INTERVAL,
    ) -> None:
        super().__init__(stats, description=description, interval=interval)
        self._stream = stream
        self._broken = False

    @property
    def stream(self) -> IO[str]:
        """Where lines go: the given stream, else the *current* ``sys.stderr``."""
        return self._stream if self._stream is not None else sys.stderr

    def line(self) -> str:
        """The progress line for the current ``stats``."""
        head = f"[{self.description}] " if self.description else ""
        stats = self.stats
        return head + " | ".join([_progress_text(stats), *_pace_fields(stats), *_tally_fields(stats)])

    def _write(self, text: str) -> None:
        """Write one line; a closed or broken stream silences the display instead of failing
        the batch it reports on."""
        if self._broken:
            return
        stream = self.stream
        try:
            stream.write(text + "\n")
            stream.flush()
        except (OSError, ValueError):  # BrokenPipeError, "I/O operation on closed file"
            self._broken = True

    def _tick(self) -> None:
        self._write(self.line())

    def _finish(self, summary: bool) -> None:
        if summary:
            self._write(format_summary(self.stats, title=self._title))


_BAR_WIDTH = 20


class _LiveLine:
    """The rich renderable of the live display: built from ``stats`` at every redraw."""

    def __init__(self, stats: BatchStats, description: str) -> None:
        from rich.spinner import Spinner

        self.stats = stats
        self.description = description
        self.spinner = Spinner("dots", style="progress.spinner")

    def __rich__(self) -> ConsoleRenderable:
        """Two lines: spinner, description, bar, count, speed and ETA; then failures, tokens,
        cost and cache hits (each fits an 80-column terminal)."""
        from rich.console import Group
        from rich.progress_bar import ProgressBar
        from rich.table import Table
        from rich.text import Text

        stats = self.stats
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, min_width=1)  # spinner
        if self.description:  # kept whole (up to 40 characters) when the terminal is narrow
            width = min(len(self.description), 40)
            grid.add_column(no_wrap=True, style="progress.description", min_width=width)
        grid.add_column(no_wrap=True, min_width=_BAR_WIDTH)
        grid.add_column(no_wrap=True, overflow="ellipsis")
        cells: list[Any] = [self.spinner]
        if self.description:
            cells.append(Text(self.description, overflow="ellipsis"))
        total = stats.total
        completed = stats.completed
        finished = total is not None and completed >= total
        if total is None:  # unknown length: a pulsing bar
            bar = ProgressBar(total=None, width=_BAR_WIDTH)
        else:  # an empty batch shows a full bar
            bar = ProgressBar(total=max(total, 1), completed=completed if total else 1, width=_BAR_WIDTH)
        cells.append(bar)
        head = Text(no_wrap=True, overflow="ellipsis")
        head.append(_progress_text(stats), style="progress.download" if finished else "progress.percentage")
        for field in _pace_fields(stats):
            head.append(" • ", style="dim")
            head.append(field)
        cells.append(head)
        grid.add_row(*cells)

        tally = Text("  ", no_wrap=True, overflow="ellipsis")
        for index, field in enumerate(_tally_fields(stats)):
            if index:
                tally.append(" • ", style="dim")
            tally.append(field, style=("red" if stats.failed else "dim") if index == 0 else "")
        return Group(grid, tally)


class RichProgress(BatchProgress):
    """A live ``rich`` display that redraws itself ``refresh_per_second`` times a second from
    ``stats`` (``update()`` costs a clock check), then a summary table."""

    def __init__(
        self,
        stats: BatchStats,
        *,
        description: str = "",
        console: Console,
        refresh_per_second: float = REFRESH_PER_SECOND,
        auto_refresh: bool = True,
    ) -> None:
        from rich.live import Live

        super().__init__(stats, description=description, interval=1.0 / refresh_per_second)
        self.console = console
        self._auto_refresh = auto_refresh
        self._view = _LiveLine(stats, description)
        self._live: Live = Live(
            console=console,
            get_renderable=self._view.__rich__,
            auto_refresh=auto_refresh,
            refresh_per_second=refresh_per_second,
            transient=False,
        )
        self._live.start(refresh=True)

    @property
    def live(self) -> Live:
        """The underlying :class:`rich.live.Live` (stopped after :meth:`close`)."""
        return self._live

    def update(self) -> None:
        """Nothing to do while rich redraws on its own timer; else a throttled redraw."""
        if not self._auto_refresh:
            super().update()

    def _tick(self) -> None:
        self._live.refresh()

    def _finish(self, summary: bool) -> None:
        self._live.stop()
        if summary:
            self.console.print(self.summary_table())

    def summary_table(self) -> ConsoleRenderable:
        """The final summary as a :class:`rich.table.Table`."""
        from rich.table import Table
        from rich.text import Text

        table = Table(
            title=Text(self._title, style="bold"),
            title_justify="left",
            show_header=False,
            box=None,
            padding=(0, 2),
        )
        table.add_column(style="bold", no_wrap=True)
        table.add_column(justify="right", no_wrap=True)
        for label, value in summary_rows(self.stats):
            is_error_class = label.startswith("  ")
            style = "red" if is_error_class or (label == "Failed" and self.stats.failed) else None
            table.add_row(label, value, style=style)
        return table


# ---------------------------------------------------------------------------------- factory


def _rich_available() -> bool:
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # no isatty, closed or detached stream
        return False


def make_progress(
    show: bool | None,
    stats: BatchStats,
    *,
    description: str = "",
    stream: IO[str] | None = None,
    console: Console | None = None,
    refresh_per_second: float = REFRESH_PER_SECOND,
    plain_interval: float = PLAIN_INTERVAL,
) -> BatchProgress | None:
    """The progress display for ``stats``, or None when there is to be none.

    ``show``: False -> None; None (auto) -> a rich display only when ``stream`` (default
    ``sys.stderr``) is a terminal and ``rich`` is installed, else None; True -> the rich display
    on a terminal, the plain-text display otherwise (no ``rich``, a pipe, a file, a dumb
    terminal: rich cannot redraw a line there, plain lines read well in logs).

    ``console``: a :class:`rich.console.Console` to draw on; it forces the rich display (unless
    ``show`` is False). ``refresh_per_second``: redraw rate of the rich display;
    ``plain_interval``: seconds between two plain lines.
    """
    if show is not None and not isinstance(show, bool):
        raise InvalidInputError(f"show_progress must be True, False or None, not {type(show).__name__}")
    if not isinstance(stats, BatchStats):
        raise InvalidInputError(f"make_progress needs a BatchStats, not {type(stats).__name__}")
    if not isinstance(description, str):
        raise InvalidInputError(f"progress description must be a string, not {type(description).__name__}")
    if stream is not None and not callable(getattr(stream, "write", None)):
        raise InvalidInputError(
            f"progress stream must be a writable text stream, not {type(stream).__name__}"
        )
    for name, value in (("refresh_per_second", refresh_per_second), ("plain_interval", plain_interval)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
            raise ConfigurationError(f"progress {name} must be a positive number, got {value!r}")
    if show is False:
        return None

    if console is not None:
        if not _rich_available():
            raise ConfigurationError("a progress console was given but the 'rich' package is not installed")
        from rich.console import Console as RichConsole

        if not isinstance(console, RichConsole):
            raise InvalidInputError(f"progress console must be a rich Console, not {type(console).__name__}")
        return RichProgress(
            stats, description=description, console=console, refresh_per_second=refresh_per_second
        )

    target = stream if stream is not None else sys.stderr
    terminal = _is_terminal(target)
    if terminal and _rich_available():
        from rich.console import Console as RichConsole

        rich_console = RichConsole(file=target) if stream is not None else RichConsole(stderr=True)
        if rich_console.is_terminal and not rich_console.is_dumb_terminal:
            return RichProgress(
                stats, description=description, console=rich_console, refresh_per_second=refresh_per_second
            )
    if show is None:
        return None
    return PlainProgress(stats, description=description, stream=stream, interval=plain_interval)
