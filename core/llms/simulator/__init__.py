"""A fake LLM provider server for tests, examples and benchmarks: no credentials, no network.

``Simulator`` speaks the OpenAI, OpenAI-compatible hosts' (any ``/<prefix>/chat/completions``,
with a host's quirks via ``flavor=``) and Azure OpenAI chat-completions wire (plain, streaming,
tool calls, structured output, reasoning text) with deterministic answers, and plays scripted
``Fault``s (error statuses, Retry-After, delays, dropped connections, stalled, truncated or
malformed streams, in-stream error events).
It is written from the providers' wire formats and never imports the client's own code.

    from core.llms.simulator import Simulator, Fault

    async with Simulator() as sim:
        sim.enqueue(Fault(status=429, retry_after=0.01))
        ...  # point an OpenAI client at f"{sim.url}/v1"

Run it standalone with ``python -m core.llms.simulator --port 8000``.
"""

from .faults import DEFAULT_FAULT_MIX, DropPoint, Fault, RandomFaults
from .hosts import FLAVORS, REASONING_TRIGGER, HostFlavor
from .records import RecordedRequest
from .server import Simulator

__all__ = [
    "DEFAULT_FAULT_MIX",
    "FLAVORS",
    "REASONING_TRIGGER",
    "DropPoint",
    "Fault",
    "HostFlavor",
    "RandomFaults",
    "RecordedRequest",
    "Simulator",
]
