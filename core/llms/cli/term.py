"""Terminal output of the command line: when to colour, ANSI styles, tables fitted to the width.

Two layouts, chosen per stream:

rich (a terminal, or colour forced)
    bold headers, dim secondary text, coloured capabilities, columns fitted to the terminal's
    width (:func:`shutil.get_terminal_size`), long cells cut with ``…``.
plain (piped or redirected)
    tab-separated rows, a header row first, no escape codes: ``core-llms models | cut -f1``.

Colour follows, first match wins: ``--color always|never``; ``NO_COLOR`` set (non-empty): none;
``FORCE_COLOR`` set (non-empty, not ``0``): colour; else colour when the stream is a terminal and
``TERM`` is not ``dumb``. Forced colour also forces the rich layout.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TextIO

__all__ = [
    "BLUE",
    "BOLD",
    "CYAN",
    "DIM",
    "GREEN",
    "MAGENTA",
    "RED",
    "YELLOW",
    "Cell",
    "ColorMode",
    "Column",
    "Terminal",
    "color_wanted",
    "plain",
    "stderr_terminal",
    "stdout_terminal",
]

BOLD = "1"
DIM = "2"
RED = "31"
GREEN = "32"
YELLOW = "33"
BLUE = "34"
MAGENTA = "35"
CYAN = "36"

ColorMode = Literal["auto", "always", "never"]

#: a table cell: plain text, or styled pieces ``((text, style), ...)`` (style "" for none).
Cell = str | tuple[tuple[str, str], ...]

_ELLIPSIS = "…"
_GAP = "  "


def color_wanted(mode: str, stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``stream`` gets ANSI colour (see the module docstring for the rules)."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    return _isatty(stream) and env.get("TERM") != "dumb"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):  # a closed or fake stream
        return False


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: its header, right alignment (numbers), and whether it may be cut to fit:
    ``shrink`` is the width it is cut down to first (0 keeps it whole), ``floor`` the width it
    may be cut down to when cutting every column to ``shrink`` is not enough (default ``shrink``)."""

    header: str
    right: bool = False
    shrink: int = 0
    floor: int = 0


class Terminal:
    """One output stream and how to write to it: ``color`` (ANSI codes) and ``rich`` (the
    terminal layout rather than tab-separated text)."""

    def __init__(self, stream: TextIO, *, color: bool, rich: bool, width: int | None = None) -> None:
        self.stream = stream
        self.color = color
        self.rich = rich
        self.width = width if width is not None else shutil.get_terminal_size((100, 24)).columns

    @classmethod
    def for_stream(cls, stream: TextIO, mode: str, environ: Mapping[str, str] | None = None) -> Terminal:
        """The terminal of ``stream`` under colour ``mode`` (``auto``, ``always``, ``never``)."""
        color = color_wanted(mode, stream, environ)
        return cls(stream, color=color, rich=color or _isatty(stream))

    # -- text ---------------------------------------------------------------------------------

    def style(self, text: str, *codes: str) -> str:
        """``text`` in the given ANSI styles (unchanged without colour)."""
        if not self.color or not codes or not text:
            return text
        return f"\x1b[{';'.join(codes)}m{text}\x1b[0m"

    def write(self, text: str = "", *, end: str = "\n", flush: bool = False) -> None:
        """Write ``text`` and ``end``."""
        self.stream.write(text + end)
        if flush:
            self.stream.flush()

    def json(self, value: Any) -> None:
        """Write ``value`` as indented JSON (keys in the given order)."""
        self.write(json.dumps(value, indent=2, ensure_ascii=False, default=str))

    # -- tables -------------------------------------------------------------------------------

    def table(self, columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> None:
        """Write a table: fitted and styled when rich, tab-separated when plain."""
        if not self.rich:
            self.write("\t".join(c.header for c in columns))
            for row in rows:
                self.write("\t".join(_tsv(plain(cell)) for cell in row))
            return
        widths = [max([len(c.header), *(len(plain(row[i])) for row in rows)]) for i, c in enumerate(columns)]
        _fit(widths, columns, self.width)
        head = _GAP.join(_pad(c.header, w, c.right) for c, w in zip(columns, widths, strict=True))
        self.write(self.style(head.rstrip(), BOLD))
        for row in rows:
            cells = [self._cell(cell, w, c.right) for cell, c, w in zip(row, columns, widths, strict=True)]
            self.write(_GAP.join(cells).rstrip())

    def _cell(self, cell: Cell, width: int, right: bool) -> str:
        pieces = ((cell, ""),) if isinstance(cell, str) else cell
        pieces = _cut(pieces, width)
        used = sum(len(text) for text, _ in pieces)
        body = "".join(self.style(text, style) if style else text for text, style in pieces)
        fill = " " * (width - used)
        return fill + body if right else body + fill


def plain(cell: Cell) -> str:
    """The text of a cell, without styles."""
    return cell if isinstance(cell, str) else "".join(text for text, _ in cell)


def _tsv(text: str) -> str:
    return text.replace("\t", " ").replace("\n", " ")


def _pad(text: str, width: int, right: bool) -> str:
    text = plain(_cut(((text, ""),), width))
    return text.rjust(width) if right else text.ljust(width)


def _cut(pieces: tuple[tuple[str, str], ...], width: int) -> tuple[tuple[str, str], ...]:
    """The pieces cut to ``width`` characters, the last one ending in ``…`` when cut."""
    if sum(len(text) for text, _ in pieces) <= width:
        return pieces
    out: list[tuple[str, str]] = []
    room = max(width - 1, 0)
    for text, style in pieces:
        if room <= 0:
            break
        out.append((text[:room], style))
        room -= len(text[:room])
    return (*out, (_ELLIPSIS, "")) if width > 0 else ()


def _fit(widths: list[int], columns: Sequence[Column], total: int) -> None:
    """Shrink the columns that may shrink (last first) until the row fits in ``total``: each to
    its ``shrink`` width, then, if that is not enough, to its ``floor``."""
    excess = sum(widths) + len(_GAP) * (len(widths) - 1) - total
    for smallest in ([c.shrink for c in columns], [c.floor or c.shrink for c in columns]):
        for i in reversed(range(len(columns))):
            if excess <= 0:
                return
            if smallest[i] and widths[i] > smallest[i]:
                cut = min(excess, widths[i] - smallest[i])
                widths[i] -= cut
                excess -= cut


def stdout_terminal(mode: str) -> Terminal:
    """The terminal of :data:`sys.stdout` (looked up at call time: tests replace it)."""
    return Terminal.for_stream(sys.stdout, mode)


def stderr_terminal(mode: str) -> Terminal:
    """The terminal of :data:`sys.stderr`."""
    return Terminal.for_stream(sys.stderr, mode)
