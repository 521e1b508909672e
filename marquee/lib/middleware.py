import json
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.utils import timezone
from redis.exceptions import RedisError

from marquee.lib import errors
from marquee.lib.clientip import resolve_client_ip
from marquee.lib.errors import DomainError
from marquee.lib.formatting import valid_zone

logger = logging.getLogger(__name__)
request_logger = logging.getLogger("django.request")


class ClientIPMiddleware:
    """Sets ``request.client_ip`` once, by the trusted-proxy rule."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.client_ip = resolve_client_ip(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR"))
        return self.get_response(request)


class JSONBodyGuardMiddleware:
    """Refuses oversized or malformed JSON bodies on the machine APIs with a
    JSON 4xx before any view sees them (views would answer an empty 400 or,
    for some parsers, a 500)."""

    PREFIXES = ("/api/", "/_allauth/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(self.PREFIXES) and request.method in ("POST", "PUT", "PATCH", "DELETE"):
            refused = self._check(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def _check(self, request):
        content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if not (content_type == "application/json" or content_type.endswith("+json")):
            # Multipart uploads have their own limits (FILE_UPLOAD_*), enforced by Django.
            return None
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return self._error(request, 400, "bad_request", "Invalid Content-Length header.")
        if limit is not None and declared > limit:
            return self._error(request, 413, "payload_too_large", f"Request body is larger than {limit} bytes.")
        try:
            body = request.body
        except RequestDataTooBig:
            return self._error(request, 413, "payload_too_large", f"Request body is larger than {limit} bytes.")
        if not body.strip():
            return None
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return self._error(request, 400, "invalid_json", "The request body is not valid JSON.")
        if request.path.startswith("/_allauth/") and not isinstance(data, dict):
            return self._error(request, 400, "invalid_json", "The request body must be a JSON object.")
        return None

    @staticmethod
    def _error(request, status: int, code: str, message: str):
        if request.path.startswith("/_allauth/"):
            # allauth's own error shape, so its client libraries understand it.
            body = {"status": status, "errors": [{"code": code, "message": message}]}
        else:
            body = {"error": {"code": code, "message": message}}
        return JsonResponse(body, status=status)


class DomainErrorMiddleware:
    """A ``DomainError`` that escapes a plain Django view becomes its 4xx
    (JSON for machine paths, the error page otherwise), never a 500; so does
    a 502/503 for a provider that failed.  One with status 500 is a
    programming error: left to Django's logged 500.

    With ``DEBUG`` on (``make run``) Django would show its technical pages;
    ``STYLED_ERROR_PAGES`` (default on) shows the site's own 404 and 500
    pages instead, the traceback going to the console log as in production."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 404
            and getattr(request, "resolver_match", None) is None
            and settings.DEBUG
            and getattr(settings, "STYLED_ERROR_PAGES", True)
        ):
            return errors.page_not_found(request)  # no route matched: Django's page lists them all
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, DomainError) and exception.status != 500:
            return exception.response(request)
        if isinstance(exception, RedisError):
            # The cache/limits store is down: what needs it (login, second
            # factor and password-reset limits) fails closed, as a 503.
            logger.warning("cache store unreachable on %s: %s", request.path, exception)
            return DomainError(
                "store_unavailable", "This is briefly unavailable; try again in a minute.", 503
            ).response(request)
        if not (settings.DEBUG and getattr(settings, "STYLED_ERROR_PAGES", True)):
            return None  # Django answers with handler404/handler500 itself
        if isinstance(exception, Http404):
            return errors.page_not_found(request, exception)
        if isinstance(exception, (PermissionDenied, SuspiciousOperation)):
            return None  # Django's own 403/400 handling (not technical pages)
        request_logger.error("Internal Server Error: %s", request.path, exc_info=exception, extra={"status_code": 500})
        response = errors.server_error(request)
        response._has_been_logged = True  # Django would log it again, without the traceback
        return response


TIMEZONE_COOKIE = "tz"


class TimezoneMiddleware:
    """Renders every time in the viewer's zone: the signed-in user's
    ``timezone``, else the zone the browser reported in the ``tz`` cookie
    (``static/js/timezone.js``), else UTC.  Unknown names are ignored."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        name = getattr(user, "timezone", None) if user is not None and user.is_authenticated else None
        name = valid_zone(name) or valid_zone(request.COOKIES.get(TIMEZONE_COOKIE)) or "UTC"
        request.timezone_name = name
        with timezone.override(name):
            return self.get_response(request)
