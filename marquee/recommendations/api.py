from __future__ import annotations

from django.conf import settings
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from marquee.lib.api_errors import ApiError
from marquee.lib.geo import location_for_request
from marquee.performers.api import PerformerSerializer
from marquee.performers.selectors import get_visible_performer
from marquee.recommendations import selectors, services


class RecommendationSerializer(PerformerSerializer):
    score = serializers.FloatField(source="recommendation_score")
    source = serializers.CharField(source="recommendation_source")


class RecommendationsSerializer(serializers.Serializer):
    model_version = serializers.CharField(help_text="The trained model that ranked these, or 'none'")
    results = RecommendationSerializer(many=True)


class SimilarSerializer(serializers.Serializer):
    results = RecommendationSerializer(many=True)


class HiddenStateSerializer(serializers.Serializer):
    hidden = serializers.BooleanField()


def parse_limit(raw: str | None, *, default: int = 20) -> int:
    maximum = settings.RECS_MAX_LIMIT
    if raw is None or raw == "":
        return default
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        raise ApiError("invalid_limit", f"limit must be a whole number between 1 and {maximum}.")
    if not 1 <= limit <= maximum:
        raise ApiError("invalid_limit", f"limit must be between 1 and {maximum}.")
    return limit


def _limit_parameter(description: str) -> OpenApiParameter:
    schema = {"type": "integer", "minimum": 1, "maximum": settings.RECS_MAX_LIMIT}
    return OpenApiParameter("limit", schema, description=description)


class RecommendationsView(APIView):
    @extend_schema(
        parameters=[_limit_parameter("1–100, default 20")],
        responses=RecommendationsSerializer,
        summary="Performers recommended for me (live now first)",
    )
    def get(self, request):
        limit = parse_limit(request.query_params.get("limit"))
        performers = selectors.recommended_performers(
            viewer=request.user, location=location_for_request(request), limit=limit
        )
        return Response(
            {
                "model_version": selectors.model_version(),
                "results": RecommendationSerializer(performers, many=True).data,
            }
        )


class SimilarView(APIView):
    @extend_schema(
        parameters=[_limit_parameter("1–100, default 6")],
        responses=SimilarSerializer,
        summary="Performers similar to this one",
    )
    def get(self, request, username):
        location = location_for_request(request)
        performer = get_visible_performer(username, viewer=request.user, location=location)
        if performer is None:
            raise Http404
        limit = parse_limit(request.query_params.get("limit"), default=6)
        performers = selectors.similar_performers(
            performer=performer, viewer=request.user, location=location, limit=limit
        )
        return Response({"results": RecommendationSerializer(performers, many=True).data})


class HiddenListView(APIView):
    @extend_schema(responses=PerformerSerializer(many=True), summary="Performers I have hidden")
    def get(self, request):
        return Response(PerformerSerializer(selectors.hidden_performers(request.user), many=True).data)


class HiddenView(APIView):
    def _performer(self, request, username):
        performer = get_visible_performer(username, viewer=request.user, location=location_for_request(request))
        if performer is None:
            raise Http404
        return performer

    @extend_schema(
        request=None,
        responses={201: HiddenStateSerializer, 200: HiddenStateSerializer},
        summary="Hide a performer from my recommendations",
    )
    def put(self, request, username):
        performer = self._performer(request, username)
        created = services.hide_performer(user=request.user, performer=performer, request=request)
        return Response({"hidden": True}, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=None, responses={200: HiddenStateSerializer}, summary="Show a hidden performer again")
    def delete(self, request, username):
        # Only the viewer's own list: works even if the room is now hidden from their region.
        performer = selectors.hidden_performers(request.user).filter(user__username=username).first()
        if performer is None:
            raise Http404
        services.unhide_performer(user=request.user, performer=performer, request=request)
        return Response({"hidden": False})
