"""Issue 15 item 3: the first purchase is a guided flow, not a dead end —
refusal → /verify-age/ → a decision e-mail → back where the buyer was."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.http import urlencode

from marquee.audit.models import AuditEvent
from marquee.billing.models import Purchase
from marquee.compliance import services
from marquee.compliance.models import AgeVerification
from marquee.ledger import selectors as ledger
from tests.factories import AgeVerificationFactory
from tests.support.compliance import png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _purchases_need_verification(settings):
    settings.AGE_VERIFICATION_BEFORE_PURCHASE = True
    settings.SANDBOX_ENABLED = True


def test_api_refusal_says_where_to_verify(client, viewer):
    client.force_login(viewer)
    before = AuditEvent.objects.count()
    response = client.post(
        reverse("api_checkout"), {"product": "tokens", "pack": "medium"}, content_type="application/json"
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "age_verification_required"
    assert error["verify_url"] == reverse("age_verification")
    assert not Purchase.objects.exists() and AuditEvent.objects.count() == before


def test_page_checkout_leads_to_verification_and_back(client, viewer):
    client.force_login(viewer)
    response = client.post(
        reverse("checkout_start"), {"product": "tokens", "pack": "medium", "next": reverse("wallet")}
    )
    assert response.status_code == 302
    back = f"{reverse('age_verification')}?{urlencode({'next': reverse('wallet')})}"
    assert response["Location"] == back
    assert not Purchase.objects.exists()
    # An off-site ``next`` is not followed.
    response = client.post(
        reverse("checkout_start"), {"product": "tokens", "pack": "medium", "next": "https://evil.example/"}
    )
    assert response["Location"] == back


def test_tip_panel_links_to_verification(client, viewer, performer):
    client.force_login(viewer)
    room = reverse("room", args=[performer.user.username])
    response = client.post(reverse("tip_send", args=[performer.user.username]), {"tokens": "5"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "Verify your age before continuing." in html
    assert f'href="{reverse("age_verification")}?next={room.replace("/", "%2F")}"' in html
    assert "Thank you" not in html
    assert ledger.wallet_balance(viewer) == 0


def test_decision_is_mailed_and_the_page_leads_back(
    client, viewer, staff, settings, tmp_path, mailoutbox, django_capture_on_commit_callbacks
):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    client.force_login(viewer)
    url = f"{reverse('age_verification')}?next=/wallet/"
    document = SimpleUploadedFile("id.png", png_bytes(), "image/png")
    assert client.post(url, {"document": document, "next": "/wallet/"}).status_code == 302
    pending = AgeVerification.objects.get(user=viewer, status="pending")
    # Later, from the e-mail's plain link: the page still knows where they were.
    page = client.get(reverse("age_verification")).content.decode()
    assert 'href="/wallet/"' in page and "In review" in page
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_age_verification(verification=pending, approved=True, reviewer=staff)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [viewer.email] and "approved" in mailoutbox[0].body
    assert f"{settings.SITE_URL}{reverse('age_verification')}" in mailoutbox[0].body
    page = client.get(reverse("age_verification")).content.decode()
    assert "Verified" in page and '<a class="btn btn-primary" href="/wallet/">Continue</a>' in page


def test_declined_decision_is_mailed_with_the_reason(viewer, staff, mailoutbox, django_capture_on_commit_callbacks):
    pending = AgeVerificationFactory(user=viewer, provider="sandbox", method="document")
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_age_verification(
            verification=pending, approved=False, reason="Document unreadable", reviewer=staff
        )
    assert len(mailoutbox) == 1 and "declined: Document unreadable" in mailoutbox[0].body


@pytest.mark.parametrize("approved", [True, False])
def test_decision_is_an_in_app_notification(client, viewer, staff, approved, django_capture_on_commit_callbacks):
    from marquee.schedule.models import Notification

    pending = AgeVerification.objects.create(user=viewer, provider="sandbox", method="document")
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_age_verification(verification=pending, approved=approved, reason="Blurry", reviewer=staff)
    notes = list(Notification.objects.filter(user=viewer))
    assert [(n.kind, n.url, n.read_at) for n in notes] == [("age_verification", reverse("age_verification"), None)]
    assert ("verified" if approved else "declined") in notes[0].text
    client.force_login(viewer)
    page = client.get(reverse("notifications")).content.decode()
    assert notes[0].text in page and f'href="{reverse("age_verification")}"' in page
    # A second decision is refused and notifies nobody again.
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(services.ComplianceError):
        services.decide_age_verification(verification=pending, approved=not approved, reviewer=staff)
    assert Notification.objects.filter(user=viewer).count() == 1


def test_rolled_back_decision_notifies_nobody(viewer, staff, django_capture_on_commit_callbacks):
    from django.db import transaction

    from marquee.schedule.models import Notification

    pending = AgeVerification.objects.create(user=viewer, provider="sandbox", method="document")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        services.decide_age_verification(verification=pending, approved=True, reviewer=staff)
        raise RuntimeError("later step failed")
    assert not Notification.objects.exists()
    pending.refresh_from_db()
    assert pending.status == "pending"
