"""What recommendations learns from the domain: each domain event (sent on
commit by billing, chat, shows, performers) becomes one implicit-feedback
interaction.  Wired in ``RecommendationsConfig.ready``."""

from __future__ import annotations

from marquee.lib import domain_events
from marquee.recommendations import tracking

# Tickets (and private shows) and subscriptions are strong signals; token
# packs say nothing about a performer.
_PURCHASE_KINDS = {"ticket": "ticket", "private": "ticket", "subscription": "subscription"}


def on_followed(*, user_id, performer_id) -> None:
    tracking.record(user_id=user_id, performer_id=performer_id, kind="follow")


def on_watched(*, user_id, performer_id, seconds) -> None:
    tracking.record(user_id=user_id, performer_id=performer_id, kind="watch", weight=seconds)


def on_chat_posted(*, user_id, performer_id) -> None:
    tracking.record(user_id=user_id, performer_id=performer_id, kind="chat")


def on_purchase_completed(*, user_id, performer_id, product) -> None:
    kind = _PURCHASE_KINDS.get(product)
    if kind and performer_id:
        tracking.record(user_id=user_id, performer_id=performer_id, kind=kind)


def on_subscription_extended(*, user_id, performer_id) -> None:
    tracking.record(user_id=user_id, performer_id=performer_id, kind="subscription")


def on_tip_sent(*, user_id, performer_id, tokens) -> None:
    tracking.record(user_id=user_id, performer_id=performer_id, kind="tip", weight=tokens)


def connect() -> None:
    domain_events.subscribe("performer.followed", on_followed)
    domain_events.subscribe("show.watched", on_watched)
    domain_events.subscribe("chat.posted", on_chat_posted)
    domain_events.subscribe("purchase.completed", on_purchase_completed)
    domain_events.subscribe("subscription.extended", on_subscription_extended)
    domain_events.subscribe("tip.sent", on_tip_sent)
