from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from marquee.lib.health import healthz
from marquee.ops.views import metrics_view

# Staff log in through allauth, so the admin gets 2FA and rate limits too.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "Marquee administration"

APPS = [
    "accounts",
    "compliance",
    "performers",
    "shows",
    "ledger",
    "billing",
    "chat",
    "content",
    "privates",
    "recommendations",
    "privacy",
    "schedule",
    "earnings",
    "dashboard",
]


def favicon(request):
    # Pages that link no icon (the admin) make browsers ask for /favicon.ico.
    return redirect(static("img/favicon.svg"), permanent=True)


urlpatterns = [
    path("favicon.ico", favicon),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("_allauth/", include("allauth.headless.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    # The split view serves its JS as a file, so the strict CSP (no inline
    # scripts) holds on the docs page too; assets come from the sidecar package.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    # Avatars are public; a production edge can serve MEDIA_ROOT/avatars itself.
    path("media-files/avatars/<path:path>", serve, {"document_root": settings.MEDIA_ROOT / "avatars"}),
]
urlpatterns += [path("api/v1/", include(f"marquee.{app}.api_urls")) for app in APPS]
urlpatterns += [path("", include(f"marquee.{app}.urls")) for app in APPS]

handler400 = "marquee.lib.errors.bad_request"
handler403 = "marquee.lib.errors.permission_denied"
handler404 = "marquee.lib.errors.page_not_found"
handler500 = "marquee.lib.errors.server_error"
