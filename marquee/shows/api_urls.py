from marquee.shows import schedule_api_urls

urlpatterns: list = [*schedule_api_urls.urlpatterns]
