from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
import pytest

from marquee.audit.models import AuditEvent
from marquee.compliance import crypto, policy, verification
from marquee.compliance.models import AgeVerification, WebhookReceipt
from marquee.lib.geo import locate
from tests.factories import AgeVerificationFactory, JurisdictionFactory
from tests.support.compliance import CALIFORNIA_V4, png_bytes

pytestmark = pytest.mark.django_db


def _fresh(user):
    return type(user).objects.get(pk=user.pk)


# --- Purchases -----------------------------------------------------------------


def test_purchase_refused_until_verified(geoip_db, viewer):
    location = locate(CALIFORNIA_V4)  # a region with no rule: still required
    decision = policy.can_purchase(viewer, location)
    assert (
        not decision and decision.code == "age_verification_required" and decision.extra["verify_url"] == "/verify-age/"
    )
    AgeVerificationFactory(user=viewer, provider="sandbox", status="pending")
    assert not policy.can_purchase(_fresh(viewer), location)
    AgeVerificationFactory(user=viewer, provider="sandbox", status="declined", decided_at="2026-01-01T00:00Z")
    assert not policy.can_purchase(_fresh(viewer), location)
    from tests.support.compliance import approve_age

    approve_age(viewer)
    assert policy.can_purchase(_fresh(viewer), location)


def test_purchase_refused_when_verification_expired(viewer, settings):
    from tests.support.compliance import approve_age

    settings.AGE_VERIFICATION_VALID_DAYS = 10
    approve_age(viewer, days_ago=11)
    assert policy.can_purchase(viewer, locate("")).code == "age_verification_required"


def test_purchase_refused_in_blocked_region(geoip_db, viewer):
    from tests.support.compliance import approve_age

    approve_age(viewer)
    JurisdictionFactory(country="US", subdivision="CA", rule="blocked")
    assert policy.can_purchase(viewer, locate(CALIFORNIA_V4)).status == 451


def test_approved_performer_record_counts_as_verified(performer):
    from marquee.compliance.models import PerformerRecord

    assert not policy.can_purchase(performer.user, locate(""))
    PerformerRecord.objects.create(performer=performer, legal_name="A B", date_of_birth="1990-01-01", status="approved")
    assert policy.can_purchase(_fresh(performer.user), locate(""))


# --- Sandbox: upload, staff review, document deleted ----------------------------------


def test_sandbox_upload_review_and_delete(client, viewer, staff, private_root, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(viewer)
    image = png_bytes()
    response = client.post("/verify-age/", {"document": SimpleUploadedFile("id.png", image, "image/png")})
    assert response.status_code == 302
    pending = AgeVerification.objects.get(user=viewer)
    assert pending.status == "pending" and pending.document_path
    stored = (private_root / pending.document_path).read_bytes()
    assert image not in stored and b"PNG" not in stored
    assert crypto.read_private(pending.document_path) == image
    # A second upload while one waits is refused.
    client.post("/verify-age/", {"document": SimpleUploadedFile("id.png", image, "image/png")})
    assert AgeVerification.objects.filter(user=viewer).count() == 1

    # The viewer cannot see the document; staff can, and that is logged.
    assert client.get(f"/verify-age/documents/{pending.pk}/").status_code == 404
    client.force_login(staff)
    assert client.get(f"/verify-age/documents/{pending.pk}/").content == image
    assert AuditEvent.objects.filter(action="age_verification.document_viewed", target_id=str(pending.pk)).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/compliance/ageverification/", {"action": "approve", "_selected_action": [pending.pk]}
        )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == "approved" and pending.decided_at and pending.reviewed_by == staff
    assert pending.document_path == ""
    assert not list(private_root.rglob("*.bin"))
    assert policy.can_purchase(_fresh(viewer), locate(""))


