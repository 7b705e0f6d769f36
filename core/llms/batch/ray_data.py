"""Batch requests across a Ray cluster: :class:`LLMBatchMapper` for ``Dataset.map_batches``
(extra ``ray``: ``pip install 'core-llms[ray]'``).

    import ray
    from core.llms.batch import LLMBatchMapper

    ds = ray.data.read_parquet("s3://bucket/questions/")
    out = ds.map_batches(
        LLMBatchMapper,
        fn_constructor_kwargs={
            "model": "openai/gpt-4o-mini",
            "create_llm_options": {"api_key_env": "OPENAI_API_KEY"},
            "prompt_column": "question",
            "params": {"temperature": 0, "max_tokens": 200},
            "cache": {"kind": "redis", "url": "redis://cache:6379/0"},
            "rate_limits": {"rpm": 5000, "tpm": 2_000_000},
            "shared_limiter": "openai-limits",
        },
        concurrency=8,
        batch_size=64,
        batch_format="pandas",
    )

Each Ray worker builds the mapper from these picklable settings, keeps one event loop (a
background thread) and one :class:`~.manager.RequestManager` for its whole life, and answers
every row of every batch: the output is the input columns plus ``llm_text``,
``llm_finish_reason``, ``llm_input_tokens``, ``llm_output_tokens``, ``llm_cost``, ``llm_cached``,
``llm_error_type``, ``llm_error`` and ``llm_model`` (prefix ``output_prefix``). A failed row is
kept, with its error class name and message; no row is ever dropped or duplicated, and the rows
keep their order. See ``docs/batch-ray.md``.

This module imports neither ``ray`` nor ``pandas``; ``numpy`` and ``pyarrow`` are imported when
a batch of their kind arrives.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import math
import os
import string
import threading
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, TypeVar

from ..interfaces.endpoint import Secret
from ..interfaces.errors import ConfigurationError, InvalidInputError, LLMError
from ..providers.base.redact import SecretRedactor
from .types import BatchRequest, BatchResult, ICache, IRateLimiter

__all__ = ["OUTPUT_FIELDS", "LLMBatchMapper"]

log = logging.getLogger("core.llms.batch")

T = TypeVar("T")

#: the output columns, each written as ``output_prefix + name``.
OUTPUT_FIELDS: tuple[str, ...] = (
    "text",
    "finish_reason",
    "input_tokens",
    "output_tokens",
    "cost",
    "cached",
    "error_type",
    "error",
    "model",
)
_CACHE_KINDS = ("memory", "disk", "redis")
#: create_llm option names whose string values are credentials (masked wherever they could show).
_SECRET_WORDS = ("key", "secret", "token", "password", "credential")
_CLOSE_TIMEOUT = 10.0


class LLMBatchMapper:
    """A callable class for ``ray.data.Dataset.map_batches``: sends each row of a batch to
    ``model`` and adds the answer columns.

    Input, one of (default: ``messages_column="messages"``):

    * ``messages_column``: a column of message lists (dicts with ``role`` / ``content``), of a
      JSON string of one, or of plain strings (one user message each);
    * ``prompt_column``: a column of strings, each one user message;
    * ``template``: a string with ``{column}`` placeholders filled from each row, one user message.

    ``system``: a system message put before every row's messages. ``params``: ``get_answer``
    keyword arguments for every row (``temperature``, ``max_tokens`` …); ``params_column``: a
    column of per-row dicts (or JSON objects) of them, laid over ``params``.

    ``model`` is a model name (``"openai/gpt-4o-mini"``); ``create_llm_options`` go to
    :func:`~core.llms.create_llm` in each worker. Name credentials by environment variable
    rather than value: ``api_key_env="OPENAI_API_KEY"`` and ``endpoint_env=...`` are read in
    the worker, as is ``env={"option": "VARIABLE", ...}`` for any other option. A literal
    ``api_key`` works too and is never shown (repr, errors and output columns mask it), but it
    travels inside the pickled task: prefer environment variables set on the cluster.

    ``concurrency_per_worker``: requests in flight in one worker. ``timeout`` (seconds per
    request) and ``max_attempts`` (tries per request, the model's own retries not counted) go to
    the manager. ``cache``: ``{"kind": "disk", "path": ...}``, ``{"kind": "redis", "url": ...}``,
    ``{"kind": "memory"}`` (other keys go to the cache's constructor, e.g. ``ttl``) or None.

    ``rate_limits``: ``{"rpm": ..., "tpm": ...}`` (the fields of
    :class:`~core.llms.batch.ratelimit.RateLimits`). Alone they bind each worker separately (the
    cluster total is the sum); with ``redis_url`` they are shared by every worker through Redis
    (:class:`~core.llms.batch.ratelimit.RedisRateLimiter`); with ``shared_limiter="name"``
    through a named Ray actor (:class:`~core.llms.batch.ray_limiter.RayActorRateLimiter`; a dict
    ``{"name": ..., "namespace": ..., "detached": ..., "hold": ..., "window": ...}`` sets its other
    options).

    Output columns: ``output_prefix`` + :data:`OUTPUT_FIELDS`. Token counts are 0 and the
    cost NaN when unknown (a failed row costs 0.0). The batch comes back in its own format
    (pandas DataFrame, dict of numpy arrays, or pyarrow Table).
    """

    def __init__(
        self,
        model: str,
        *,
        create_llm_options: Mapping[str, Any] | None = None,
        messages_column: str | None = None,
        prompt_column: str | None = None,
        template: str | None = None,
        system: str | None = None,
        params: Mapping[str, Any] | None = None,
        params_column: str | None = None,
        concurrency_per_worker: int = 16,
        timeout: float | None = None,
        max_attempts: int = 1,
        cache: Mapping[str, Any] | None = None,
        rate_limits: Mapping[str, Any] | Any | None = None,
        redis_url: str | None = None,
        shared_limiter: str | Mapping[str, Any] | None = None,
        output_prefix: str = "llm_",
    ) -> None:
        self._closed = True  # until everything is built: __del__ of a half-made mapper does nothing
        if not isinstance(model, str) or not model:
            raise ConfigurationError(
                "LLMBatchMapper(model=...) must be a model name such as 'openai/gpt-4o-mini'"
            )
        self.model = model
        self._options, self._redactor = _resolve_options(create_llm_options)
        self._input = _input_settings(messages_column, prompt_column, template)
        if system is not None and not isinstance(system, str):
            raise ConfigurationError(
                f"LLMBatchMapper(system=...) must be a string, not {type(system).__name__}"
            )
        self.system = system
        if params is not None and not isinstance(params, Mapping):
            raise ConfigurationError(
                "LLMBatchMapper(params=...) must be a dict of get_answer arguments, "
                f"not {type(params).__name__}"
            )
        self.params = dict(params or {})
        _check_name("params_column", params_column)
        self.params_column = params_column
        if isinstance(concurrency_per_worker, bool) or not isinstance(concurrency_per_worker, int):
            raise ConfigurationError("LLMBatchMapper(concurrency_per_worker=...) must be an integer")
        if concurrency_per_worker < 1:
            raise ConfigurationError("LLMBatchMapper(concurrency_per_worker=...) must be at least 1")
        self.concurrency_per_worker = concurrency_per_worker
        if not isinstance(output_prefix, str):
            raise ConfigurationError("LLMBatchMapper(output_prefix=...) must be a string")
        self.output_prefix = output_prefix
        self.output_columns = tuple(output_prefix + name for name in OUTPUT_FIELDS)
        self._cache_spec = _check_cache_spec(cache)
        self._limiter_spec = _check_limiter_spec(rate_limits, redis_url, shared_limiter)
        for url in (redis_url, (self._cache_spec or {}).get("url")):
            _hide_url_password(self._redactor, url)
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._call_lock = threading.Lock()
        self._cache: ICache | None = None
        self._limiter: IRateLimiter | None = None
        self._manager: Any = None
        #: rows answered / failed / served from the cache by this worker so far.
        self.rows = 0
        self.failed = 0
        self.cached = 0
        self._loop = _LoopThread(f"llm-batch-{model}")
        try:
            self._loop.run(self._build())
        except BaseException:
            self._loop.run(self._close_parts(), timeout=_CLOSE_TIMEOUT, quiet=True)
            self._loop.stop()
            raise
        self._closed = False

    async def _build(self) -> None:
        from .manager import RequestManager

        self._cache = _make_cache(self._cache_spec)
        limiter, local_limits = _make_limiter(self._limiter_spec)
        self._limiter = limiter
        self._manager = RequestManager(
            self.model,
            concurrency=self.concurrency_per_worker,
            timeout=self._timeout,
            max_attempts=self._max_attempts,
            cache=self._cache,
            rate_limiter=limiter,
            rate_limits=local_limits,
            show_progress=False,
            **self._options,
        )

    def __repr__(self) -> str:
        options = ", ".join(sorted(self._options)) if hasattr(self, "_options") else ""
        kind, value = getattr(self, "_input", ("?", "?"))
        state = " closed" if self._closed else ""
        return (
            f"LLMBatchMapper(model={getattr(self, 'model', '?')!r}, {kind}={value!r}, "
            f"options=[{options}], concurrency_per_worker={getattr(self, 'concurrency_per_worker', '?')}"
            f"{state})"
        )

    # ------------------------------------------------------------------ one batch

    def __call__(self, batch: Any) -> Any:
        """Answer every row of ``batch`` (a pandas DataFrame, a dict of arrays or a pyarrow
        Table) and return it with the output columns added, in the same format."""
        if self._closed:
            raise ConfigurationError("this LLMBatchMapper is closed")
        frame = _Frame.of(batch)
        clash = [name for name in self.output_columns if name in frame.columns]
        if clash:
            raise InvalidInputError(
                f"the batch already has the output column(s) {clash}",
                hint="pass another output_prefix=, or drop those columns first",
            )
        n = frame.num_rows
        outcomes: list[BatchResult | LLMError | None] = [None] * n
        requests: list[BatchRequest] = []
        positions: list[int] = []
        for row, request in enumerate(self._requests(frame, n)):
            if isinstance(request, LLMError):
                outcomes[row] = request
            else:
                requests.append(request)
                positions.append(row)
        if requests:
            with self._call_lock:
                results = self._run_batch(requests)
            for position, result in zip(positions, results, strict=True):
                outcomes[position] = result
        return frame.with_columns(self.output_prefix, self._columns(outcomes))

    def _run_batch(self, requests: list[BatchRequest]) -> list[BatchResult | LLMError]:
        """One result per request, in order: a failure of the whole batch becomes every row's."""
        try:
            results: list[BatchResult] = self._loop.run(self._manager.aprocess_batch(requests))
        except LLMError as exc:
            return [exc] * len(requests)
        except (concurrent.futures.CancelledError, asyncio.CancelledError):
            raise
        except Exception as exc:  # a bug below: kept on the rows, never a dropped row
            error = LLMError(f"the batch failed: {type(exc).__name__}: {self._redactor.mask(str(exc))}")
            # no traceback: its frames' text could hold what the redactor does not know
            log.error("LLMBatchMapper: a batch of %d rows failed: %s", len(requests), error.message)
            return [error] * len(requests)
        out: list[BatchResult | LLMError] = [
            LLMError(f"request #{i} got no result from the manager") for i in range(len(requests))
        ]
        for result in results:
            if isinstance(result, BatchResult) and 0 <= result.index < len(out):
                out[result.index] = result
        return out

    def _requests(self, frame: _Frame, n: int) -> list[BatchRequest | LLMError]:
        kind, source = self._input
        if kind == "template":
            names = _template_fields(source)
            missing = [name for name in names if name not in frame.columns]
            if missing:
                raise InvalidInputError(
                    f"the template names column(s) {missing} that the batch does not have",
                    hint=f"columns: {sorted(frame.columns)[:20]}",
                )
            values = {name: frame.column(name) for name in names}
        else:
            if source not in frame.columns:
                raise InvalidInputError(
                    f"the batch has no column {source!r} ({kind})",
                    hint=f"columns: {sorted(frame.columns)[:20]}",
                )
            cells = frame.column(source)
        row_params: list[Any] | None = None
        if self.params_column is not None:
            if self.params_column not in frame.columns:
                raise InvalidInputError(f"the batch has no column {self.params_column!r} (params_column)")
            row_params = frame.column(self.params_column)
        out: list[BatchRequest | LLMError] = []
        for row in range(n):
            try:
                if kind == "template":
                    text = source.format_map({name: _plain(column[row]) for name, column in values.items()})
                    messages: list[Any] = [{"role": "user", "content": text}]
                else:
                    messages = _messages_of(cells[row], kind, source)
                if self.system is not None:
                    messages = [{"role": "system", "content": self.system}, *messages]
                params = dict(self.params)
                if row_params is not None:
                    params.update(_params_of(row_params[row], self.params_column or ""))
                out.append(BatchRequest(messages=messages, params=params))
            except LLMError as exc:
                out.append(exc.fill(model=self.model))
            except (ValueError, KeyError, IndexError, TypeError) as exc:  # a template the row cannot fill
                reason = type(exc).__name__
                out.append(InvalidInputError(f"row {row}: the template cannot be filled ({reason})"))
        return out

    def _columns(self, outcomes: Sequence[BatchResult | LLMError | None]) -> dict[str, list[Any]]:
        columns: dict[str, list[Any]] = {name: [] for name in OUTPUT_FIELDS}
        mask = self._redactor.mask
        for outcome in outcomes:
            response = outcome.response if isinstance(outcome, BatchResult) else None
            error: LLMError | None
            if isinstance(outcome, BatchResult):
                error = outcome.error
            elif isinstance(outcome, LLMError):
                error = outcome
            else:
                error = LLMError("the row got no result")
            if response is not None and error is None:
                usage = response.usage
                cached = bool(isinstance(outcome, BatchResult) and outcome.cached) or response.cached
                columns["text"].append(mask(response.text))
                columns["finish_reason"].append(response.finish_reason)
                columns["input_tokens"].append(usage.input_tokens if usage is not None else 0)
                columns["output_tokens"].append(usage.output_tokens if usage is not None else 0)
                columns["cost"].append(float(response.cost) if response.cost is not None else math.nan)
                columns["cached"].append(cached)
                columns["error_type"].append(None)
                columns["error"].append(None)
                columns["model"].append(response.model or self.model)
                self.cached += cached
            else:
                failure = error if error is not None else LLMError("the row got no response and no error")
                columns["text"].append(None)
                columns["finish_reason"].append(None)
                columns["input_tokens"].append(0)
                columns["output_tokens"].append(0)
                columns["cost"].append(0.0)
                columns["cached"].append(False)
                columns["error_type"].append(type(failure).__name__)
                columns["error"].append(mask(str(failure)))
                columns["model"].append(failure.model or self.model)
                self.failed += 1
            self.rows += 1
        return columns

    # ------------------------------------------------------------------ shutdown

    async def _close_parts(self) -> None:
        manager, self._manager = self._manager, None
        cache, self._cache = self._cache, None
        limiter, self._limiter = self._limiter, None
        for part in (manager, cache, limiter):
            if part is None:
                continue
            try:
                await part.aclose() if hasattr(part, "aclose") else await part.close()
            except Exception as exc:  # closing must go on with the other parts
                log.warning("LLMBatchMapper: closing %s failed: %s", type(part).__name__, type(exc).__name__)

    def close(self) -> None:
        """Close the manager (and the model it built), the cache and the limiter, then stop the
        worker's event loop. Safe to call twice; called by ``__del__`` when Ray ends the worker."""
        if self._closed:
            return
        self._closed = True
        self._loop.run(self._close_parts(), timeout=_CLOSE_TIMEOUT, quiet=True)
        self._loop.stop()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()


# ---------------------------------------------------------------------------------- settings


def _check_name(option: str, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigurationError(f"LLMBatchMapper({option}=...) must be a column name (a non-empty string)")


def _input_settings(messages_column: Any, prompt_column: Any, template: Any) -> tuple[str, Any]:
    given = [
        (kind, value)
        for kind, value in (
            ("messages_column", messages_column),
            ("prompt_column", prompt_column),
            ("template", template),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise ConfigurationError(
            f"LLMBatchMapper takes one of messages_column=, prompt_column= and template=, not "
            f"{' and '.join(kind for kind, _ in given)}"
        )
    if not given:
        return ("messages_column", "messages")
    kind, value = given[0]
    if kind == "template":
        if not isinstance(value, str) or not value:
            raise ConfigurationError("LLMBatchMapper(template=...) must be a non-empty string")
        _template_fields(value)
    else:
        _check_name(kind, value)
    return given[0]


def _template_fields(template: str) -> list[str]:
    """The column names a template's placeholders use, in order, each once."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ConfigurationError(
            f"LLMBatchMapper(template=...) is not a valid format string: {exc}"
        ) from None
    for _, field, _, _ in parsed:
        if field is None:
            continue
        if not field or field.isdigit() or "." in field or "[" in field:
            raise ConfigurationError(
                f"LLMBatchMapper(template=...): each placeholder must name a column, e.g. '{{question}}' "
                f"(got '{{{field}}}')",
                hint="double the braces for a literal brace: '{{' and '}}'",
            )
        if field not in names:
            names.append(field)
    if not names:
        raise ConfigurationError("LLMBatchMapper(template=...) has no '{column}' placeholder")
    return names


def _resolve_options(options: Mapping[str, Any] | None) -> tuple[dict[str, Any], SecretRedactor]:
    """The create_llm options with ``api_key_env`` / ``endpoint_env`` / ``env`` read from this
    process's environment, the API key wrapped in :class:`Secret`; and a redactor of every
    credential among them."""
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise ConfigurationError(
            f"LLMBatchMapper(create_llm_options=...) must be a dict, not {type(options).__name__}"
        )
    resolved = {k: v for k, v in options.items() if v is not None}  # None: not given (as create_llm)
    env: dict[str, Any] = {}
    for field in ("api_key", "endpoint"):
        name = resolved.pop(f"{field}_env", None)
        if name is not None:
            env[field] = name
    extra = resolved.pop("env", None)
    if extra is not None:
        if not isinstance(extra, Mapping):
            raise ConfigurationError(
                "create_llm_options['env'] must map option names to environment variable names"
            )
        env.update(extra)
    for field, variable in env.items():
        if not isinstance(field, str) or not isinstance(variable, str) or not variable:
            raise ConfigurationError(
                "create_llm_options: environment variable names must be non-empty strings "
                f"(option {field!r})"
            )
        if field in resolved:
            raise ConfigurationError(f"create_llm_options gives {field!r} both as a value and as {variable}")
        value = os.environ.get(variable)
        if not value:
            raise ConfigurationError(
                f"the environment variable {variable} (for {field}) is not set in this Ray worker",
                hint="set it on every node, or pass it in runtime_env={'env_vars': {...}}",
            )
        resolved[field] = value
    redactor = SecretRedactor()
    for field, value in list(resolved.items()):
        secret = value.get_secret_value() if isinstance(value, Secret) else value
        if isinstance(secret, str) and any(word in field.lower() for word in _SECRET_WORDS):
            redactor.add_headers({"Authorization": f"Bearer {secret}"})
            resolved[field] = value if isinstance(value, Secret) or field != "api_key" else Secret(secret)
    return resolved, redactor


def _hide_url_password(redactor: SecretRedactor, url: Any) -> None:
    """Add the password of a ``redis://user:password@host`` URL to the redactor."""
    if not isinstance(url, str):
        return
    from urllib.parse import urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:
        return
    if password:
        redactor.add_headers({"Authorization": f"Bearer {password}"})


def _check_cache_spec(cache: Any) -> dict[str, Any] | None:
    if cache is None:
        return None
    if not isinstance(cache, Mapping):
        raise ConfigurationError(
            "LLMBatchMapper(cache=...) must be a dict such as {'kind': 'disk', 'path': ...}, "
            f"not {type(cache).__name__}"
        )
    spec = dict(cache)
    kind = spec.get("kind")
    if kind not in _CACHE_KINDS:
        raise ConfigurationError(
            f"LLMBatchMapper(cache=...): 'kind' must be one of {list(_CACHE_KINDS)}, not {kind!r}"
        )
    needed = {"disk": "path", "redis": "url"}.get(kind)
    if needed is not None and not spec.get(needed):
        raise ConfigurationError(f"LLMBatchMapper(cache=...): a {kind} cache needs {needed!r}")
    return spec


def _make_cache(spec: dict[str, Any] | None) -> ICache | None:
    if spec is None:
        return None
    from . import cache as caches

    options = {k: v for k, v in spec.items() if k != "kind"}
    kind = spec["kind"]
    try:
        if kind == "memory":
            return caches.MemoryCache(**options)
        if kind == "disk":
            return caches.DiskCache(options.pop("path"), **options)
        return caches.RedisCache(options.pop("url"), **options)
    except TypeError as exc:
        raise ConfigurationError(
            f"LLMBatchMapper(cache=...): bad options for a {kind} cache ({exc})"
        ) from None


def _check_limiter_spec(rate_limits: Any, redis_url: Any, shared_limiter: Any) -> dict[str, Any] | None:
    if redis_url is not None and shared_limiter is not None:
        raise ConfigurationError(
            "LLMBatchMapper takes redis_url= or shared_limiter= to share the rate limits, not both"
        )
    if rate_limits is None:
        if redis_url is not None or shared_limiter is not None:
            raise ConfigurationError(
                "LLMBatchMapper: redis_url= / shared_limiter= share rate limits; give them with rate_limits="
            )
        return None
    if redis_url is not None and (not isinstance(redis_url, str) or not redis_url):
        raise ConfigurationError("LLMBatchMapper(redis_url=...) must be a redis:// URL")
    actor: dict[str, Any] | None = None
    if isinstance(shared_limiter, str) and shared_limiter:
        actor = {"name": shared_limiter}
    elif isinstance(shared_limiter, Mapping) and isinstance(shared_limiter.get("name"), str):
        actor = dict(shared_limiter)
        unknown = set(actor) - {"name", "namespace", "detached", "hold", "window"}
        if unknown:
            raise ConfigurationError(
                f"LLMBatchMapper(shared_limiter=...) has unknown keys {sorted(unknown)}",
                hint="keys: name, namespace, detached, hold, window",
            )
    elif shared_limiter is not None:
        raise ConfigurationError(
            "LLMBatchMapper(shared_limiter=...) must be a Ray actor name or a dict with 'name' "
            "(and 'namespace', 'detached', 'hold', 'window')"
        )
    return {"limits": rate_limits, "redis_url": redis_url, "actor": actor}


def _make_limiter(spec: dict[str, Any] | None) -> tuple[IRateLimiter | None, Any]:
    """(a shared limiter, None) or (None, the limits each worker keeps to itself)."""
    if spec is None:
        return None, None
    from .ratelimit import RateLimits, RedisRateLimiter

    limits = spec["limits"]
    if isinstance(limits, Mapping):
        try:
            limits = RateLimits(**limits)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"LLMBatchMapper(rate_limits=...) is not valid ({exc})") from None
    if spec["actor"] is not None:
        from .ray_limiter import RayActorRateLimiter

        actor = dict(spec["actor"])
        return RayActorRateLimiter(actor.pop("name"), limits, **actor), None
    if spec["redis_url"] is not None:
        return RedisRateLimiter(spec["redis_url"], limits), None
    return None, limits


# ---------------------------------------------------------------------------------- rows


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    """A cell as plain Python data: numpy arrays and scalars converted, and the ``None`` fields
    Arrow adds to a struct (a dict key another row had) dropped."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars
    if callable(tolist) and type(value).__module__ == "numpy":
        return _plain(tolist())
    return value


def _messages_of(cell: Any, kind: str, column: str) -> list[Any]:
    if _is_missing(cell):
        raise InvalidInputError(f"the {column!r} cell is empty")
    value = _plain(cell)
    if kind == "prompt_column":
        if not isinstance(value, str):
            raise InvalidInputError(
                f"a {column!r} cell must be a string (prompt_column), not {type(value).__name__}"
            )
        return [{"role": "user", "content": value}]
    if isinstance(value, str):
        stripped = value.lstrip()
        if stripped.startswith("["):
            import json

            try:
                value = json.loads(stripped)
            except ValueError:
                raise InvalidInputError(
                    f"a {column!r} cell starts with '[' but is not a JSON list of messages"
                ) from None
        else:
            return [{"role": "user", "content": value}]
    if not isinstance(value, list) or not value:
        raise InvalidInputError(f"a {column!r} cell must be a non-empty list of messages")
    return value


def _params_of(cell: Any, column: str) -> dict[str, Any]:
    if _is_missing(cell):
        return {}
    value = _plain(cell)
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except ValueError:
            raise InvalidInputError(f"a {column!r} cell is a string but not a JSON object") from None
    if not isinstance(value, dict):
        raise InvalidInputError(
            f"a {column!r} cell must be a dict of get_answer arguments, not {type(value).__name__}"
        )
    return value


class _Frame:
    """One batch seen the same way whatever its format: column names, columns as sequences,
    and the batch again with new columns."""

    def __init__(self, batch: Any, kind: str, columns: list[str], num_rows: int) -> None:
        self.batch = batch
        self.kind = kind
        self.columns = columns
        self.num_rows = num_rows

    @classmethod
    def of(cls, batch: Any) -> _Frame:
        module = type(batch).__module__
        if module.startswith("pandas"):
            return cls(batch, "pandas", [str(c) for c in batch.columns], len(batch))
        if module.startswith("pyarrow"):
            return cls(batch, "arrow", list(batch.column_names), batch.num_rows)
        if isinstance(batch, Mapping):
            lengths = {len(column) for column in batch.values()}
            if len(lengths) > 1:
                raise InvalidInputError("the batch's columns have different lengths")
            return cls(batch, "dict", [str(c) for c in batch], lengths.pop() if lengths else 0)
        raise InvalidInputError(
            f"LLMBatchMapper takes a pandas, numpy (dict) or pyarrow batch, not {type(batch).__name__}",
            hint="map_batches(..., batch_format='pandas') or 'numpy'",
        )

    def column(self, name: str) -> list[Any]:
        if self.kind == "pandas":
            return list(self.batch[name].tolist())
        if self.kind == "arrow":
            return list(self.batch.column(name).to_pylist())
        return list(self.batch[name])

    def with_columns(self, prefix: str, new: dict[str, list[Any]]) -> Any:
        """The batch with one column per output field (``prefix + field``) added."""
        if self.kind == "arrow":
            import pyarrow as pa  # type: ignore[import-untyped]

            table = self.batch
            for field, values in new.items():
                table = table.append_column(prefix + field, pa.array(values, type=_arrow_type(pa, field)))
            return table
        import numpy as np

        arrays = {prefix + field: _numpy_column(np, field, values) for field, values in new.items()}
        if self.kind == "pandas":
            frame = self.batch.copy(deep=False)
            for name, array in arrays.items():
                frame[name] = array
            return frame
        out = dict(self.batch)
        out.update(arrays)
        return out


def _numpy_column(np: Any, field: str, values: list[Any]) -> Any:
    if field in ("input_tokens", "output_tokens"):
        return np.asarray(values, dtype=np.int64)
    if field == "cost":
        return np.asarray(values, dtype=np.float64)
    if field == "cached":
        return np.asarray(values, dtype=bool)
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _arrow_type(pa: Any, field: str) -> Any:
    if field in ("input_tokens", "output_tokens"):
        return pa.int64()
    if field == "cost":
        return pa.float64()
    if field == "cached":
        return pa.bool_()
    return pa.string()


# ---------------------------------------------------------------------------------- the loop


class _LoopThread:
    """An event loop running in a daemon thread for the life of a worker: every batch's
    coroutines run on it, so sessions and connection pools are made once, not per batch."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            with contextlib.suppress(Exception):
                self.loop.run_until_complete(self._cancel_rest())
                self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    async def _cancel_rest(self) -> None:
        tasks = [t for t in asyncio.all_tasks(self.loop) if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None, *, quiet: bool = False) -> T:
        """Run ``coro`` on the loop and wait for it; ``quiet`` swallows its failure (shutdown)."""
        if not self._thread.is_alive():
            coro.close()
            if quiet:
                return None  # type: ignore[return-value]
            raise ConfigurationError("the worker's event loop has stopped (the mapper was closed)")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()
            if quiet:
                return None  # type: ignore[return-value]
            raise

    def stop(self) -> None:
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(_CLOSE_TIMEOUT)
