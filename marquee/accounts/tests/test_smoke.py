import pytest
from django.urls import reverse

from marquee.accounts.models import User

pytestmark = pytest.mark.django_db


def test_healthz_reports_components(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["cache"]["status"] == "ok"
    assert body["components"]["channel_layer"]["status"] == "ok"


def test_api_me_requires_auth(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_web_signup_under_18_refused_and_nothing_created(client):
    import datetime

    from django.utils import timezone

    today = timezone.localdate()
    seventeen = today.replace(year=today.year - 17)
    response = client.post(
        reverse("account_signup"),
        {
            "email": "kid@example.test",
            "username": "kid",
            "password1": "a-long-enough-password-1",
            "password2": "a-long-enough-password-1",
            "date_of_birth": seventeen.isoformat(),
        },
    )
    assert response.status_code == 200
    assert "at least 18" in response.content.decode()
    assert not User.objects.filter(email="kid@example.test").exists()
    _ = datetime
