import pytest
from django.urls import reverse
from django.utils import timezone

from marquee.accounts.models import User

pytestmark = pytest.mark.django_db


def test_healthz_reports_components(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["cache"]["status"] == "ok"
    assert body["components"]["realtime"]["status"] == "ok"


def test_api_me_requires_auth(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_web_signup_under_18_refused_and_nothing_created(client, mailoutbox):
    from marquee.accounts.models import age_on
    from tests.support.accounts import birthday_years_ago

    birthday = birthday_years_ago(18, days_later=1)  # turns 18 tomorrow
    assert age_on(birthday, timezone.localdate()) == 17
    response = client.post(
        reverse("account_signup"),
        {
            "email": "kid@example.test",
            "username": "kid",
            "password1": "a-long-enough-password-1",
            "password2": "a-long-enough-password-1",
            "date_of_birth": birthday.isoformat(),
        },
    )
    assert response.status_code == 200
    assert "at least 18" in response.content.decode()
    assert not User.objects.filter(email="kid@example.test").exists()
    assert mailoutbox == []


@pytest.mark.skip_ledger_check
def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    from django.db import OperationalError, connection

    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["components"]["database"] == {"status": "down", "error": "OperationalError"}


def test_two_factor_policy_counts_totp_or_keys_not_recovery_codes_alone(viewer, performer):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    from marquee.accounts.selectors import TwoFactorRequired, has_two_factor, require_two_factor

    RecoveryCodes.activate(viewer)
    assert has_two_factor(viewer) is False
    with pytest.raises(TwoFactorRequired):
        require_two_factor(viewer)
    assert has_two_factor(performer.user) is True
    require_two_factor(performer.user)  # does not raise
