from django.urls import path

from marquee.recommendations import api

urlpatterns = [
    path("recommendations/", api.RecommendationsView.as_view(), name="api_recommendations"),
    path("recommendations/hidden/", api.HiddenListView.as_view(), name="api_recommendations_hidden"),
    path("recommendations/hidden/<str:username>/", api.HiddenView.as_view(), name="api_recommendations_hide"),
    path("recommendations/similar/<str:username>/", api.SimilarView.as_view(), name="api_recommendations_similar"),
]
