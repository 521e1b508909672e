"""Discretion: mail subjects and sender name reveal nothing unless the operator allows it."""

from __future__ import annotations

from django.core import mail as outbox

from marquee.privacy.tests.test_close_account import fund


def test_receipt_subject_is_neutral_and_sender_name_configurable(settings, viewer, django_capture_on_commit_callbacks):
    settings.MAIL_SUBJECT_PREFIX = "[Account] "
    settings.MAIL_SENDER_NAME = "Account Notices"
    settings.DEFAULT_FROM_EMAIL = "Marquee <no-reply@marquee.test>"
    with django_capture_on_commit_callbacks(execute=True):
        fund(viewer, 100)

    (message,) = [m for m in outbox.outbox if m.to == [viewer.email]]
    assert message.subject == "[Account] Your receipt"
    assert message.from_email == "Account Notices <no-reply@marquee.test>"


def test_details_in_subjects_only_when_discretion_is_off(settings, viewer, django_capture_on_commit_callbacks):
    settings.MAIL_DISCREET = False
    settings.MAIL_SUBJECT_PREFIX = ""
    with django_capture_on_commit_callbacks(execute=True):
        fund(viewer, 100)
    assert [m.subject for m in outbox.outbox if m.to == [viewer.email]] == ["Your Marquee receipt: 100 tokens"]


def test_account_mail_uses_the_neutral_sender_and_prefix(settings, client, viewer):
    settings.MAIL_SENDER_NAME = "Account Notices"
    settings.ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Account] "
    client.post("/accounts/password/reset/", {"email": viewer.email})
    (message,) = outbox.outbox
    assert message.from_email.startswith("Account Notices <") and message.subject.startswith("[Account] ")
    assert "Marquee" not in message.subject
