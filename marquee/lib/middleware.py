from marquee.lib.clientip import resolve_client_ip


class ClientIPMiddleware:
    """Sets ``request.client_ip`` once, by the trusted-proxy rule."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.client_ip = resolve_client_ip(request.META.get("REMOTE_ADDR"), request.META.get("HTTP_X_FORWARDED_FOR"))
        return self.get_response(request)
