# The chain now hashes a salted digest of the IP instead of the IP, so that
# retention can erase IPs (docs/privacy.md).  Existing rows hashed the IP
# itself: they are re-chained once in the new form, and the re-anchoring is
# recorded as its own event (`audit.rechained`) carrying each chain's old head
# hash and whether the old chain verified, so an old anchor kept elsewhere can
# still be matched.  On PostgreSQL the append-only trigger now lets exactly
# one UPDATE through: blanking ip and ip_salt, every other column unchanged.

import hashlib
import json

from django.db import migrations, models
from django.utils import timezone

from marquee.audit.chain import GENESIS_HASH, compute_hash, new_ip_fields

TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION compliance_audit_append_only() RETURNS trigger AS $$
DECLARE
    erased compliance_auditevent%ROWTYPE;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.ip = '' AND NEW.ip_salt = '' THEN
        erased := OLD;
        erased.ip := '';
        erased.ip_salt := '';
        IF erased IS NOT DISTINCT FROM NEW THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION USING MESSAGE = 'compliance_auditevent is append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql;
"""
OLD_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION compliance_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'compliance_auditevent is append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql;
"""
TRIGGER = "compliance_auditevent_no_update_delete"


def _legacy_hash(event) -> str:
    # Frozen copy of the content hashed before this migration (IP in clear).
    content = {
        **({"chain": event.chain} if event.chain else {}),
        "sequence": event.sequence,
        "created_at": event.created_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def _rechain(apps, schema_editor, *, legacy_out: bool):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    db = schema_editor.connection.alias
    rows = AuditEvent.objects.using(db).order_by("chain", "sequence")
    if not rows.exists():
        return
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute(f"ALTER TABLE compliance_auditevent DISABLE TRIGGER {TRIGGER}")
    old_heads, first_bad, count = {}, None, 0
    chain, old_prev, new_prev, batch = None, GENESIS_HASH, GENESIS_HASH, []
    for event in rows.iterator(chunk_size=2000):
        if event.chain != chain:
            chain, old_prev, new_prev = event.chain, GENESIS_HASH, GENESIS_HASH
        old_hash = event.entry_hash
        check = compute_hash if legacy_out else _legacy_hash
        if first_bad is None and (event.prev_hash != old_prev or check(event) != old_hash):
            first_bad = event.pk
        old_prev, old_heads[str(chain)] = old_hash, old_hash
        if not legacy_out:
            event.ip_salt, event.ip_digest = new_ip_fields(event.ip)
        event.prev_hash = new_prev
        event.entry_hash = _legacy_hash(event) if legacy_out else compute_hash(event)
        new_prev = event.entry_hash
        batch.append(event)
        count += 1
        if len(batch) >= 2000:
            AuditEvent.objects.using(db).bulk_update(batch, ["ip_salt", "ip_digest", "prev_hash", "entry_hash"])
            batch = []
    AuditEvent.objects.using(db).bulk_update(batch, ["ip_salt", "ip_digest", "prev_hash", "entry_hash"])
    if postgres:
        schema_editor.execute(f"ALTER TABLE compliance_auditevent ENABLE TRIGGER {TRIGGER}")
    if legacy_out:
        return
    last = AuditEvent.objects.using(db).filter(chain=0).order_by("-sequence").first()
    event = AuditEvent(
        chain=0,
        sequence=(last.sequence if last else 0) + 1,
        created_at=timezone.now(),
        action="audit.rechained",
        details={"reason": "ip_digest", "rows": count, "old_heads": old_heads, "old_first_bad_id": first_bad},
        prev_hash=last.entry_hash if last else GENESIS_HASH,
    )
    event.entry_hash = compute_hash(event)
    event.save(using=db)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER_FUNCTION, params=None)
    _rechain(apps, schema_editor, legacy_out=False)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(OLD_TRIGGER_FUNCTION, params=None)
    _rechain(apps, schema_editor, legacy_out=True)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="ip_digest",
            field=models.CharField(blank=True, default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="ip_salt",
            field=models.CharField(blank=True, default="", max_length=32),
            preserve_default=False,
        ),
        migrations.RunPython(forwards, backwards),
    ]
