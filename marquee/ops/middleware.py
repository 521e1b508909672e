import time

from marquee.lib import metrics

_WEBHOOK_RESULTS = {200: "accepted", 400: "rejected", 404: "unknown_provider"}


class MetricsMiddleware:
    """Requests by route pattern (not path: bounded labels), method, status, latency."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = match.route if match is not None else "<unmatched>"
        status = response.status_code
        metrics.HTTP_REQUESTS.labels(route, request.method if len(request.method) <= 7 else "other", status).inc()
        metrics.HTTP_LATENCY.labels(route).observe(time.perf_counter() - started)
        if match is not None and match.url_name == "webhook":
            result = _WEBHOOK_RESULTS.get(status, "error" if status >= 500 else "other")
            # An unknown provider is anyone's string: don't make it a label.
            provider = match.kwargs.get("provider", "") if result != "unknown_provider" else "-"
            metrics.WEBHOOKS.labels(provider, result).inc()
        return response
