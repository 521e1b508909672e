"""Dashboard API: room settings, tip menu, moderators, region blocks."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from marquee.accounts.selectors import has_two_factor
from marquee.lib.api_schema import errors
from marquee.lib.fields import max_length
from marquee.performers import regions, selectors, services
from marquee.performers.dashboard_access import IsPerformer
from marquee.performers.models import Performer, RegionBlock, RoomModerator, TipMenuItem


class RoomSettingsSerializer(serializers.Serializer):
    default_show_kind = serializers.CharField()
    default_ticket_price_cents = serializers.IntegerField(min_value=0)
    subscription_price_cents = serializers.IntegerField(min_value=0)
    private_show_price_cents = serializers.IntegerField(min_value=0)
    room_topic = serializers.CharField(allow_blank=True, max_length=max_length(Performer, "room_topic"))
    tip_goal_tokens = serializers.IntegerField(min_value=0)
    tip_goal_label = serializers.CharField(allow_blank=True, max_length=max_length(Performer, "tip_goal_label"))
    timezone = serializers.CharField(max_length=64)


class TipMenuItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    label = serializers.CharField(max_length=max_length(TipMenuItem, "label"))
    tokens = serializers.IntegerField(help_text="Range: billing.prices (TIP_MENU_MAX_TOKENS).")


class ModeratorSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(max_length=150)


class RegionBlockSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    region = serializers.CharField(max_length=6, help_text="FR, US-TX, GB-SCT …")
    label = serializers.CharField(read_only=True)


class DashboardSerializer(serializers.Serializer):
    username = serializers.CharField()
    display_name = serializers.CharField()
    verification_status = serializers.CharField()
    two_factor_enabled = serializers.BooleanField()
    room = RoomSettingsSerializer()


def _room_data(performer) -> dict:
    return RoomSettingsSerializer(performer).data


class DashboardView(APIView):
    permission_classes = [IsPerformer]

    @extend_schema(responses=DashboardSerializer, summary="Dashboard overview: room settings, safety, links")
    def get(self, request):
        performer = request.performer
        return Response(
            {
                "username": performer.username,
                "display_name": performer.display_name,
                "verification_status": performer.verification_status,
                "two_factor_enabled": has_two_factor(request.user),
                "room": _room_data(performer),
            }
        )


class RoomSettingsView(APIView):
    permission_classes = [IsPerformer]

    @extend_schema(responses=RoomSettingsSerializer, summary="My room settings")
    def get(self, request):
        return Response(_room_data(request.performer))

    @extend_schema(request=RoomSettingsSerializer, responses=RoomSettingsSerializer, summary="Change room settings")
    def patch(self, request):
        # Validate the sent fields alone (a non-object body is a 400, not a
        # TypeError), then fill in the rest from the current settings.
        data = RoomSettingsSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        v = {**_room_data(request.performer), **data.validated_data}
        performer = services.update_room_settings(
            performer=request.performer, timezone_name=v.pop("timezone"), request=request, **v
        )
        return Response(_room_data(performer))


class TipMenuView(APIView):
    permission_classes = [IsPerformer]

    @extend_schema(responses=TipMenuItemSerializer(many=True), summary="My tip menu")
    def get(self, request):
        return Response(TipMenuItemSerializer(request.performer.tip_menu.all(), many=True).data)

    @extend_schema(request=TipMenuItemSerializer, responses={201: TipMenuItemSerializer}, summary="Add a tip-menu item")
    def post(self, request):
        data = TipMenuItemSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.add_tip_menu_item(performer=request.performer, request=request, **data.validated_data)
        return Response(TipMenuItemSerializer(item).data, status=status.HTTP_201_CREATED)


class TipMenuOrderSerializer(serializers.Serializer):
    order = serializers.ListField(child=serializers.IntegerField(), help_text="Every item's id, first to last.")


class TipMenuOrderView(APIView):
    permission_classes = [IsPerformer]

    @extend_schema(
        request=TipMenuOrderSerializer,
        responses={200: TipMenuItemSerializer(many=True), **errors(400)},
        summary="Reorder my tip menu (the order viewers see)",
    )
    def put(self, request):
        data = TipMenuOrderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        items = services.reorder_tip_menu(
            performer=request.performer, order=data.validated_data["order"], request=request
        )
        return Response(TipMenuItemSerializer(items, many=True).data)


class TipMenuItemView(APIView):
    permission_classes = [IsPerformer]

    @extend_schema(
        request=TipMenuItemSerializer,
        responses={200: TipMenuItemSerializer, **errors(400)},
        summary="Edit a tip-menu item",
    )
    def patch(self, request, item_id: int):
        item = get_object_or_404(TipMenuItem, pk=item_id, performer=request.performer)
        data = TipMenuItemSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = {"label": item.label, "tokens": item.tokens, **data.validated_data}
        item = services.update_tip_menu_item(performer=request.performer, item_id=item.pk, request=request, **values)
        return Response(TipMenuItemSerializer(item).data)

    @extend_schema(responses={204: None}, summary="Remove a tip-menu item")
    def delete(self, request, item_id: int):
        get_object_or_404(TipMenuItem, pk=item_id, performer=request.performer)
        services.remove_tip_menu_item(performer=request.performer, item_id=item_id, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _moderator_data(moderator: RoomModerator) -> dict:
    return {"user_id": moderator.user_id, "username": moderator.user.username}


class ModeratorsView(APIView):
    permission_classes = [IsPerformer]

    @extend_schema(responses=ModeratorSerializer(many=True), summary="My room's moderators")
    def get(self, request):
        return Response([_moderator_data(m) for m in selectors.room_moderators(request.performer)])

    @extend_schema(
        request=ModeratorSerializer, responses={201: ModeratorSerializer, **errors(409)}, summary="Appoint a moderator"
    )
    def post(self, request):
        data = ModeratorSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        moderator = services.appoint_moderator(
            performer=request.performer, username=data.validated_data["username"], request=request
        )
        return Response(_moderator_data(moderator), status=status.HTTP_201_CREATED)


class ModeratorView(APIView):
    permission_classes = [IsPerformer]

    @extend_schema(responses={204: None}, summary="Remove a moderator")
    def delete(self, request, user_id: int):
        get_object_or_404(RoomModerator, performer=request.performer, user_id=user_id)
        services.remove_moderator(performer=request.performer, user_id=user_id, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _block_data(block: RegionBlock, label: str) -> dict:
    return {"id": block.pk, "region": str(block), "label": label}


class RegionBlocksView(APIView):
    permission_classes = [IsPerformer]

    @extend_schema(responses=RegionBlockSerializer(many=True), summary="Regions where my room is hidden")
    def get(self, request):
        return Response([_block_data(b, label) for b, label in selectors.region_blocks(request.performer)])

    @extend_schema(
        request=RegionBlockSerializer, responses={201: RegionBlockSerializer, **errors(409)}, summary="Block a region"
    )
    def post(self, request):
        data = RegionBlockSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        block = services.add_region_block(
            performer=request.performer, region=data.validated_data["region"], request=request
        )
        label = regions.region_label(block.country, block.subdivision)
        return Response(_block_data(block, label), status=status.HTTP_201_CREATED)


class RegionBlockView(APIView):
    permission_classes = [IsPerformer]

    @extend_schema(responses={204: None}, summary="Unblock a region")
    def delete(self, request, block_id: int):
        get_object_or_404(RegionBlock, pk=block_id, performer=request.performer)
        services.remove_region_block(performer=request.performer, block_id=block_id, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
