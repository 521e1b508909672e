"""The one error shape of the JSON API: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from marquee.lib.errors import DomainError


class ApiError(DomainError):
    """The name API views raise under; the same type (and signature) as every
    service's error: ``ApiError(code, message, status=400, **extra)``."""


def _message_from_detail(detail) -> str:
    if isinstance(detail, list):
        return " ".join(_message_from_detail(item) for item in detail)
    if isinstance(detail, dict):
        parts = []
        for field, value in detail.items():
            text = _message_from_detail(value)
            parts.append(text if field == "non_field_errors" else f"{field}: {text}")
        return " ".join(parts)
    return str(detail)


_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    451: "unavailable_for_legal_reasons",
}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        if exc.status == 500:
            return None  # a programming error: re-raised, logged, answered by the 500 handler
        # 4xx refusals, and 502/503 for a provider that failed: answered with their code.
        set_rollback()  # as DRF does for its own errors: a refusal leaves nothing half-written
        return Response(exc.as_json(), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        code, extra = "invalid", {"fields": exc.detail} if isinstance(exc.detail, dict) else {}
    else:
        code, extra = _CODES.get(response.status_code, "error"), {}
    body = {"error": {"code": code, "message": _message_from_detail(getattr(exc, "detail", str(exc))), **extra}}
    new = Response(body, status=response.status_code, headers=dict(response.items()))
    return new
