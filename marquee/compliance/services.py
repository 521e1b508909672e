from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from marquee.compliance.audit import GENESIS_HASH, compute_hash
from marquee.compliance.models import AuditEvent

# Any constant: the advisory lock that serializes appends to the chain.
_AUDIT_LOCK_ID = 0x4D41525155  # "MARQU"


def _request_meta(request):
    if request is None:
        return "", ""
    ip = getattr(request, "client_ip", None) or request.META.get("REMOTE_ADDR", "")
    return ip or "", request.META.get("HTTP_USER_AGENT", "")[:300]


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
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_AUDIT_LOCK_ID])
        last = AuditEvent.objects.order_by("-sequence").values("sequence", "entry_hash").first()
        event = AuditEvent(
            sequence=(last["sequence"] + 1) if last else 1,
            created_at=timezone.now(),
            actor_id=actor_id,
            actor_label=str(actor)[:200] if actor is not None and getattr(actor, "is_authenticated", False) else "",
            action=action,
            ip=(ip if ip is not None else request_ip)[:45],
            user_agent=(user_agent if user_agent is not None else request_agent)[:300],
            target_type=target_type,
            target_id=str(target_id),
            details=details or {},
            prev_hash=last["entry_hash"] if last else GENESIS_HASH,
        )
        event.entry_hash = compute_hash(event)
        event.save(force_insert=True)
    return event
