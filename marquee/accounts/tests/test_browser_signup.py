"""A person signs up, confirms by the e-mailed code, turns on TOTP from the QR
page, logs out and logs back in with a code — in Chromium."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from django.core import mail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-enough-password-1"


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.csp_errors = []
    page.on(
        "console",
        lambda msg: page.csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return page


def submit(page, label):
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name=label).click()


def test_signup_confirm_enable_totp_logout_login(transactional_db, live_server, page, mailoutbox):
    url = live_server.url
    page.goto(f"{url}/accounts/signup/")
    page.fill("input[name=email]", "nova@example.test")
    page.fill("input[name=username]", "nova")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.fill("input[name=date_of_birth]", "1994-03-12")
    submit(page, "Sign Up")

    # Confirm with the code from the e-mail.
    assert "/accounts/confirm-email/" in page.url
    code = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", mail.outbox[-1].body, re.MULTILINE).group(1)
    page.fill("input[name=code]", code)
    submit(page, "Confirm")
    assert page.locator("#site-nav a[href='/me/']").inner_text() == "nova"  # logged in

    # Two-factor: the QR page (after re-entering the password).
    page.goto(f"{url}/accounts/2fa/totp/activate/")
    if "/reauthenticate/" in page.url:
        page.fill("input[name=password]", PASSWORD)
        submit(page, "Confirm")
    assert page.locator("img[src^='data:image/svg+xml']").is_visible()  # the QR code
    secret = page.input_value("#authenticator_secret")
    page.fill("input[name=code]", pyotp.TOTP(secret).now())
    submit(page, "Activate")
    assert "/accounts/2fa/" in page.url

    # Log out from the header, then log back in: the code is asked for.
    page.get_by_role("button", name="Menu").click()  # the phone layout folds the nav
    with page.expect_navigation():
        page.locator("#site-nav").get_by_role("button", name="Log out").click()
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=login]", "nova@example.test")
    page.fill("input[name=password]", PASSWORD)
    submit(page, "Sign In")
    assert "/accounts/2fa/authenticate/" in page.url
    # The next time step (allowed by the ±1 tolerance): the activation code was single-use.
    page.fill("input[name=code]", pyotp.TOTP(secret).at(time.time() + 30))
    submit(page, "Sign In")
    page.goto(f"{url}/me/")
    assert page.locator("h1").inner_text() == "Your account"
    assert page.locator("#mfa-heading + p .badge").text_content() == "On"
    assert page.csp_errors == []


def test_security_key_added_and_used_to_log_in(transactional_db, viewer, live_server, page):
    """WebAuthn with Chromium's virtual authenticator (no hardware)."""
    from allauth.mfa.models import Authenticator

    from tests.factories import PASSWORD as VIEWER_PASSWORD

    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": False,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    url = live_server.url
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=login]", "viewer@example.test")
    page.fill("input[name=password]", VIEWER_PASSWORD)
    submit(page, "Sign In")
    page.goto(f"{url}/accounts/2fa/webauthn/add/")
    if "/reauthenticate/" in page.url:
        page.fill("input[name=password]", VIEWER_PASSWORD)
        submit(page, "Confirm")
    with page.expect_navigation():
        page.locator("#mfa_webauthn_add").click()
    assert Authenticator.objects.filter(user=viewer, type=Authenticator.Type.WEBAUTHN).exists()

    page.context.clear_cookies()
    page.goto(f"{url}/accounts/login/")
    page.fill("input[name=login]", "viewer@example.test")
    page.fill("input[name=password]", VIEWER_PASSWORD)
    submit(page, "Sign In")
    assert "/accounts/2fa/authenticate/" in page.url
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Use a security key").click()
    page.goto(f"{url}/me/")
    assert page.locator("h1").inner_text() == "Your account"
    assert page.csp_errors == []
