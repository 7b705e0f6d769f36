"""The FallbackLLM section of ``docs/reliability.md`` matches the code: its rules table agrees with
``should_fall_back`` for every error class, and its example runs and prints what it says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.llms.fallback import AllModelsFailedError, should_fall_back
from core.llms.interfaces import errors

DOC = Path(__file__).resolve().parents[3] / "docs" / "reliability.md"
SECTION = "## Falling back across models (FallbackLLM)"
HEADER = "| error of a model | next model tried? |"


def section() -> str:
    text = DOC.read_text()
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start : end if end != -1 else None]


def table() -> dict[str, bool]:
    """Error class name -> "yes" / "no" of each row of the section's table."""
    lines = section().splitlines()
    rows: dict[str, bool] = {}
    for line in lines[lines.index(HEADER) + 2 :]:
        if not line.startswith("|"):
            break
        error_cell, verdict = (c.strip() for c in line.strip().strip("|").split("|"))
        assert verdict.startswith(("yes", "no")), line
        for name in re.findall(r"`(\w+)`", error_cell):
            rows[name] = verdict.startswith("yes")
    return rows


def example_of(cls: type[errors.LLMError]) -> errors.LLMError:
    if issubclass(cls, AllModelsFailedError):
        return cls("all", models=["a"], errors=[errors.ServiceUnavailableError("503")])
    if issubclass(cls, errors.AllEndpointsFailedError):
        attempt = errors.AttemptRecord("https://e", 1, errors.APIConnectionError("refused"))
        return cls("all", attempts=[attempt])
    return cls("x")


ERROR_CLASSES = sorted(
    {getattr(errors, n) for n in errors.__all__ if isinstance(getattr(errors, n), type)}
    - {errors.LLMError, errors.AttemptRecord}
    | {AllModelsFailedError},
    key=lambda c: c.__name__,
)


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_the_table_states_the_rule_of_every_error_class(cls: type[errors.LLMError]) -> None:
    rows = table()
    assert cls.__name__ in rows, f"docs/reliability.md: the FallbackLLM table has no row for {cls.__name__}"
    assert should_fall_back(example_of(cls)) is rows[cls.__name__]


def test_non_llm_errors_are_documented_as_not_falling_back() -> None:
    assert "| an exception that is not an `LLMError` (a bug, `CancelledError`) | no |" in section()


async def test_the_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    [code] = re.findall(r"```python\n(.*?)```", section(), flags=re.S)
    assert code.rstrip().endswith("asyncio.run(main())")
    namespace: dict[str, object] = {}
    exec(compile(code.rstrip().removesuffix("asyncio.run(main())"), str(DOC), "exec"), namespace)
    await namespace["main"]()  # type: ignore[operator]
    assert capsys.readouterr().out == "azure Simulated answer to: hello\nSimulated answer to: hello\n"
