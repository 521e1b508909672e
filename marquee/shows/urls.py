from marquee.shows import schedule_urls

urlpatterns: list = [*schedule_urls.urlpatterns]
