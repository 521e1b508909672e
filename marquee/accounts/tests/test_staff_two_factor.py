"""Issue 13: staff reach the admin only with 2FA, on every admin request."""

from __future__ import annotations

import datetime

import pyotp
import pytest
from django.urls import reverse

from marquee.compliance.models import PerformerRecord
from tests.factories import PASSWORD, PerformerFactory, UserFactory, enable_totp

pytestmark = pytest.mark.django_db

LEGAL_NAME = "Harriet Quimby-Example"


@pytest.fixture
def record(db):
    performer = PerformerFactory(user=UserFactory(username="recorded"))
    return PerformerRecord.objects.create(
        performer=performer, legal_name=LEGAL_NAME, date_of_birth=datetime.date(1990, 1, 2)
    )


@pytest.fixture
def password_only_superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_password_only_superuser_gets_no_admin_page_and_is_sent_to_set_up_2fa(client, password_only_superuser, record):
    response = client.post(reverse("account_login"), {"login": password_only_superuser.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(password_only_superuser.pk)  # logged in with a password alone

    for path in [
        "/admin/",
        "/admin/compliance/performerrecord/",
        f"/admin/compliance/performerrecord/{record.pk}/change/",
    ]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(reverse("mfa_activate_totp")), response["Location"]
        assert LEGAL_NAME.encode() not in response.content
    # Writes are refused the same way, and change nothing.
    response = client.post(
        f"/admin/compliance/performerrecord/{record.pk}/change/", {"legal_name": "Changed", "status": "approved"}
    )
    assert response.status_code == 302 and response["Location"].startswith(reverse("mfa_activate_totp"))
    record.refresh_from_db()
    assert record.legal_name == LEGAL_NAME and record.status == PerformerRecord.Status.PENDING


def test_superuser_with_totp_logs_in_with_the_code_and_sees_the_admin(client, password_only_superuser, record):
    secret = enable_totp(password_only_superuser)
    response = client.post(reverse("account_login"), {"login": password_only_superuser.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    response = client.get("/admin/compliance/performerrecord/")
    assert response.status_code == 200
    assert LEGAL_NAME.encode() in response.content


def test_viewers_are_not_affected(client, viewer):
    client.force_login(viewer)
    assert client.get("/me/").status_code == 200
    response = client.get("/admin/")
    assert not response["Location"].startswith(reverse("mfa_activate_totp"))
