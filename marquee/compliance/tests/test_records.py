from __future__ import annotations

import datetime
import io
import json
import zipfile

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from marquee.audit.models import AuditEvent
from marquee.compliance import crypto, records
from marquee.compliance.errors import ComplianceError
from marquee.compliance.models import PerformerRecord, RecordDocument, ShowPerformer
from marquee.performers.models import Performer
from tests.factories import PerformerFactory, ShowFactory, UserFactory, enable_totp
from tests.support.compliance import png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def newcomer(db):
    return PerformerFactory(
        user=UserFactory(username="newcomer"), verification_status="unverified", display_name="Nova"
    )


@pytest.fixture
def custodian(db):
    user = UserFactory(username="custodian", is_staff=True)
    enable_totp(user)  # the admin refuses staff without 2FA
    group = Group.objects.create(name="Custodian of records")
    group.permissions.add(
        Permission.objects.get(codename="view_id_documents"),
        Permission.objects.get(codename="view_performerrecord"),
        Permission.objects.get(codename="change_performerrecord"),
    )
    user.groups.add(group)
    return user


def _submit(client, performer, *, dob="1995-03-04", aliases="Nova Star\nN. S."):
    client.force_login(performer.user)
    return client.post(
        "/performer-verification/",
        {
            "legal_name": "Jane Q Example",
            "date_of_birth": dob,
            "aliases": aliases,
            "id_front": SimpleUploadedFile("front.png", png_bytes((1, 2, 3)), "image/png"),
            "selfie": SimpleUploadedFile("selfie.png", png_bytes((4, 5, 6)), "image/png"),
        },
    )


def test_submit_record_encrypted_at_rest(client, newcomer, private_root, settings):
    assert _submit(client, newcomer).status_code == 302
    record = PerformerRecord.objects.get(performer=newcomer)
    assert record.status == "pending" and record.legal_name == "Jane Q Example"
    assert set(record.aliases.values_list("name", flat=True)) == {"Nova Star", "N. S.", "Nova", "newcomer"}
    newcomer.refresh_from_db()
    assert newcomer.verification_status == "pending"
    for document in record.documents.all():
        raw = (private_root / document.storage_name).read_bytes()
        assert b"PNG" not in raw and b"IHDR" not in raw
        # Without the key the file is useless; with it, it is the image.
        with pytest.raises(InvalidToken):
            Fernet(Fernet.generate_key()).decrypt(raw)
        assert crypto.read_private(document.storage_name).startswith(b"\x89PNG")
    settings.RECORDS_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    with pytest.raises(InvalidToken):
        crypto.read_private(record.documents.first().storage_name)


def test_key_rotation_reads_old_files(newcomer, private_root, settings):
    old_key = settings.RECORDS_ENCRYPTION_KEY[0]
    name = crypto.write_private("records", b"secret")
    settings.RECORDS_ENCRYPTION_KEY = [Fernet.generate_key().decode(), old_key]
    assert crypto.read_private(name) == b"secret"


def test_under_18_refused_and_nothing_stored(client, newcomer, private_root):
    too_young = datetime.date.today().replace(year=datetime.date.today().year - 17)
    response = _submit(client, newcomer, dob=too_young.isoformat())
    assert response.status_code == 200 and b"at least 18" in response.content
    assert not PerformerRecord.objects.exists()
    assert not private_root.exists() or not list(private_root.rglob("*.bin"))
    newcomer.refresh_from_db()
    assert newcomer.verification_status == "unverified"


def test_non_performer_cannot_submit(client, viewer):
    client.force_login(viewer)
    assert client.get("/performer-verification/").status_code == 404


def test_custodian_views_document_audited_others_refused(client, newcomer, custodian, staff, viewer, private_root):
    _submit(client, newcomer)
    document = RecordDocument.objects.get(kind="id_front")
    url = f"/records/documents/{document.pk}/"
    for stranger in (viewer, newcomer.user):
        client.force_login(stranger)
        assert client.get(url).status_code == 404
    # Plain staff without the custodian permission are refused too.
    plain_staff = UserFactory(username="plainstaff", is_staff=True)
    client.force_login(plain_staff)
    assert client.get(url).status_code == 404
    assert not AuditEvent.objects.filter(action="performer_record.document_viewed").exists()
    client.force_login(custodian)
    response = client.get(url)
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
    assert response["Cache-Control"].startswith("no-store")
    event = AuditEvent.objects.get(action="performer_record.document_viewed")
    assert event.actor_id == custodian.pk and event.target_id == str(document.pk)


