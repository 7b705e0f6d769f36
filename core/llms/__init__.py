"""core-llms: one async-first client for hosted and self-hosted LLMs, with failover.

Quick use::

    from core.llms import create_llm
    llm = create_llm("azure/gpt-4.1-mini", endpoint=..., api_key=..., deployment_name=...)
    answer = await llm.get_answer("Hello")

The contracts live in :mod:`core.llms.interfaces`; this module re-exports the everyday names.
"""

from .interfaces import *  # noqa: F403
from .interfaces import __all__ as _interfaces_all

__version__ = "0.1.0"
__all__ = [*_interfaces_all, "__version__"]
