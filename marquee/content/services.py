"""Writes of the content app: sets, uploads, previews, purchases."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from marquee.audit.services import record_audit
from marquee.billing import prices
from marquee.content.models import ContentPurchase, MediaItem, MediaSet
from marquee.content.uploads import UploadRefused, clean_upload
from marquee.lib.errors import DomainError
from marquee.lib.fields import clip

MAX_ITEMS_PER_SET = 200


class ContentError(DomainError):
    """A refused content action (set, upload, purchase)."""


def _validate_set(*, title: str, free_for_subscribers: bool, price_tokens: int) -> str:
    title = (title or "").strip()
    if not title:
        raise ContentError("bad_title", "Give the set a title.")
    try:
        prices.check_set_price_tokens(price_tokens)
    except prices.PriceError as exc:
        raise ContentError(exc.code, exc.message, exc.status) from None
    if not free_for_subscribers and price_tokens == 0:
        raise ContentError("no_way_in", "Make the set free for subscribers, give it a price, or both.")
    return clip(title, MediaSet, "title")


@transaction.atomic
def create_set(
    *,
    performer,
    title: str,
    description: str = "",
    free_for_subscribers: bool = True,
    price_tokens: int = 0,
    request=None,
) -> MediaSet:
    title = _validate_set(title=title, free_for_subscribers=free_for_subscribers, price_tokens=price_tokens)
    media_set = MediaSet.objects.create(
        performer=performer,
        title=title,
        description=clip(description.strip(), MediaSet, "description"),
        free_for_subscribers=free_for_subscribers,
        price_tokens=price_tokens,
    )
    record_audit(action="content.set_created", actor=performer.user, request=request, target=media_set)
    return media_set


@transaction.atomic
def update_set(
    *,
    media_set: MediaSet,
    title: str,
    description: str,
    free_for_subscribers: bool,
    price_tokens: int,
    is_published: bool,
    request=None,
) -> MediaSet:
    title = _validate_set(title=title, free_for_subscribers=free_for_subscribers, price_tokens=price_tokens)
    if is_published and not media_set.items.filter(status=MediaItem.Status.READY).exists():
        raise ContentError("empty_set", "Upload at least one file before publishing.")
    MediaSet.objects.filter(pk=media_set.pk).update(
        title=title,
        description=clip(description.strip(), MediaSet, "description"),
        free_for_subscribers=free_for_subscribers,
        price_tokens=price_tokens,
        is_published=is_published,
    )
    media_set.refresh_from_db()
    record_audit(
        action="content.set_updated",
        actor=media_set.performer.user,
        request=request,
        target=media_set,
        details={"published": is_published, "price_tokens": price_tokens},
    )
    return media_set


def upload_item(*, media_set: MediaSet, upload, request=None) -> MediaItem:
    """Check and clean the file (outside the transaction: it can take a while),
    then store it and queue its thumbnail/preview."""
    if media_set.items.count() >= MAX_ITEMS_PER_SET:
        raise ContentError("set_full", f"A set holds at most {MAX_ITEMS_PER_SET} files.")
    try:
        clean = clean_upload(upload)
    except UploadRefused as exc:
        raise ContentError(exc.code, exc.message, exc.status) from None
    try:
        with transaction.atomic():
            item = MediaItem(
                media_set=media_set,
                kind=clean.kind,
                mime=clean.mime,
                size_bytes=clean.file.size,
                width=clean.width,
                height=clean.height,
            )
            item.file.save(clean.file.name, clean.file, save=False)
            item.save()
            record_audit(
                action="content.uploaded",
                actor=media_set.performer.user,
                request=request,
                target=item,
                details={"kind": clean.kind, "bytes": item.size_bytes},
            )
            transaction.on_commit(lambda: _queue_previews(item.pk))
    finally:
        clean.file.close()
    return item


def _queue_previews(item_id: int) -> None:
    from marquee.content.tasks import make_previews

    make_previews.delay(item_id)


@transaction.atomic
def delete_item(*, item: MediaItem, request=None) -> None:
    files = [f for f in (item.file, item.thumbnail, item.preview) if f]
    names = [(f.storage, f.name) for f in files]
    record_audit(action="content.deleted", actor=item.media_set.performer.user, request=request, target=item)
    item.delete()
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in names])


def take_down_set(*, media_set: MediaSet, actor, reason: str, request=None) -> bool:
    """Staff unpublish a set (buyers keep what they bought; the performer may
    fix it and publish again).  False if it was not published."""
    with transaction.atomic():
        if not MediaSet.objects.filter(pk=media_set.pk, is_published=True).update(is_published=False):
            return False
        record_audit(
            action="content.taken_down",
            actor=actor,
            request=request,
            target=media_set,
            details={"reason": (reason or "")[: settings.AUDIT_DETAIL_MAX_CHARS]},
        )
    media_set.refresh_from_db()
    return True


def purchase_set(*, user, media_set: MediaSet, location, request=None) -> ContentPurchase:
    """Buy a set with tokens: one token spend through the money module (wallet
    → performer pending earnings + platform fee, like a tip) and the purchase
    row, together.  Buying twice, even at the same moment, returns the first
    purchase and moves nothing."""
    from marquee.billing import money
    from marquee.compliance import policy
    from marquee.ledger.models import TransferKind

    allowed = policy.can_purchase(user, location)
    if not allowed:
        raise ContentError(allowed.code, allowed.message, allowed.status)
    performer = media_set.performer
    if (
        not media_set.is_published
        or media_set.price_tokens <= 0
        or not policy.can_view_performer(user, performer, location)
    ):
        raise ContentError("not_for_sale", "This set is not for sale.", 404)
    if user.pk == performer.user_id:
        raise ContentError("own_set", "This is your own set.", 400)
    if not (earns := policy.can_earn(performer)):
        raise ContentError(earns.code, earns.message, earns.status)
    existing = ContentPurchase.objects.filter(user=user, media_set=media_set).first()
    if existing is not None:
        return existing
    tokens = media_set.price_tokens
    try:
        with transaction.atomic():
            transfer, _ = money.spend_tokens(
                kind=TransferKind.CONTENT,
                user=user,
                performer=performer,
                tokens=tokens,
                idempotency_key=money.content_key(user, media_set),
                source_type="content.mediaset",
                source_id=media_set.pk,
                memo=f"content set {media_set.pk}",
            )
            purchase = ContentPurchase.objects.create(
                user=user, media_set=media_set, price_tokens=tokens, ledger_reference=f"transfer:{transfer.pk}"
            )
            record_audit(
                action="content.purchased", actor=user, request=request, target=media_set, details={"tokens": tokens}
            )
    except money.NotEnoughTokens:
        raise ContentError("insufficient_tokens", f"You need {tokens} tokens to buy this set.", 402) from None
    except IntegrityError:
        # The same buyer twice at the same moment: the other request won.
        existing = ContentPurchase.objects.filter(user=user, media_set=media_set).first()
        if existing is None:
            raise
        return existing
    return purchase
