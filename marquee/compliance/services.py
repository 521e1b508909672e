from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from marquee.audit.services import record_audit
from marquee.compliance import crypto, selectors
from marquee.compliance.errors import ComplianceError  # callers catch services.ComplianceError
from marquee.compliance.models import (
    AgeVerification,
    Jurisdiction,
    PerformerRecord,
    WebhookReceipt,
)
from marquee.lib import domain_events
from marquee.lib.fields import clip


def record_geo_block(*, request, location, region: str) -> None:
    """Audit a geo block, once per client IP per GEO_BLOCK_AUDIT_SECONDS, so a
    blocked visitor's page views cannot flood the chain."""
    ip = getattr(request, "client_ip", "") or request.META.get("REMOTE_ADDR", "")
    if not cache.add(f"compliance:geo-block-audited:{ip}", 1, settings.GEO_BLOCK_AUDIT_SECONDS):
        return
    record_audit(
        action="geo.blocked",
        request=request,
        target_type="jurisdiction",
        target_id=region,
        details={"location": str(location), "path": request.path[: settings.AUDIT_DETAIL_MAX_CHARS]},
    )


def save_jurisdiction(*, jurisdiction: Jurisdiction, actor, request=None, change: bool) -> Jurisdiction:
    with transaction.atomic():
        jurisdiction.country = jurisdiction.country.upper()
        jurisdiction.subdivision = jurisdiction.subdivision.upper()
        jurisdiction.save()
        record_audit(
            action="jurisdiction.changed" if change else "jurisdiction.created",
            actor=actor,
            request=request,
            target=jurisdiction,
            details={"region": str(jurisdiction), "active": jurisdiction.is_active},
        )
        transaction.on_commit(selectors.forget_jurisdiction_rules)
    return jurisdiction


def delete_jurisdiction(*, jurisdiction: Jurisdiction, actor, request=None) -> None:
    with transaction.atomic():
        record_audit(
            action="jurisdiction.deleted",
            actor=actor,
            request=request,
            target=jurisdiction,
            details={"region": str(jurisdiction)},
        )
        jurisdiction.delete()
        transaction.on_commit(selectors.forget_jurisdiction_rules)


# --- Viewer age verification ---------------------------------------------------


def submit_sandbox_document(*, user, data: bytes, content_type: str, request=None) -> AgeVerification:
    """Sandbox provider: the viewer uploads an ID document; staff review it in
    the admin.  The image is stored encrypted and deleted at the decision."""
    with transaction.atomic():
        if selectors.pending_age_verification(user) is not None:
            raise ComplianceError("pending", "A verification is already waiting for review.")
        storage_name = crypto.write_private("age", data)
        verification = AgeVerification.objects.create(
            user=user, provider="sandbox", method="document", document_path=storage_name
        )
        record_audit(action="age_verification.submitted", actor=user, request=request, target=verification)
    return verification


def start_provider_verification(*, user, provider_name: str, request=None) -> tuple[AgeVerification, str]:
    """Veriff/Persona: create the provider session, return the URL to send the
    viewer to.  The decision arrives later through the signed webhook."""
    from marquee.compliance.verification import get_provider

    provider = get_provider(provider_name)
    reference, url = provider.start(user=user)
    with transaction.atomic():
        verification = AgeVerification.objects.create(
            user=user, provider=provider_name, method=provider.method, provider_reference=reference
        )
        record_audit(action="age_verification.started", actor=user, request=request, target=verification)
    return verification, url


def decide_age_verification(
    *, verification: AgeVerification, approved: bool, reason: str = "", reviewer=None, request=None
) -> AgeVerification:
    """Record a decision (staff review or provider) once: compare-and-set on
    the pending status, so a second decision changes nothing."""
    status = AgeVerification.Status.APPROVED if approved else AgeVerification.Status.DECLINED
    reason = clip(reason, AgeVerification, "decision_reason")
    with transaction.atomic():
        document_path = verification.document_path
        updated = AgeVerification.objects.filter(pk=verification.pk, status=AgeVerification.Status.PENDING).update(
            status=status,
            decided_at=timezone.now(),
            decision_reason=reason,
            reviewed_by=reviewer,
            document_path="",
        )
        if not updated:
            raise ComplianceError("already_decided", "This verification was already decided.")
        record_audit(
            action=f"age_verification.{status}",
            actor=reviewer,
            request=request,
            target=verification,
            details={"provider": verification.provider, "reason": reason},
        )
        if document_path:
            # The document is not kept once decided.
            transaction.on_commit(lambda: crypto.delete_private(document_path))
        user = verification.user
        transaction.on_commit(lambda: _mail_age_decision(user=user, approved=approved, reason=reason))
        # The in-app notification belongs to a higher layer, which subscribes.
        domain_events.send(
            "age_verification.decided", user_id=user.pk, verification_id=verification.pk, approved=approved
        )
    verification.refresh_from_db()
    return verification


