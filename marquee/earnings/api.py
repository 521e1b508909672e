from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from marquee.billing import selectors as billing_selectors
from marquee.billing.api import PayoutSerializer
from marquee.earnings import selectors
from marquee.ledger import selectors as ledger_selectors
from marquee.lib.api_errors import ApiError
from marquee.performers.dashboard_access import IsPerformer


class SourceTotalsSerializer(serializers.Serializer):
    gross = serializers.IntegerField()
    fee = serializers.IntegerField()
    net = serializers.IntegerField()
    count = serializers.IntegerField()
    periods = serializers.IntegerField(required=False, help_text="Private shows only: billing periods charged")
    minutes = serializers.FloatField(required=False, help_text="Private shows only: billed minutes")
    tokens = serializers.IntegerField(required=False, help_text="Private shows only: tokens viewers paid")


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


class BalancesAndPayoutsSerializer(serializers.Serializer):
    balances = serializers.DictField(child=serializers.IntegerField(), help_text="cents per earnings account")
    payouts = PayoutSerializer(many=True)


class BalancesAndPayoutsView(APIView):
    """The ledger's view of a performer's money (every earnings account, in
    cents) and their latest payouts; the analytics are ``EarningsView``."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=BalancesAndPayoutsSerializer, summary="Your earnings balances (cents) and payouts")
    def get(self, request):
        performer = getattr(request.user, "performer", None) if hasattr(request.user, "performer") else None
        if performer is None:
            raise ApiError("not_a_performer", "Only performers have earnings.", 403)
        return Response(
            {
                "balances": ledger_selectors.performer_balances(performer),
                "payouts": PayoutSerializer(billing_selectors.payouts_for(performer)[:50], many=True).data,
            }
        )
