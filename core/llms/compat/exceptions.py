"""LiteLLM's exception names, as subclasses of the core-llms error tree.

Every error a ``core.llms.compat`` call raises is one of these classes, so code written for
LiteLLM catches it under the name it already uses (``except litellm.RateLimitError``), and code
written for core-llms catches it under ours (``except core.llms.RateLimitError``): each class
subclasses the core class it stands for.

==================================  ============================================  ==============
LiteLLM name                        core-llms class it subclasses                 ``status_code``
==================================  ============================================  ==============
``AuthenticationError``             :class:`~core.llms.AuthenticationError`       401 (also a
                                    missing key: a ``ConfigurationError`` too)
``PermissionDeniedError``           :class:`~core.llms.PermissionDeniedError`     403
``NotFoundError``                   :class:`~core.llms.NotFoundError`             404
``BadRequestError``                 :class:`~core.llms.BadRequestError`           400
``UnprocessableEntityError``        :class:`~core.llms.BadRequestError`           422
``ContextWindowExceededError``      :class:`~core.llms.ContextWindowExceededError` 400
``ContentPolicyViolationError``     :class:`~core.llms.ContentFilterError`        400
``UnsupportedParamsError``          ``BadRequestError`` (and our                  400
                                    :class:`~core.llms.InvalidInputError`)
``UnknownModelError``               ``NotFoundError``, ``BadRequestError`` and    404
                                    :class:`~core.llms.UnknownModelError`
``RateLimitError``                  :class:`~core.llms.RateLimitError`            429
``Timeout``                         :class:`~core.llms.RequestTimeoutError`       408
``APIConnectionError``              :class:`~core.llms.APIConnectionError`        500
``ServiceUnavailableError``         :class:`~core.llms.ServiceUnavailableError`   503
``InternalServerError``             :class:`~core.llms.ServiceUnavailableError`   500
``BadGatewayError``                 :class:`~core.llms.ServiceUnavailableError`   502
``APIError``                        :class:`~core.llms.LLMError`                  500
``APIResponseValidationError``      :class:`~core.llms.ResponseParsingError`      500
``JSONSchemaValidationError``       ``APIResponseValidationError``                500
``BudgetExceededError``             :class:`~core.llms.BudgetExceededError`       —
==================================  ============================================  ==============

``OpenAIError`` is :class:`~core.llms.LLMError` itself: it catches every error (in LiteLLM every
exception class but ``BudgetExceededError`` derives from ``openai.OpenAIError``).

A core error is turned into one of these by :func:`to_compat`: the class is chosen from the
error's class and HTTP status (a 504 is a ``Timeout``, a 500 an ``InternalServerError``, a 422 an
``UnprocessableEntityError``; an :class:`~core.llms.AllEndpointsFailedError` or
:class:`~core.llms.StreamInterruptedError` by the error that caused it). When the error's own
class is not already a base of that name (a 504 is a ``ServiceUnavailableError`` in our tree, an
exhausted fallback chain an ``AllModelsFailedError``), the error gets a class made of both — it
stays an instance of everything it was. All attributes are kept (``provider``, ``model``,
``status``, ``endpoint``, ``retry_after``, ``attempts`` …) and LiteLLM's are added:
``status_code``, ``llm_provider``, ``message``, ``model``, ``litellm_debug_info``,
``max_retries``, ``num_retries``, ``response`` (None: there is no httpx response). Messages are
the core messages: credentials never appear in them.

The classes also take LiteLLM's constructor arguments (``RateLimitError(message, llm_provider,
model)``, ``APIError(status_code, message, llm_provider, model)``, ``BudgetExceededError(
current_cost, max_budget)``), so tests that build them, or pass one as ``mock_response``, keep
working.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar, NoReturn

from ..interfaces import errors as core

__all__ = [
    "LITELLM_EXCEPTION_TYPES",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "AuthenticationError",
    "BadGatewayError",
    "BadRequestError",
    "BudgetExceededError",
    "ContentPolicyViolationError",
    "ContextWindowExceededError",
    "InternalServerError",
    "InvalidRequestError",
    "JSONSchemaValidationError",
    "MockException",
    "NotFoundError",
    "OpenAIError",
    "PermissionDeniedError",
    "RateLimitError",
    "RejectedRequestError",
    "ServiceUnavailableError",
    "Timeout",
    "UnknownModelError",
    "UnprocessableEntityError",
    "UnsupportedParamsError",
    "raise_compat",
    "to_compat",
]

#: LiteLLM's constructor keywords that are not core-llms error fields (kept as attributes).
_LITELLM_ONLY = frozenset(
    {
        "response",
        "request",
        "litellm_debug_info",
        "max_retries",
        "num_retries",
        "headers",
        "provider_specific_fields",
        "raw_response",
        "schema",
        "request_data",
    }
)


class _CompatError(core.LLMError):
    """Base of the LiteLLM-named classes: LiteLLM's attributes over a core error."""

    #: the status LiteLLM gives this class when the error carries none.
    _litellm_status: ClassVar[int] = 500
    #: LiteLLM's positional constructor arguments, in order.
    _litellm_args: ClassVar[tuple[str, ...]] = ("message", "llm_provider", "model", "response")
    litellm_debug_info: str | None = None
    max_retries: int | None = None
    num_retries: int | None = None
    response: Any = None
    request: Any = None
    #: the status of the error this one stands for (an aggregate's cause), when it has none.
    _cause_status: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = self._litellm_args
        if len(args) > len(names):
            raise core.InvalidInputError(
                f"{type(self).__name__}() takes at most {len(names)} positional arguments "
                f"({', '.join(names)}), {len(args)} were given"
            )
        for name, value in zip(names, args, strict=False):
            if name in kwargs:
                raise core.InvalidInputError(f"{type(self).__name__}() got two values for {name!r}")
            kwargs[name] = value
        message = kwargs.pop("message", None)
        provider = kwargs.pop("llm_provider", None)
        if provider is not None:
            kwargs.setdefault("provider", provider)
        for status_name in ("status_code", "exception_status_code"):
            status = kwargs.pop(status_name, None)
            if status is not None:
                kwargs.setdefault("status", status)
        kept = {name: kwargs.pop(name) for name in _LITELLM_ONLY.intersection(kwargs)}
        super().__init__("" if message is None else str(message), **kwargs)
        for name, value in kept.items():
            setattr(self, name, value)

    @property
    def status_code(self) -> int:
        """The HTTP status (LiteLLM's name): the provider's, else the class's usual one."""
        if self.status is not None:
            return self.status
        if self._cause_status is not None:
            return self._cause_status
        return self._litellm_status

    @status_code.setter
    def status_code(self, value: int) -> None:
        self.status = value

    @property
    def llm_provider(self) -> str | None:
        """The provider's name (LiteLLM's name for ``provider``)."""
        return self.provider

    @llm_provider.setter
    def llm_provider(self, value: str | None) -> None:
        self.provider = value


