"""Error pages: JSON under /api/ and other machine paths, HTML elsewhere.
Never a stack trace, never a secret."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render


class DomainError(Exception):
    """The one error type of every service: a stable ``code``, a message a
    person can read, and the HTTP ``status`` a caller should answer.

    Raised by services and selectors; answered once for the JSON API
    (``lib.api_errors.exception_handler``), for pages (``DomainErrorMiddleware``)
    and for sockets (close/error frames built from the same three fields).
    App-specific subclasses keep this signature: ``(code, message, status=400, **extra)``."""

    def __init__(self, code: str, message: str, status: int = 400, **extra):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra

    def as_json(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}

    def response(self, request):
        return _error(request, self.status, self.code, self.message, extra=self.extra)


_MACHINE_PREFIXES = ("/api/", "/_allauth/", "/webhooks/", "/media/hooks/")


def _wants_json(request) -> bool:
    return request.path.startswith(_MACHINE_PREFIXES) or "application/json" in request.headers.get("Accept", "")


def _error(request, status: int, code: str, message: str, extra: dict | None = None):
    if _wants_json(request):
        return JsonResponse({"error": {"code": code, "message": message, **(extra or {})}}, status=status)
    # ``extra`` may say what to do next (e.g. ``verify_url``): the page links it.
    return render(request, "error.html", {"status": status, "message": message, "extra": extra or {}}, status=status)


def bad_request(request, exception=None):
    return _error(request, 400, "bad_request", "The request could not be understood.")


def permission_denied(request, exception=None):
    return _error(request, 403, "permission_denied", "You are not allowed to do that.")


def page_not_found(request, exception=None):
    return _error(request, 404, "not_found", "Nothing here.")


def server_error(request):
    return _error(request, 500, "server_error", "Something went wrong on our side. It has been logged.")
