"""``docs/reliability.md`` and the fault matrix agree: the rules table says for each failure which
error surfaces, whether it is retried and whether it fails over; the matrix proves it. This
test parses the table and fails when either side drifts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from .test_fault_matrix import CASES, MATRIX, Row

DOC = Path(__file__).resolve().parents[3] / "docs" / "reliability.md"
HEADER = "| failure | error type | retried on the same endpoint? | failed over to a backup? |"
#: docs rows the matrix does not drive, and where they are proven instead.
ELSEWHERE = {
    "the call's deadline": "test_deadlines.py",
    "every endpoint failed": "test_fault_matrix.py (AllEndpointsFailedError of the backup cases)",
}


@dataclass(frozen=True)
class DocRow:
    failure: str
    error: str | None  # the first `Name` of the error cell, None when it names the mapped type
    retried: str | None
    failover: str | None


def _retried(cell: str) -> str | None:
    text = cell.strip().lower()
    for prefix, word in (
        ("—", None),
        ("by that type's rule", "by_type"),
        ("only when it is the last endpoint left", "last"),
        ("yes", "yes"),
        ("no", "no"),
    ):
        if text.startswith(prefix):
            return word
    raise AssertionError(f"unrecognised 'retried' rule in docs/reliability.md: {cell!r}")


def _failover(cell: str) -> str | None:
    text = cell.strip().lower()
    for prefix, word in (
        ("—", None),
        ("by that type's rule", "by_type"),
        ("after its retries are used up", "after_retries"),
        ("yes", "yes"),
        ("no", "no"),
    ):
        if text.startswith(prefix):
            return word
    raise AssertionError(f"unrecognised 'failed over' rule in docs/reliability.md: {cell!r}")


def rules_table(text: str) -> list[DocRow]:
    """The rows of the rules table (the one with :data:`HEADER`)."""
    lines = text.splitlines()
    start = lines.index(HEADER)
    rows: list[DocRow] = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 4, f"the rules table must keep four columns: {line!r}"
        failure, error_cell, retried, failover = cells
        named = re.match(r"`(\w+)`", error_cell)
        error = named.group(1) if named else None
        rows.append(DocRow(failure, error, _retried(retried), _failover(failover)))
    return rows


@pytest.fixture(scope="module")
def table() -> list[DocRow]:
    return rules_table(DOC.read_text())


def find(table: list[DocRow], key: str) -> DocRow:
    found = [r for r in table if r.failure.startswith(key)]
    assert len(found) == 1, f"{key!r} must start exactly one docs row, matched {len(found)}"
    return found[0]


@pytest.mark.parametrize("row", MATRIX, ids=lambda r: f"{r.fault}-{r.mode}")
def test_docs_rule_matches_the_matrix(table: list[DocRow], row: Row) -> None:
    doc = find(table, row.doc)
    if doc.retried == "by_type":  # e.g. an error event: the rule of the error type it maps to
        assert doc.failover == "by_type" and doc.error is None and row.follow is not None
        doc = find(table, row.follow)
    else:
        assert row.follow is None, f"{row.doc!r} states its own rule"
    assert doc.error == row.error.__name__, f"docs say {doc.error} for {doc.failure!r}"
    assert (doc.retried, doc.failover) == (row.retried, row.failover), doc.failure


def test_every_docs_rule_is_proven(table: list[DocRow]) -> None:
    covered = {find(table, row.doc).failure for row in MATRIX}
    covered |= {find(table, row.follow).failure for row in MATRIX if row.follow}
    covered |= {find(table, key).failure for key in ELSEWHERE}
    assert [r.failure for r in table if r.failure not in covered] == []


def test_docs_state_the_matrix_size() -> None:
    section = DOC.read_text().split("## Fault matrix", 1)[1]
    cases = re.search(r"\*\*(\d+) cases\*\*", section)
    rows = re.search(r"(\d+) rows of fault", section)
    faults = re.search(r"\((\d+) faults:", section)
    assert cases and rows and faults, "the Fault matrix section must state cases, rows and faults"
    assert int(cases.group(1)) == len(CASES)
    assert int(rows.group(1)) == len(MATRIX)
    assert int(faults.group(1)) == len({row.fault for row in MATRIX})


def test_parser_rejects_unknown_rule_words() -> None:
    text = HEADER + "\n|---|---|---|---|\n| HTTP 999 | `LLMError` | sometimes | no |\n"
    with pytest.raises(AssertionError, match="unrecognised 'retried' rule"):
        rules_table(text)
