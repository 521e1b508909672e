from __future__ import annotations

import csv

from django.http import HttpResponse
from django.shortcuts import render

from marquee.earnings import selectors
from marquee.performers.dashboard_access import performer_required


def _granularity(request) -> str:
    value = request.GET.get("by", "day")
    return value if value in selectors.GRANULARITIES else "day"


@performer_required
def earnings_page(request):
    performer = request.performer
    result = selectors.earnings(performer, _granularity(request))
    context = {
        "performer": performer,
        "earnings": result,
        "series": result.chart_series(),
        "totals_chart": result.chart_totals(),
        "source_rows": [
            {"source": s, "label": selectors.SOURCE_LABELS[s], **result.totals[s]} for s in selectors.SOURCES
        ],
        "balances": selectors.balances(performer),
        "supporters": selectors.top_supporters(performer),
        "supporter_days": selectors.SUPPORTER_WINDOW_DAYS,
        "shows": selectors.show_summaries(performer),
        "granularities": list(selectors.GRANULARITIES),
        "dash_section": "earnings",
    }
    template = "earnings/_body.html" if request.headers.get("HX-Request") else "earnings/page.html"
    return render(request, template, context)


@performer_required
def earnings_csv(request):
    granularity = _granularity(request)
    result = selectors.earnings(request.performer, granularity)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="earnings-by-{granularity}.csv"'
    writer = csv.writer(response)
    for row in result.csv_rows():
        writer.writerow(row)
    return response
