from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from marquee.earnings import selectors
from marquee.lib.api_errors import ApiError
from marquee.performers.dashboard_access import IsPerformer


class SourceTotalsSerializer(serializers.Serializer):
    gross = serializers.IntegerField()
    fee = serializers.IntegerField()
    net = serializers.IntegerField()
    count = serializers.IntegerField()


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    sources = serializers.DictField(child=SourceTotalsSerializer(), help_text="per source (tips, tickets …)")


class ReleaseSerializer(serializers.Serializer):
    date = serializers.DateField()
    net_cents = serializers.IntegerField()


class EarningsBalancesSerializer(serializers.Serializer):
    pending_cents = serializers.IntegerField()
    available_cents = serializers.IntegerField()
    in_flight_cents = serializers.IntegerField()
    releases = ReleaseSerializer(many=True)


class SupporterSerializer(serializers.Serializer):
    username = serializers.CharField()
    gross = serializers.IntegerField()
    net = serializers.IntegerField()
    count = serializers.IntegerField()


class ShowSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    started_at = serializers.DateTimeField()
    duration_minutes = serializers.IntegerField()
    peak_viewers = serializers.IntegerField()
    tips_gross = serializers.IntegerField()
    tips_net = serializers.IntegerField()
    tips_count = serializers.IntegerField()


class EarningsReportSerializer(serializers.Serializer):
    timezone = serializers.CharField()
    by = serializers.CharField()
    gross_cents = serializers.IntegerField()
    platform_fee_cents = serializers.IntegerField()
    net_cents = serializers.IntegerField()
    by_source = serializers.DictField(child=SourceTotalsSerializer())
    periods = PeriodSerializer(many=True)
    balances = EarningsBalancesSerializer()
    top_supporters = SupporterSerializer(many=True)
    shows = ShowSummarySerializer(many=True)


class EarningsView(APIView):
    permission_classes = [IsPerformer]

    @extend_schema(
        parameters=[OpenApiParameter("by", str, enum=list(selectors.GRANULARITIES))],
        responses=EarningsReportSerializer,
        summary="My earnings (cents): by period and source, balances, top supporters, shows",
    )
    def get(self, request):
        granularity = request.query_params.get("by", "day")
        if granularity not in selectors.GRANULARITIES:
            raise ApiError("bad_request", "by must be day, week or month.")
        performer = request.performer
        result = selectors.earnings(performer, granularity)
        balances = selectors.balances(performer)
        return Response(
            {
                "timezone": result.timezone,
                "by": granularity,
                "gross_cents": result.gross,
                "platform_fee_cents": result.fee,
                "net_cents": result.net,
                "by_source": result.totals,
                "periods": [
                    {
                        "start": p["start"],
                        "sources": {
                            s: {"gross": g, "fee": g - n, "net": n, "count": c} for s, (g, n, c) in p["sources"].items()
                        },
                    }
                    for p in result.periods
                ],
                "balances": {
                    "pending_cents": balances["pending"],
                    "available_cents": balances["available"],
                    "in_flight_cents": balances["in_flight"],
                    "releases": [{"date": r["date"], "net_cents": r["net"]} for r in balances["releases"]],
                },
                "top_supporters": selectors.top_supporters(performer),
                "shows": [{k: v for k, v in s.items() if k != "show"} for s in selectors.show_summaries(performer)],
            }
        )
