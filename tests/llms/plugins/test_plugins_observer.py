"""PluginObserver: relays to the llms_on_* hooks, costs nothing without them, swallows failures."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from core.llms.hookspecs import hookimpl
from core.llms.interfaces.errors import ConfigurationError, LLMError, RateLimitError
from core.llms.interfaces.observer import CallInfo
from core.llms.interfaces.types import LLMResponse
from core.llms.plugins import PluginObserver

from .support import AcmePlugin, make_pm

CALL = CallInfo("acme", "acme-1", None, False, time.perf_counter())
RESPONSE = LLMResponse(text="hi", model="acme-1", provider="acme")


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    @hookimpl
    def llms_on_request(self, call: CallInfo) -> None:
        self.events.append(("request", call))

    @hookimpl
    def llms_on_response(self, call: CallInfo, response: LLMResponse) -> None:
        self.events.append(("response", response))

    @hookimpl
    def llms_on_error(self, call: CallInfo, error: LLMError) -> None:
        self.events.append(("error", error))


class ResponseOnly:
    """Takes only part of the hook's arguments, as pluggy allows."""

    def __init__(self) -> None:
        self.responses: list[LLMResponse] = []

    @hookimpl
    def llms_on_response(self, response: LLMResponse) -> None:
        self.responses.append(response)


class Exploding:
    @hookimpl
    def llms_on_request(self, call: CallInfo) -> None:
        raise RuntimeError("observer bug")

    @hookimpl
    def llms_on_response(self, call: CallInfo, response: LLMResponse) -> None:
        raise ValueError("observer bug")


def test_no_observer_when_no_plugin_observes() -> None:
    pm = make_pm(("acme", AcmePlugin()))
    assert PluginObserver.for_manager(pm) is None
    observer = PluginObserver(pm)
    assert not observer.active
    observer.on_request(CALL)  # a no-op, not an error
    observer.on_response(CALL, RESPONSE)
    observer.on_error(CALL, RateLimitError("slow down"))


def test_relays_every_event() -> None:
    recorder = Recorder()
    observer = PluginObserver.for_manager(make_pm(("rec", recorder)))
    assert observer is not None and observer.active
    error = RateLimitError("slow down")
    observer.on_request(CALL)
    observer.on_response(CALL, RESPONSE)
    observer.on_error(CALL, error)
    assert recorder.events == [("request", CALL), ("response", RESPONSE), ("error", error)]


def test_partial_argument_implementations() -> None:
    partial = ResponseOnly()
    observer = PluginObserver.for_manager(make_pm(("partial", partial)))
    assert observer is not None
    observer.on_request(CALL)  # nobody implements it
    observer.on_response(CALL, RESPONSE)
    assert partial.responses == [RESPONSE]


def test_failing_plugin_is_logged_and_does_not_starve_others(caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    # registered first, called last (pluggy order: most recent first)
    observer = PluginObserver.for_manager(make_pm(("rec", recorder), ("boom", Exploding())))
    assert observer is not None
    with caplog.at_level(logging.ERROR, logger="core.llms.plugins"):
        observer.on_request(CALL)
        observer.on_response(CALL, RESPONSE)
    assert [kind for kind, _ in recorder.events] == ["request", "response"]
    failures = [r for r in caplog.records if "observer plugin 'boom' failed" in r.getMessage()]
    assert [r.getMessage().split(" in ")[1].split(";")[0] for r in failures] == [
        "llms_on_request",
        "llms_on_response",
    ]


def test_hooks_are_looked_up_once() -> None:
    """Plugins registered after the observer was made are not seen (lookups are cached)."""
    pm = make_pm()
    observer = PluginObserver(pm)
    recorder = Recorder()
    pm.register(recorder, name="late")
    observer.on_request(CALL)
    assert recorder.events == []
    PluginObserver(pm).on_request(CALL)
    assert recorder.events == [("request", CALL)]


def test_wrapper_implementations_are_refused() -> None:
    class Wrapper:
        @hookimpl(wrapper=True)
        def llms_on_request(self, call: CallInfo) -> Any:
            return (yield)

    with pytest.raises(ConfigurationError, match="'wrap' implements llms_on_request as a wrapper"):
        PluginObserver(make_pm(("wrap", Wrapper())))
