"""Content API: the performer's sets and uploads; a viewer's view of a set."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from marquee.access import selectors as access
from marquee.content import selectors, services
from marquee.content.models import MediaItem, MediaSet
from marquee.lib.api_errors import ApiError
from marquee.lib.api_schema import errors
from marquee.lib.fields import max_length
from marquee.lib.geo import location_for_request
from marquee.performers.dashboard_access import IsPerformer


class MediaSetInput(serializers.Serializer):
    title = serializers.CharField(max_length=max_length(MediaSet, "title"))
    description = serializers.CharField(max_length=max_length(MediaSet, "description"), allow_blank=True, default="")
    free_for_subscribers = serializers.BooleanField(default=True)
    price_tokens = serializers.IntegerField(min_value=0, default=0)
    is_published = serializers.BooleanField(default=False)


class ItemUrlsSerializer(serializers.Serializer):
    file = serializers.CharField(help_text="Signed, short-lived, bound to you")
    thumbnail = serializers.CharField(allow_null=True)
    preview = serializers.CharField(allow_null=True)


class MediaItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    mime = serializers.CharField()
    status = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    size_bytes = serializers.IntegerField()
    urls = ItemUrlsSerializer()


class MediaSetSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    performer = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    free_for_subscribers = serializers.BooleanField()
    price_tokens = serializers.IntegerField()
    is_published = serializers.BooleanField()


class MediaSetSerializer(MediaSetSummarySerializer):
    items = MediaItemSerializer(many=True)


def _item_data(item: MediaItem, user) -> dict:
    return {
        "id": item.pk,
        "kind": item.kind,
        "mime": item.mime,
        "status": item.status,
        "width": item.width,
        "height": item.height,
        "size_bytes": item.size_bytes,
        "urls": selectors.item_urls(item, user),
    }


def _set_data(media_set: MediaSet, user, *, with_items: bool) -> dict:
    data = {
        "id": media_set.pk,
        "performer": media_set.performer.username,
        "title": media_set.title,
        "description": media_set.description,
        "free_for_subscribers": media_set.free_for_subscribers,
        "price_tokens": media_set.price_tokens,
        "is_published": media_set.is_published,
    }
    if with_items:
        data["items"] = [_item_data(item, user) for item in media_set.items.all()]
    return data


class MySetsView(APIView):
    permission_classes = [IsPerformer]

    @extend_schema(
        responses=MediaSetSummarySerializer(many=True),
        summary="My photo/video sets",
        operation_id="dashboard_content_sets_list",
    )
    def get(self, request):
        sets = selectors.own_sets(request.performer).select_related("performer__user")
        return Response([_set_data(s, request.user, with_items=False) for s in sets])

    @extend_schema(request=MediaSetInput, responses={201: MediaSetSerializer}, summary="Create a set (unpublished)")
    def post(self, request):
        data = MediaSetInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        v.pop("is_published")
        media_set = services.create_set(performer=request.performer, request=request, **v)
        return Response(_set_data(media_set, request.user, with_items=True), status=status.HTTP_201_CREATED)


class MySetView(APIView):
    permission_classes = [IsPerformer]

    def _set(self, request, set_id):
        return get_object_or_404(
            MediaSet.objects.select_related("performer__user"), pk=set_id, performer=request.performer
        )

    @extend_schema(responses=MediaSetSerializer, summary="One of my sets with signed file URLs")
    def get(self, request, set_id: int):
        return Response(_set_data(self._set(request, set_id), request.user, with_items=True))

    @extend_schema(request=MediaSetInput, responses=MediaSetSerializer, summary="Change or publish a set")
    def patch(self, request, set_id: int):
        media_set = self._set(request, set_id)
        # Validate the sent fields alone (a non-object body is a 400), then
        # fill in the rest from the set as it is.
        data = MediaSetInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        current = {name: getattr(media_set, name) for name in MediaSetInput().fields}
        media_set = services.update_set(media_set=media_set, request=request, **{**current, **data.validated_data})
        return Response(_set_data(media_set, request.user, with_items=True))


class UploadView(APIView):
    permission_classes = [IsPerformer]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
        },
        responses={201: MediaItemSerializer, **errors(415)},
        summary="Upload a photo or video to one of my sets",
    )
    def post(self, request, set_id: int):
        media_set = get_object_or_404(MediaSet, pk=set_id, performer=request.performer)
        upload = request.FILES.get("file")
        if upload is None:
            raise ApiError("no_file", "Send the file in the 'file' field.")
        item = services.upload_item(media_set=media_set, upload=upload, request=request)
        item.refresh_from_db()
        return Response(_item_data(item, request.user), status=status.HTTP_201_CREATED)


class ItemView(APIView):
    permission_classes = [IsPerformer]

    @extend_schema(responses={204: None}, summary="Delete one of my files")
    def delete(self, request, item_id: int):
        item = get_object_or_404(MediaItem, pk=item_id, media_set__performer=request.performer)
        services.delete_item(item=item, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SetView(APIView):
    @extend_schema(
        responses={200: MediaSetSerializer, **errors(402)},
        summary="A set as a viewer sees it (402 with how to get in when not allowed)",
    )
    def get(self, request, set_id: int):
        media_set = get_object_or_404(MediaSet.objects.select_related("performer__user"), pk=set_id)
        decision = selectors.access_media_set(request.user, media_set, location_for_request(request))
        if not decision:
            raise ApiError(decision.code, decision.message, decision.status)
        return Response(_set_data(media_set, request.user, with_items=True))


class PurchaseView(APIView):
    @extend_schema(request=None, responses={201: MediaSetSerializer, **errors(402)}, summary="Buy a set with tokens")
    def post(self, request, set_id: int):
        media_set = get_object_or_404(MediaSet.objects.select_related("performer__user"), pk=set_id)
        viewer = access.Viewer.from_request(request)
        access.require(access.buy(viewer, "content", media_set=media_set))
        services.purchase_set(user=request.user, media_set=media_set, location=viewer.location, request=request)
        return Response(_set_data(media_set, request.user, with_items=True), status=status.HTTP_201_CREATED)
