from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from marquee.compliance.geo import location_for_request
from marquee.lib.api_errors import ApiError
from marquee.performers import selectors, services


class PerformerSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    display_name = serializers.CharField()
    bio = serializers.CharField()
    avatar_url = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()
    languages = serializers.SerializerMethodField()
    is_live = serializers.BooleanField(default=False)
    next_show_at = serializers.DateTimeField(allow_null=True, default=None)
    room_topic = serializers.CharField()

    def get_avatar_url(self, performer) -> str | None:
        return performer.avatar.url if performer.avatar else None

    def get_tags(self, performer) -> list[str]:
        return [tag.slug for tag in performer.tags.all() if tag.kind != "language"]

    def get_languages(self, performer) -> list[str]:
        return [tag.slug for tag in performer.tags.all() if tag.kind == "language"]


class Pagination(LimitOffsetPagination):
    default_limit = 24
    max_limit = 100


class PerformerListView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("tag", str),
            OpenApiParameter("language", str),
            OpenApiParameter("q", str),
            OpenApiParameter("limit", int),
            OpenApiParameter("offset", int),
        ],
        responses=PerformerSerializer(many=True),
        summary="Browse performers (live first)",
    )
    def get(self, request):
        performers = selectors.browse_performers(
            location=location_for_request(request),
            tag=request.query_params.get("tag", "")[:40],
            language=request.query_params.get("language", "")[:40],
            query=request.query_params.get("q", "")[:60].strip(),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(performers, request, view=self)
        return paginator.get_paginated_response(PerformerSerializer(page, many=True).data)


def _visible_or_404(request, username):
    performer = selectors.get_visible_performer(username, viewer=request.user, location=location_for_request(request))
    if performer is None:
        raise Http404
    return performer


class PerformerDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=PerformerSerializer, summary="One performer")
    def get(self, request, username):
        performer = _visible_or_404(request, username)
        data = PerformerSerializer(performer).data
        data["is_live"] = performer.shows.filter(status="live").exists()
        return Response(data)


class FollowsView(APIView):
    @extend_schema(responses=PerformerSerializer(many=True), summary="Performers I follow")
    def get(self, request):
        performers = selectors.followed_performers(request.user, location_for_request(request)).prefetch_related("tags")
        return Response(PerformerSerializer(performers, many=True).data)


class FollowView(APIView):
    @extend_schema(request=None, responses={201: None, 200: None}, summary="Follow a performer")
    def put(self, request, username):
        performer = _visible_or_404(request, username)
        created = services.follow_performer(user=request.user, performer=performer)
        return Response({"following": True}, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=None, responses={200: None}, summary="Unfollow a performer")
    def delete(self, request, username):
        performer = _visible_or_404(request, username)
        services.unfollow_performer(user=request.user, performer=performer)
        return Response({"following": False})


class ApplicationInput(serializers.Serializer):
    display_name = serializers.CharField(max_length=60)


class ApplicationSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    display_name = serializers.CharField()
    verification_status = serializers.CharField()


class MyPerformerView(APIView):
    """The caller's own performer profile: read it, or apply to become one."""

    @extend_schema(responses=ApplicationSerializer, summary="My performer profile (404 if I have not applied)")
    def get(self, request):
        performer = getattr(request.user, "performer", None) if hasattr(request.user, "performer") else None
        if performer is None:
            raise ApiError("not_a_performer", "You have not applied to become a performer.", status.HTTP_404_NOT_FOUND)
        return Response(ApplicationSerializer(performer).data)

    @extend_schema(
        request=ApplicationInput, responses={201: ApplicationSerializer}, summary="Apply to become a performer"
    )
    def post(self, request):
        if hasattr(request.user, "performer"):
            raise ApiError("already_applied", "You already have a performer profile.", status.HTTP_409_CONFLICT)
        data = ApplicationInput(data=request.data)
        data.is_valid(raise_exception=True)
        performer = services.apply_as_performer(
            user=request.user, display_name=data.validated_data["display_name"], request=request
        )
        return Response(ApplicationSerializer(performer).data, status=status.HTTP_201_CREATED)
