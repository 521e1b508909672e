import hmac
import ipaddress

from django.conf import settings
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST

from marquee.ops import metrics


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    auth = request.headers.get("Authorization", "")
    if token and auth.startswith("Bearer ") and hmac.compare_digest(auth[7:].encode(), token.encode()):
        return True
    # The peer address, never X-Forwarded-For; and a request relayed by our
    # own proxy is not internal, or the proxy would make the internet so.
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if any(peer in net for net in settings.TRUSTED_PROXIES):
        return False
    return any(peer in net for net in settings.METRICS_ALLOWED_IPS)


@never_cache
def metrics_view(request):
    """``GET /metrics`` (Prometheus): a bearer token or an internal peer address;
    anyone else gets the ordinary 404, so the endpoint is not advertised."""
    if request.method != "GET" or not _allowed(request):
        raise Http404
    return HttpResponse(metrics.render(), content_type=CONTENT_TYPE_LATEST)
