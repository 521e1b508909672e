from __future__ import annotations

from django.db import IntegrityError, transaction

from marquee.compliance.services import record_audit
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
    return True


@transaction.atomic
def unfollow_performer(*, user, performer: Performer) -> bool:
    deleted, _ = Follow.objects.filter(user=user, performer=performer).delete()
    return bool(deleted)


class ApplicationRefused(Exception):
    """The user may not become a performer (message says why)."""


@transaction.atomic
def apply_as_performer(*, user, display_name: str, request=None) -> Performer:
    """Create the user's performer profile, unverified until staff review
    their documents.  Applying twice returns the existing profile."""
    if not user.is_adult:
        raise ApplicationRefused("Only adults with a date of birth on file can apply to perform.")
    display_name = display_name.strip()
    if not display_name:
        raise ApplicationRefused("Choose a display name.")
    performer, created = Performer.objects.get_or_create(
        user=user, defaults={"display_name": display_name, "verification_status": Performer.Verification.UNVERIFIED}
    )
    if created:
        record_audit(action="performer.applied", actor=user, request=request, target=performer)
    return performer
