"""Download my data: every documented category, signed expiring link for the
owner only, audit-logged."""

from __future__ import annotations

import csv
import datetime
import io
import json
import re
import uuid
import zipfile
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from marquee.audit.models import AuditEvent
from marquee.billing import services as billing_services
from marquee.lib.geo import UNKNOWN
from marquee.privacy import services
from marquee.privacy.models import DataExport
from marquee.privacy.policy import render_markdown
from marquee.privacy.tests.test_close_account import fund
from tests.factories import FollowFactory


def documented_categories() -> set[str]:
    text = (Path(settings.BASE_DIR) / "docs" / "privacy.md").read_text()
    return set(re.findall(r"\| `([a-z_]+)`(?: \(performers\))? \|$", text, re.M))


def test_committed_privacy_doc_is_what_the_settings_render():
    assert (Path(settings.BASE_DIR) / "docs" / "privacy.md").read_text() == render_markdown()


def test_privacy_doc_follows_the_settings(settings):
    settings.PRIVACY_CHAT_MESSAGE_DAYS = 7
    assert "7 days (`PRIVACY_CHAT_MESSAGE_DAYS`)" in render_markdown()


def _ready_export(client, user, django_capture_on_commit_callbacks):
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/api/v1/me/export/").status_code == 202
    body = client.get("/api/v1/me/export/").json()
    assert body["status"] == "ready"
    return body["download_url"]


def test_archive_has_every_documented_category_with_the_persons_data(
    client, viewer, performer, django_capture_on_commit_callbacks
):
    fund(viewer, 100)
    billing_services.send_tip(
        user=viewer, performer=performer, tokens=5, idempotency_key=uuid.uuid4().hex, location=UNKNOWN, message="bravo"
    )
    FollowFactory(user=viewer, performer=performer)
    url = _ready_export(client, viewer, django_capture_on_commit_callbacks)

    response = client.get(url)

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )
    names = set(archive.namelist())
    categories = documented_categories()
    assert len(categories) >= 15
    for key in categories:
        assert {f"{key}.json", f"{key}.csv"} <= names, key
    profile = json.loads(archive.read("profile.json"))
    assert profile[0]["email"] == viewer.email
    tips = list(csv.DictReader(io.StringIO(archive.read("tips.csv").decode())))
    assert tips[0]["message"] == "bravo" and tips[0]["tokens"] == "5"
    follows = json.loads(archive.read("follows.json"))
    assert follows[0]["performer__user__username"] == "performer"
    wallet = json.loads(archive.read("wallet.json"))
    assert sorted(row["amount"] for row in wallet) == [-5, 100]
    assert AuditEvent.objects.filter(action="privacy.export_downloaded", actor=viewer).count() == 1
    call_command("audit_verify")


def test_stranger_with_the_link_gets_nothing_and_no_download_is_logged(
    client, viewer, outsider, django_capture_on_commit_callbacks
):
    url = _ready_export(client, viewer, django_capture_on_commit_callbacks)
    client.force_login(outsider)

    response = client.get(url)

    assert response.status_code == 404
    assert not response.content.startswith(b"PK")  # no ZIP
    assert not AuditEvent.objects.filter(action="privacy.export_downloaded").exists()
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_link_expires_and_a_forged_link_is_refused(viewer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        export = services.request_export(user=viewer)
    export.refresh_from_db()
    token = services.export_token(export)
    later = export.expires_at - datetime.timedelta(seconds=1)
    assert services.download_export(user=viewer, token=token, now=later)[:2] == b"PK"

    for bad_token, now in ((token, export.expires_at), (token[:-2] + "xx", later)):
        try:
            services.download_export(user=viewer, token=bad_token, now=now)
        except services.PrivacyError as refused:
            assert refused.code == "export_not_found"
        else:
            raise AssertionError("served an expired or forged link")


def test_expired_archives_are_deleted(viewer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        export = services.request_export(user=viewer)
    export.refresh_from_db()
    name = export.storage_name
    assert services.expire_exports(now=export.expires_at - datetime.timedelta(seconds=1)) == 0
    assert services.expire_exports(now=timezone.now() + datetime.timedelta(days=30)) == 1
    assert DataExport.objects.get().status == DataExport.Status.EXPIRED
    assert not (Path(settings.PRIVATE_MEDIA_ROOT) / name).exists()