def test_sandbox_rejects_non_images(client, viewer, private_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(viewer)
    response = client.post("/verify-age/", {"document": SimpleUploadedFile("id.png", b"<script>", "image/png")})
    assert response.status_code == 200 and b"Upload a JPEG" in response.content
    assert not AgeVerification.objects.exists()


def test_decision_is_taken_once(viewer, staff, private_root):
    from marquee.compliance import services

    row = services.submit_sandbox_document(user=viewer, data=png_bytes(), content_type="image/png")
    services.decide_age_verification(verification=row, approved=False, reason="blurry", reviewer=staff)
    with pytest.raises(services.ComplianceError):
        services.decide_age_verification(verification=row, approved=True, reviewer=staff)
    row.refresh_from_db()
    assert row.status == "declined" and row.decision_reason == "blurry"


# --- Veriff ------------------------------------------------------------------------

VERIFF_KEY, VERIFF_SECRET = "veriff-key", "veriff-shared-secret"


@pytest.fixture
def veriff(settings):
    settings.AGE_VERIFICATION_PROVIDER = "veriff"
    settings.VERIFF_API_KEY, settings.VERIFF_SHARED_SECRET = VERIFF_KEY, VERIFF_SECRET
    settings.VERIFF_BASE_URL = "https://veriff.test"
    state = {"decision": "approved", "requests": []}

    def handler(request: httpx.Request) -> httpx.Response:
        state["requests"].append(request)
        assert request.headers["X-AUTH-CLIENT"] == VERIFF_KEY
        if request.method == "POST" and request.url.path == "/v1/sessions":
            return httpx.Response(
                200, json={"status": "success", "verification": {"id": "sess-1", "url": "https://veriff.test/v/sess-1"}}
            )
        if request.url.path == "/v1/sessions/sess-1/decision":
            expected = hmac.new(VERIFF_SECRET.encode(), b"sess-1", hashlib.sha256).hexdigest()
            assert request.headers["X-HMAC-SIGNATURE"] == expected
            return httpx.Response(
                200, json={"status": "success", "verification": {"id": "sess-1", "status": state["decision"]}}
            )
        return httpx.Response(404)

    verification.transport = httpx.MockTransport(handler)
    yield state
    verification.transport = None


def _veriff_post(client, payload: dict, secret=VERIFF_SECRET):
    body = json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        "/webhooks/verification/veriff/", body, content_type="application/json",
        HTTP_X_HMAC_SIGNATURE=signature, HTTP_X_AUTH_CLIENT=VERIFF_KEY,
    )  # fmt: skip


def test_veriff_flow(client, viewer, veriff):
    client.force_login(viewer)
    response = client.post("/verify-age/start/")
    assert response.status_code == 302 and response["Location"] == "https://veriff.test/v/sess-1"
    row = AgeVerification.objects.get(user=viewer)
    assert row.provider == "veriff" and row.provider_reference == "sess-1" and row.status == "pending"

    # The webhook body says "declined"; the decision re-fetched says approved: the API wins.
    payload = {"status": "success", "verification": {"id": "sess-1", "status": "declined", "code": 9102}}
    client.logout()
    assert _veriff_post(client, payload).status_code == 200
    row.refresh_from_db()
    assert row.status == "approved" and row.decided_at is not None
    assert WebhookReceipt.objects.filter(provider="veriff").count() == 1


def test_veriff_forged_and_replayed_refused(client, viewer, veriff):
    client.force_login(viewer)
    client.post("/verify-age/start/")
    client.logout()
    payload = {"status": "success", "verification": {"id": "sess-1", "status": "approved"}}
    veriff["decision"] = None  # not final yet
    assert _veriff_post(client, payload, secret="wrong").status_code == 400
    assert _veriff_post(client, payload).status_code == 200
    fetches = len(veriff["requests"])
    veriff["decision"] = "approved"
    replay = _veriff_post(client, payload)
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "replayed"
    assert AgeVerification.objects.get(user=viewer).status == "pending"
    assert len(veriff["requests"]) == fetches + 1  # fetched, but nothing applied


