"""Pages of the money capability: thin — parse, call a service/selector, render."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from marquee.access import selectors as access
from marquee.billing import selectors, services
from marquee.billing.gateways import GatewayNotConfigured, WebhookRejected
from marquee.billing.models import Tip
from marquee.ledger import selectors as ledger_selectors
from marquee.lib.fields import clip
from marquee.lib.http import json_error
from marquee.performers.models import Performer
from marquee.shows.models import Show


def _safe_next(request, value: str, default: str = "") -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}, require_https=False):
        return value
    return default


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def checkout_target(product: str, *, show_id=None, username: str = ""):
    """Resolve the form's ``show`` / ``performer`` fields (shared with the API)."""
    show = performer = None
    if product in ("ticket", "private"):
        show = Show.objects.select_related("performer__user").filter(pk=_int_or_none(show_id)).first()
        if show is None:
            raise services.BillingError("not_found", "No such show.", 404)
    if product == "subscription":
        performer = Performer.objects.select_related("user").filter(user__username=username).first()
        if performer is None:
            raise services.BillingError("not_found", "No such performer.", 404)
    return show, performer


def ask_to_buy(viewer, product: str, **target) -> None:
    """The entitlement module's answer before any sale (shared with the API)."""
    allowed = access.buy(viewer, product, **target)
    if not allowed:
        # ``extra`` carries e.g. ``verify_url``: the refusal says where to go next.
        raise services.BillingError(allowed.code, allowed.message, allowed.status, **allowed.extra)


def verify_age_url(error, next_url: str) -> str:
    """Where an age-verification refusal sends a page user: the verification
    page, then back to ``next_url``."""
    return f"{error.extra.get('verify_url') or reverse('age_verification')}?{urlencode({'next': next_url})}"


def success_url_builder(request):
    return lambda purchase: request.build_absolute_uri(reverse("checkout_return", args=[purchase.reference]))


@require_POST
def checkout_start(request):
    """The paywall / buy buttons post here; we send the buyer to the hosted page."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('account_login')}?next={_safe_next(request, request.POST.get('next', ''), '/')}")
    product = request.POST.get("product", "")
    try:
        return _checkout_start(request, product)
    except services.BillingError as error:
        if error.code != "age_verification_required":
            raise
        # A first purchase: verify, then come back to the page that sold it.
        messages.info(request, "Verify your age once before your first purchase; you'll come back here afterwards.")
        return redirect(verify_age_url(error, _safe_next(request, request.POST.get("next", ""), reverse("wallet"))))


def _checkout_start(request, product: str):
    try:
        show, performer = checkout_target(
            product, show_id=request.POST.get("show"), username=request.POST.get("performer", "")
        )
        viewer = access.Viewer.from_request(request)
        ask_to_buy(viewer, product, show=show, performer=performer)
        _, url = services.start_checkout(
            user=request.user,
            location=viewer.location,
            product=product,
            pack=request.POST.get("pack", ""),
            show=show,
            performer=performer,
            return_url=_safe_next(request, request.POST.get("next", "")),
            success_url_for=success_url_builder(request),
            request=request,
        )
    except GatewayNotConfigured:
        return render(request, "error.html", {"status": 503, "message": "Payments are unavailable."}, status=503)
    return redirect(url)


@login_required
def sandbox_checkout(request, reference):
    """The sandbox provider's hosted page: no card fields, just Pay or Decline."""
    purchase = selectors.access_purchase(request.user, reference)
    if purchase is None or purchase.provider != "sandbox" or purchase.user_id != request.user.pk:
        raise Http404("No such checkout.")
    if request.method == "POST":
        services.sandbox_complete_checkout(purchase=purchase, pay=request.POST.get("action") == "pay")
        return redirect("checkout_return", reference=purchase.reference)
    return render(request, "billing/sandbox_checkout.html", {"purchase": purchase})


@login_required
def checkout_return(request, reference):
    """Where providers send the buyer back: on to ``next`` once paid."""
    purchase = selectors.access_purchase(request.user, reference)
    if purchase is None:
        raise Http404("No such purchase.")
    if purchase.is_paid:
        messages.success(request, f"Payment received: {purchase.description}.")
        return redirect(_safe_next(request, purchase.return_url, reverse("receipt", args=[purchase.reference])))
    return render(request, "billing/checkout_return.html", {"purchase": purchase})


@login_required
def receipt(request, reference):
    purchase = selectors.access_purchase(request.user, reference)
    if purchase is None:
        raise Http404("No such receipt.")
    return render(request, "billing/receipt.html", {"purchase": purchase})


@login_required
def purchase_history(request):
    return render(request, "billing/purchases.html", {"purchases": selectors.purchases_for(request.user)[:200]})


@login_required
def wallet(request):
    context = {
        "balance": ledger_selectors.wallet_balance(request.user),
        "history": ledger_selectors.wallet_history(request.user),
        "packs": selectors.token_packs(),
    }
    return render(request, "billing/wallet.html", context)


@require_POST
def tip_send(request, username):
    """The room's tip buttons (htmx swaps the panel; without JS, back to the room)."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('account_login')}?next={reverse('room', args=[username])}")
    viewer = access.Viewer.from_request(request)
    location = viewer.location
    performer = access.find_room(viewer, username)
    if performer is None:
        raise Http404("No such room.")
    error = ""
    verify_url = ""
    tokens = _int_or_none(request.POST.get("tokens"))
    try:
        ask_to_buy(viewer, "tip", performer=performer)
        services.send_tip(
            user=request.user,
            performer=performer,
            tokens=tokens if tokens is not None else 0,
            # The form carries a fresh key per render, so a double submit tips once.
            idempotency_key=request.POST.get("idempotency_key", "")[: settings.IDEMPOTENCY_KEY_MAX_CHARS]
            or uuid.uuid4().hex,
            message=clip(request.POST.get("message", ""), Tip, "message"),
            location=location,
            request=request,
        )
    except services.BillingError as exc:
        error = exc.message
        if exc.code == "age_verification_required":
            verify_url = verify_age_url(exc, reverse("room", args=[performer.username]))
    if request.headers.get("HX-Request"):
        from marquee.billing.templatetags.billing_tags import tip_panel_context

        context = tip_panel_context(viewer, performer)
        context.update({"tip_error": error, "tip_verify_url": verify_url, "tip_sent": not error, "request": request})
        return render(request, "billing/_tip_panel.html", context, status=200)
    if verify_url:
        messages.info(request, error)
        return redirect(verify_url)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"You tipped {tokens} tokens.")
    return redirect("room", username=performer.username)


@login_required
@require_POST
def subscription_cancel(request, pk):
    subscription = selectors.access_subscription(request.user, pk)
    if subscription is None:
        raise Http404("No such subscription.")
    services.cancel_subscription(user=request.user, subscription=subscription, request=request)
    messages.success(request, f"Canceled. You keep access until {subscription.current_period_end:%d %b %Y}.")
    return redirect("account")


@csrf_exempt
@require_POST
def webhook(request, provider):
    """``POST /webhooks/<provider>/``: verified on the raw body."""
    try:
        outcomes = services.process_webhook(
            provider=provider, body=request.body, headers=request.headers, client_ip=getattr(request, "client_ip", "")
        )
    except GatewayNotConfigured:
        return json_error("unknown_provider", "No such payment provider.", 404)
    except WebhookRejected as exc:
        return json_error("invalid_webhook", str(exc), 400)
    return JsonResponse({"received": True, "outcomes": outcomes})
