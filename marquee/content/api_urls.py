from django.urls import path

import marquee.lib.converters  # noqa: F401  (registers <id:…>)
from marquee.content import api

urlpatterns = [
    path("dashboard/content/sets/", api.MySetsView.as_view(), name="api_my_sets"),
    path("dashboard/content/sets/<id:set_id>/", api.MySetView.as_view(), name="api_my_set"),
    path("dashboard/content/sets/<id:set_id>/items/", api.UploadView.as_view(), name="api_my_set_upload"),
    path("dashboard/content/items/<id:item_id>/", api.ItemView.as_view(), name="api_my_item"),
    path("content/sets/<id:set_id>/", api.SetView.as_view(), name="api_content_set"),
    path("content/sets/<id:set_id>/purchase/", api.PurchaseView.as_view(), name="api_content_purchase"),
]
