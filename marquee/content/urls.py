from django.urls import path

from marquee.content import views

urlpatterns = [
    path("dashboard/content/", views.dashboard_sets, name="dashboard_content"),
    path("dashboard/content/sets/<int:set_id>/", views.dashboard_set, name="dashboard_content_set"),
    path("dashboard/content/sets/<int:set_id>/upload/", views.dashboard_upload, name="dashboard_content_upload"),
    path("dashboard/content/items/<int:item_id>/delete/", views.dashboard_delete_item, name="dashboard_content_delete"),
    path("rooms/<str:username>/content/", views.room_sets, name="room_content"),
    path("content/sets/<int:set_id>/", views.view_set, name="content_set"),
    path("content/sets/<int:set_id>/buy/", views.buy_set, name="content_buy"),
    path("content/files/<str:token>/", views.serve_file, name="content_file"),
]
