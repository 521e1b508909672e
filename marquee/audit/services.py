"""Appending to the audit log: one row per security- or money-relevant
action, inside the transaction of the change it describes."""

from __future__ import annotations

import json
import secrets

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from marquee.audit.chain import GENESIS_HASH, canonical_split, compute_hash, new_ip_fields
from marquee.audit.models import AuditEvent
from marquee.lib.fields import clip

# Any constant: advisory lock keys _AUDIT_LOCK_BASE + chain serialize the
# appends to each chain.
_AUDIT_LOCK_BASE = 0x4D41525155 << 8  # "MARQU"


def _claim_chain() -> tuple[int, int, str]:
    """Take the transaction-scoped lock of some audit chain; return (chain,
    last sequence, last hash) of that chain.

    The lock is held until commit, so one chain allows one appending
    transaction at a time; with several chains a writer takes the first free
    one (try-lock from a random start) and waits only when all are busy.
    On PostgreSQL lock + read are one round trip (function, migration 0006).
    SQLite has one writer anyway: chain 0."""
    if connection.vendor != "postgresql":
        last = AuditEvent.objects.filter(chain=0).order_by("-sequence").values("sequence", "entry_hash").first()
        return 0, (last["sequence"] if last else 0), (last["entry_hash"] if last else GENESIS_HASH)
    chains = settings.AUDIT_CHAINS
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT chain, last_sequence, last_hash FROM compliance_audit_claim_chain(%s, %s, %s)",
            [_AUDIT_LOCK_BASE, chains, secrets.randbelow(chains)],
        )
        chain, last_sequence, last_hash = cursor.fetchone()
    return chain, last_sequence or 0, last_hash or GENESIS_HASH


def _request_meta(request):
    if request is None:
        return "", ""
    ip = getattr(request, "client_ip", None) or request.META.get("REMOTE_ADDR", "")
    return ip or "", clip(request.META.get("HTTP_USER_AGENT", ""), AuditEvent, "user_agent")


def record_audit(
    *,
    action: str,
    actor=None,
    actor_id: int | None = None,
    request=None,
    ip: str | None = None,
    user_agent: str | None = None,
    target=None,
    target_type: str = "",
    target_id: str | int = "",
    details: dict | None = None,
) -> AuditEvent:
    """Append one audit row.  Call it inside the transaction of the change it
    describes: if the change rolls back, so does its audit row."""
    request_ip, request_agent = _request_meta(request)
    if actor is None and request is not None and getattr(request, "user", None) and request.user.is_authenticated:
        actor = request.user
    if actor is not None and getattr(actor, "is_authenticated", False):
        actor_id = actor.pk
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
    row_ip = clip(ip if ip is not None else request_ip, AuditEvent, "ip")
    ip_salt, ip_digest = new_ip_fields(row_ip)
    event = AuditEvent(
        created_at=timezone.now(),
        actor_id=actor_id,
        actor_label=clip(str(actor), AuditEvent, "actor_label")
        if actor is not None and getattr(actor, "is_authenticated", False)
        else "",
        action=action,
        ip=row_ip,
        ip_salt=ip_salt,
        ip_digest=ip_digest,
        user_agent=clip(user_agent if user_agent is not None else request_agent, AuditEvent, "user_agent"),
        target_type=target_type,
        target_id=str(target_id),
        details=details or {},
    )
    if connection.vendor == "postgresql":
        _append(event)
        return event
    # No savepoint of its own: it joins the caller's transaction; an error
    # here rolls the caller back anyway.
    with transaction.atomic(savepoint=False):
        event.chain, last_sequence, event.prev_hash = _claim_chain()
        event.sequence = last_sequence + 1
        event.entry_hash = compute_hash(event)
        event.save(force_insert=True)
    return event


_APPEND_SQL = (
    "SELECT new_id, new_chain, new_sequence, new_prev_hash, new_hash FROM audit_append("
    "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb)"
)


def _append(event: AuditEvent) -> None:
    """PostgreSQL: claim a chain, hash and insert the row in ONE round trip
    (function ``audit_append``, migration 0003; it was a claim and an insert).
    The database fills in chain, sequence and prev_hash and hashes the same
    canonical text ``compute_hash`` does (``chain.canonical_split``); the
    JSON is serialized like JSONField does (``json.dumps``)."""
    head, mid, tail = canonical_split(event)
    chains = settings.AUDIT_CHAINS
    params = [
        _AUDIT_LOCK_BASE, chains, secrets.randbelow(chains), GENESIS_HASH, head, mid, tail,
        event.created_at, event.actor_id, event.actor_label, event.action, event.ip, event.ip_salt, event.ip_digest,
        event.user_agent, event.target_type, event.target_id, json.dumps(event.details),
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_APPEND_SQL, params)
        event.pk, event.chain, event.sequence, event.prev_hash, event.entry_hash = cursor.fetchone()
    event._state.adding = False
    event._state.db = connection.alias


# --- Geo ---------------------------------------------------------------------


def audit_admin_change(sender, instance, created, **kwargs):
    """Mirror a Django admin ``LogEntry`` into the audit chain."""
    if not created:
        return
    flags = {1: "added", 2: "changed", 3: "deleted"}
    record_audit(
        action=f"admin.{flags.get(instance.action_flag, 'action')}",
        actor_id=instance.user_id,
        target_type=instance.content_type.model_class()._meta.label_lower if instance.content_type_id else "",
        target_id=instance.object_id or "",
        details={
            "object": clip(instance.object_repr, type(instance), "object_repr"),
            "change": instance.get_change_message()[: settings.AUDIT_DETAIL_MAX_CHARS],
        },
    )
