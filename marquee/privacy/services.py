"""Writes of the privacy capability: closing and reopening an account and
making a closure final.  What is erased, kept and why is listed in
docs/privacy.md (rendered from ``policy.CATEGORIES``)."""

from __future__ import annotations

import datetime
import json
from importlib import import_module

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.db import transaction
from django.utils import timezone

from marquee.audit.services import record_audit
from marquee.billing import money
from marquee.billing.models import Payout, Subscription
from marquee.chat.models import ChatMessage
from marquee.compliance import crypto
from marquee.compliance.models import AgeVerification
from marquee.ledger import selectors as ledger_selectors
from marquee.lib.errors import DomainError
from marquee.performers.models import Follow, Performer, RoomModerator
from marquee.privacy import exports
from marquee.privacy.models import AccountClosure, DataExport
from marquee.recommendations.models import Interaction, ViewerBlock
from marquee.schedule.models import Notification

DELETED_AUTHOR = "deleted user"
_IDENTITY_FIELDS = ("username", "email", "first_name", "last_name", "timezone")


class PrivacyError(DomainError):
    pass


def pseudonym_for(user) -> str:
    """Stable and meaningless: the same closed user always reads the same."""
    return f"deleted-{user.pk}"


def close_account(*, user, request=None, now: datetime.datetime | None = None) -> AccountClosure:
    """Close ``user``'s account: refuse what cannot close yet, then erase or
    pseudonymise personal data in one transaction and record it as its own
    audit event (earlier audit rows stay as they were, so the chain verifies)."""
    now = now or timezone.now()
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=user.pk)
        if AccountClosure.objects.filter(user=user).exclude(status=AccountClosure.Status.REOPENED).exists():
            raise PrivacyError("already_closed", "This account is already closed.", 409)
        performer = Performer.objects.filter(user=user).first()
        if performer is not None:
            _require_settled(performer)
        if ledger_selectors.held_tokens(user):
            raise PrivacyError(
                "tokens_held", "A private show or other hold is still open; end it before closing your account.", 409
            )
        if Subscription.objects.filter(user=user, status=Subscription.Status.ACTIVE).exists():
            raise PrivacyError(
                "subscriptions_active", "Cancel your active subscriptions before closing your account.", 409
            )

        restore_name = crypto.write_private("closures", json.dumps(_identity(user, performer)).encode())
        tokens = ledger_selectors.available_tokens(user)
        if tokens > 0:
            money.forfeit_tokens(user=user, tokens=tokens, idempotency_key=f"closure:{user.pk}:{now.isoformat()}")
        closure, _ = AccountClosure.objects.update_or_create(
            user=user,
            defaults={
                "status": AccountClosure.Status.CLOSED,
                "closed_at": now,
                "final_after": now + datetime.timedelta(days=settings.PRIVACY_CLOSURE_GRACE_DAYS),
                "finalized_at": None,
                "reopened_at": None,
                "restore_name": restore_name,
                "tokens_forfeited": tokens,
            },
        )
        session_keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
        _erase(user, performer)
        record_audit(
            action="privacy.account_closed",
            actor_id=user.pk,
            target=user,
            details={"tokens_forfeited": tokens, "final_after": closure.final_after.isoformat()},
        )
        transaction.on_commit(lambda: _end_sessions(session_keys))
    return closure


def _require_settled(performer) -> None:
    balances = ledger_selectors.performer_balances(performer)
    in_flight = Payout.objects.filter(performer=performer, status=Payout.Status.REQUESTED).exists()
    if in_flight or any(balances.values()):
        raise PrivacyError(
            "payouts_unsettled",
            "Your earnings must be paid out and every payout settled before you close your account.",
            409,
            balances=balances,
        )


def _identity(user, performer) -> dict:
    identity = {name: getattr(user, name) for name in _IDENTITY_FIELDS}
    identity["date_of_birth"] = user.date_of_birth.isoformat() if user.date_of_birth else None
    if performer is not None:
        identity["performer"] = {"display_name": performer.display_name, "bio": performer.bio}
    return identity


def _erase(user, performer) -> None:
    pseudonym = pseudonym_for(user)
    EmailAddress.objects.filter(user=user).delete()
    for name in DataExport.objects.filter(user=user).exclude(storage_name="").values_list("storage_name", flat=True):
        transaction.on_commit(lambda name=name: crypto.delete_private(name))
    DataExport.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    UserSession.objects.filter(user=user).delete()
    Follow.objects.filter(user=user).delete()
    Notification.objects.filter(user=user).delete()
    Interaction.objects.filter(user=user).delete()
    ViewerBlock.objects.filter(user=user).delete()
    RoomModerator.objects.filter(user=user).delete()
    ChatMessage.objects.filter(author=user).update(author_name=DELETED_AUTHOR)
    # The outcome of age verification is kept (the law), never its documents.
    for verification in AgeVerification.objects.filter(user=user).exclude(document_path=""):
        path = verification.document_path
        transaction.on_commit(lambda path=path: crypto.delete_private(path))
    AgeVerification.objects.filter(user=user).update(document_path="", provider_reference="")
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(user), object_id=str(user.pk)).update(
        object_repr=pseudonym
    )
    if performer is not None:
        avatar = performer.avatar.name
        Performer.objects.filter(pk=performer.pk).update(
            display_name=pseudonym,
            bio="",
            room_topic="",
            tip_goal_label="",
            avatar="",
            is_suspended=True,
            suspended_reason="account closed",
        )
        if avatar:
            transaction.on_commit(lambda: performer.avatar.storage.delete(avatar))
    user.username = pseudonym
    user.email = f"{pseudonym}@closed.invalid"
    user.first_name = user.last_name = ""
    user.date_of_birth = None
    user.timezone = "UTC"
    user.is_active = False
    user.set_unusable_password()
    user.save()


