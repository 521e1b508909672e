from django.urls import path

from marquee.shows import api, golive_api, schedule_api_urls

urlpatterns = [
    path("rooms/<str:username>/", api.RoomView.as_view(), name="api_room"),
    path("me/stream-key/", api.StreamKeyView.as_view(), name="api_stream_key"),
    path(
        "me/follows/<str:username>/notifications/",
        golive_api.FollowNotificationsView.as_view(),
        name="api_follow_notifications",
    ),
    path("me/push-subscriptions/", golive_api.PushSubscriptionsView.as_view(), name="api_push_subscriptions"),
    path("push/key/", golive_api.PushKeyView.as_view(), name="api_push_key"),
    *schedule_api_urls.urlpatterns,
]
