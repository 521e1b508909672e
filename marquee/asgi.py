import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marquee.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from marquee.chat.origin import CookieOriginPolicy  # noqa: E402
from marquee.chat.routing import websocket_urlpatterns  # noqa: E402
from marquee.lib.body_limit import RequestBodyLimit  # noqa: E402
from marquee.lib.server_process import lifespan  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": RequestBodyLimit(django_asgi_app),
        "websocket": CookieOriginPolicy(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        "lifespan": lifespan,  # once per server process (uvicorn --lifespan on)
    }
)
