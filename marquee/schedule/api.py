"""Schedule API: the same reads and writes as the dashboard pages."""

from __future__ import annotations

import datetime

from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from marquee.lib.api_errors import ApiError
from marquee.lib.api_schema import errors
from marquee.lib.geo import location_for_request
from marquee.performers.dashboard_access import IsPerformer
from marquee.performers.selectors import get_visible_performer, performer_zone
from marquee.schedule import recurrence, selectors, services
from marquee.schedule.forms import KIND_CHOICES, WEEKDAY_CHOICES
from marquee.schedule.models import Notification, ScheduleRule
from marquee.shows.models import Show


@extend_schema_field({"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "20:15"})
class HourMinuteField(serializers.TimeField):
    """A wall-clock time as ``HH:MM`` (OpenAPI's ``time`` format wants seconds and an offset)."""

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class ShowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.CharField()
    price_cents = serializers.IntegerField()
    status = serializers.CharField()
    scheduled_start = serializers.DateTimeField(allow_null=True)
    expected_minutes = serializers.IntegerField()
    schedule_rule = serializers.IntegerField(source="schedule_rule_id", allow_null=True)


class RuleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    kind = serializers.CharField()
    price_cents = serializers.IntegerField()
    expected_minutes = serializers.IntegerField()
    rrule = serializers.CharField()
    weekdays = serializers.SerializerMethodField()
    start_time = HourMinuteField()
    starts_on = serializers.DateField()
    until = serializers.DateField(allow_null=True)
    timezone = serializers.CharField()
    is_published = serializers.BooleanField()

    def get_weekdays(self, rule) -> list[str]:
        return recurrence.rule_weekdays(rule)


class ScheduleOverviewSerializer(serializers.Serializer):
    timezone = serializers.CharField()
    rules = RuleSerializer(many=True)
    shows = ShowSerializer(many=True)


class CancelledShowsSerializer(serializers.Serializer):
    cancelled_shows = serializers.IntegerField()


class ShowInput(serializers.Serializer):
    title = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    price_cents = serializers.IntegerField(min_value=0, default=0)
    expected_minutes = serializers.IntegerField(min_value=5, max_value=1440, default=60)
    starts_at = serializers.DateTimeField(help_text="ISO 8601 with an offset; naive times are in your timezone.")


class RuleInput(serializers.Serializer):
    title = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    price_cents = serializers.IntegerField(min_value=0, default=0)
    expected_minutes = serializers.IntegerField(min_value=5, max_value=1440, default=60)
    weekdays = serializers.ListField(child=serializers.ChoiceField(choices=WEEKDAY_CHOICES), min_length=1)
    start_time = serializers.TimeField()
    starts_on = serializers.DateField()
    until = serializers.DateField(required=False, allow_null=True, default=None)
    timezone = serializers.CharField(required=False, default="")
    publish = serializers.BooleanField(default=True)


class ScheduleView(APIView):
    permission_classes = [IsPerformer]

    @extend_schema(
        parameters=[
            OpenApiParameter("from", datetime.date, description="First day (YYYY-MM-DD), default today"),
            OpenApiParameter("days", {"type": "integer", "minimum": 1, "maximum": 93}, description="default 31"),
        ],
        responses=ScheduleOverviewSerializer,
        summary="My schedule: recurring rules (drafts too) and shows in a window",
    )
    def get(self, request):
        performer = request.performer
        zone = performer_zone(performer)
        try:
            first = (
                datetime.date.fromisoformat(request.query_params.get("from", ""))
                if request.query_params.get("from")
                else datetime.datetime.now(zone).date()
            )
            days = min(max(int(request.query_params.get("days", 31)), 1), 93)
            start = datetime.datetime.combine(first, datetime.time.min, tzinfo=zone)
            end = start + datetime.timedelta(days=days)  # OverflowError past year 9999
        except (ValueError, OverflowError):
            raise ApiError("bad_request", "Use from=YYYY-MM-DD and days=1..93.") from None
        shows = Show.objects.filter(performer=performer, scheduled_start__gte=start, scheduled_start__lt=end).order_by(
            "scheduled_start"
        )
        return Response(
            {
                "timezone": zone.key,
                "rules": RuleSerializer(selectors.performer_rules(performer), many=True).data,
                "shows": ShowSerializer(shows, many=True).data,
            }
        )


class ShowCreateView(APIView):
    permission_classes = [IsPerformer]

    @extend_schema(request=ShowInput, responses={201: ShowSerializer, **errors(409)}, summary="Schedule a one-off show")
    def post(self, request):
        data = ShowInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        starts_at = values["starts_at"]
        if starts_at.tzinfo is None:
            starts_at = starts_at.replace(tzinfo=performer_zone(request.performer))
        show = services.schedule_show(
            performer=request.performer,
            title=values["title"],
            kind=values["kind"],
            starts_at=starts_at,
            expected_minutes=values["expected_minutes"],
            price_cents=values["price_cents"],
            request=request,
        )
        return Response(ShowSerializer(show).data, status=status.HTTP_201_CREATED)


class ShowCancelView(APIView):
    permission_classes = [IsPerformer]

    @extend_schema(request=None, responses=ShowSerializer, summary="Cancel a show (tickets are refunded)")
    def post(self, request, show_id: int):
        show = get_object_or_404(Show, pk=show_id, performer=request.performer)
        show = services.cancel_show(show=show, request=request)
        return Response(ShowSerializer(show).data)


class RuleCreateView(APIView):
    permission_classes = [IsPerformer]

    @extend_schema(request=RuleInput, responses={201: RuleSerializer, **errors(409)}, summary="Create a recurring show")
    def post(self, request):
        data = RuleInput(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        rule = services.create_schedule_rule(
            performer=request.performer,
            title=v["title"],
            kind=v["kind"],
            weekdays=v["weekdays"],
            start_time=v["start_time"],
            starts_on=v["starts_on"],
            until=v["until"],
            expected_minutes=v["expected_minutes"],
            price_cents=v["price_cents"],
            timezone_name=v["timezone"] or None,
            publish=v["publish"],
            request=request,
        )
        return Response(RuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class RuleDetailView(APIView):
    permission_classes = [IsPerformer]

    def _rule(self, request, rule_id):
        return get_object_or_404(ScheduleRule, pk=rule_id, performer=request.performer, is_active=True)

    @extend_schema(responses=RuleSerializer, summary="One of my recurring shows")
    def get(self, request, rule_id: int):
        return Response(RuleSerializer(self._rule(request, rule_id)).data)

    @extend_schema(
        request=None,
        responses={200: RuleSerializer, **errors(409)},
        summary="Publish a draft recurring show",
        operation_id="dashboard_schedule_rule_publish",
    )
    def post(self, request, rule_id: int):
        rule = services.publish_schedule_rule(rule=self._rule(request, rule_id), request=request)
        return Response(RuleSerializer(rule).data)

    @extend_schema(
        request=None,
        responses={200: CancelledShowsSerializer},
        summary="Stop a recurring show (cancels its future shows)",
    )
    def delete(self, request, rule_id: int):
        count = services.cancel_schedule_rule(rule=self._rule(request, rule_id), request=request)
        return Response({"cancelled_shows": count})


class PublicScheduleView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=ShowSerializer(many=True), summary="A performer's upcoming shows (UTC)")
    def get(self, request, username: str):
        performer = get_visible_performer(username, viewer=request.user, location=location_for_request(request))
        if performer is None:
            raise Http404
        return Response(ShowSerializer(selectors.public_upcoming(performer), many=True).data)


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    text = serializers.CharField()
    url = serializers.CharField()
    created_at = serializers.DateTimeField()
    read = serializers.SerializerMethodField()

    def get_read(self, notification) -> bool:
        return notification.read_at is not None


class NotificationsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=NotificationSerializer(many=True), summary="My notifications (newest first)")
    def get(self, request):
        return Response(NotificationSerializer(Notification.objects.filter(user=request.user)[:50], many=True).data)