def _end_sessions(session_keys) -> None:
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in session_keys:
        store(session_key=key).delete()


def reopen_account(*, closure: AccountClosure, now: datetime.datetime | None = None) -> AccountClosure:
    """Undo a closure within its grace period: the login identity comes back
    (the person sets a new password through a reset); erased history does not."""
    now = now or timezone.now()
    with transaction.atomic():
        closure = AccountClosure.objects.select_for_update().select_related("user").get(pk=closure.pk)
        if closure.status != AccountClosure.Status.CLOSED or closure.final_after <= now:
            raise PrivacyError("closure_final", "This account can no longer be reopened.", 409)
        identity = json.loads(crypto.read_private(closure.restore_name))
        user = closure.user
        if get_user_model().objects.filter(username=identity["username"]).exclude(pk=user.pk).exists():
            raise PrivacyError("username_taken", "Your old username is taken; contact support to reopen.", 409)
        for name in _IDENTITY_FIELDS:
            setattr(user, name, identity[name])
        dob = identity["date_of_birth"]
        user.date_of_birth = datetime.date.fromisoformat(dob) if dob else None
        user.is_active = True
        user.save()
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        if "performer" in identity:
            Performer.objects.filter(user=user).update(**identity["performer"])
        name = closure.restore_name
        closure.status, closure.reopened_at, closure.restore_name = AccountClosure.Status.REOPENED, now, ""
        closure.save(update_fields=["status", "reopened_at", "restore_name"])
        record_audit(action="privacy.account_reopened", actor_id=user.pk, target=user)
        transaction.on_commit(lambda: crypto.delete_private(name))
    return closure


def finalize_due_closures(*, now: datetime.datetime | None = None) -> int:
    """Closures past their grace period become final: the encrypted identity
    copy is deleted, so nothing can bring the personal data back."""
    now = now or timezone.now()
    done = 0
    for pk in AccountClosure.objects.filter(status=AccountClosure.Status.CLOSED, final_after__lte=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            closure = AccountClosure.objects.select_for_update().get(pk=pk)
            if closure.status != AccountClosure.Status.CLOSED:
                continue
            name = closure.restore_name
            closure.status, closure.finalized_at, closure.restore_name = AccountClosure.Status.FINAL, now, ""
            closure.save(update_fields=["status", "finalized_at", "restore_name"])
            record_audit(action="privacy.account_erasure_final", target=closure.user)
            transaction.on_commit(lambda name=name: crypto.delete_private(name))
            done += 1
    return done


# --- download my data ----------------------------------------------------------------

EXPORT_SALT = "marquee.privacy.export"


def request_export(*, user, request=None, now: datetime.datetime | None = None) -> DataExport:
    """Queue an archive of everything held about ``user``; one at a time."""
    from marquee.privacy import tasks

    now = now or timezone.now()
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        pending = DataExport.objects.filter(user=user, status=DataExport.Status.PENDING).first()
        if pending is not None:
            return pending
        export = DataExport.objects.create(user=user, requested_at=now)
        record_audit(action="privacy.export_requested", actor=user, request=request, target=export)
        transaction.on_commit(lambda: tasks.build_export.delay(export.pk))
    return export


def build_export(*, export_id: int, now: datetime.datetime | None = None) -> DataExport:
    now = now or timezone.now()
    export = DataExport.objects.select_related("user").get(pk=export_id)
    if export.status != DataExport.Status.PENDING:
        return export
    storage_name = crypto.write_private("exports", exports.build_archive(export.user))
    with transaction.atomic():
        export = DataExport.objects.select_for_update().get(pk=export_id)
        export.status, export.ready_at, export.storage_name = DataExport.Status.READY, now, storage_name
        export.expires_at = now + datetime.timedelta(hours=settings.PRIVACY_EXPORT_LINK_HOURS)
        export.save(update_fields=["status", "ready_at", "storage_name", "expires_at"])
        record_audit(action="privacy.export_ready", target=export, details={"user_id": export.user_id})
    return export


def export_token(export: DataExport) -> str:
    return signing.dumps({"export": export.pk}, salt=EXPORT_SALT)


def download_export(*, user, token: str, request=None, now: datetime.datetime | None = None) -> bytes:
    """The archive behind a signed link, for its owner only, until it expires."""
    now = now or timezone.now()
    not_found = PrivacyError("export_not_found", "This download link is invalid or has expired.", 404)
    try:
        payload = signing.loads(token, salt=EXPORT_SALT, max_age=settings.PRIVACY_EXPORT_LINK_HOURS * 3600)
    except signing.BadSignature:
        raise not_found from None
    export = DataExport.objects.filter(pk=payload.get("export"), user=user, status=DataExport.Status.READY).first()
    if export is None or export.expires_at <= now:
        raise not_found
    data = crypto.read_private(export.storage_name)
    with transaction.atomic():
        record_audit(action="privacy.export_downloaded", actor=user, request=request, target=export)
    return data


def expire_exports(*, now: datetime.datetime) -> int:
    done = 0
    for export in DataExport.objects.filter(status=DataExport.Status.READY, expires_at__lte=now):
        crypto.delete_private(export.storage_name)
        DataExport.objects.filter(pk=export.pk).update(status=DataExport.Status.EXPIRED, storage_name="")
        done += 1
    return done
