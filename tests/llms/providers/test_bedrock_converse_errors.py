"""Bedrock's errors → the error tree: ``bedrock_error`` (every name, both spellings),
``map_http_error`` (header, body, status), ``error_from_event`` (stream frames), and what never
appears in an error (credentials AWS quotes back)."""

from __future__ import annotations

import json
import math

import pytest
from multidict import CIMultiDict
from test_bedrock_converse_kit import BEDROCK, exception_frame, frame, replay_events

from core.llms.interfaces import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContextWindowExceededError,
    LLMError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTimeoutError,
    ServiceUnavailableError,
)
from core.llms.providers.dialects.bedrock_converse.errors import (
    bedrock_error,
    error_from_event,
    map_http_error,
    scrub,
)

EP = "https://bedrock-runtime.us-east-1.amazonaws.com"

CASES: list[tuple[str, type[LLMError], int]] = [
    ("ThrottlingException", RateLimitError, 429),
    ("ServiceQuotaExceededException", RateLimitError, 429),
    ("TooManyRequestsException", RateLimitError, 429),
    ("ModelNotReadyException", ServiceUnavailableError, 429),
    ("ServiceUnavailableException", ServiceUnavailableError, 503),
    ("InternalServerException", ServiceUnavailableError, 500),
    ("ModelStreamErrorException", ServiceUnavailableError, 424),
    ("ModelErrorException", ServiceUnavailableError, 424),
    ("ModelTimeoutException", RequestTimeoutError, 408),
    ("ValidationException", BadRequestError, 400),
    ("AccessDeniedException", PermissionDeniedError, 403),
    ("ResourceNotFoundException", NotFoundError, 404),
    ("ConflictException", ConflictError, 409),
    ("UnrecognizedClientException", AuthenticationError, 403),
    ("InvalidSignatureException", AuthenticationError, 403),
    ("ExpiredTokenException", AuthenticationError, 403),
]


@pytest.mark.parametrize(("name", "cls", "status"), CASES)
def test_each_name_maps_to_its_class(name: str, cls: type[LLMError], status: int) -> None:
    err = bedrock_error(name, "it failed", status=None, endpoint=EP, request_id="r1")
    assert type(err) is cls
    assert (err.status, err.code, err.endpoint, err.request_id) == (status, name, EP, "r1")
    assert err.message == f"{name}: it failed"
    # the stream's spelling (the union member: lower camel case) is the same error
    lower = name[0].lower() + name[1:]
    assert type(bedrock_error(lower, "x", status=None, endpoint=None, request_id=None)) is cls


def test_retry_rules_follow_the_class() -> None:
    def make(name: str) -> LLMError:
        return bedrock_error(name, "m", status=None, endpoint=None, request_id=None)

    assert make("ThrottlingException").retryable and not make("ThrottlingException").failover
    for name in ("ServiceUnavailableException", "InternalServerException", "ModelStreamErrorException"):
        assert make(name).retryable and make(name).failover
    assert make("ModelNotReadyException").retryable
    for name in ("ValidationException", "AccessDeniedException", "ResourceNotFoundException"):
        assert not make(name).retryable and not make(name).failover


@pytest.mark.parametrize(
    "message",
    [
        "Input is too long for requested model.",
        "The prompt is too long: 250000 tokens > 200000 maximum",
        "too many input tokens",
        "input length and `max_tokens` exceed context limit: 199000 + 8192 > 200000",
    ],
)
def test_context_window_messages(message: str) -> None:
    err = bedrock_error("ValidationException", message, status=400, endpoint=EP, request_id=None)
    assert type(err) is ContextWindowExceededError
    assert isinstance(err, BadRequestError)


def test_an_invalid_model_id_is_not_found() -> None:
    err = bedrock_error(
        "ValidationException",
        "The provided model identifier is invalid.",
        status=400,
        endpoint=EP,
        request_id=None,
    )
    assert type(err) is NotFoundError and err.status == 400
    assert "region" in (err.hint or "")


