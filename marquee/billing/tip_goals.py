"""The one tip-goal rule: tokens tipped during the performer's current live
show, reversed tips taken back out; the goal restarts with every show.

Kept as one counter row per show (``ShowTipTotal``) moved in the same
transaction as the tip or its reversal, so a tip costs one statement however
many tips the show already has (it used to be a SUM over all of them)."""

from __future__ import annotations

from functools import cache

from django.db import connection
from django.db.models import F, Subquery

from marquee.billing.models import ShowTipTotal, Tip
from marquee.shows.models import Show

assert ShowTipTotal._meta.db_table == "billing_showtiptotal"  # named in the upsert below
assert Tip._meta.db_table == "billing_tip"


def _live(performer):
    return Show.objects.filter(performer=performer, status=Show.Status.LIVE, started_at__isnull=False)


_PERFORMER_SENTINEL = -7_340_981_226  # no performer has a negative id


@cache
def live_show_sql() -> tuple[str, int, list]:
    """``live_show`` compiled once for raw inserts (the tip row on
    PostgreSQL): ``(sql, index of the performer's id in params, params)``.
    Compiled from the same rule as ``live_show``, so the two cannot differ."""
    query = _live(_PERFORMER_SENTINEL).values("pk")[:1].query
    sql, params = query.get_compiler(connection=connection).as_sql()
    params = list(params)
    assert params.count(_PERFORMER_SENTINEL) == 1, params
    return sql, params.index(_PERFORMER_SENTINEL), params


def live_show(performer) -> Subquery:
    """The show a tip sent now counts towards (at most one is live, by
    constraint), as a subquery the tip row's insert evaluates: no round trip
    of its own."""
    return Subquery(_live(performer).values("pk")[:1])


_ADD_SQL = (
    "INSERT INTO billing_showtiptotal (show_id, tokens) "
    "SELECT show_id, tokens FROM billing_tip WHERE id = %s AND show_id IS NOT NULL{gate} "
    "ON CONFLICT (show_id) DO UPDATE SET tokens = billing_showtiptotal.tokens + excluded.tokens "
    "RETURNING show_id, tokens"
)


def add(tip_id: int) -> tuple[int, int] | None:
    """Add the tip's tokens to its show's total: ``(show_id, new total)``, or
    None for a tip sent with no live show.  One upsert reading the tip row:
    the counter row is created by the show's first tip and locked from here
    to commit, so concurrent tips each see their own total.  The same
    statement runs on PostgreSQL and SQLite (≥ 3.35)."""
    with connection.cursor() as cursor:
        cursor.execute(_ADD_SQL.format(gate=""), [tip_id])
        row = cursor.fetchone()
    return tuple(row) if row else None


def add_after_balances(tip_id: int) -> tuple[str, list]:
    """``add`` as the statement ``ledger.Posting.apply_then`` runs in the
    same round trip as the balances (PostgreSQL), and only if they moved."""
    return _ADD_SQL.format(gate=" AND (SELECT ok FROM applied_ok)"), [tip_id]


def take_back(transfer) -> None:
    """A reversed tip no longer counts towards the show it was sent in."""
    tip = Tip.objects.filter(transfer=transfer, show__isnull=False).only("show_id", "tokens").first()
    if tip is not None:
        # A plain UPDATE, not the upsert: PostgreSQL checks the constraint on
        # an upsert's would-be new row (here negative) before it sees the conflict.
        ShowTipTotal.objects.filter(show_id=tip.show_id).update(tokens=F("tokens") - tip.tokens)


def progress(performer, tokens: int | None = None) -> dict | None:
    """What the room shows: None without a goal or a live show.  ``tokens``:
    the total already known (the tip path has it from ``add``)."""
    goal = performer.tip_goal_tokens
    if not goal:
        return None
    if tokens is None:
        row = _live(performer).values_list("pk", "tip_total__tokens").first()
        if row is None:
            return None
        tokens = row[1] or 0
    return {
        "label": performer.tip_goal_label,
        "goal": goal,
        "tokens": tokens,
        "percent": min(100, tokens * 100 // goal),
        "reached": tokens >= goal,
    }
