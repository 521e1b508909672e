"""Self-service reopening of a closed account within its grace period.

The e-mail address is erased at closure, so the closure keeps only a keyed
digest of it (HMAC under SECRET_KEY, cleared when the closure is reopened or
becomes final) to find the closure again.  The person proves they still hold
the address with a one-time code mailed to it: a six-digit code kept hashed in
the cache for ``PRIVACY_REOPEN_CODE_MINUTES``, burnt after
``PRIVACY_REOPEN_CODE_ATTEMPTS`` wrong tries.  Starting never says whether an
account exists (same answer, same work) so it cannot probe addresses."""

from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from marquee.audit.services import record_audit
from marquee.lib import mail
from marquee.privacy.models import AccountClosure
from marquee.privacy.services import PrivacyError, email_digest, reopen_account

_SALT = "marquee.privacy.reopen"


def _code_digest(closure_id: int, code: str) -> str:
    return salted_hmac(f"{_SALT}.code", f"{closure_id}:{code}").hexdigest()


def _key(closure_id: int) -> str:
    return f"privacy:reopen:{closure_id}"


def _open_closure(email: str, now: datetime.datetime):
    return AccountClosure.objects.filter(
        email_digest=email_digest(email), status=AccountClosure.Status.CLOSED, final_after__gt=now
    ).first()


def start(*, email: str, now: datetime.datetime | None = None) -> None:
    """Mail a code if ``email`` belongs to an account closed within its grace
    period; otherwise do nothing, and say nothing different."""
    now = now or timezone.now()
    closure = _open_closure(email, now)
    if closure is None:
        return
    code = f"{secrets.randbelow(10**6):06d}"
    cache.set(
        _key(closure.pk),
        {"digest": _code_digest(closure.pk, code), "attempts": 0},
        timeout=settings.PRIVACY_REOPEN_CODE_MINUTES * 60,
    )
    with transaction.atomic():
        record_audit(action="privacy.reopen_code_sent", target=closure.user)
        transaction.on_commit(
            lambda: send_mail(
                subject=mail.subject("Your sign-in code"),
                message=(
                    f"Your code to reopen your account: {code}\n\n"
                    f"It is valid for {settings.PRIVACY_REOPEN_CODE_MINUTES} minutes. "
                    "If you did not ask for it, ignore this message."
                ),
                from_email=mail.sender(),
                recipient_list=[email.strip()],
                fail_silently=True,
            )
        )


def confirm(*, email: str, code: str, now: datetime.datetime | None = None):
    """Reopen the account if ``code`` is the one mailed to ``email``; returns
    the user.  A wrong code counts against the attempts and changes nothing else."""
    now = now or timezone.now()
    invalid = PrivacyError("reopen_code_invalid", "This code is wrong or has expired; ask for a new one.", 400)
    closure = _open_closure(email, now)
    if closure is None:
        raise invalid
    key = _key(closure.pk)
    pending = cache.get(key)
    if pending is None:
        raise invalid
    if not constant_time_compare(pending["digest"], _code_digest(closure.pk, code.strip())):
        attempts = pending["attempts"] + 1
        if attempts >= settings.PRIVACY_REOPEN_CODE_ATTEMPTS:
            cache.delete(key)
        else:
            cache.set(key, {**pending, "attempts": attempts}, timeout=settings.PRIVACY_REOPEN_CODE_MINUTES * 60)
        raise invalid
    cache.delete(key)  # one use, even if the reopen below is refused
    return reopen_account(closure=closure, now=now).user
