"""PayPal's return URL: thin — the purchase must be the buyer's own."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect

from marquee.billing import selectors
from marquee.billing.gateways.paypal import flow, tasks


@login_required
def paypal_return(request, reference):
    purchase = selectors.access_purchase(request.user, reference)
    if purchase is None or purchase.provider != "paypal" or purchase.user_id != request.user.pk:
        raise Http404("No such checkout.")
    outcome = flow.complete(
        purchase_reference=str(purchase.reference),
        order_id=request.GET.get("token", ""),
        subscription_id=request.GET.get("subscription_id", ""),
    )
    if outcome == flow.PENDING:
        tasks.collect_payment.apply_async(
            kwargs={
                "purchase_reference": str(purchase.reference),
                "order_id": request.GET.get("token", ""),
                "subscription_id": request.GET.get("subscription_id", ""),
            },
            countdown=30,
        )
    return redirect("checkout_return", reference=purchase.reference)