def test_on_demand_throughput_hint() -> None:
    message = (
        "Invocation of model ID anthropic.claude-sonnet-4-20250514-v1:0 with on-demand throughput isn't "
        "supported. Retry your request with the ID or ARN of an inference profile that contains this model."
    )
    err = bedrock_error("ValidationException", message, status=400, endpoint=EP, request_id=None)
    assert type(err) is BadRequestError
    assert "inference profile" in (err.hint or "")


def test_unknown_names_go_by_status() -> None:
    assert type(bedrock_error("FancyNewException", "x", status=503, endpoint=None, request_id=None)) is (
        ServiceUnavailableError
    )
    unknown = bedrock_error("FancyNewException", "x", status=None, endpoint=None, request_id=None)
    assert type(unknown) is ServiceUnavailableError and unknown.status == 500
    assert unknown.code == "FancyNewException"
    assert type(bedrock_error(None, "x", status=418, endpoint=None, request_id=None)) is BadRequestError


# -- HTTP errors ---------------------------------------------------------------------------------------


def test_the_recorded_400() -> None:
    side = json.loads((BEDROCK / "converse-stream-400-invalid-model.http.json").read_text())
    body = (BEDROCK / "converse-stream-400-invalid-model.json").read_bytes()
    status = side["response"]["status"]
    err = map_http_error(status, CIMultiDict(side["response"]["headers"]), body, EP, "req-400")
    assert type(err) is NotFoundError  # a BadRequestError: the model id does not exist
    assert isinstance(err, BadRequestError) and not err.retryable
    assert (err.status, err.request_id, err.endpoint) == (400, "req-400", EP)
    assert err.message == "The provided model identifier is invalid."
    assert err.code is None  # no x-amzn-ErrorType was recorded: no name is made up
    assert err.body == {"message": "The provided model identifier is invalid."}


@pytest.mark.parametrize(
    ("headers", "body", "cls", "code"),
    [
        (
            {"x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"},
            {"message": "Too many requests"},
            RateLimitError,
            "ThrottlingException",
        ),
        (
            {"X-Amzn-Errortype": "AccessDeniedException"},
            {"Message": "no access"},
            PermissionDeniedError,
            "AccessDeniedException",
        ),
        (
            {},
            {"__type": "com.amazon.coral.validate#ValidationException", "message": "bad"},
            BadRequestError,
            "ValidationException",
        ),
        (
            {},
            {"code": "ModelTimeoutException", "message": "slow"},
            RequestTimeoutError,
            "ModelTimeoutException",
        ),
    ],
)
def test_the_name_comes_from_the_header_or_the_body(
    headers: dict[str, str], body: dict[str, str], cls: type[LLMError], code: str
) -> None:
    for mapping in (CIMultiDict(headers), dict(headers)):  # a plain dict in any spelling too
        err = map_http_error(400, mapping, json.dumps(body).encode(), EP, None)
        assert type(err) is cls and err.code == code


def test_retry_after_is_kept() -> None:
    headers = CIMultiDict({"x-amzn-ErrorType": "ThrottlingException", "Retry-After": "3"})
    err = map_http_error(429, headers, b'{"message": "slow down"}', EP, None)
    assert isinstance(err, RateLimitError) and err.retry_after == 3.0


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (500, ServiceUnavailableError),
        (503, ServiceUnavailableError),
        (429, RateLimitError),
        (403, PermissionDeniedError),
    ],
)
def test_a_body_that_is_not_json(status: int, cls: type[LLMError]) -> None:
    err = map_http_error(status, CIMultiDict(), b"<html>Bad gateway</html>", EP, None)
    assert type(err) is cls
    assert err.message == "<html>Bad gateway</html>" and err.body is None


def test_an_empty_body() -> None:
    err = map_http_error(502, CIMultiDict(), b"", EP, None)
    assert type(err) is ServiceUnavailableError
    assert err.message == "Bedrock answered HTTP 502 with no message"


def test_a_message_that_is_not_a_string() -> None:
    err = map_http_error(400, CIMultiDict(), b'{"message": {"nested": [1, 2]}}', EP, None)
    assert type(err) is BadRequestError and "nested" in err.message


# -- no credentials in errors --------------------------------------------------------------------------

