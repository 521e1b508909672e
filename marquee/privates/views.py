"""Pages of private shows: the receipt (periods and total) for its payer or performer."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from marquee.privates import selectors


@login_required
def receipt(request, pk):
    session = selectors.session(pk)
    if session is None or request.user.pk not in (session.payer_id, session.performer.user_id):
        raise Http404("No such show.")
    lines = selectors.period_charges(session)
    context = {
        "session": session,
        "lines": lines,
        "total_tokens": sum(line["tokens"] for line in lines),
        "held_tokens": selectors.held_now(session),
    }
    return render(request, "privates/receipt.html", context)
