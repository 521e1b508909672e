"""Issue 15 item 10 (part): the audit log lists newest first; an uploaded ID
is served with its real content type so the browser shows it."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from marquee.audit.models import AuditEvent
from marquee.compliance.models import AgeVerification
from tests.support.compliance import png_bytes

pytestmark = pytest.mark.django_db


def test_age_document_is_served_as_an_image(client, viewer, staff, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    client.force_login(viewer)
    image = png_bytes()
    client.post("/verify-age/", {"document": SimpleUploadedFile("id.png", image, "image/png")})
    pending = AgeVerification.objects.get(user=viewer)
    # A stranger (the uploader included) still gets nothing.
    assert client.get(f"/verify-age/documents/{pending.pk}/").status_code == 404
    client.force_login(staff)
    response = client.get(f"/verify-age/documents/{pending.pk}/")
    assert response.status_code == 200 and response.content == image
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == "inline"


def test_audit_log_lists_newest_first(client, staff):
    from marquee.audit.services import record_audit

    record_audit(action="test.first")
    record_audit(action="test.second")
    client.force_login(staff)
    html = client.get("/admin/audit/auditevent/").content.decode()
    assert html.index("test.second") < html.index("test.first")
    assert AuditEvent.objects.filter(action__startswith="test.").count() == 2
