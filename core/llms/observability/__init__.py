"""Seeing every call: OpenTelemetry GenAI spans and metrics, Prometheus metrics, structured call
logs and an in-memory metrics recorder.

Each is an ordinary observer plugin (``llms_on_request`` / ``llms_on_attempt`` /
``llms_on_response`` / ``llms_on_error``, see :mod:`core.llms.hookspecs`): nothing here has a
path of its own into a call. Switch them on with one call, before the models are made (a model
takes the observers registered when it is created)::

    from core.llms import observability

    handle = observability.enable(otel=True, metrics=True, logs=True)
    ...
    handle.recorder.snapshot()      # the in-memory metrics
    handle.disable()                # (tests)

or from the environment: ``CORE_LLMS_OBSERVABILITY=otel,metrics,prometheus,logs`` is read when
the process's plugin manager is first built. Nothing is imported, and a call costs nothing
extra, unless one is enabled. See docs/observability.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..interfaces.errors import ConfigurationError

if TYPE_CHECKING:
    import pluggy

    from .logs import CallLogObserver
    from .otel import OTelObserver
    from .prometheus import PrometheusObserver
    from .recorder import MetricsRecorder

__all__ = [
    "ENV_VAR",
    "CallLogObserver",
    "MetricsRecorder",
    "OTelObserver",
    "Observability",
    "PrometheusObserver",
    "enable",
    "enable_from_env",
]

#: the environment variable naming the observers to switch on when the plugin manager is built.
ENV_VAR = "CORE_LLMS_OBSERVABILITY"

#: the plugin names the observers are registered under.
PLUGIN_NAMES = {
    "otel": "core_llms.observability.otel",
    "prometheus": "core_llms.observability.prometheus",
    "logs": "core_llms.observability.logs",
    "metrics": "core_llms.observability.metrics",
}

_LAZY = {
    "CallLogObserver": ".logs",
    "MetricsRecorder": ".recorder",
    "OTelObserver": ".otel",
    "PrometheusObserver": ".prometheus",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module, __name__), name)


@dataclass
class Observability:
    """The observers :func:`enable` registered (None for those it did not)."""

    pm: pluggy.PluginManager = field(repr=False)
    otel: OTelObserver | None = None
    prometheus: PrometheusObserver | None = None
    logs: CallLogObserver | None = None
    recorder: MetricsRecorder | None = None

    def disable(self) -> None:
        """Unregister these observers (models made from now on do not report to them; models
        made before keep the observers they were made with)."""
        for kind, plugin in (
            ("otel", self.otel),
            ("prometheus", self.prometheus),
            ("logs", self.logs),
            ("metrics", self.recorder),
        ):
            if plugin is not None and self.pm.get_plugin(PLUGIN_NAMES[kind]) is plugin:
                self.pm.unregister(plugin, name=PLUGIN_NAMES[kind])


def enable(
    otel: bool | OTelObserver = False,
    metrics: bool | MetricsRecorder = False,
    prometheus: bool | PrometheusObserver = False,
    logs: bool | CallLogObserver = False,
    *,
    capture_content: bool | None = None,
    tracer_provider: Any = None,
    meter_provider: Any = None,
    registry: Any = None,
    logger: Any = None,
    pm: pluggy.PluginManager | None = None,
) -> Observability:
    """Register observers with the plugin manager (the process's, unless ``pm``): each of
    ``otel``, ``metrics``, ``prometheus`` and ``logs`` is True (made here with the keyword
    arguments that concern it) or an observer made by the caller. Enabling a kind again
    replaces the one registered before.

    ``capture_content`` (OpenTelemetry): record messages and answers on spans (the conventions'
    opt-in attributes); default: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``.
    ``tracer_provider`` / ``meter_provider``: default OpenTelemetry's global ones.
    ``registry``: the Prometheus ``CollectorRegistry`` (default: prometheus_client's global one).
    ``logger``: a ``logging.Logger`` or a structlog logger (default: ``core.llms.calls``).
    """
    for name, value in (("otel", otel), ("metrics", metrics), ("prometheus", prometheus), ("logs", logs)):
        if not isinstance(value, bool) and not hasattr(value, "llms_on_response"):
            raise ConfigurationError(
                f"enable({name}=...) takes True, False or an observer, not {type(value).__name__}"
            )
    if pm is None:
        from ..plugins import get_plugin_manager

        pm = get_plugin_manager()
    handle = Observability(pm)
    if otel is not False:
        from .otel import OTelObserver

        if otel is True:
            otel = OTelObserver(
                tracer_provider=tracer_provider,
                meter_provider=meter_provider,
                capture_content=capture_content,
            )
        handle.otel = otel
        _register(pm, "otel", handle.otel)
    if metrics is not False:
        from .recorder import MetricsRecorder

        handle.recorder = MetricsRecorder() if metrics is True else metrics
        _register(pm, "metrics", handle.recorder)
    if prometheus is not False:
        from .prometheus import PrometheusObserver

        handle.prometheus = PrometheusObserver(registry=registry) if prometheus is True else prometheus
        _register(pm, "prometheus", handle.prometheus)
    if logs is not False:
        from .logs import CallLogObserver

        handle.logs = CallLogObserver(logger=logger) if logs is True else logs
        _register(pm, "logs", handle.logs)
    return handle


def enable_from_env(pm: pluggy.PluginManager, value: str | None = None) -> Observability | None:
    """Enable the observers named in ``value`` (default: ``$CORE_LLMS_OBSERVABILITY``), a comma
    list of ``otel``, ``metrics``, ``prometheus``, ``logs``; None when it names none. An unknown
    name raises :class:`ConfigurationError` naming it."""
    if value is None:
        value = os.environ.get(ENV_VAR, "")
    names = {part.strip().lower() for part in value.split(",") if part.strip()}
    if not names:
        return None
    unknown = sorted(names - set(PLUGIN_NAMES))
    if unknown:
        raise ConfigurationError(
            f"{ENV_VAR} names unknown observers {unknown}",
            hint=f"use a comma list of {', '.join(sorted(PLUGIN_NAMES))}",
        )
    return enable(
        otel="otel" in names,
        metrics="metrics" in names,
        prometheus="prometheus" in names,
        logs="logs" in names,
        pm=pm,
    )


def _register(pm: pluggy.PluginManager, kind: str, plugin: Any) -> None:
    name = PLUGIN_NAMES[kind]
    old = pm.get_plugin(name)
    if old is not None:
        pm.unregister(old, name=name)
    pm.register(plugin, name=name)
