from __future__ import annotations

import pytest
from django.test import override_settings


@pytest.fixture(autouse=True)
def _privacy_settings(tmp_path):
    with override_settings(
        SANDBOX_ENABLED=True,
        SANDBOX_WEBHOOK_SECRET="test-sandbox-secret",
        TOKEN_VALUE_CENTS=10,
        PERFORMER_SHARE_PERCENT=60,
        AGE_VERIFICATION_BEFORE_PURCHASE=False,
        PRIVACY_CLOSURE_GRACE_DAYS=14,
        PRIVATE_MEDIA_ROOT=tmp_path / "private",
    ):
        yield
