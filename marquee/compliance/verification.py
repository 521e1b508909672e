"""Viewer age-verification providers.

- ``sandbox`` (embedded default): the viewer uploads an ID document, staff
  approve or decline it in the admin (``services.submit_sandbox_document``).
- ``veriff`` and ``persona``: a hosted flow at the provider; its webhook is
  verified with the provider's HMAC scheme and then the decision is fetched
  again from the provider's API, so only the provider can approve anyone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.urls import reverse

from marquee.compliance.models import AgeVerification
from marquee.lib.fields import clip

# Tests replace this with an ``httpx.MockTransport``.
transport: httpx.BaseTransport | None = None


class WebhookRejected(Exception):
    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class ProviderNotConfigured(Exception):
    pass


@dataclass(frozen=True)
class ProviderDecision:
    approved: bool
    reason: str = ""


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str
    reference: str


def _client(base_url: str, headers: dict) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers=headers, timeout=10.0, transport=transport)


def _json(body: bytes) -> dict:
    try:
        data = json.loads(body)
    except ValueError:
        raise WebhookRejected("invalid_json", "The body is not JSON.")
    if not isinstance(data, dict):
        raise WebhookRejected("invalid_json", "The body is not a JSON object.")
    return data


class Veriff:
    """Veriff: ``X-HMAC-SIGNATURE`` is hex HMAC-SHA256 of the raw body with the
    shared secret; API calls sign the session id the same way."""

    name = "veriff"
    method = "id_document+selfie"

    def _require(self):
        if not (settings.VERIFF_API_KEY and settings.VERIFF_SHARED_SECRET):
            raise ProviderNotConfigured("VERIFF_API_KEY and VERIFF_SHARED_SECRET must be set")

    def _sign(self, payload: bytes) -> str:
        return hmac.new(settings.VERIFF_SHARED_SECRET.encode(), payload, hashlib.sha256).hexdigest()

    def start(self, *, user) -> tuple[str, str]:
        self._require()
        body = {
            "verification": {
                "callback": settings.SITE_URL + reverse("age_verification"),
                "vendorData": str(user.pk),
            }
        }
        with _client(settings.VERIFF_BASE_URL, {"X-AUTH-CLIENT": settings.VERIFF_API_KEY}) as client:
            response = client.post("/v1/sessions", json=body)
            response.raise_for_status()
        session = response.json()["verification"]
        return session["id"], session["url"]

    def parse_webhook(self, body: bytes, headers) -> WebhookEvent:
        self._require()
        signature = headers.get("X-HMAC-SIGNATURE", "")
        if not hmac.compare_digest(signature.lower(), self._sign(body)):
            raise WebhookRejected("bad_signature", "The webhook signature does not match.")
        if headers.get("X-AUTH-CLIENT", "") != settings.VERIFF_API_KEY:
            raise WebhookRejected("bad_signature", "The webhook is for another integration.")
        data = _json(body)
        verification = data.get("verification") or {}
        reference = verification.get("id") if isinstance(verification, dict) else None
        if not isinstance(reference, str) or not reference:
            raise WebhookRejected("invalid_payload", "verification.id is missing.")
        # Veriff events carry no id: the body's digest identifies a delivery.
        return WebhookEvent(event_id=hashlib.sha256(body).hexdigest(), reference=reference)

    def fetch_decision(self, reference: str) -> ProviderDecision | None:
        self._require()
        headers = {"X-AUTH-CLIENT": settings.VERIFF_API_KEY, "X-HMAC-SIGNATURE": self._sign(reference.encode())}
        with _client(settings.VERIFF_BASE_URL, headers) as client:
            response = client.get(f"/v1/sessions/{reference}/decision")
            response.raise_for_status()
        verification = response.json().get("verification") or {}
        status = verification.get("status")
        if status == "approved":
            return ProviderDecision(True)
        if status in {"declined", "expired", "abandoned"}:
            reason = str(verification.get("reason") or status)
            return ProviderDecision(False, clip(reason, AgeVerification, "decision_reason"))
        return None  # resubmission requested or still in review


class Persona:
    """Persona: ``Persona-Signature: t=<unix>,v1=<hex>`` where v1 is
    HMAC-SHA256 of ``"<t>.<raw body>"``; several v1 during secret rotation."""

    name = "persona"
    method = "government_id+selfie"

    def _require(self):
        if not (settings.PERSONA_API_KEY and settings.PERSONA_WEBHOOK_SECRET):
            raise ProviderNotConfigured("PERSONA_API_KEY and PERSONA_WEBHOOK_SECRET must be set")

    def _headers(self) -> dict:
        return {"Authorization": f"Bearer {settings.PERSONA_API_KEY}", "Persona-Version": "2023-01-05"}

    def start(self, *, user) -> tuple[str, str]:
        self._require()
        body = {
            "data": {"attributes": {"inquiry-template-id": settings.PERSONA_TEMPLATE_ID, "reference-id": str(user.pk)}}
        }
        with _client(settings.PERSONA_BASE_URL, self._headers()) as client:
            response = client.post("/api/v1/inquiries", json=body)
            response.raise_for_status()
        inquiry_id = response.json()["data"]["id"]
        return inquiry_id, f"{settings.PERSONA_BASE_URL}/verify?inquiry-id={inquiry_id}"

    def parse_webhook(self, body: bytes, headers) -> WebhookEvent:
        self._require()
        timestamp, signatures = "", []
        for part in headers.get("Persona-Signature", "").replace(" ", ",").split(","):
            key, _, value = part.partition("=")
            if key == "t":
                timestamp = value
            elif key == "v1":
                signatures.append(value)
        if not timestamp.isdigit() or not signatures:
            raise WebhookRejected("bad_signature", "The webhook signature header is missing or malformed.")
        expected = hmac.new(
            settings.PERSONA_WEBHOOK_SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        if not any(hmac.compare_digest(expected, signature) for signature in signatures):
            raise WebhookRejected("bad_signature", "The webhook signature does not match.")
        if abs(time.time() - int(timestamp)) > settings.VERIFICATION_WEBHOOK_TOLERANCE_SECONDS:
            raise WebhookRejected("stale", "The webhook timestamp is outside the accepted window (replay?).")
        data = _json(body).get("data") or {}
        try:
            event_id = data["id"]
            reference = data["attributes"]["payload"]["data"]["id"]
        except (KeyError, TypeError):
            raise WebhookRejected("invalid_payload", "The event has no id or inquiry.")
        if not isinstance(event_id, str) or not isinstance(reference, str):
            raise WebhookRejected("invalid_payload", "The event has no id or inquiry.")
        return WebhookEvent(event_id=event_id, reference=reference)

    def fetch_decision(self, reference: str) -> ProviderDecision | None:
        self._require()
        with _client(settings.PERSONA_BASE_URL, self._headers()) as client:
            response = client.get(f"/api/v1/inquiries/{reference}")
            response.raise_for_status()
        status = (response.json().get("data") or {}).get("attributes", {}).get("status")
        if status == "approved":
            return ProviderDecision(True)
        if status in {"declined", "failed", "expired"}:
            return ProviderDecision(False, status)
        return None  # created, pending, completed (awaiting review), needs_review


_PROVIDERS = {"veriff": Veriff(), "persona": Persona()}


def get_provider(name: str):
    try:
        return _PROVIDERS[name]
    except KeyError:
        raise WebhookRejected("unknown_provider", "No such verification provider.", status=404)
