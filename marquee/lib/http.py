"""JSON error responses for plain Django views (webhooks, media hooks)."""

from django.http import JsonResponse


def json_error(code: str, message: str, status: int, **extra) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, **extra}}, status=status)
