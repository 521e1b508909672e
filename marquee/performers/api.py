from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from marquee.lib.api_errors import ApiError
from marquee.lib.api_schema import errors
from marquee.lib.errors import DomainError
from marquee.lib.fields import max_length
from marquee.lib.geo import location_for_request
from marquee.performers import profile, selectors, services
from marquee.performers.models import Performer


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
    """DRF's limit/offset, strict: ``offset=true`` or ``limit=0`` is a 400
    with a code, not silently the default; the schema states the bounds."""

    default_limit = 24
    max_limit = 100
    max_offset = 10**6

    def get_limit(self, request):
        return self._parse(request, self.limit_query_param, self.default_limit, 1, self.max_limit)

    def get_offset(self, request):
        return self._parse(request, self.offset_query_param, 0, 0, self.max_offset)

    @staticmethod
    def _parse(request, name: str, default: int, minimum: int, maximum: int) -> int:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return default
        if not (raw.isascii() and raw.isdigit()) or not minimum <= int(raw) <= maximum:
            raise DomainError(f"invalid_{name}", f"{name} must be a whole number from {minimum} to {maximum}.")
        return int(raw)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit},
            self.offset_query_param: {"minimum": 0, "maximum": self.max_offset},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters


@extend_schema_view(
    get=extend_schema(
        parameters=[OpenApiParameter("tag", str), OpenApiParameter("language", str), OpenApiParameter("q", str)],
        summary="Browse performers (live first)",
    )
)
class PerformerListView(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = PerformerSerializer
    pagination_class = Pagination

    def get_queryset(self):
        return selectors.browse_performers(
            location=location_for_request(self.request), **selectors.browse_filters(self.request.query_params)
        )


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


class FollowStateSerializer(serializers.Serializer):
    following = serializers.BooleanField()


class FollowView(APIView):
    @extend_schema(
        request=None,
        responses={201: FollowStateSerializer, 200: FollowStateSerializer},
        summary="Follow a performer (201 the first time, 200 after)",
    )
    def put(self, request, username):
        performer = _visible_or_404(request, username)
        created = services.follow_performer(user=request.user, performer=performer)
        return Response({"following": True}, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=None, responses={200: FollowStateSerializer}, summary="Unfollow a performer")
    def delete(self, request, username):
        performer = _visible_or_404(request, username)
        services.unfollow_performer(user=request.user, performer=performer)
        return Response({"following": False})


class ApplicationInput(serializers.Serializer):
    display_name = serializers.CharField(max_length=max_length(Performer, "display_name"))


class ApplicationSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    display_name = serializers.CharField()
    verification_status = serializers.CharField()


class ProfileInput(serializers.Serializer):
    """Any subset; ``avatar`` (multipart) is re-encoded like every picture."""

    display_name = serializers.CharField(max_length=max_length(Performer, "display_name"), required=False)
    bio = serializers.CharField(allow_blank=True, required=False, trim_whitespace=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    languages = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    avatar = serializers.FileField(required=False)
    remove_avatar = serializers.BooleanField(required=False, default=False)


class MyProfileSerializer(PerformerSerializer):
    verification_status = serializers.CharField()


class MyPerformerView(APIView):
    """The caller's own performer profile: read it, apply to become one, or
    change what viewers see (PATCH)."""

    @extend_schema(
        responses={200: ApplicationSerializer, **errors(404)},
        summary="My performer profile (404 if I have not applied)",
    )
    def get(self, request):
        performer = getattr(request.user, "performer", None) if hasattr(request.user, "performer") else None
        if performer is None:
            raise ApiError("not_a_performer", "You have not applied to become a performer.", status.HTTP_404_NOT_FOUND)
        return Response(ApplicationSerializer(performer).data)

    @extend_schema(
        request=ApplicationInput,
        responses={201: ApplicationSerializer, **errors(409)},
        summary="Apply to become a performer",
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

    @extend_schema(
        request={"application/json": ProfileInput, "multipart/form-data": ProfileInput},
        responses={200: MyProfileSerializer, **errors(400, 404, 413, 415)},
        summary="Change my profile: display name, bio, tags, languages, picture",
    )
    def patch(self, request):
        performer = getattr(request.user, "performer", None) if hasattr(request.user, "performer") else None
        if performer is None:
            raise ApiError("not_a_performer", "You have not applied to become a performer.", status.HTTP_404_NOT_FOUND)
        data = ProfileInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        performer = profile.update_profile(
            performer=performer,
            display_name=values.get("display_name"),
            bio=values.get("bio"),
            tags=values.get("tags"),
            languages=values.get("languages"),
            avatar=values.get("avatar"),
            remove_avatar=values.get("remove_avatar", False),
            request=request,
        )
        return Response(MyProfileSerializer(performer).data)