class AuthenticationError(_CompatError, core.AuthenticationError):
    """401: the key was rejected."""

    _litellm_status = 401


class PermissionDeniedError(_CompatError, core.PermissionDeniedError):
    """403: the key may not do this."""

    _litellm_status = 403


class NotFoundError(_CompatError, core.NotFoundError):
    """404: the model, deployment or route does not exist."""

    _litellm_status = 404
    _litellm_args: ClassVar[tuple[str, ...]] = ("message", "model", "llm_provider", "response")


class BadRequestError(_CompatError, core.BadRequestError):
    """400: the provider (or this library, before sending) refused the request."""

    _litellm_status = 400
    _litellm_args: ClassVar[tuple[str, ...]] = ("message", "model", "llm_provider", "response")


#: LiteLLM's deprecated name for :class:`BadRequestError`.
InvalidRequestError = BadRequestError


class UnprocessableEntityError(_CompatError, core.BadRequestError):
    """422."""

    _litellm_status = 422
    _litellm_args: ClassVar[tuple[str, ...]] = ("message", "model", "llm_provider", "response")


class ContextWindowExceededError(BadRequestError, core.ContextWindowExceededError):
    """The prompt plus the output asked for does not fit the model's context window."""


class ContentPolicyViolationError(BadRequestError, core.ContentFilterError):
    """A content filter blocked the prompt or the answer."""


class RejectedRequestError(BadRequestError):
    """A request refused before it was sent (LiteLLM's guardrail error; kept for ``except``)."""


class UnsupportedParamsError(BadRequestError):
    """A parameter the model (or this layer) does not take; ``drop_params=True`` drops the
    provider parameters a model does not take instead."""

    _litellm_args: ClassVar[tuple[str, ...]] = ("message", "llm_provider", "model", "status_code")


class UnknownModelError(NotFoundError, BadRequestError, core.UnknownModelError):
    """No provider or model has that name (LiteLLM raises a ``BadRequestError`` for an unknown
    provider and a ``NotFoundError`` for an unknown model: this is both)."""


class RateLimitError(_CompatError, core.RateLimitError):
    """429 (``retry_after``: seconds, when the provider said)."""

    _litellm_status = 429


