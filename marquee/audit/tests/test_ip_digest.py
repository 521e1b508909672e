"""The chain covers a salted digest of the IP, so the IP can be erased after
its retention while any other change to it is still detected."""

from __future__ import annotations

import importlib
import io

import pytest
from django.apps import apps as global_apps
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from marquee.audit.chain import compute_hash, ip_digest
from marquee.audit.models import AuditEvent
from marquee.audit.services import record_audit

pytestmark = pytest.mark.django_db
rechain_migration = importlib.import_module("marquee.audit.migrations.0002_ip_digest")


def _chain(n=4):
    return [record_audit(action="test.event", ip=f"198.51.100.{i}", details={"i": i}) for i in range(n)]


def _raw_update(sql, params):
    # PostgreSQL's trigger refuses edits; a tamperer with owner rights could
    # disable it, which is what audit_verify is for.
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE compliance_auditevent DISABLE TRIGGER compliance_auditevent_no_update_delete")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE compliance_auditevent ENABLE TRIGGER compliance_auditevent_no_update_delete")


def test_ip_is_not_stored_in_the_hashed_content_only_its_salted_digest():
    event = record_audit(action="test.event", ip="198.51.100.7")
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.ip == "198.51.100.7" and len(stored.ip_salt) == 32
    assert stored.ip_digest == ip_digest(stored.ip_salt, "198.51.100.7")
    # Two rows with the same IP have unrelated digests (per-row salt).
    other = record_audit(action="test.event", ip="198.51.100.7")
    assert other.ip_digest != stored.ip_digest
    assert compute_hash(stored) == stored.entry_hash
    assert record_audit(action="test.event").ip_digest == ""


def test_erasing_ip_and_salt_keeps_the_chain_verifiable():
    events = _chain()
    with connection.cursor() as cursor:
        # Allowed by the PostgreSQL trigger: only ip and ip_salt blanked.
        cursor.execute("UPDATE compliance_auditevent SET ip = '', ip_salt = '' WHERE id = %s", [events[1].pk])
    assert AuditEvent.objects.get(pk=events[1].pk).ip == ""
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "audit chain OK: 4 rows" in out.getvalue()


@pytest.mark.parametrize("sql", ["UPDATE compliance_auditevent SET ip = '203.0.113.9' WHERE id = %s"])
def test_changing_an_ip_is_detected(sql):
    events = _chain()
    victim = events[2]
    _raw_update(sql, [victim.pk])
    with pytest.raises(CommandError, match=rf"id={victim.pk} .*ip does not match its digest"):
        call_command("audit_verify")


def test_changing_the_digest_is_detected():
    events = _chain()
    victim = events[1]
    _raw_update(
        "UPDATE compliance_auditevent SET ip = '', ip_salt = '', ip_digest = %s WHERE id = %s", ["0" * 64, victim.pk]
    )
    with pytest.raises(CommandError, match=rf"id={victim.pk} .*altered"):
        call_command("audit_verify")


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigger exists on PostgreSQL only")
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE compliance_auditevent SET ip = '' WHERE id = %s",  # salt kept: not an erasure
        "UPDATE compliance_auditevent SET ip = '', ip_salt = '', action = 'x' WHERE id = %s",
        "UPDATE compliance_auditevent SET ip = '', ip_salt = '', ip_digest = '' WHERE id = %s",
        "UPDATE compliance_auditevent SET ip = '10.0.0.1' WHERE id = %s",
    ],
)
def test_trigger_lets_only_the_erasure_through(sql):
    event = _chain(2)[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    after = AuditEvent.objects.get(pk=event.pk)
    assert (after.ip, after.ip_salt, after.ip_digest, after.action) == (
        event.ip, event.ip_salt, event.ip_digest, "test.event",
    )  # fmt: skip


class _Editor:
    def __init__(self):
        self.connection = connection

    def execute(self, sql, params=None):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _make_legacy(events):
    """Rewrite rows as the pre-digest code wrote them (IP hashed in clear)."""
    prev = "0" * 64
    for event in sorted(events, key=lambda e: (e.chain, e.sequence)):
        row = AuditEvent.objects.get(pk=event.pk)
        row.ip_salt = row.ip_digest = ""
        row.prev_hash = prev
        row.entry_hash = rechain_migration._legacy_hash(row)
        _raw_update(
            "UPDATE compliance_auditevent SET ip_salt = '', ip_digest = '', prev_hash = %s, entry_hash = %s"
            " WHERE id = %s",
            [row.prev_hash, row.entry_hash, row.pk],
        )
        prev = row.entry_hash
    return prev


@pytest.mark.skipif(connection.vendor == "postgresql", reason="one chain on SQLite keeps the legacy rewrite simple")
def test_migration_rechains_legacy_rows_and_records_the_old_head():
    events = _chain(3)
    old_head = _make_legacy(events)
    with pytest.raises(CommandError):
        call_command("audit_verify")  # legacy rows do not verify under the new hashing

    rechain_migration.forwards(global_apps, _Editor())

    call_command("audit_verify", stdout=io.StringIO())
    rows = list(AuditEvent.objects.order_by("chain", "sequence"))
    assert [r.ip for r in rows[:3]] == ["198.51.100.0", "198.51.100.1", "198.51.100.2"]
    assert all(r.ip_digest == ip_digest(r.ip_salt, r.ip) for r in rows[:3])
    marker = rows[-1]
    assert marker.action == "audit.rechained" and marker.sequence == 4
    assert marker.details == {"reason": "ip_digest", "rows": 3, "old_heads": {"0": old_head}, "old_first_bad_id": None}
    # Now an old IP can be erased and the chain still verifies.
    AuditEvent.objects.filter(pk=rows[0].pk).update(ip="", ip_salt="")
    call_command("audit_verify", stdout=io.StringIO())


@pytest.mark.skipif(connection.vendor == "postgresql", reason="one chain on SQLite keeps the legacy rewrite simple")
def test_migration_names_a_legacy_chain_that_was_already_broken():
    events = _chain(3)
    _make_legacy(events)
    _raw_update("UPDATE compliance_auditevent SET details = %s WHERE id = %s", ['{"i": 99}', events[1].pk])
    rechain_migration.forwards(global_apps, _Editor())
    marker = AuditEvent.objects.get(action="audit.rechained")
    assert marker.details["old_first_bad_id"] == events[1].pk