_TOKEN = "IQoJb3JpZ2luX2VjEFcaCXVzLWVhc3QtMSJHMEUCIQDsecretsecretsecretsecret"
_SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. Check your AWS "
    "Secret Access Key and signing method. Consult the service documentation for details.\n\n"
    "The Canonical String for this request should have been\n'POST\n/model/x/converse\n\n"
    f"host:bedrock-runtime.us-east-1.amazonaws.com\nx-amz-date:20260101T000000Z\nx-amz-security-token:{_TOKEN}\n\n"
    "host;x-amz-date;x-amz-security-token\nabc'\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n"
    "20260101T000000Z\n20260101/us-east-1/bedrock/aws4_request\ndef'\n"
)


def test_a_quoted_request_is_left_out() -> None:
    body = json.dumps({"message": _SIGNATURE_MESSAGE}).encode()
    headers = CIMultiDict({"x-amzn-ErrorType": "InvalidSignatureException"})
    err = map_http_error(403, headers, body, EP, None)
    assert type(err) is AuthenticationError
    for text in (str(err), repr(err), json.dumps(err.body)):
        assert _TOKEN not in text and _TOKEN[:20] not in text
    assert "signature we calculated does not match" in err.message
    assert err.message.endswith("(the request AWS quoted is left out)")
    assert "String-to-Sign" not in str(err) and "aws4_request" not in json.dumps(err.body)
    assert "credentials" in (err.hint or "")


@pytest.mark.parametrize(
    "text",
    [
        "The security token included in the request is invalid: AKIAIOSFODNN7EXAMPLE",
        "Credential=ASIAQWERTYUIOPASDFGH/20260101/us-east-1/bedrock/aws4_request",
        f"x-amz-security-token: {_TOKEN}",
        f"Authorization: Bearer {_TOKEN}",
        f"session token={_TOKEN}",
    ],
)
def test_credential_shapes_are_masked(text: str) -> None:
    scrubbed = scrub(text)
    for secret in ("AKIAIOSFODNN7EXAMPLE", "ASIAQWERTYUIOPASDFGH", _TOKEN):
        assert secret not in scrubbed
    assert "***" in scrubbed
    err = bedrock_error("UnrecognizedClientException", text, status=403, endpoint=EP, request_id=None)
    assert _TOKEN not in str(err) and "AKIAIOSFODNN7EXAMPLE" not in str(err)


def test_long_messages_are_cut() -> None:
    err = bedrock_error("ValidationException", "word " * 400, status=400, endpoint=EP, request_id=None)
    assert len(err.message) <= 500 and err.message.endswith("...")


# -- stream frames ---------------------------------------------------------------------------------------


def test_an_exception_frame() -> None:
    (event,) = replay_events(
        exception_frame("throttlingException", {"message": "Too many tokens, slow down"})
    )
    err = error_from_event(event, endpoint=EP, request_id="rs")
    assert type(err) is RateLimitError
    assert (err.status, err.code, err.request_id) == (429, "ThrottlingException", "rs")
    assert err.message == "ThrottlingException: Too many tokens, slow down"


def test_a_model_stream_error_quotes_the_original() -> None:
    payload = {"message": "Model stream error", "originalStatusCode": 529, "originalMessage": "Overloaded"}
    (event,) = replay_events(exception_frame("modelStreamErrorException", payload))
    err = error_from_event(event, endpoint=EP, request_id=None)
    assert type(err) is ServiceUnavailableError and err.failover
    assert "(the model answered 529: Overloaded)" in err.message
    assert err.body == payload


def test_an_error_frame() -> None:
    raw = frame({":message-type": "error", ":error-code": "InternalFailure", ":error-message": "it broke"})
    (event,) = replay_events(raw)
    err = error_from_event(event, endpoint=EP, request_id=None)
    assert type(err) is ServiceUnavailableError
    assert err.message == "InternalFailure: it broke"


def test_an_exception_frame_with_a_payload_that_is_not_json() -> None:
    (event,) = replay_events(exception_frame("validationException", {}))
    event.data = "not json"
    err = error_from_event(event, endpoint=None, request_id=None)
    assert type(err) is BadRequestError and err.message == "ValidationException: not json"
    assert not math.isnan(err.status or 0)
