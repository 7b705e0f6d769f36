"""AWS's side of the Bedrock wire: request signing checks, error bodies, model identifiers.

**Auth.** A Bedrock request carries either a SigV4 signature::

    Authorization: AWS4-HMAC-SHA256 Credential=<AKID>/<yyyymmdd>/<region>/bedrock/aws4_request,
                   SignedHeaders=<...;host;...;x-amz-date...>, Signature=<64 hex>
    X-Amz-Date: <yyyymmddTHHMMSSZ>            (within 15 minutes of now)
    X-Amz-Security-Token: <token>             (temporary credentials; accepted)

or a Bedrock API key, ``Authorization: Bearer <key>``. The simulator checks the signature's
*shape* (it knows no secret key, so it cannot recompute it): the scope's region must be the one
the simulator plays (``Simulator(aws_region=...)``, default ``us-east-1``), its service
``bedrock`` (``s3`` on the S3 route), its date the ``X-Amz-Date`` day. With
``Simulator(api_key="k")`` only the access key id ``k`` (SigV4) or the bearer key ``k`` is
known. Refusals are 403s in AWS's shape: no ``Authorization`` → ``AccessDeniedException``
(``{"Message": "Authorization header is missing"}``, as Bedrock answers), an unknown key →
``UnrecognizedClientException``, a malformed header → ``IncompleteSignatureException``, a bad
scope, date or signature → ``InvalidSignatureException``.

**Errors.** Bedrock's errors are ``{"message": ...}`` with the status of their type and the header
``x-amzn-ErrorType: <Type>:http://internal.amazon.com/coral/com.amazon.bedrock/`` (the auth
layer's: ``...com.amazon.coral.service/``); responses carry ``x-amzn-RequestId``. S3's are XML
``<Error><Code>…</Code><Message>…</Message>…</Error>`` with ``x-amz-request-id``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from xml.sax.saxutils import escape

from aiohttp import web

from .faults import Fault
from .hosts import HostAuth
from .openai_wire import Rejection
from .responder import send_json

__all__ = [
    "AWS_REGION",
    "DEFAULT_REGION",
    "MAX_SKEW",
    "BedrockModel",
    "BedrockWire",
    "S3Wire",
    "bedrock_error",
    "exception_type_for",
    "request_id",
    "resolve_model",
    "s3_error",
    "validation_error",
]

#: the app key under which the simulator stores the AWS region it plays (see ``Simulator``).
AWS_REGION = web.AppKey("core_llms_sim_aws_region", str)
DEFAULT_REGION = "us-east-1"
#: how far ``X-Amz-Date`` may be from the simulator's clock.
MAX_SKEW = dt.timedelta(minutes=15)

_BEDROCK_NS = "http://internal.amazon.com/coral/com.amazon.bedrock/"
_CORAL_NS = "http://internal.amazon.com/coral/com.amazon.coral.service/"
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_CREDENTIAL = re.compile(r"^([^/\s]+)/(\d{8})/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request$")
_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")
_BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
    "Access Key and signing method. Consult the service documentation for details."
)
_BAD_TOKEN = "The security token included in the request is invalid."

#: HTTP status → Bedrock's error type and default message (``Fault(status=...)`` bodies).
_STATUS_ERRORS: dict[int, tuple[str, str]] = {
    400: ("ValidationException", "Malformed input request, please reformat your input and try again."),
    403: ("AccessDeniedException", "You don't have access to the model with the specified model ID."),
    404: ("ResourceNotFoundException", "The requested resource could not be found."),
    408: ("ModelTimeoutException", "Model has timed out in processing the request. Try your request again."),
    424: ("ModelErrorException", "The model returned an error. Try your request again."),
    429: ("ThrottlingException", "Too many requests, please wait before trying again."),
    500: (
        "InternalServerException",
        "The system encountered an unexpected error during processing. Try your request again.",
    ),
    503: ("ServiceUnavailableException", "Bedrock is unable to process your request."),
}
#: error type → status, for the types a ``Fault(error_code="...")`` may name.
_TYPE_STATUS = {
    **{name: status for status, (name, _) in _STATUS_ERRORS.items()},
    "ModelNotReadyException": 429,
    "ServiceQuotaExceededException": 400,
    "ConflictException": 400,
    "ModelStreamErrorException": 424,
}
#: exception frames a stream may carry (ConverseStream / InvokeModelWithResponseStream).
_STREAM_EXCEPTIONS = (
    "internalServerException",
    "modelStreamErrorException",
    "validationException",
    "throttlingException",
    "serviceUnavailableException",
    "modelTimeoutException",
)


def request_id(n: int) -> str:
    """The ``x-amzn-RequestId`` of request number ``n`` (a UUID, as AWS sends)."""
    return f"00000000-0000-4000-a000-{n:012d}"


def bedrock_error(status: int, error_type: str, message: str, *, coral: bool = False) -> Rejection:
    """A Bedrock error: ``{"message": ...}`` with ``x-amzn-ErrorType``."""
    namespace = _CORAL_NS if coral else _BEDROCK_NS
    return Rejection(status, {"message": message}, {"x-amzn-ErrorType": f"{error_type}:{namespace}"})


def validation_error(message: str) -> Rejection:
    """Bedrock's 400 ``ValidationException``."""
    return bedrock_error(400, "ValidationException", message)


