"""Reopening a closed account yourself, proven by a code mailed to the old
address: wrong codes and strangers change nothing; the grace period holds."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from marquee.accounts.models import User
from marquee.audit.models import AuditEvent
from marquee.privacy import reopen, services
from marquee.privacy.models import AccountClosure
from tests.factories import UserFactory

EMAIL = "Vivian.Quill@mail.example"


@pytest.fixture
def closed(db, django_capture_on_commit_callbacks):
    cache.clear()
    user = UserFactory(username="vivian-quill", email=EMAIL)
    services.close_account(user=user)
    mail.outbox.clear()
    return user


def _code():
    assert len(mail.outbox) == 1
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def _state(user):
    user.refresh_from_db()
    closure = AccountClosure.objects.get(user=user)
    return user.username, user.is_active, closure.status, closure.restore_name


def test_the_code_mailed_to_the_old_address_reopens(closed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        reopen.start(email=" vivian.quill@MAIL.example ")
    assert mail.outbox[0].to == ["vivian.quill@MAIL.example"]
    assert "vivian" not in mail.outbox[0].subject.lower()

    user = reopen.confirm(email=EMAIL, code=_code())

    assert user.pk == closed.pk
    closed.refresh_from_db()
    assert (closed.username, closed.email, closed.is_active) == ("vivian-quill", EMAIL, True)
    closure = AccountClosure.objects.get(user=closed)
    assert (closure.status, closure.email_digest, closure.restore_name) == ("reopened", "", "")
    assert AuditEvent.objects.filter(action="privacy.account_reopened", target_id=str(closed.pk)).exists()


def test_wrong_codes_change_nothing_and_burn_the_code_after_the_limit(
    closed, settings, django_capture_on_commit_callbacks
):
    settings.PRIVACY_REOPEN_CODE_ATTEMPTS = 3
    with django_capture_on_commit_callbacks(execute=True):
        reopen.start(email=EMAIL)
    code = _code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    before = _state(closed)
    for _ in range(3):
        with pytest.raises(services.PrivacyError) as refused:
            reopen.confirm(email=EMAIL, code=wrong)
        assert (refused.value.code, refused.value.status) == ("reopen_code_invalid", 400)
        assert _state(closed) == before
    # The right code no longer works: three wrong tries burnt it.
    with pytest.raises(services.PrivacyError):
        reopen.confirm(email=EMAIL, code=code)
    assert _state(closed) == before


def test_unknown_address_gets_the_same_answer_and_no_mail(closed, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        unknown = client.post(
            "/api/v1/account/reopen/", {"email": "nobody@mail.example"}, content_type="application/json"
        )
        known = client.post("/api/v1/account/reopen/", {"email": EMAIL}, content_type="application/json")
    assert unknown.status_code == known.status_code == 202
    assert unknown.json() == known.json()
    assert [m.to for m in mail.outbox] == [[EMAIL]]


def test_an_open_account_cannot_be_taken_over_by_its_address(db, django_capture_on_commit_callbacks):
    cache.clear()
    UserFactory(email="open@mail.example")
    with django_capture_on_commit_callbacks(execute=True):
        reopen.start(email="open@mail.example")
    assert mail.outbox == []


def test_no_code_after_the_grace_period(closed, django_capture_on_commit_callbacks):
    later = timezone.now() + datetime.timedelta(days=15)
    with django_capture_on_commit_callbacks(execute=True):
        reopen.start(email=EMAIL, now=later)
    assert mail.outbox == []
    # A code sent in time is refused once the grace period is over.
    with django_capture_on_commit_callbacks(execute=True):
        reopen.start(email=EMAIL)
    with pytest.raises(services.PrivacyError):
        reopen.confirm(email=EMAIL, code=_code(), now=later)
    assert _state(closed)[2] == "closed"


def test_final_closure_forgets_the_address_digest(closed):
    services.finalize_due_closures(now=timezone.now() + datetime.timedelta(days=15))
    assert AccountClosure.objects.get(user=closed).email_digest == ""


def test_web_flow_reopens_and_signs_in(closed, client, django_capture_on_commit_callbacks):
    assert client.get("/accounts/reopen/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post("/accounts/reopen/", {"email": EMAIL})
    assert page.status_code == 200 and b'name="code"' in page.content
    refused = client.post("/accounts/reopen/", {"email": EMAIL, "code": "x"})
    assert refused.status_code == 400 and not User.objects.get(pk=closed.pk).is_active
    done = client.post("/accounts/reopen/", {"email": EMAIL, "code": _code()})
    assert done.status_code == 200 and b"open again" in done.content
    assert client.get("/api/v1/me/close/").status_code == 200  # signed in as the person
