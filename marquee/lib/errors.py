"""Error pages: JSON under /api/ and other machine paths, HTML elsewhere.
Never a stack trace, never a secret."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render

_MACHINE_PREFIXES = ("/api/", "/_allauth/", "/webhooks/", "/media/hooks/")


def _wants_json(request) -> bool:
    return request.path.startswith(_MACHINE_PREFIXES) or "application/json" in request.headers.get("Accept", "")


def _error(request, status: int, code: str, message: str):
    if _wants_json(request):
        return JsonResponse({"error": {"code": code, "message": message}}, status=status)
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def bad_request(request, exception=None):
    return _error(request, 400, "bad_request", "The request could not be understood.")


def permission_denied(request, exception=None):
    return _error(request, 403, "permission_denied", "You are not allowed to do that.")


def page_not_found(request, exception=None):
    return _error(request, 404, "not_found", "Nothing here.")


def server_error(request):
    return _error(request, 500, "server_error", "Something went wrong on our side. It has been logged.")