def exception_type_for(fault: Fault) -> tuple[str, dict[str, Any]]:
    """The ``:exception-type`` and payload of an in-stream error for ``fault``: its ``error_code``
    when it names a type (``"throttlingException"`` or ``"ThrottlingException"``), else the type of
    its HTTP status (``status``, or an int ``error_code``: 429 → ``throttlingException``, 503 →
    ``serviceUnavailableException``, 400 → ``validationException``, 408 →
    ``modelTimeoutException``, 500 → ``internalServerException``), else
    ``modelStreamErrorException``. A dict ``body`` is the payload as it is."""
    code = fault.error_code
    name: str
    if isinstance(code, str) and code:
        name = code[0].lower() + code[1:]
    elif (fault.status is not None and fault.status >= 400) or isinstance(code, int):
        error_type, _ = _STATUS_ERRORS.get(fault.error_status, ("InternalServerException", ""))
        name = error_type[0].lower() + error_type[1:]
    else:
        name = "modelStreamErrorException"
    if isinstance(fault.body, dict):
        return name, fault.body
    upper = name[0].upper() + name[1:]
    status = _TYPE_STATUS.get(upper, fault.error_status)
    message = fault.message
    if message is None:
        if name == "modelStreamErrorException":
            message = "The model stream encountered an error. Try your request again."
        else:
            message = _STATUS_ERRORS.get(status, ("", f"Simulated error (HTTP {status})."))[1]
    payload: dict[str, Any] = {"message": message}
    if name == "modelStreamErrorException":
        payload.update(originalStatusCode=500, originalMessage=message)
    return name, payload


# --------------------------------------------------------------------------- SigV4


@dataclass(frozen=True, slots=True)
class _Refusal:
    status: int
    error_type: str
    message: str
    fields: tuple[tuple[str, str], ...] = ()


