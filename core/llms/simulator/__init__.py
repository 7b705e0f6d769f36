"""A fake LLM provider server for tests, examples and benchmarks: no credentials, no network.

``Simulator`` speaks the OpenAI and Azure OpenAI chat-completions wire (plain, streaming, tool
calls, structured output) with deterministic answers, and plays scripted ``Fault``s (error
statuses, Retry-After, delays, dropped connections, stalled, truncated or malformed streams).
It is written from the providers' wire formats and never imports the client's own code.

    from core.llms.simulator import Simulator, Fault

    async with Simulator() as sim:
        sim.enqueue(Fault(status=429, retry_after=0.01))
        ...  # point an OpenAI client at f"{sim.url}/v1"

Run it standalone with ``python -m core.llms.simulator --port 8000``.
"""

from .faults import DEFAULT_FAULT_MIX, DropPoint, Fault, RandomFaults
from .routes import RecordedRequest
from .server import Simulator

__all__ = ["DEFAULT_FAULT_MIX", "DropPoint", "Fault", "RandomFaults", "RecordedRequest", "Simulator"]