def test_staff_review_with_reason(client, newcomer, custodian, private_root):
    _submit(client, newcomer)
    record = PerformerRecord.objects.get()
    client.force_login(custodian)
    url = f"/admin/compliance/performerrecord/{record.pk}/review/"
    assert client.post(url, {"decision": "reject", "reason": ""}).status_code == 200  # reason required
    record.refresh_from_db()
    assert record.status == "pending"
    client.post(url, {"decision": "reject", "reason": "The ID photo is blurred."})
    record.refresh_from_db()
    newcomer.refresh_from_db()
    assert record.status == "rejected" and record.rejection_reason == "The ID photo is blurred."
    assert newcomer.verification_status == "rejected"
    # The performer resubmits; then approval.
    _submit(client, newcomer)
    client.force_login(custodian)
    client.post(url, {"decision": "approve"})
    record.refresh_from_db()
    newcomer.refresh_from_db()
    assert record.status == "approved" and newcomer.verification_status == Performer.Verification.VERIFIED
    assert AuditEvent.objects.filter(action="performer_record.approved", target_id=str(record.pk)).exists()
    # Resubmission replaced the documents: only one of each kind is kept.
    assert RecordDocument.objects.filter(record=record).count() == 2


def test_rejected_reason_shown_to_performer(client, newcomer, custodian, private_root):
    _submit(client, newcomer)
    records.review_performer_record(
        record=PerformerRecord.objects.get(), approved=False, reason="Selfie missing ID", reviewer=custodian
    )
    client.force_login(newcomer.user)
    assert b"Selfie missing ID" in client.get("/performer-verification/").content


def test_records_indexed_by_legal_name_and_aliases_in_admin(client, newcomer, custodian, private_root):
    _submit(client, newcomer)
    client.force_login(custodian)
    for term in ("Jane Q", "Nova Star"):
        page = client.get("/admin/compliance/performerrecord/", {"q": term})
        assert b"Jane Q Example" in page.content


def test_co_performers_must_be_verified(performer, newcomer):
    show = ShowFactory(performer=performer)
    with pytest.raises(ComplianceError):
        records.add_co_performer(show=show, performer=newcomer, actor=performer.user)
    assert not ShowPerformer.objects.exists()
    partner = PerformerFactory(user=UserFactory(username="partner"))
    records.add_co_performer(show=show, performer=partner, actor=performer.user)
    assert records.unverified_co_performers(show) == []
    Performer.objects.filter(pk=partner.pk).update(verification_status="rejected")
    assert records.unverified_co_performers(show) == [partner]


def test_export_command_and_admin_action(client, newcomer, custodian, viewer, private_root, tmp_path, performer):
    _submit(client, newcomer)
    record = PerformerRecord.objects.get()
    show = ShowFactory(performer=performer, title="Duet")
    partner_show = ShowFactory(performer=newcomer, title="Solo")
    ShowPerformer.objects.create(show=show, performer=newcomer)
    out = tmp_path / "export.zip"
    with pytest.raises(Exception, match="not a custodian"):
        call_command("records_export", custodian=viewer.email, out=str(out))
    call_command("records_export", custodian=custodian.email, legal_name="jane", out=str(out))
    with zipfile.ZipFile(out) as archive:
        index = json.loads(archive.read("index.json"))
        entry = index["records"][0]
        assert entry["legal_name"] == "Jane Q Example" and "Nova Star" in entry["aliases"]
        assert {(s["title"], s["role"]) for s in entry["shows"]} == {("Duet", "co-performer"), ("Solo", "host")}
        assert archive.read(f"{record.pk}/id_front.png").startswith(b"\x89PNG")
    assert AuditEvent.objects.filter(action="performer_record.exported", actor_id=custodian.pk).count() == 1
    # Both shows are in the export, by id: the co-performed one and her own.
    assert {s["id"] for s in entry["shows"]} == {show.pk, partner_show.pk}
    # Admin action: refused for plain staff, works for the custodian.
    exports_before = AuditEvent.objects.filter(action="performer_record.exported").count()
    client.force_login(_records_staff_without_custodian_permission())
    response = client.post(
        "/admin/compliance/performerrecord/", {"action": "export_records", "_selected_action": [record.pk]}
    )
    assert response.status_code == 302  # back to the list, with an error message
    assert response["Content-Type"] != "application/zip" and b"PK" not in response.content[:2]
    messages = [m.message for m in response.wsgi_request._messages]
    assert "Only the custodian of records may export records." in messages
    assert AuditEvent.objects.filter(action="performer_record.exported").count() == exports_before
    client.force_login(custodian)
    response = client.post(
        "/admin/compliance/performerrecord/", {"action": "export_records", "_selected_action": [record.pk]}
    )
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert json.loads(archive.read("index.json"))["records"][0]["legal_name"] == "Jane Q Example"
    assert AuditEvent.objects.filter(action="performer_record.exported").count() == exports_before + 1


def _records_staff_without_custodian_permission():
    """Staff with 2FA who may list and edit records, but not see IDs or export."""
    user = UserFactory(username="recordsclerk", is_staff=True)
    enable_totp(user)
    user.user_permissions.add(
        Permission.objects.get(codename="view_performerrecord"),
        Permission.objects.get(codename="change_performerrecord"),
    )
    return user


def test_performer_record_api_is_own_only(client, newcomer, performer, private_root):
    _submit(client, newcomer)
    client.force_login(performer.user)
    response = client.get("/api/v1/performer-verification/")
    assert response.status_code == 404
    client.force_login(newcomer.user)
    assert client.get("/api/v1/performer-verification/").json()["status"] == "pending"