def _amz_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _parse_amz_date(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(value, _AMZ_DATE).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def _check_clock(stamp: dt.datetime, raw: str) -> _Refusal | None:
    now = _amz_now()
    minutes = int(MAX_SKEW.total_seconds() // 60)
    if stamp < now - MAX_SKEW:
        return _Refusal(
            403,
            "InvalidSignatureException",
            f"Signature expired: {raw} is now earlier than {(now - MAX_SKEW).strftime(_AMZ_DATE)} "
            f"({now.strftime(_AMZ_DATE)} - {minutes} min.)",
        )
    if stamp > now + MAX_SKEW:
        return _Refusal(
            403,
            "InvalidSignatureException",
            f"Signature not yet current: {raw} is still later than {(now + MAX_SKEW).strftime(_AMZ_DATE)} "
            f"({now.strftime(_AMZ_DATE)} + {minutes} min.)",
        )
    return None


def _sigv4_parts(value: str) -> dict[str, str]:
    """``Credential=..., SignedHeaders=..., Signature=...`` → dict (values stripped)."""
    parts: dict[str, str] = {}
    for item in value.split(","):
        name, sep, content = item.strip().partition("=")
        if sep:
            parts[name.strip()] = content.strip()
    return parts


def check_sigv4(
    scheme_rest: str,
    headers: Mapping[str, str],
    *,
    service: str,
    region: str,
    auth: HostAuth,
    presigned: bool = False,
) -> _Refusal | None:
    """Check the shape of a SigV4 ``Authorization`` header (its part after ``AWS4-HMAC-SHA256``);
    ``presigned``: the parts came from a presigned URL's query (its expiry is checked elsewhere)."""
    parts = _sigv4_parts(scheme_rest)
    missing = [name for name in ("Credential", "Signature", "SignedHeaders") if not parts.get(name)]
    amz_date = headers.get("x-amz-date")
    problems = [f"Authorization header requires '{name}' parameter." for name in missing]
    if amz_date is None and headers.get("date") is None:
        problems.append(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    if problems:
        text = " ".join(problems) + f" Authorization=AWS4-HMAC-SHA256 {scheme_rest.strip()[:200]}"
        return _Refusal(403, "IncompleteSignatureException", text)
    credential = _CREDENTIAL.match(parts["Credential"])
    if credential is None:
        return _Refusal(
            403,
            "IncompleteSignatureException",
            f"Credential should be scoped to a valid region. Authorization header is malformed: "
            f"'{parts['Credential'][:200]}'",
        )
    key_id, day, scope_region, scope_service = credential.groups()
    if not auth.key_ok(key_id):
        return _Refusal(403, "UnrecognizedClientException", _BAD_TOKEN)
    if scope_service != service:
        return _Refusal(
            403, "InvalidSignatureException", f"Credential should be scoped to correct service: '{service}'. "
        )
    if scope_region != region:
        return _Refusal(
            403,
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region, not '{scope_region}'. ",
        )
    signed = {h.strip().lower() for h in parts["SignedHeaders"].split(";")}
    if "host" not in signed and ":authority" not in signed:
        return _Refusal(
            403,
            "InvalidSignatureException",
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        )
    raw_date = amz_date if amz_date is not None else ""
    stamp = _parse_amz_date(raw_date) if amz_date is not None else None
    if amz_date is not None:
        if "x-amz-date" not in signed and not presigned:
            return _Refusal(403, "InvalidSignatureException", _BAD_SIGNATURE)
        if stamp is None:
            return _Refusal(
                403,
                "IncompleteSignatureException",
                f"Date must be in ISO-8601 'basic format'. Got '{raw_date[:40]}'. See "
                "http://en.wikipedia.org/wiki/ISO_8601",
            )
        if stamp.strftime("%Y%m%d") != day:
            return _Refusal(
                403,
                "InvalidSignatureException",
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                f"'{day}' != '{stamp.strftime('%Y%m%d')}', from '{raw_date}'.",
            )
        refusal = None if presigned else _check_clock(stamp, raw_date)
        if refusal is not None:
            return refusal
    token = headers.get("x-amz-security-token")
    if token is not None and not token.strip():
        return _Refusal(403, "UnrecognizedClientException", _BAD_TOKEN)
    if not _SIGNATURE.match(parts["Signature"]):
        return _Refusal(403, "InvalidSignatureException", _BAD_SIGNATURE)
    return None


def _lower(request: web.Request) -> dict[str, str]:
    return {k.lower(): v for k, v in request.headers.items()}


def check_bedrock_auth(request: web.Request, *, region: str, auth: HostAuth, service: str) -> _Refusal | None:
    """None when the request is authorised (SigV4 shape or a bearer key), else the refusal."""
    headers = _lower(request)
    value = headers.get("authorization")
    if value is None or not value.strip():
        return _Refusal(403, "AccessDeniedException", "Authorization header is missing")
    scheme, _, rest = value.strip().partition(" ")
    if scheme == "AWS4-HMAC-SHA256":
        return check_sigv4(rest, headers, service=service, region=region, auth=auth)
    if scheme.lower() == "bearer":
        if not auth.key_ok(rest.strip()):
            return _Refusal(403, "UnrecognizedClientException", _BAD_TOKEN)
        return None
    return _Refusal(
        403,
        "IncompleteSignatureException",
        f"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' "
        f"parameter. Authorization header requires 'SignedHeaders' parameter. Authorization={value[:40]}",
    )


class BedrockWire:
    """The :class:`~.routes.ProviderWire` of the Bedrock runtime routes."""

    def __init__(self, region: str, auth: HostAuth) -> None:
        self.region = region
        self.auth = auth

    def check_auth(self, request: web.Request) -> None:
        refusal = check_bedrock_auth(request, region=self.region, auth=self.auth, service="bedrock")
        if refusal is None:
            return
        rejection = bedrock_error(refusal.status, refusal.error_type, refusal.message, coral=True)
        if refusal.error_type == "AccessDeniedException":
            rejection.body = {"Message": refusal.message}  # as Bedrock answers a missing header
        raise rejection

    def headers(self, n: int) -> dict[str, str]:
        return {"x-amzn-RequestId": request_id(n)}

    def rejection_response(self, rejection: Rejection, headers: dict[str, str]) -> web.StreamResponse:
        return send_json(rejection.status, rejection.body, {**headers, **rejection.headers})

    def fault_response(self, fault: Fault, headers: dict[str, str]) -> web.StreamResponse:
        status = fault.status or 500
        error_type, message = _STATUS_ERRORS.get(
            status,
            (
                "InternalServerException" if status >= 500 else "ValidationException",
                f"Simulated error (HTTP {status}).",
            ),
        )
        if isinstance(fault.error_code, str) and fault.error_code:
            error_type = fault.error_code
        if fault.message is not None:
            message = fault.message
        rejection = bedrock_error(status, error_type, message)
        return send_json(status, rejection.body, {**headers, **rejection.headers})


# --------------------------------------------------------------------------- S3


def _s3_request_id(n: int) -> str:
    return f"SIM{n:013d}"


def _s3_host_id(n: int) -> str:
    return hashlib.sha256(f"core-llms-sim-s3-{n}".encode()).hexdigest()[:56]


def s3_error(status: int, code: str, message: str, **fields: str) -> Rejection:
    """An S3 error (rendered as XML by :class:`S3Wire`): ``Code``, ``Message`` and more fields."""
    return Rejection(status, {"Code": code, "Message": message, **fields})


_S3_STATUS = {
    400: ("InvalidRequest", "Invalid Request"),
    403: ("AccessDenied", "Access Denied"),
    404: ("NoSuchKey", "The specified key does not exist."),
    429: ("SlowDown", "Please reduce your request rate."),
    500: ("InternalError", "We encountered an internal error. Please try again."),
    503: ("SlowDown", "Please reduce your request rate."),
}


def s3_xml(fields: Mapping[str, Any], headers: Mapping[str, str]) -> bytes:
    """The XML body of an S3 error (its request and host ids from the response ``headers``)."""
    inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in fields.items())
    inner += f"<RequestId>{headers.get('x-amz-request-id', '')}</RequestId>"
    inner += f"<HostId>{headers.get('x-amz-id-2', '')}</HostId>"
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<Error>{inner}</Error>'.encode()


class S3Wire:
    """The :class:`~.routes.ProviderWire` of the S3 route (path-style ``GET /s3/{bucket}/{key}``):
    SigV4 with service ``s3`` (header or presigned query), or a bearer key; XML errors."""

    def __init__(self, region: str, auth: HostAuth) -> None:
        self.region = region
        self.auth = auth

    def check_auth(self, request: web.Request) -> None:
        if "X-Amz-Signature" in request.query or "X-Amz-Credential" in request.query:
            self._check_presigned(request)
            return
        if "AWSAccessKeyId" in request.query:
            self._check_presigned_v2(request)
            return
        headers = _lower(request)
        value = headers.get("authorization")
        if value is None or not value.strip():
            raise s3_error(403, "AccessDenied", "Access Denied")
        scheme, _, rest = value.strip().partition(" ")
        if scheme == "AWS4-HMAC-SHA256" and "x-amz-content-sha256" not in headers:
            raise s3_error(
                400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256"
            )
        refusal = check_bedrock_auth(request, region=self.region, auth=self.auth, service="s3")
        if refusal is not None:
            raise self._translate(refusal, rest)

    def _translate(self, refusal: _Refusal, credential: str) -> Rejection:
        message = refusal.message
        if message.startswith("Credential should be scoped to a valid region"):
            wrong = re.search(r"not '([^']*)'", message)
            given = wrong.group(1) if wrong else ""
            return s3_error(
                400,
                "AuthorizationHeaderMalformed",
                f"The authorization header is malformed; the region '{given}' is wrong; "
                f"expecting '{self.region}'",
                Region=self.region,
            )
        if message.startswith("Credential should be scoped to correct service"):
            service = re.search(r"/[a-z0-9-]+/([a-z0-9-]+)/aws4_request", credential)
            named = service.group(1) if service else ""
            return s3_error(
                400,
                "AuthorizationHeaderMalformed",
                f'The authorization header is malformed; incorrect service "{named}". '
                'This endpoint belongs to "s3".',
            )
        if message.startswith(("Signature expired", "Signature not yet current")):
            return s3_error(
                403,
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
                MaxAllowedSkewMilliseconds=str(int(MAX_SKEW.total_seconds() * 1000)),
            )
        if refusal.error_type == "UnrecognizedClientException":
            return s3_error(
                403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
            )
        if refusal.error_type == "IncompleteSignatureException":
            return s3_error(400, "AuthorizationHeaderMalformed", "The authorization header is malformed.")
        if refusal.error_type == "AccessDeniedException":
            return s3_error(403, "AccessDenied", "Access Denied")
        return s3_error(403, "SignatureDoesNotMatch", _BAD_SIGNATURE)

    def _check_presigned(self, request: web.Request) -> None:
        q = request.query
        if q.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256":
            raise s3_error(
                400, "AuthorizationQueryParametersError", 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"'
            )
        names = ("X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature")
        missing = [name for name in names if not q.get(name)]
        if missing:
            raise s3_error(
                400,
                "AuthorizationQueryParametersError",
                f"Query-string authentication version 4 requires the {', '.join(missing)} parameters.",
            )
        expires = q["X-Amz-Expires"]
        stamp = _parse_amz_date(q["X-Amz-Date"])
        if not expires.isdigit() or stamp is None:
            raise s3_error(
                400, "AuthorizationQueryParametersError", "X-Amz-Expires must be a number of seconds."
            )
        if time.time() > stamp.timestamp() + int(expires):
            raise s3_error(403, "AccessDenied", "Request has expired", Expires=q["X-Amz-Date"])
        headers = _lower(request)
        headers["x-amz-date"] = q["X-Amz-Date"]
        rest = (
            f"Credential={q['X-Amz-Credential']}, SignedHeaders={q['X-Amz-SignedHeaders']}, "
            f"Signature={q['X-Amz-Signature']}"
        )
        refusal = check_sigv4(rest, headers, service="s3", region=self.region, auth=self.auth, presigned=True)
        if refusal is not None:
            raise self._translate(refusal, f"Credential={q['X-Amz-Credential']}")

    def _check_presigned_v2(self, request: web.Request) -> None:
        """A SigV2 presigned URL (``AWSAccessKeyId``, ``Signature``, ``Expires``: boto3's default
        for S3 presigning): key known, not expired."""
        q = request.query
        if not q.get("Signature") or not q.get("Expires", "").isdigit():
            raise s3_error(
                403,
                "AccessDenied",
                "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
            )
        if not self.auth.key_ok(q["AWSAccessKeyId"]):
            raise s3_error(
                403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
            )
        if time.time() > int(q["Expires"]):
            raise s3_error(403, "AccessDenied", "Request has expired")

    def headers(self, n: int) -> dict[str, str]:
        return {"x-amz-request-id": _s3_request_id(n), "x-amz-id-2": _s3_host_id(n)}

    def _xml(self, status: int, fields: Mapping[str, Any], headers: dict[str, str]) -> web.Response:
        return web.Response(
            status=status,
            body=s3_xml(fields, headers),
            headers={**headers, "Content-Type": "application/xml"},
        )

    def rejection_response(self, rejection: Rejection, headers: dict[str, str]) -> web.StreamResponse:
        return self._xml(rejection.status, rejection.body, {**headers, **rejection.headers})

    def fault_response(self, fault: Fault, headers: dict[str, str]) -> web.StreamResponse:
        status = fault.status or 500
        code, message = _S3_STATUS.get(
            status,
            ("InternalError" if status >= 500 else "InvalidRequest", f"Simulated error (HTTP {status})."),
        )
        if isinstance(fault.error_code, str) and fault.error_code:
            code = fault.error_code
        if fault.message is not None:
            message = fault.message
        return self._xml(status, {"Code": code, "Message": message}, headers)


# --------------------------------------------------------------------------- model identifiers

#: a cross-region inference profile's geography prefix (``us.anthropic.claude-…``).
_GEOS = ("us", "eu", "apac", "global", "us-gov", "jp", "au", "ca")
_PROVIDERS = (
    "amazon",
    "anthropic",
    "ai21",
    "cohere",
    "deepseek",
    "meta",
    "mistral",
    "openai",
    "qwen",
    "writer",
    "stability",
    "luma",
    "twelvelabs",
    "minimax",
    "moonshot",
    "moonshotai",
    "google",
    "nvidia",
    "zai",
)
_BASE_ID = re.compile(r"^([a-z0-9]+)\.([a-z0-9][a-z0-9._:-]{0,127})$")
_ARN = re.compile(
    r"^arn:aws(?:-[a-z-]+)?:bedrock:([a-z0-9-]{1,20}):(\d{12})?:"
    r"(foundation-model|inference-profile|application-inference-profile|provisioned-model|custom-model|"
    r"imported-model|custom-model-deployment)/(.+)$"
)
_RETIRED = (
    "anthropic.claude-v1",
    "anthropic.claude-v2",
    "anthropic.claude-instant-v1",
    "amazon.titan-text-express",
)
_INVALID_ID = "The provided model identifier is invalid."

ModelKind = Literal["chat", "titan-embed", "cohere-embed", "image", "video", "other"]


@dataclass(frozen=True, slots=True)
class BedrockModel:
    """A model identifier as the route got it (``model_id``: a base id, an inference profile id or
    an ARN), the base model id behind it (``base``, None for an opaque ARN) and what it serves."""

    model_id: str
    base: str | None
    kind: ModelKind

    @property
    def provider(self) -> str:
        return "" if self.base is None else self.base.split(".", 1)[0]

    @property
    def claude(self) -> bool:
        return self.base is not None and self.base.startswith("anthropic.claude")

    @property
    def nova(self) -> bool:
        return self.base is not None and self.base.startswith("amazon.nova")

    @property
    def anthropic_name(self) -> str:
        """The Anthropic model name (``claude-haiku-4-5-20251001`` for
        ``us.anthropic.claude-haiku-4-5-20251001-v1:0``)."""
        name = (self.base or "anthropic.claude").split(".", 1)[1]
        return re.sub(r"-v\d+(:\d+)?$", "", name)

    def arn(self, region: str) -> str:
        """The foundation-model ARN in ``region`` (GetAsyncInvoke's ``modelArn``)."""
        if self.base is None:
            return self.model_id
        return f"arn:aws:bedrock:{region}::foundation-model/{self.base}"


def _kind(base: str) -> ModelKind:
    if base.startswith("amazon.titan-embed"):
        return "titan-embed"
    if base.startswith("cohere.embed"):
        return "cohere-embed"
    if base.startswith(("amazon.nova-canvas", "amazon.titan-image-generator")):
        return "image"
    if base.startswith("amazon.nova-reel"):
        return "video"
    if base.startswith(("stability.", "luma.", "twelvelabs.", "cohere.rerank", "amazon.rerank")):
        return "other"
    return "chat"


def resolve_model(model_id: str) -> BedrockModel:
    """The model a route's ``{modelId}`` names; a 400 ``ValidationException`` ("The provided model
    identifier is invalid.", as recorded) for an id that names no model, a 404
    ``ResourceNotFoundException`` for a retired one."""
    arn = _ARN.match(model_id)
    rest = model_id
    if arn is not None:
        resource, rest = arn.group(3), arn.group(4)
        if resource not in ("foundation-model", "inference-profile"):
            return BedrockModel(model_id, None, "chat")  # a provisioned / custom / application profile
    head, dot, tail = rest.partition(".")
    if dot and head in _GEOS:
        rest = tail
    match = _BASE_ID.match(rest)
    if match is None or match.group(1) not in _PROVIDERS:
        raise validation_error(_INVALID_ID)
    if rest.startswith(_RETIRED):
        raise bedrock_error(
            404,
            "ResourceNotFoundException",
            "This model version has reached the end of its life. Please refer to the AWS documentation for "
            "more details.",
        )
    return BedrockModel(model_id, rest, _kind(rest))


# --------------------------------------------------------------------------- reasoning signatures

_SIGNATURE_KEY = b"core-llms-simulator-bedrock-thinking"


def thinking_signature(text: str) -> str:
    """The signature the simulator gives a reasoning text (base64, as Claude's look)."""
    digest = hmac.new(_SIGNATURE_KEY, text.encode(), hashlib.sha256).digest()
    return base64.b64encode(b"\x12\x08sim-sig\x1a" + digest + digest[:16]).decode()


def signature_ok(text: str, signature: str) -> bool:
    """Does ``signature`` come from :func:`thinking_signature` for ``text``?"""
    return hmac.compare_digest(thinking_signature(text), signature)
