from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The performer dashboard's pages and API: views, forms and URLs only;
    the writes are the owning apps' services."""

    name = "marquee.dashboard"
    label = "dashboard"
