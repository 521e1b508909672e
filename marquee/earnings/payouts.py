"""The performer's payout page: balances, history, a payout request and the
payout settings.  Every write goes through ``billing.services`` (the payout
rules and the limits live there and in ``billing.prices``)."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from marquee.accounts.selectors import REAUTHENTICATE_URL, recently_reauthenticated
from marquee.billing import prices, services
from marquee.billing import selectors as billing_selectors
from marquee.billing.models import PayoutSettings
from marquee.compliance import policy
from marquee.earnings import selectors
from marquee.performers.dashboard_access import performer_required

# Which form field each service error belongs to (shown at the field).
FIELD_OF_CODE = {
    "below_minimum": "amount",
    "insufficient_earnings": "amount",
    "bad_method": "method",
    "bad_minimum": "minimum",
    "bad_schedule": "schedule",
}


def _dollars(label: str) -> forms.DecimalField:
    return forms.DecimalField(label=label, min_value=0.01, max_digits=10, decimal_places=2)


def _cents(value) -> int:
    return round(value * 100)


class PayoutRequestForm(forms.Form):
    amount = _dollars("Amount ($)")


class PayoutSettingsForm(forms.Form):
    method = forms.ChoiceField(label="Payout method")
    minimum = _dollars("Minimum payout ($)")
    schedule = forms.ChoiceField(label="Schedule", choices=PayoutSettings.Schedule.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["method"].choices = prices.payout_methods()
        low, high = prices.default_payout_minimum_cents(), settings.PAYOUT_MINIMUM_MAX_CENTS
        self.fields["minimum"].help_text = f"Between ${low / 100:,.2f} and ${high / 100:,.2f}."

    @classmethod
    def for_saved(cls, saved):
        return cls(initial={"method": saved.method, "minimum": saved.minimum_cents / 100, "schedule": saved.schedule})


def _render(request, *, request_form=None, settings_form=None, status=200):
    performer = request.performer
    saved = billing_selectors.payout_settings(performer)
    context = {
        "performer": performer,
        "balances": selectors.balances(performer),
        "payouts": billing_selectors.payouts_for(performer)[:50],
        "method_label": dict(prices.payout_methods()).get(saved.method, saved.method),
        "hold_days": settings.EARNINGS_HOLD_DAYS,
        "request_form": request_form or PayoutRequestForm(),
        "settings_form": settings_form or PayoutSettingsForm.for_saved(saved),
        "can_earn": policy.can_earn(performer),
        "platform_minimum_cents": prices.default_payout_minimum_cents(),
        "dash_section": "payouts",
    }
    return render(request, "earnings/payouts.html", context, status=status)


@performer_required
def payouts_page(request):
    return _render(request)


def _field_error(form, exc) -> None:
    form.add_error(FIELD_OF_CODE.get(exc.code), exc.message)


@performer_required
@require_POST
def request_payout(request):
    form = PayoutRequestForm(request.POST)
    if not form.is_valid():
        return _render(request, request_form=form, status=400)
    if not recently_reauthenticated(request):
        # Money leaves the platform: confirm the password first (as the API does).
        messages.info(request, "Confirm your password, then request the payout again.")
        return redirect(f"{REAUTHENTICATE_URL}?{urlencode({'next': reverse('dashboard_payouts')})}")
    try:
        payout = services.request_payout(
            user=request.user, amount_cents=_cents(form.cleaned_data["amount"]), request=request
        )
    except services.BillingError as exc:
        _field_error(form, exc)
        return _render(request, request_form=form, status=exc.status)
    messages.success(request, f"Payout of ${payout.amount_cents / 100:,.2f} requested.")
    return redirect("dashboard_payouts")


@performer_required
@require_POST
def payout_settings(request):
    form = PayoutSettingsForm(request.POST)
    if not form.is_valid():
        return _render(request, settings_form=form, status=400)
    data = form.cleaned_data
    try:
        services.update_payout_settings(
            user=request.user,
            method=data["method"],
            minimum_cents=_cents(data["minimum"]),
            schedule=data["schedule"],
            request=request,
        )
    except services.BillingError as exc:
        _field_error(form, exc)
        return _render(request, settings_form=form, status=exc.status)
    messages.success(request, "Payout settings saved.")
    return redirect("dashboard_payouts")