class Timeout(_CompatError, core.RequestTimeoutError):
    """The call took too long (or a 408 / 504)."""

    _litellm_status = 408
    _litellm_args: ClassVar[tuple[str, ...]] = ("message", "model", "llm_provider")


class APIConnectionError(_CompatError, core.APIConnectionError):
    """The connection could not be made or broke."""

    _litellm_args: ClassVar[tuple[str, ...]] = ("message", "llm_provider", "model", "request")


class ServiceUnavailableError(_CompatError, core.ServiceUnavailableError):
    """503 (and 529, Anthropic's "overloaded")."""

    _litellm_status = 503


class InternalServerError(_CompatError, core.ServiceUnavailableError):
    """500."""


class BadGatewayError(_CompatError, core.ServiceUnavailableError):
    """502."""

    _litellm_status = 502


class APIError(_CompatError):
    """Any other failure (an unexpected status, a 409, a failed video job)."""

    _litellm_args: ClassVar[tuple[str, ...]] = ("status_code", "message", "llm_provider", "model", "request")


class MockException(APIError):
    """What ``mock_response=<an exception that is not one of ours>`` raises (as in LiteLLM)."""


class APIResponseValidationError(_CompatError, core.ResponseParsingError):
    """The provider answered something that cannot be read."""

    _litellm_args: ClassVar[tuple[str, ...]] = ("message", "llm_provider", "model")


class JSONSchemaValidationError(APIResponseValidationError):
    """A structured answer (``response_format=``) did not match its schema."""

    _litellm_args: ClassVar[tuple[str, ...]] = ("model", "llm_provider", "raw_response", "schema")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if "message" not in kwargs:
            model = kwargs.get("model", args[0] if args else None)
            kwargs["message"] = f"model={model} returned a response that does not match the schema"
        super().__init__(*args, **kwargs)


class BudgetExceededError(_CompatError, core.BudgetExceededError):
    """A token or cost limit would be (or was) passed. ``current_cost`` / ``max_budget`` are
    LiteLLM's names for ``spent`` / ``limit``."""

    _litellm_args: ClassVar[tuple[str, ...]] = ("current_cost", "max_budget", "message")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = self._litellm_args
        for name, value in zip(names, args, strict=False):
            kwargs.setdefault(name, value)
        if len(args) > len(names):
            raise core.InvalidInputError(
                f"BudgetExceededError() takes at most {len(names)} positional arguments"
            )
        current = kwargs.pop("current_cost", None)
        maximum = kwargs.pop("max_budget", None)
        if current is not None or maximum is not None:
            kwargs.setdefault("spent", current)
            kwargs.setdefault("limit", maximum)
            kwargs.setdefault("unit", "usd")
        if kwargs.get("message") is None:
            kwargs["message"] = f"Budget has been exceeded! Current cost: {current}, Max budget: {maximum}"
        super().__init__(**kwargs)

    @property
    def current_cost(self) -> float | None:
        """What was spent (LiteLLM's name for ``spent``)."""
        spent: float | None = getattr(self, "spent", None)
        return spent

    @property
    def max_budget(self) -> float | None:
        """The limit (LiteLLM's name for ``limit``)."""
        limit: float | None = getattr(self, "limit", None)
        return limit


#: every error class in catch-all-friendly order (LiteLLM's ``LITELLM_EXCEPTION_TYPES``).
LITELLM_EXCEPTION_TYPES: list[type[core.LLMError]] = [
    AuthenticationError,
    NotFoundError,
    BadRequestError,
    UnprocessableEntityError,
    UnsupportedParamsError,
    Timeout,
    PermissionDeniedError,
    RateLimitError,
    ContextWindowExceededError,
    RejectedRequestError,
    ContentPolicyViolationError,
    InternalServerError,
    ServiceUnavailableError,
    BadGatewayError,
    APIError,
    APIConnectionError,
    APIResponseValidationError,
    JSONSchemaValidationError,
    BudgetExceededError,
]

#: LiteLLM's catch-all name: every error of this library.
OpenAIError = core.LLMError

#: the classes ``mock_response="litellm.<Name>"`` may name.
BY_NAME: dict[str, type[_CompatError]] = {
    cls.__name__: cls for cls in LITELLM_EXCEPTION_TYPES if issubclass(cls, _CompatError)
}

_COMBINED: dict[tuple[type, type], type] = {}
_COMBINED_LOCK = threading.Lock()


def _is_parameter_error(error: core.LLMError) -> bool:
    """Whether an :class:`InvalidInputError` names a parameter the model does not take (the
    models' wording: ``unknown parameter 'x' …`` / ``parameter 'x' is not supported …``)."""
    message = error.message
    return message.startswith(("unknown parameter", "parameter ")) or " is not supported" in message


