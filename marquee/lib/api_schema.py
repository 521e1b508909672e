"""What the OpenAPI schema says about errors, in one place.

Every operation can answer the one error shape (``{"error": {"code",
"message"}}``) for the refusals the framework gives any route: bad input
(400; 413 for an oversized body), no or a bad credential (401), permission,
age gate or 2FA (403), throttling (429), a blocked jurisdiction (451), and
404 for a route with path parameters.  The postprocessing hook documents
those; a view declares only its own extra ones (402, 409 …) with
``errors(409)``."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

_DESCRIPTIONS = {
    400: "Bad input (code and message say which)",
    401: "No or an invalid credential",
    402: "Payment needed (not enough tokens, or not bought)",
    403: "Not allowed (permission, age verification, two-factor)",
    404: "No such object (or not visible to you)",
    409: "Conflicts with the current state",
    413: "Request body too large",
    415: "Unsupported file or media type",
    429: "Too many requests",
    451: "Not available in your jurisdiction",
    503: "A dependency is unavailable",
}
_ALWAYS = (400, 401, 403, 429, 451)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code")
    message = serializers.CharField(help_text="For a person to read")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def errors(*statuses: int) -> dict:
    """``responses`` entries for a view's own error statuses."""
    return {status: OpenApiResponse(ErrorSerializer, description=_DESCRIPTIONS.get(status, "")) for status in statuses}


_ERROR_DETAIL = {
    "type": "object",
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
    "required": ["code", "message"],
    # Some refusals add context (a validation error's ``fields``, a region …).
    "additionalProperties": True,
}
_ERROR = {
    "type": "object",
    "properties": {"error": {"$ref": "#/components/schemas/ErrorDetail"}},
    "required": ["error"],
}


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook (see the module docstring)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["ErrorDetail"] = _ERROR_DETAIL
    schemas["Error"] = _ERROR
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            statuses = set(_ALWAYS)
            if any(p.get("in") == "path" for p in operation.get("parameters", [])):
                statuses.add(404)
            if "requestBody" in operation:
                statuses.add(413)
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                responses.setdefault(
                    str(status),
                    {
                        "description": _DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                )
    return result
