"""Tips: tokens from a viewer's wallet to a performer, in one transaction."""

from __future__ import annotations

from functools import cache

from django.db import IntegrityError, connection, transaction

from marquee.audit.services import record_audit
from marquee.billing import money, prices, tip_goals
from marquee.billing.errors import BillingError
from marquee.billing.models import Tip
from marquee.billing.services.checkout import _require_can_earn
from marquee.compliance import policy
from marquee.ledger.models import TransferKind
from marquee.lib import domain_events
from marquee.lib.events import send_room_event
from marquee.lib.fields import clip


def send_tip(*, user, performer, tokens: int, idempotency_key: str, location, message: str = "", request=None) -> Tip:
    """Tokens from ``user``'s wallet to ``performer`` in one transaction; the
    tip shows in the room after commit.  Repeating ``idempotency_key`` (per
    user) returns the first tip and moves nothing."""
    allowed = policy.can_purchase(user, location)
    if not allowed:
        raise BillingError(allowed.code, allowed.message, allowed.status)
    if not policy.can_view_performer(user, performer, location):
        raise BillingError("not_found", "This room does not exist.", 404)
    if performer.user_id == user.pk:
        raise BillingError("own_room", "You cannot tip yourself.", 409)
    _require_can_earn(performer)
    prices.check_tip_tokens(tokens)
    key = money.tip_key(user, idempotency_key)
    try:
        with transaction.atomic():
            tip = Tip(user=user, performer=performer, tokens=tokens, message=clip(message, Tip, "message"))
            postgres = connection.vendor == "postgresql"
            posting = money.prepare_spend(
                kind=TransferKind.TIP,
                user=user,
                performer=performer,
                tokens=tokens,
                idempotency_key=key,
                source_type="billing.tip",
                memo=message,
                # PostgreSQL: the tip row in the transfer's statement (nothing
                # written when the key exists).
                then=_insert_with_transfer(tip) if postgres else None,
            )
            if not posting.created:
                return Tip.objects.get(transfer=posting.transfer)
            tip.transfer = posting.transfer
            if postgres:
                tip.pk = posting.then_row[0]
                tip._state.adding = False
                tip._state.db = connection.alias
            else:
                tip.show_id = tip_goals.live_show(performer)
                tip.save(force_insert=True)
                tip.show_id = None  # chosen by the insert; known after ``tip_goals.add`` below
            record_audit(
                action="billing.tip",
                actor=user,
                request=request,
                target=tip,
                details={"tokens": tokens, "to": performer.pk},
            )
            domain_events.send("tip.sent", user_id=user.pk, performer_id=performer.pk, tokens=tokens)
            # Balances, then the show's goal counter, last: the room's hot rows
            # are locked from here to commit only (a reversal takes them in the
            # same order).
            if postgres:
                # The goal upsert in the same round trip as the balances: one
                # round trip less while the room's hot rows are locked.
                tip.show_id, total = money.settle_then(posting, *tip_goals.add_after_balances(tip.pk))
            else:
                money.settle(posting)
                tip.show_id, total = tip_goals.add(tip.pk) or (None, None)
            progress = tip_goals.progress(performer, total) if total is not None else None
            send_room_event(
                performer.username,
                "tip",
                {"id": tip.pk, "from": user.username, "tokens": tokens, "message": tip.message, "goal": progress},
            )
            if progress and progress["tokens"] >= progress["goal"] > progress["tokens"] - tokens:
                send_room_event(performer.username, "goal_reached", {"goal": progress})
    except money.NotEnoughTokens:
        raise BillingError("insufficient_tokens", "Not enough tokens in your wallet for this tip.", 402) from None
    except IntegrityError:
        # The same key sent twice at the same moment: the other one won.
        existing = Tip.objects.filter(transfer__idempotency_key=key).first()
        if existing is None:
            raise
        return existing
    return tip


# Columns from the model (not typed out), so a field added to Tip is inserted too.
_FIELDS = [f for f in Tip._meta.concrete_fields if not f.primary_key]


@cache
def _insert_sql() -> tuple[str, int, list]:
    """The tip row's INSERT on PostgreSQL, built once, as the statement
    ``ledger.prepare_transfer(then=...)`` runs with the transfer's insert:
    the transfer from the CTE ``new_transfer``, the live show chosen by the
    same subquery as ``tip_goals.live_show``.  ``(sql, index of the
    performer's id in the subquery's params, those params)``."""
    live_sql, performer_at, live_params = tip_goals.live_show_sql()
    values = []
    for field in _FIELDS:
        if field.attname == "show_id":
            values.append(f"({live_sql})")
        elif field.attname == "transfer_id":
            values.append("new_transfer.id")
        else:
            values.append("%s")
    sql = (
        f"INSERT INTO {Tip._meta.db_table} ({', '.join(f.column for f in _FIELDS)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM new_transfer RETURNING id"
    )
    return sql, performer_at, live_params


def _insert_with_transfer(tip: Tip) -> tuple[str, list]:
    """The tip row's statement and parameters (the ORM's ``create`` was
    ~24 % of a tip's client time, and the row's own round trip is gone).
    ``tip.show_id`` stays None: the show is known after the goal upsert."""
    sql, performer_at, live_params = _insert_sql()
    params = []
    for field in _FIELDS:
        if field.attname == "show_id":
            subquery_params = list(live_params)
            subquery_params[performer_at] = tip.performer_id
            params += subquery_params
        elif field.attname != "transfer_id":
            params.append(field.get_db_prep_save(field.pre_save(tip, True), connection))
    return sql, params
