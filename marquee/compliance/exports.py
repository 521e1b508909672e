"""2257 record export for legal requests, and CSV helpers."""

from __future__ import annotations

import io
import json
import zipfile

from django.db import transaction
from django.utils import timezone

from marquee.compliance import crypto


def record_shows(record) -> list[dict]:
    """The shows a record's performer appears in: as host and as co-performer."""
    rows = [
        {"id": show.pk, "title": show.title, "role": "host", "started_at": show.started_at, "status": show.status}
        for show in record.performer.shows.all()
    ]
    rows += [
        {
            "id": link.show.pk,
            "title": link.show.title,
            "role": "co-performer",
            "started_at": link.show.started_at,
            "status": link.show.status,
        }
        for link in record.performer.appearances.select_related("show")
    ]
    return sorted(rows, key=lambda row: row["id"])


def record_index(record) -> dict:
    return {
        "legal_name": record.legal_name,
        "date_of_birth": record.date_of_birth.isoformat(),
        "aliases": [alias.name for alias in record.aliases.all()],
        "performer": record.performer.username,
        "status": record.status,
        "reviewed_at": record.reviewed_at.isoformat() if record.reviewed_at else None,
        "shows": [
            {**row, "started_at": row["started_at"].isoformat() if row["started_at"] else None}
            for row in record_shows(record)
        ],
        "documents": [f"{record.pk}/{document.kind}" for document in record.documents.all()],
    }


def export_records_zip(*, records, actor, request=None) -> bytes:
    """A ZIP for a legal request: ``index.json`` (by legal name, with aliases
    and shows) and the decrypted ID images.  Audit-logged before it leaves."""
    from marquee.audit.services import record_audit

    records = list(records.order_by("legal_name").prefetch_related("aliases", "documents"))
    with transaction.atomic():
        record_audit(
            action="performer_record.exported",
            actor=actor,
            request=request,
            target_type="compliance.performerrecord",
            details={"records": [record.pk for record in records]},
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        index = {"exported_at": timezone.now().isoformat(), "records": [record_index(record) for record in records]}
        archive.writestr("index.json", json.dumps(index, indent=2))
        for record in records:
            for document in record.documents.all():
                extension = document.content_type.rsplit("/", 1)[-1]
                archive.writestr(f"{record.pk}/{document.kind}.{extension}", crypto.read_private(document.storage_name))
    return buffer.getvalue()
