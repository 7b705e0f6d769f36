"""EXAMPLE_USAGE.py runs against the simulator, with no credentials and no network."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CREDENTIALS = ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_DEPLOYMENT", "OPENAI_API_KEY")


def test_example_walk_through_runs_on_the_simulator() -> None:
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIALS}
    done = subprocess.run(
        [sys.executable, str(ROOT / "EXAMPLE_USAGE.py")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "against the simulator" in out
    assert "isinstance ILLM: True" in out
    assert "finish=stop usage=Usage(" in out
    assert "tool call: get_weather(" in out
    assert "structured output: CityFacts(" in out
    assert "UnsupportedOperationError: this model produces text" in out
    assert "primary refuses connections -> served by the backup http://127.0.0.1:" in out
    assert "primary answers 503 -> served by the backup" in out
    assert "is down -> answered by groq/llama-3.3-70b-versatile" in out
    assert "streamed by the fallback too: 'Simulated answer to: And streaming?'" in out
    assert "10. LLMClient: 'Simulated answer to: Name a river in France.'" in out
    assert "streamed 'Simulated answer to: Describe Lyon.' then usage=Usage(" in out
    assert "bound labels {'tenant': 'acme', 'run_id': 'nightly'}; spent $0.0000" in out
    assert "11. client.sync.ask: 'Simulated answer to: Name a city in Italy.'" in out
    assert "client.sync.chat_stream: 'Simulated answer to: Count to three.'" in out
    assert "12. RequestManager: 4 results in input order" in out
    assert "#0: 'Simulated answer to: A fact about Paris.'" in out
    assert "#2: 'Simulated answer to: A fact about Nice.'" in out
    assert "bad: InvalidInputError" in out
    assert "second run: 3/3 from the cache, cost $0.000000" in out
    assert "log: chat azure/gpt-4.1-mini ok " in out and "(tokens out " in out
    assert "log: chat stream azure/gpt-4.1-mini ok " in out
    assert "recorder: 2 calls, 2 ok, " in out and " output tokens, 1 stream" in out
    assert out.rstrip().endswith("done.")
