"""allauth's web pages inside the site: signup, code verification, TOTP,
recovery codes, sessions, strict CSP."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.urls import reverse

from marquee.accounts.models import User
from marquee.audit.models import AuditEvent
from tests.factories import PASSWORD
from tests.support.accounts import emailed_code

pytestmark = pytest.mark.django_db


def web_login(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def reauthenticate(client, password=PASSWORD):
    response = client.post(reverse("account_reauthenticate"), {"password": password})
    assert response.status_code == 302


def test_signup_adult_confirms_by_emailed_code_and_is_logged_in(client, mailoutbox):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "new@example.test",
            "username": "newbie",
            "password1": "a-long-enough-password-1",
            "password2": "a-long-enough-password-1",
            "date_of_birth": "2000-02-29",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="new@example.test")
    assert str(user.date_of_birth) == "2000-02-29"
    assert "_auth_user_id" not in client.session  # not logged in before confirming
    assert mailoutbox[0].subject.startswith("[Marquee] ")
    assert "Marquee" in mailoutbox[0].body
    assert "testserver" not in mailoutbox[0].body  # not the request's Host header

    response = client.post(reverse("account_email_verification_sent"), {"code": "WRONG-CODE"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session

    response = client.post(reverse("account_email_verification_sent"), {"code": emailed_code()})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert user.emailaddress_set.get().verified


def test_login_asks_for_the_second_factor(client, performer):
    response = web_login(client, "performer@example.test")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session

    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session

    response = client.post(reverse("mfa_authenticate"), {"code": pyotp.TOTP(performer.totp_secret).now()})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(performer.user_id)


def test_enable_totp_from_the_qr_page_secret(client, viewer, django_capture_on_commit_callbacks):
    web_login(client, "viewer@example.test")
    reauthenticate(client)
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in html  # the QR code
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', html, re.S).group(1)

    with django_capture_on_commit_callbacks(execute=True):  # allauth signals "added" on commit
        response = client.post(reverse("mfa_activate_totp"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=viewer, type=Authenticator.Type.TOTP).exists()
    # allauth generates recovery codes alongside the first authenticator.
    assert Authenticator.objects.filter(user=viewer, type=Authenticator.Type.RECOVERY_CODES).exists()
    added = AuditEvent.objects.filter(action="auth.2fa_added", actor=viewer)
    assert sorted(event.details["type"] for event in added) == ["recovery_codes", "totp"]


def test_recovery_code_works_exactly_once(client, performer):
    RecoveryCodes.activate(performer.user)
    codes = RecoveryCodes(Authenticator.objects.get(user=performer.user, type="recovery_codes")).get_unused_codes()

    web_login(client, "performer@example.test")
    response = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(performer.user_id)
    assert AuditEvent.objects.filter(action="auth.recovery_code_used", actor=performer.user).count() == 1

    client.post(reverse("account_logout"))
    web_login(client, "performer@example.test")
    response = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    # Another unused code still works.
    response = client.post(reverse("mfa_authenticate"), {"code": codes[1]})
    assert response.status_code == 302


def test_removing_totp_is_audited(client, performer):
    web_login(client, "performer@example.test")
    client.post(reverse("mfa_authenticate"), {"code": pyotp.TOTP(performer.totp_secret).now()})
    reauthenticate(client)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=performer.user, type="totp").exists()
    assert AuditEvent.objects.filter(action="auth.2fa_removed", actor=performer.user).exists()


def test_password_change_and_logout_are_audited(client, viewer):
    web_login(client, "viewer@example.test")
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "another-long-password-9", "password2": "another-long-password-9"},
    )
    assert response.status_code == 302
    client.post(reverse("account_logout"))
    actions = list(AuditEvent.objects.filter(actor=viewer).values_list("action", flat=True))
    assert actions == ["auth.login", "auth.password_changed", "auth.logout"]


def test_sessions_page_ends_another_session(client, django_user_model, viewer):
    from django.test import Client

    other = Client()
    web_login(other, "viewer@example.test")
    web_login(client, "viewer@example.test")
    page = client.get(reverse("usersessions_list"))
    assert page.status_code == 200
    response = client.post(reverse("usersessions_list"))  # "sign out other sessions"
    assert response.status_code == 302
    assert other.get(reverse("account")).status_code == 302  # bounced to login
    assert client.get(reverse("account")).status_code == 200
    assert AuditEvent.objects.filter(action="auth.session_revoked", actor=viewer).count() == 1


def test_admin_login_goes_through_allauth(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>")
INLINE_STYLE = re.compile(r"<style|\sstyle=|\son[a-z]+=", re.I)


@pytest.mark.parametrize(
    "url_name",
    [
        "account_email",
        "account_change_password",
        "usersessions_list",
        "mfa_index",
        "mfa_activate_totp",
        "mfa_add_webauthn",
        "mfa_list_webauthn",
        "mfa_generate_recovery_codes",
        "account",
        "performer_apply",
    ],
)
def test_signed_in_pages_render_in_the_layout_under_strict_csp(client, viewer, url_name):
    web_login(client, "viewer@example.test")
    reauthenticate(client)
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="topbar"' in html  # inside the site layout
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert not INLINE_SCRIPT.findall(html)
    assert not INLINE_STYLE.findall(html)


@pytest.mark.parametrize("url_name", ["account_login", "account_signup", "account_reset_password"])
def test_anonymous_auth_pages_render_under_strict_csp(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="topbar"' in html
    assert not INLINE_SCRIPT.findall(html)
    assert not INLINE_STYLE.findall(html)


def test_password_reset_sends_a_link_that_sets_a_new_password(client, viewer, mailoutbox):
    response = client.post(reverse("account_reset_password"), {"email": "viewer@example.test"})
    assert response.status_code == 302
    link = re.search(r"https?://[^\s]+/accounts/password/reset/key/[^\s]+", mailoutbox[0].body).group(0)
    path = urlsplit(link).path
    form_page = client.get(path, follow=True)
    assert form_page.status_code == 200
    response = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else path,
        {"password1": "brand-new-password-77", "password2": "brand-new-password-77"},
    )
    assert response.status_code == 302
    viewer.refresh_from_db()
    assert viewer.check_password("brand-new-password-77")
    assert AuditEvent.objects.filter(action="auth.password_reset", actor=viewer).exists()
