from django.conf import settings


def site(request):
    return {"SITE_NAME": "Marquee", "DEBUG": settings.DEBUG}
