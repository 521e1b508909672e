"""The site's URLs plus one view that fails, for the 500-page tests."""

from django.http import Http404
from django.urls import path

from marquee.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def boom(request):
    raise RuntimeError("secret-ish internal detail")


def missing(request):
    raise Http404("internal lookup detail")


urlpatterns = [path("boom/", boom), path("missing/", missing), *urlpatterns]
