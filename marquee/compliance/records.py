"""2257 records of performers: submitting and reviewing a performer's legal
identity and ID documents, the custodian's audited document reads, and the
rule that every co-performer on a show is verified.  Their own module (out of
``services``, which keeps jurisdictions, viewer age verification and staff
revocation) so the record rules can be read, tested and mutation-tested alone."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from marquee.accounts.models import age_on
from marquee.audit.services import record_audit
from marquee.compliance import crypto, selectors
from marquee.compliance.errors import ComplianceError
from marquee.compliance.models import PerformerRecord, RecordAlias, RecordDocument, ShowPerformer
from marquee.lib.fields import clip


def submit_performer_record(
    *,
    performer,
    legal_name: str,
    date_of_birth,
    aliases: list[str],
    documents: dict[str, tuple[bytes, str]],
    request=None,
) -> PerformerRecord:
    """Create or resubmit the 2257 record: legal identity, every other name
    used, ID front/back and a selfie; sets the performer to pending review."""
    from marquee.performers.models import Performer

    if age_on(date_of_birth, timezone.localdate()) < settings.MINIMUM_AGE:
        raise ComplianceError("under_age", f"Performers must be at least {settings.MINIMUM_AGE} years old.")
    missing = {RecordDocument.Kind.ID_FRONT, RecordDocument.Kind.SELFIE} - set(documents)
    if missing:
        raise ComplianceError("documents_missing", "Upload the front of your ID and a selfie holding it.")
    written: list[str] = []
    try:
        with transaction.atomic():
            record = PerformerRecord.objects.select_for_update().filter(performer=performer).first()
            if record is not None and record.status == PerformerRecord.Status.APPROVED:
                raise ComplianceError("already_approved", "Your identity is already verified.")
            old_documents = list(record.documents.values_list("storage_name", flat=True)) if record else []
            if record is None:
                record = PerformerRecord(performer=performer)
            record.legal_name = clip(legal_name.strip(), PerformerRecord, "legal_name")
            record.date_of_birth = date_of_birth
            record.status = PerformerRecord.Status.PENDING
            record.rejection_reason = ""
            record.reviewed_at = None
            record.reviewed_by = None
            record.save()
            record.documents.all().delete()
            record.aliases.all().delete()
            names = sorted(
                {
                    clip(name.strip(), RecordAlias, "name")
                    for name in [*aliases, performer.display_name, performer.username]
                    if name.strip()
                }
            )
            RecordAlias.objects.bulk_create([RecordAlias(record=record, name=name) for name in names])
            for kind, (data, content_type) in documents.items():
                storage_name = crypto.write_private("records", data)
                written.append(storage_name)
                RecordDocument.objects.create(
                    record=record, kind=kind, storage_name=storage_name, content_type=content_type
                )
            Performer.objects.filter(pk=performer.pk).update(verification_status=Performer.Verification.PENDING)
            record_audit(
                action="performer_record.submitted",
                actor=performer.user,
                request=request,
                target=record,
                details={"aliases": names, "documents": sorted(documents)},
            )
            transaction.on_commit(lambda: [crypto.delete_private(name) for name in old_documents])
    except BaseException:
        for name in written:
            crypto.delete_private(name)
        raise
    return record


def review_performer_record(
    *, record: PerformerRecord, approved: bool, reason: str = "", reviewer, request=None
) -> PerformerRecord:
    from marquee.performers.models import Performer

    reason = reason.strip()
    if not approved and not reason:
        raise ComplianceError("reason_required", "Give the performer a reason for the rejection.")
    status = PerformerRecord.Status.APPROVED if approved else PerformerRecord.Status.REJECTED
    reason = clip(reason, PerformerRecord, "rejection_reason")
    with transaction.atomic():
        updated = PerformerRecord.objects.filter(pk=record.pk, status=PerformerRecord.Status.PENDING).update(
            status=status,
            rejection_reason="" if approved else reason,
            reviewed_at=timezone.now(),
            reviewed_by=reviewer,
        )
        if not updated:
            raise ComplianceError("not_pending", "Only a pending record can be reviewed.")
        Performer.objects.filter(pk=record.performer_id).update(
            verification_status=Performer.Verification.VERIFIED if approved else Performer.Verification.REJECTED
        )
        record_audit(
            action=f"performer_record.{status}",
            actor=reviewer,
            request=request,
            target=record,
            details={"performer": record.performer_id, "reason": reason},
        )
    record.refresh_from_db()
    return record


def read_record_document(*, document: RecordDocument, viewer, request=None) -> bytes:
    """Decrypt an ID image for the custodian of records; every view is
    audit-logged (and the log row is written before the bytes leave)."""
    if not selectors.may_view_id_documents(viewer):
        raise ComplianceError("forbidden", "Only the custodian of records may view ID documents.", status=403)
    with transaction.atomic():
        record_audit(
            action="performer_record.document_viewed",
            actor=viewer,
            request=request,
            target=document,
            details={"record": document.record_id, "kind": document.kind},
        )
    return crypto.read_private(document.storage_name)


def add_co_performer(*, show, performer, actor, request=None) -> ShowPerformer:
    """A co-performer appears in ``show``: allowed only when verified."""
    if not performer.is_verified or performer.is_suspended:
        raise ComplianceError("co_performer_unverified", "Every performer on a show must be verified first.")
    if performer.pk == show.performer_id:
        raise ComplianceError("host", "The host is already on the show.")
    with transaction.atomic():
        link, created = ShowPerformer.objects.get_or_create(show=show, performer=performer)
        if created:
            record_audit(
                action="show.co_performer_added",
                actor=actor,
                request=request,
                target=show,
                details={"performer": performer.pk},
            )
    return link


def unverified_co_performers(show) -> list:
    """Co-performers of ``show`` that are not (or no longer) verified."""
    return [link.performer for link in show.co_performers.select_related("performer") if not link.performer.is_verified]