def _litellm_class(error: core.LLMError, structured: bool) -> type[_CompatError]:
    """The LiteLLM name ``error`` is raised under."""
    status = error.status
    match error:
        case core.ContextWindowExceededError():
            return ContextWindowExceededError
        case core.ContentFilterError():
            return ContentPolicyViolationError
        case core.UnknownModelError():
            return UnknownModelError
        case core.NotFoundError():
            return NotFoundError
        case core.InvalidInputError():
            return UnsupportedParamsError if _is_parameter_error(error) else BadRequestError
        case core.BadRequestError():
            return UnprocessableEntityError if status == 422 else BadRequestError
        case core.AuthenticationError():
            return AuthenticationError
        case core.PermissionDeniedError():
            return PermissionDeniedError
        case core.RateLimitError():
            return RateLimitError
        case core.RequestTimeoutError():
            return Timeout
        case core.APIConnectionError():
            return APIConnectionError
        case core.ServiceUnavailableError():
            return {500: InternalServerError, 502: BadGatewayError, 504: Timeout}.get(
                status or 503, ServiceUnavailableError
            )
        case core.BudgetExceededError():
            return BudgetExceededError
        case core.ResponseTooLargeError():
            return APIResponseValidationError
        case core.ResponseParsingError():
            return JSONSchemaValidationError if structured else APIResponseValidationError
        case core.ConfigurationError() if "needs an API key" in error.message:
            return AuthenticationError  # (LiteLLM: a missing key is an AuthenticationError)
        case core.UnsupportedOperationError() | core.ConfigurationError():
            return BadRequestError
        case core.StreamInterruptedError():
            return APIConnectionError  # (a stream cut without a typed cause)
        case core.AllEndpointsFailedError():
            return ServiceUnavailableError  # (every endpoint skipped: circuits open)
        case _:
            return APIError


def _representative(error: core.LLMError) -> core.LLMError:
    """The error whose kind names an aggregate: an exhausted chain's last error, a broken
    stream's cause (recursively)."""
    seen = 0
    while seen < 8:  # (chains are short; the bound only guards against a cycle)
        seen += 1
        if isinstance(error, core.AllEndpointsFailedError):
            last = error.last_error
            if last is None:
                return error
            error = last
        elif isinstance(error, core.StreamInterruptedError) and isinstance(error.cause, core.LLMError):
            error = error.cause
        else:
            return error
    return error


def _combined(name_class: type[_CompatError], own: type[core.LLMError]) -> type[core.LLMError]:
    """A class that is both ``name_class`` and ``own`` (``name_class`` itself when it already
    is an ``own``), made once per pair."""
    if issubclass(name_class, own):
        return name_class
    key = (name_class, own)
    found = _COMBINED.get(key)
    if found is None:
        with _COMBINED_LOCK:
            found = _COMBINED.get(key)
            if found is None:
                try:
                    found = type(
                        name_class.__name__,
                        (name_class, own),
                        {
                            "__module__": __name__,
                            "__doc__": name_class.__doc__,
                            "__qualname__": name_class.__name__,
                        },
                    )
                except TypeError:  # (no consistent method order: keep the error's own class)
                    found = own
                _COMBINED[key] = found
    return found


def to_compat(error: core.LLMError, *, structured: bool = False) -> core.LLMError:
    """``error`` as the LiteLLM-named class (see the module docstring): a new object of a class
    that is both that name and the error's own class, with every attribute of ``error``, its
    traceback and its cause. An error that already is one is returned as it is. ``structured``:
    the call asked for structured output (a parse error is then a
    :class:`JSONSchemaValidationError`)."""
    if isinstance(error, _CompatError):
        return error
    representative = _representative(error)
    cls = _combined(_litellm_class(representative, structured), type(error))
    if cls is type(error):
        return error
    converted: core.LLMError = cls.__new__(cls)
    converted.__dict__.update(error.__dict__)
    converted.args = error.args
    if error.status is None and representative is not error and representative.status is not None:
        converted._cause_status = representative.status  # type: ignore[attr-defined]
    converted.__cause__ = error.__cause__
    converted.__suppress_context__ = True
    converted.__traceback__ = error.__traceback__
    return converted


def raise_compat(error: core.LLMError, *, structured: bool = False) -> NoReturn:
    """Raise :func:`to_compat` of ``error`` (its cause kept as the cause)."""
    converted = to_compat(error, structured=structured)
    try:
        raise converted
    finally:
        del converted, error
