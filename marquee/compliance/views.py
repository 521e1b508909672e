from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from marquee.compliance import records, selectors, services, verification
from marquee.compliance.forms import AgeDocumentForm, PerformerRecordForm
from marquee.compliance.models import AgeVerification, RecordDocument
from marquee.lib.http import json_error

AGE_VERIFICATION_NEXT_KEY = "age_verification_next"


def _safe_next(request) -> str:
    # The page the buyer was on survives the review: kept in the session, so the
    # decision e-mail's link to /verify-age/ still offers "Continue" back there.
    next_url = request.GET.get("next") or request.POST.get("next") or request.session.get(AGE_VERIFICATION_NEXT_KEY)
    if not next_url or not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=False
    ):
        return "/"
    return next_url


@login_required
def age_verification(request):
    user = request.user
    provider = settings.AGE_VERIFICATION_PROVIDER
    form = AgeDocumentForm()
    next_url = _safe_next(request)
    if next_url != "/":
        request.session[AGE_VERIFICATION_NEXT_KEY] = next_url
    if request.method == "POST" and provider == "sandbox":
        form = AgeDocumentForm(request.POST, request.FILES)
        if form.is_valid():
            data, content_type = form.cleaned_data["document"]
            try:
                services.submit_sandbox_document(user=user, data=data, content_type=content_type, request=request)
            except services.ComplianceError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, "Thanks — a member of staff will review your document shortly.")
            return redirect(request.get_full_path())
    context = {
        "verified": selectors.current_age_verification(user),
        "performer_verified": selectors.is_age_verified(user),
        "pending": selectors.pending_age_verification(user),
        "last": user.age_verifications.exclude(status=AgeVerification.Status.PENDING).first(),
        "provider": provider,
        "form": form,
        "next": next_url,
        "valid_days": settings.AGE_VERIFICATION_VALID_DAYS,
    }
    return render(request, "compliance/age_verification.html", context)


@login_required
@require_POST
def start_age_verification(request):
    provider = settings.AGE_VERIFICATION_PROVIDER
    if provider == "sandbox":
        return redirect("age_verification")
    try:
        _, url = services.start_provider_verification(user=request.user, provider_name=provider, request=request)
    except verification.ProviderNotConfigured:
        messages.error(request, "Age verification is not available right now. Please try again later.")
        return redirect("age_verification")
    return HttpResponseRedirect(url)


@csrf_exempt
@require_POST
def verification_webhook(request, provider):
    """Provider webhooks: verify the signature on the raw body, refuse replays,
    then re-fetch the decision from the provider."""
    try:
        adapter = verification.get_provider(provider)
        event = adapter.parse_webhook(request.body, request.headers)
        services.apply_provider_webhook(provider_name=provider, event_id=event.event_id, reference=event.reference)
    except verification.ProviderNotConfigured:
        return json_error("not_configured", "Provider not configured.", 500)
    except (verification.WebhookRejected, services.ComplianceError) as error:
        return json_error(error.code, error.message, error.status)
    return JsonResponse({"ok": True})


@login_required
def performer_verification(request):
    performer = getattr(request.user, "performer", None) if hasattr(request.user, "performer") else None
    if performer is None:
        raise Http404("Only performers submit identity records.")
    record = selectors.performer_record(performer)
    form = PerformerRecordForm()
    if request.method == "POST":
        form = PerformerRecordForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                records.submit_performer_record(
                    performer=performer,
                    legal_name=form.cleaned_data["legal_name"],
                    date_of_birth=form.cleaned_data["date_of_birth"],
                    aliases=form.cleaned_data["aliases"],
                    documents=form.documents(),
                    request=request,
                )
            except services.ComplianceError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "Submitted. Staff will review your documents; you'll see the result here.")
                return redirect("performer_verification")
    return render(
        request, "compliance/performer_verification.html", {"performer": performer, "record": record, "form": form}
    )


@never_cache
@login_required
def record_document(request, pk):
    """An ID image, decrypted for the custodian of records (audit-logged)."""
    document = get_object_or_404(RecordDocument, pk=pk)
    try:
        data = records.read_record_document(document=document, viewer=request.user, request=request)
    except services.ComplianceError:
        raise Http404
    response = HttpResponse(data, content_type=document.content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "no-store, private"
    return response


@never_cache
@login_required
def age_document(request, pk):
    """A sandbox age document, for staff reviewing it (audit-logged)."""
    verification_row = get_object_or_404(AgeVerification, pk=pk)
    try:
        data = services.read_age_document(verification=verification_row, viewer=request.user, request=request)
    except services.ComplianceError:
        raise Http404
    # Shown in the browser, not downloaded: the stored bytes say what they are.
    response = HttpResponse(data, content_type=_image_type(data))
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "no-store, private"
    return response


_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"%PDF-", "application/pdf"))


def _image_type(data: bytes) -> str:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    for magic, content_type in _SIGNATURES:
        if data.startswith(magic):
            return content_type
    return "application/octet-stream"


def statement_2257(request):
    return render(request, "compliance/statement_2257.html", {"custodian": settings.RECORDS_CUSTODIAN})