def test_veriff_unsigned_or_unknown_session(client, veriff):
    body = b'{"verification": {"id": "nope"}}'
    assert client.post("/webhooks/verification/veriff/", body, content_type="application/json").status_code == 400
    assert _veriff_post(client, {"verification": {"id": "nope"}}).status_code == 404
    assert not WebhookReceipt.objects.exists()


def test_webhook_without_secret_is_not_accepted(client, settings):
    settings.VERIFF_SHARED_SECRET = ""
    response = client.post("/webhooks/verification/veriff/", b"{}", content_type="application/json")
    assert response.status_code == 500 and response.json()["error"]["code"] == "not_configured"
    assert client.post("/webhooks/verification/nobody/", b"{}", content_type="application/json").status_code == 404


# --- Persona -----------------------------------------------------------------------

PERSONA_SECRET = "wbhsec_test"


@pytest.fixture
def persona(settings):
    settings.AGE_VERIFICATION_PROVIDER = "persona"
    settings.PERSONA_API_KEY, settings.PERSONA_WEBHOOK_SECRET = "persona-key", PERSONA_SECRET
    settings.PERSONA_TEMPLATE_ID = "itmpl_1"
    settings.PERSONA_BASE_URL = "https://persona.test"
    state = {"status": "approved"}

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer persona-key"
        if request.method == "POST" and request.url.path == "/api/v1/inquiries":
            assert json.loads(request.content)["data"]["attributes"]["inquiry-template-id"] == "itmpl_1"
            return httpx.Response(201, json={"data": {"type": "inquiry", "id": "inq_1"}})
        if request.url.path == "/api/v1/inquiries/inq_1":
            return httpx.Response(200, json={"data": {"id": "inq_1", "attributes": {"status": state["status"]}}})
        return httpx.Response(404)

    verification.transport = httpx.MockTransport(handler)
    yield state
    verification.transport = None


def _persona_post(client, event_id="evt_1", timestamp=None, secret=PERSONA_SECRET):
    body = json.dumps(
        {
            "data": {
                "type": "event",
                "id": event_id,
                "attributes": {"name": "inquiry.approved", "payload": {"data": {"type": "inquiry", "id": "inq_1"}}},
            }
        }
    ).encode()
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return client.post(
        "/webhooks/verification/persona/", body, content_type="application/json",
        HTTP_PERSONA_SIGNATURE=f"t={timestamp},v1={signature}",
    )  # fmt: skip


def test_persona_flow_and_refusals(client, viewer, persona):
    client.force_login(viewer)
    response = client.post("/verify-age/start/")
    assert response["Location"] == "https://persona.test/verify?inquiry-id=inq_1"
    client.logout()
    assert _persona_post(client, secret="forged").status_code == 400
    assert _persona_post(client, timestamp=int(time.time()) - 3600).json()["error"]["code"] == "stale"
    assert AgeVerification.objects.get(user=viewer).status == "pending"
    assert _persona_post(client).status_code == 200
    assert AgeVerification.objects.get(user=viewer).status == "approved"
    assert _persona_post(client).status_code == 409
    assert WebhookReceipt.objects.filter(provider="persona").count() == 1


def test_persona_declined(client, viewer, persona):
    persona["status"] = "declined"
    client.force_login(viewer)
    client.post("/verify-age/start/")
    assert _persona_post(client).status_code == 200
    row = AgeVerification.objects.get(user=viewer)
    assert row.status == "declined" and not policy.can_purchase(_fresh(viewer), locate(""))


def test_api_status_is_own_only(client, viewer, outsider):
    from tests.support.compliance import approve_age

    approve_age(outsider)
    client.force_login(viewer)
    data = client.get("/api/v1/age-verification/").json()
    assert data == {"verified": False, "status": None, "provider": None, "decided_at": None}