def _mail_age_decision(*, user, approved: bool, reason: str) -> None:
    """Tell the person: they may be waiting to finish a purchase."""
    link = f"{settings.SITE_URL}{reverse('age_verification')}"
    if approved:
        subject = "Your age is verified"
        body = f"Your age verification was approved. Continue where you left off:\n\n{link}"
    else:
        subject = "Your age verification was declined"
        because = f": {reason}" if reason else "."
        body = f"Your age verification was declined{because}\n\nYou can try again here:\n\n{link}"
    send_mail(subject=subject, message=body, from_email=None, recipient_list=[user.email], fail_silently=True)


def apply_provider_webhook(*, provider_name: str, event_id: str, reference: str) -> AgeVerification | None:
    """A verified webhook for ``reference``: refuse replays (unique receipt),
    re-fetch the decision from the provider, record it if final."""
    from marquee.compliance.verification import get_provider

    provider = get_provider(provider_name)
    verification = AgeVerification.objects.filter(provider=provider_name, provider_reference=reference).first()
    if verification is None:
        raise ComplianceError("unknown_reference", "No verification with this reference.", status=404)
    # The webhook only says "look again": the decision itself comes from the
    # provider's API, so a forged-but-signed body cannot approve anyone.
    decision = provider.fetch_decision(reference)
    with transaction.atomic():
        try:
            with transaction.atomic():
                WebhookReceipt.objects.create(provider=provider_name, event_id=event_id)
        except IntegrityError:
            raise ComplianceError("replayed", "This webhook event was already processed.", status=409)
        if decision is None or verification.status != AgeVerification.Status.PENDING:
            record_audit(
                action="age_verification.webhook",
                target=verification,
                details={"provider": provider_name, "event": event_id, "final": decision is not None},
            )
            return verification
        return decide_age_verification(verification=verification, approved=decision.approved, reason=decision.reason)


# --- Performer verification (the 2257 records themselves: compliance/records.py) ---


def revoke_performer_verification(*, performer, reason: str, actor, request=None) -> bool:
    """Staff withdraw an approved identity verification (e.g. a forged ID found
    later): the record becomes rejected with the reason, the performer can no
    longer go live or earn, and a live stream is cut at the next media update."""
    from marquee.performers.models import Performer

    reason = (reason or "").strip()
    if not reason:
        raise ComplianceError("reason_required", "Give the performer a reason for the revocation.")
    with transaction.atomic():
        if not Performer.objects.filter(pk=performer.pk, verification_status=Performer.Verification.VERIFIED).update(
            verification_status=Performer.Verification.REJECTED
        ):
            return False
        PerformerRecord.objects.filter(performer_id=performer.pk, status=PerformerRecord.Status.APPROVED).update(
            status=PerformerRecord.Status.REJECTED,
            rejection_reason=clip(reason, PerformerRecord, "rejection_reason"),
            reviewed_at=timezone.now(),
            reviewed_by=actor,
        )
        record_audit(
            action="performer.verification_revoked",
            actor=actor,
            request=request,
            target=performer,
            details={"reason": reason[: settings.AUDIT_DETAIL_MAX_CHARS]},
        )
    performer.refresh_from_db()
    return True


def read_age_document(*, verification: AgeVerification, viewer, request=None) -> bytes:
    """A pending sandbox document, for staff who review verifications."""
    if not (viewer.is_authenticated and viewer.is_staff and viewer.has_perm("compliance.change_ageverification")):
        raise ComplianceError("forbidden", "Only reviewers may see verification documents.", status=403)
    if not verification.document_path:
        raise ComplianceError("gone", "The document was deleted after the decision.", status=404)
    with transaction.atomic():
        record_audit(action="age_verification.document_viewed", actor=viewer, request=request, target=verification)
    return crypto.read_private(verification.document_path)
