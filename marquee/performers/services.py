from __future__ import annotations

import hashlib
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from marquee.audit.services import record_audit
from marquee.lib import domain_events
from marquee.lib.errors import DomainError
from marquee.performers.models import Follow, Performer


@transaction.atomic
def follow_performer(*, user, performer: Performer) -> bool:
    """Returns True when a new follow was created."""
    if user.pk == performer.user_id:
        return False
    try:
        with transaction.atomic():
            Follow.objects.create(user=user, performer=performer)
    except IntegrityError:
        return False
    domain_events.send("performer.followed", user_id=user.pk, performer_id=performer.pk)
    return True


@transaction.atomic
def unfollow_performer(*, user, performer: Performer) -> bool:
    deleted, _ = Follow.objects.filter(user=user, performer=performer).delete()
    return bool(deleted)


class ApplicationRefused(DomainError):
    """The user may not become a performer (message says why)."""


@transaction.atomic
def apply_as_performer(*, user, display_name: str, request=None) -> Performer:
    """Create the user's performer profile, unverified until staff review
    their documents.  Applying twice returns the existing profile."""
    if not user.is_adult:
        raise ApplicationRefused(
            "application_refused", "Only adults with a date of birth on file can apply to perform.", 403
        )
    display_name = display_name.strip()
    if not display_name:
        raise ApplicationRefused("bad_display_name", "Choose a display name.")
    performer, created = Performer.objects.get_or_create(
        user=user, defaults={"display_name": display_name, "verification_status": Performer.Verification.UNVERIFIED}
    )
    if created:
        record_audit(action="performer.applied", actor=user, request=request, target=performer)
    return performer


def hash_stream_key(secret: str) -> str:
    """Stream keys are 256-bit random secrets, so one SHA-256 is enough (no
    slow hash needed: there is nothing to brute-force)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def regenerate_stream_key(*, performer: Performer, actor=None, request=None) -> str:
    """A new stream key; the old one stops working at once (and a stream
    published with it is cut on its next media update).  Returns the secret:
    the only time it exists outside the publisher's OBS."""
    secret = secrets.token_urlsafe(32)
    had_key = bool(performer.stream_key_hash)
    performer.stream_key_hash = hash_stream_key(secret)
    performer.stream_key_rotated_at = timezone.now()
    performer.save(update_fields=["stream_key_hash", "stream_key_rotated_at"])
    record_audit(
        action="performer.stream_key_regenerated",
        actor=actor,
        request=request,
        target=performer,
        details={"replaced_key": had_key},
    )
    return secret


def suspend_performer(*, performer: Performer, actor, reason: str, request=None) -> bool:
    """Staff suspend a room: no going live, selling or being listed; a live
    stream is cut at the media server's next update (``check_publish``)."""
    reason = (reason or "").strip()[:300] or "Suspended by staff."
    with transaction.atomic():
        if not Performer.objects.filter(pk=performer.pk, is_suspended=False).update(
            is_suspended=True, suspended_reason=reason
        ):
            return False
        record_audit(
            action="performer.suspended", actor=actor, request=request, target=performer, details={"reason": reason}
        )
    performer.refresh_from_db()
    return True


def unsuspend_performer(*, performer: Performer, actor, request=None) -> bool:
    with transaction.atomic():
        if not Performer.objects.filter(pk=performer.pk, is_suspended=True).update(
            is_suspended=False, suspended_reason=""
        ):
            return False
        record_audit(action="performer.unsuspended", actor=actor, request=request, target=performer)
    performer.refresh_from_db()
    return True
