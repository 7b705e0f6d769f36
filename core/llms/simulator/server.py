"""The :class:`Simulator`: an in-process aiohttp server speaking the OpenAI, OpenAI-compatible
hosts' and Azure OpenAI wire.

Routes::

    POST /v1/chat/completions                                   OpenAI (host auth: Bearer by default)
    GET  /v1/models, /v1/models/{model}
    POST /chat/completions, /{prefix}/chat/completions          OpenAI-compatible hosts (host auth)
    GET  /models, /{prefix}/models
    POST /openai/deployments/{deployment}/chat/completions      Azure (api-key or Bearer; ?api-version=)
    POST /openai/v1/chat/completions, GET /openai/v1/models     Azure v1 API (a host's route when
                                                                the simulator plays a host)

Control routes (out-of-process use; never recorded, never faulted)::

    POST   /_sim/faults           JSON list of fault dicts (or one dict), enqueued in order
    GET    /_sim/faults           {"queued": [...], "default": {...} | null}
    DELETE /_sim/faults           clear queued faults and the default fault
    PUT    /_sim/default-fault    a fault dict, or null to clear
    GET    /_sim/requests         recorded requests (credential headers redacted)
    DELETE /_sim/requests         forget recorded requests
    POST   /_sim/reset            both of the above
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from aiohttp import web

from .bedrock_wire import AWS_REGION, DEFAULT_REGION
from .faults import DEFAULT_FAULT_MIX, Fault, FaultGenerator, RandomFaults
from .hosts import HostAuth, HostFlavor, resolve_flavor
from .records import RecordedRequest
from .responder import send_json
from .routes import ProviderRoutes

__all__ = ["Simulator"]

log = logging.getLogger("core.llms.simulator")

_MAX_BODY = 64 * 1024 * 1024
_SHUTDOWN_TIMEOUT = 0.25


class Simulator:
    """A fake OpenAI / OpenAI-compatible host / Azure OpenAI server on a local port, with scripted
    faults.

    >>> async with Simulator() as sim:                       # doctest: +SKIP
    ...     sim.enqueue(Fault(status=503))
    ...     base_url = f"{sim.url}/v1"

    ``api_key``: when set, requests must carry exactly this key (else 401); when None any
    non-empty key is accepted; a missing key is 401 (except on a keyless server).
    ``auth_header``: where the non-Azure routes (``/v1``, any ``/<prefix>/chat/completions``) look
    for the key: ``"Authorization"`` (default) wants ``Bearer <key>``; any other name (e.g.
    ``"x-api-key"``) carries the bare key; None makes a keyless server (like a local vLLM, llama.cpp
    or LM Studio) that accepts every request. The Azure routes keep Azure's auth.
    ``flavor``: the OpenAI-compatible host whose quirks the non-Azure routes play, a name from
    :data:`~.hosts.FLAVORS` (``"openai"`` (default, no quirk), ``"deepseek"``, ``"xai"``,
    ``"groq"``, ``"openrouter"``, ``"mistral"``) or a :class:`~.hosts.HostFlavor`. With a flavor
    or an auth header other than the defaults, ``/openai/v1/...`` (Groq's base path) is served as
    the host, not as Azure's v1 API. ``context_chars``: prompts with more
    characters of text get 400 ``context_length_exceeded``. ``echo_words``: at most this many words
    of the user's message are echoed in the answer. ``chunk_delay``: seconds between stream events.
    ``max_recorded``: recorded requests kept (oldest dropped first; None keeps all).
    ``fault_rate``: when above 0, each request gets, with this probability, a fault drawn from
    ``fault_mix`` (default :data:`~.faults.DEFAULT_FAULT_MIX`) by a :class:`~.faults.RandomFaults`
    generator seeded with ``seed`` (see :meth:`set_fault_generator`).
    ``aws_region``: the AWS region the Bedrock and S3 routes play (SigV4 scopes must name it).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        *,
        context_chars: int = 400_000,
        echo_words: int = 32,
        chunk_delay: float = 0.0,
        max_recorded: int | None = 10_000,
        fault_rate: float = 0.0,
        fault_mix: Sequence[Fault] | None = None,
        seed: int | None = None,
        auth_header: str | None = "Authorization",
        flavor: str | HostFlavor = "openai",
        aws_region: str = DEFAULT_REGION,
    ) -> None:
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be an int between 0 and 65535, got {port!r}")
        if api_key is not None and (not isinstance(api_key, str) or not api_key):
            raise ValueError("api_key must be a non-empty string or None")
        if context_chars < 1 or echo_words < 1 or chunk_delay < 0:
            raise ValueError("context_chars and echo_words must be >= 1 and chunk_delay >= 0")
        if not isinstance(aws_region, str) or not aws_region:
            raise ValueError("aws_region must be a non-empty string")
        self._aws_region = aws_region
        self._host = host
        self._port = port
        self._flavor = resolve_flavor(flavor)
        self._routes = ProviderRoutes(
            auth=HostAuth(auth_header, api_key),
            flavor=self._flavor,
            context_chars=context_chars,
            echo_words=echo_words,
            chunk_delay=chunk_delay,
            max_recorded=max_recorded,
        )
        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None
        if fault_rate:
            self.set_fault_generator(RandomFaults(fault_rate, fault_mix or DEFAULT_FAULT_MIX, seed))
        elif fault_mix is not None:
            raise ValueError("fault_mix needs fault_rate > 0")

    def __repr__(self) -> str:
        where = self.url if self._bound_port is not None else "not started"
        return f"Simulator({where})"

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Bind and start serving (no-op when already started)."""
        if self._runner is not None:
            return
        app = web.Application(client_max_size=_MAX_BODY)
        self._add_control_routes(app)
        app[AWS_REGION] = self._aws_region
        self._routes.add_to(app)
        app.router.add_route("*", "/{tail:.*}", self._routes.not_found)
        # handler_cancellation: a request whose client went away stops at once (as on a real server)
        runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT, handler_cancellation=True
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        self._bound_port = int(address[1])
        log.info("simulator listening on %s", self.url)

    async def stop(self) -> None:
        """Stop serving and close every connection (no-op when not started)."""
        runner, self._runner = self._runner, None
        self._bound_port = None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The bound port (the real one when constructed with ``port=0``)."""
        if self._bound_port is None:
            raise RuntimeError(
                "the simulator is not started; use 'async with Simulator()' or 'await start()'"
            )
        return self._bound_port

    @property
    def flavor(self) -> HostFlavor:
        """The host quirks the non-Azure routes play (``FLAVORS["openai"]``: none)."""
        return self._flavor

    @property
    def aws_region(self) -> str:
        """The AWS region the Bedrock and S3 routes play."""
        return self._aws_region

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (the OpenAI base URL is ``f"{url}/v1"``, Azure's endpoint is ``url``)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    # ------------------------------------------------------------------ faults and records

    def enqueue(self, *faults: Fault) -> None:
        """Queue faults, FIFO, one per provider request."""
        self._routes.faults.enqueue(*faults)

    def set_default_fault(self, fault: Fault | None) -> None:
        """Fault for every provider request while the queue is empty; None clears it."""
        self._routes.faults.set_default(fault)

    def set_fault_generator(self, generator: FaultGenerator | None) -> None:
        """A callable picking a fault (or None) for each provider request while the queue is empty
        (e.g. :class:`~.faults.RandomFaults`); it takes precedence over the default fault when it
        picks one. None removes it."""
        self._routes.faults.set_generator(generator)

    @property
    def fault_generator(self) -> FaultGenerator | None:
        """The fault generator in use (a :class:`~.faults.RandomFaults` when built with
        ``fault_rate``), or None."""
        return self._routes.faults.generator

    @property
    def open_connections(self) -> int:
        """Client connections currently open to the simulator (0 when not started)."""
        runner = self._runner
        if runner is None or runner.server is None:
            return 0
        return len(runner.server.connections)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Requests received so far (control routes excluded), oldest first."""
        return list(self._routes.records)

    @property
    def request_count(self) -> int:
        """Number of requests received (control routes excluded); not reduced by ``max_recorded``."""
        return self._routes.request_count

    def reset(self) -> None:
        """Clear queued faults, the fault generator, the default fault and the recorded requests."""
        self._routes.reset()

    # ------------------------------------------------------------------ HTTP control

    def _add_control_routes(self, app: web.Application) -> None:
        app.router.add_post("/_sim/faults", self._post_faults)
        app.router.add_get("/_sim/faults", self._get_faults)
        app.router.add_delete("/_sim/faults", self._delete_faults)
        app.router.add_put("/_sim/default-fault", self._put_default_fault)
        app.router.add_get("/_sim/requests", self._get_requests)
        app.router.add_delete("/_sim/requests", self._delete_requests)
        app.router.add_post("/_sim/reset", self._post_reset)

    async def _post_faults(self, request: web.Request) -> web.StreamResponse:
        try:
            data = await _read_json(request)
            items = data if isinstance(data, list) else [data]
            faults = [Fault.from_dict(item) for item in items]
        except (TypeError, ValueError) as exc:
            return _control_error(str(exc))
        self.enqueue(*faults)
        return send_json(200, {"queued": len(self._routes.faults.pending())}, {})

    async def _get_faults(self, request: web.Request) -> web.StreamResponse:
        default = self._routes.faults.default
        return send_json(
            200,
            {
                "queued": [f.to_dict() for f in self._routes.faults.pending()],
                "default": None if default is None else default.to_dict(),
            },
            {},
        )

    async def _delete_faults(self, request: web.Request) -> web.StreamResponse:
        self._routes.faults.clear()
        return send_json(200, {"queued": 0}, {})

    async def _put_default_fault(self, request: web.Request) -> web.StreamResponse:
        try:
            data = await _read_json(request)
            fault = None if data is None else Fault.from_dict(data)
        except (TypeError, ValueError) as exc:
            return _control_error(str(exc))
        self.set_default_fault(fault)
        return send_json(200, {"default": None if fault is None else fault.to_dict()}, {})

    async def _get_requests(self, request: web.Request) -> web.StreamResponse:
        return send_json(200, [r.to_dict() for r in self._routes.records], {})

    async def _delete_requests(self, request: web.Request) -> web.StreamResponse:
        self._routes.records.clear()
        return send_json(200, {"cleared": True}, {})

    async def _post_reset(self, request: web.Request) -> web.StreamResponse:
        self.reset()
        return send_json(200, {"reset": True}, {})


async def _read_json(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise ValueError("the control request body is not valid JSON") from None


def _control_error(message: str) -> web.StreamResponse:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}
    return send_json(400, body, {})
