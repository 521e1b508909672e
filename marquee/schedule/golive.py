"""Go-live notifications to followers: in-app, e-mail and Web Push, each
opt-in per follow.

``shows.services.start_publish`` sends the ``show.started`` domain event; its
subscriber (``subscribers.on_show_started``) queues ``tasks.notify_followers_live`` after commit, and the task
calls ``notify_followers_live`` here.  Push previews name no performer unless
the device allowed it (``PushSubscription.show_names``): a lock screen is
public.  Push uses pywebpush (VAPID signature, aes128gcm payload encryption)."""

from __future__ import annotations

import base64
import json
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q

from marquee.audit.services import record_audit
from marquee.compliance import policy
from marquee.lib import mail
from marquee.lib.errors import DomainError
from marquee.performers.models import Follow, Performer
from marquee.schedule.golive_models import PushSubscription
from marquee.schedule.models import Notification
from marquee.shows.models import Show

logger = logging.getLogger(__name__)

NEUTRAL_TITLE = "Someone you follow is live"
NEUTRAL_BODY = "Tap to watch."


# --- preferences and subscriptions ---------------------------------------------------


def set_follow_notifications(*, user, performer: Performer, app: bool, email: bool, push: bool) -> Follow:
    with transaction.atomic():
        follow = Follow.objects.select_for_update().filter(user=user, performer=performer).first()
        if follow is None:
            raise DomainError("not_following", "Follow this performer first.", 404)
        follow.notify_app, follow.notify_email, follow.notify_push = app, email, push
        follow.save(update_fields=["notify_app", "notify_email", "notify_push"])
    return follow


def subscribe_push(*, user, endpoint: str, p256dh: str, auth: str, show_names: bool, request=None) -> PushSubscription:
    """Register (or move to ``user``) a browser's subscription."""
    _require_push_service(endpoint)
    _require_key(p256dh, 65, "p256dh")
    _require_key(auth, 16, "auth")
    with transaction.atomic():
        try:
            subscription, _ = PushSubscription.objects.update_or_create(
                endpoint=endpoint, defaults={"user": user, "p256dh": p256dh, "auth": auth, "show_names": show_names}
            )
        except IntegrityError:  # a concurrent registration of the same endpoint won
            subscription = PushSubscription.objects.get(endpoint=endpoint)
        record_audit(action="push.subscribed", actor=user, request=request, target=subscription)
    return subscription


def _require_push_service(endpoint: str) -> None:
    """The worker POSTs to this URL: only known push services (settings), so a
    subscription cannot aim the worker at an internal address."""
    url = urlsplit(endpoint)
    host = (url.hostname or "").lower()
    allowed = any(host == h or host.endswith("." + h) for h in settings.WEBPUSH_ENDPOINT_HOSTS)
    if url.scheme not in settings.WEBPUSH_ENDPOINT_SCHEMES or not allowed:
        raise DomainError("push_endpoint_invalid", "This is not a push service this site sends to.", 400)


def _require_key(value: str, size: int, name: str) -> None:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (ValueError, TypeError):
        raw = b""
    if len(raw) != size:
        raise DomainError("push_key_invalid", f"The subscription's {name} key is not valid.", 400)


def unsubscribe_push(*, user, endpoint: str) -> bool:
    return bool(PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()[0])


def vapid_public_key() -> str:
    """The application server key a browser subscribes with (base64url, uncompressed point)."""
    if not settings.WEBPUSH_VAPID_PRIVATE_KEY:
        return ""
    from cryptography.hazmat.primitives import serialization

    point = _vapid().public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def _vapid():
    from py_vapid import Vapid

    return Vapid.from_string(private_key=settings.WEBPUSH_VAPID_PRIVATE_KEY)


# --- the fan-out ----------------------------------------------------------------------


def push_preview(*, performer: Performer, show_names: bool) -> dict:
    url = f"/rooms/{performer.user.username}/"
    if show_names:
        return {"title": f"{performer.display_name} is live", "body": NEUTRAL_BODY, "url": url}
    return {"title": NEUTRAL_TITLE, "body": NEUTRAL_BODY, "url": url}


def notify_followers_live(*, show_id: int) -> dict[str, int]:
    """Each follower gets what they opted into, once per show (a re-run of
    the task skips who was done: in-app by its unique row, e-mail and push
    by a per-show marker in the cache)."""
    show = Show.objects.select_related("performer__user").filter(pk=show_id, status=Show.Status.LIVE).first()
    counts = {"app": 0, "email": 0, "push": 0}
    if show is None:
        return counts  # ended before the worker got to it
    performer = show.performer
    if not policy.may_announce_to_unlocated(performer):
        return counts  # a follower may be where the performer is hidden (region blocks, travel mode)
    url = f"/rooms/{performer.user.username}/"
    follows = (
        Follow.objects.filter(performer=performer, user__is_active=True)
        .filter(Q(notify_app=True) | Q(notify_email=True) | Q(notify_push=True))
        .select_related("user")
        .order_by("pk")
    )
    for follow in follows.iterator(chunk_size=500):
        if follow.notify_app and _notify_in_app(show, follow.user):
            counts["app"] += 1
        if not cache.add(f"golive:{show.pk}:{follow.user_id}", 1, timeout=24 * 3600):
            continue
        if follow.notify_email and follow.user.email:
            send_mail(
                subject=mail.subject(NEUTRAL_TITLE, f"{performer.display_name} is live"),
                message=f"{performer.display_name} is live now.\n\n{settings.SITE_URL}{url}",
                from_email=mail.sender(),
                recipient_list=[follow.user.email],
                fail_silently=True,
            )
            counts["email"] += 1
        if follow.notify_push:
            counts["push"] += send_push(user=follow.user, performer=performer)
    return counts


def _notify_in_app(show: Show, user) -> bool:
    try:
        with transaction.atomic():
            Notification.objects.create(
                user=user,
                show=show,
                kind=Notification.Kind.SHOW_LIVE,
                text=f"{show.performer.display_name} is live: {show.title}",
                url=f"/rooms/{show.performer.user.username}/",
            )
    except IntegrityError:
        return False  # already told about this show
    return True


def send_push(*, user, performer: Performer) -> int:
    """Push to every device of ``user``; a subscription the push service
    says is gone (404/410) is deleted.  Returns how many were accepted."""
    if not settings.WEBPUSH_VAPID_PRIVATE_KEY:
        return 0
    from pywebpush import WebPushException, webpush

    sent = 0
    for subscription in PushSubscription.objects.filter(user=user):
        payload = push_preview(performer=performer, show_names=subscription.show_names)
        try:
            webpush(
                subscription_info={
                    "endpoint": subscription.endpoint,
                    "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
                },
                data=json.dumps(payload),
                vapid_private_key=_vapid(),
                vapid_claims={"sub": settings.WEBPUSH_VAPID_SUBJECT},
                timeout=settings.WEBPUSH_TIMEOUT_SECONDS,
                ttl=600,
            )
            sent += 1
        except WebPushException as exc:
            status = getattr(exc.response, "status_code", None)
            if status in (404, 410):
                subscription.delete()
            else:
                logger.warning("push to subscription %s failed: %s", subscription.pk, status or exc)
    return sent
