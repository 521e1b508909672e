"""Demo compliance data: a custodian-of-records group (the admin is in it),
approved 2257 records for the demo performers with placeholder ID images,
viewer1-2 age-verified, viewer3 waiting for staff review (sandbox)."""

from __future__ import annotations

import datetime
import io

from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from PIL import Image, ImageDraw

from marquee.accounts.models import User
from marquee.compliance import records, services
from marquee.compliance.models import AgeVerification, PerformerRecord
from marquee.performers.models import Performer

CUSTODIAN_GROUP = "Custodian of records"
CUSTODIAN_PERMISSIONS = [
    "view_id_documents",
    "view_performerrecord",
    "change_performerrecord",
    "view_ageverification",
    "change_ageverification",
    "view_auditevent",
]


def placeholder_card(label: str) -> bytes:
    """A grey card with a label: SFW stand-in for an ID photo."""
    image = Image.new("RGB", (320, 200), "#d8d8e0")
    ImageDraw.Draw(image).text((16, 90), f"DEMO {label}", fill="#333344")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def seed(out) -> None:
    group, _ = Group.objects.get_or_create(name=CUSTODIAN_GROUP)
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["compliance", "audit"], codename__in=CUSTODIAN_PERMISSIONS
        )
    )
    admin = User.objects.filter(username="admin").first()
    if admin is not None:
        admin.groups.add(group)
    for performer in Performer.objects.filter(user__username__in=["performer1", "performer2", "performer3"]):
        if PerformerRecord.objects.filter(performer=performer).exists():
            continue
        record = records.submit_performer_record(
            performer=performer,
            legal_name=f"Demo Legal Name {performer.username[-1]}",
            date_of_birth=datetime.date(1994, 6, int(performer.username[-1])),
            aliases=[f"{performer.display_name} (demo alias)"],
            documents={
                "id_front": (placeholder_card("ID FRONT"), "image/png"),
                "selfie": (placeholder_card("SELFIE"), "image/png"),
            },
        )
        records.review_performer_record(record=record, approved=True, reviewer=admin)
    # viewer1 and viewer2 are verified (they buy and tip in the money demo);
    # viewer3's document waits for staff review in the admin.
    for username in ("viewer1", "viewer2"):
        viewer = User.objects.filter(username=username).first()
        if viewer is not None and not viewer.age_verifications.exists():
            AgeVerification.objects.create(
                user=viewer, provider="sandbox", method="document", status="approved", decided_at=timezone.now()
            )
    viewer3 = User.objects.filter(username="viewer3").first()
    if viewer3 is not None and not viewer3.age_verifications.exists():
        services.submit_sandbox_document(user=viewer3, data=placeholder_card("ID"), content_type="image/png")
    out.write("compliance: custodian group, performer records, viewer1-2 verified, viewer3 pending review")
