from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from marquee.audit.models import AuditEvent
from marquee.audit.services import record_audit

pytestmark = pytest.mark.django_db


def _chain(n=5):
    return [record_audit(action="test.event", target_type="x", target_id=i, details={"i": i}) for i in range(n)]


def test_audit_verify_passes_on_clean_log():
    _chain()
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "audit chain OK: 5 rows" in out.getvalue()


@pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL refuses the edit itself (see below)")
def test_audit_verify_names_the_altered_row():
    events = _chain()
    victim = events[2]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE compliance_auditevent SET details = %s WHERE id = %s", ['{"i": 99}', victim.pk])
    with pytest.raises(CommandError, match=rf"id={victim.pk} chain=0 sequence={victim.sequence} .*altered"):
        call_command("audit_verify")


@pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL refuses the delete itself")
def test_audit_verify_names_the_row_after_a_deletion():
    events = _chain()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM compliance_auditevent WHERE id = %s", [events[1].pk])
    with pytest.raises(CommandError, match=rf"id={events[2].pk} .*deleted"):
        call_command("audit_verify")


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="trigger exists on PostgreSQL only")
@pytest.mark.parametrize(
    "sql",
    ["UPDATE compliance_auditevent SET action = 'x' WHERE id = %s", "DELETE FROM compliance_auditevent WHERE id = %s"],
)
def test_trigger_refuses_update_and_delete(sql):
    event = _chain(2)[0]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [event.pk])
    event_after = AuditEvent.objects.get(pk=event.pk)
    assert event_after.action == "test.event" and event_after.entry_hash == event.entry_hash


def test_admin_is_read_only_with_csv_export(client, staff, viewer):
    events = _chain(3)
    record_audit(action="evil", details={"note": "=HYPERLINK(1)"})
    client.force_login(staff)
    page = client.get("/admin/audit/auditevent/", {"action__exact": "test.event"})
    assert page.status_code == 200 and page.content.count(b"test.event") >= 3
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    response = client.post(f"/admin/audit/auditevent/{events[0].pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(pk=events[0].pk).exists()
    ids = [e.pk for e in AuditEvent.objects.all()]
    response = client.post("/admin/audit/auditevent/", {"action": "export_csv", "_selected_action": ids})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:6] == ["id", "chain", "sequence", "created_at", "actor_id", "actor_label"]
    assert len(rows) == 1 + len(ids)
    assert any(cell.startswith("'{") or cell.startswith("{") for cell in rows[-1])
    assert not any(cell.startswith("=") for row in rows for cell in row)
    # Viewers have no access at all.
    client.force_login(viewer)
    assert client.get("/admin/audit/auditevent/").status_code == 302


def test_admin_changes_are_audited(client, staff):
    from marquee.compliance.models import Jurisdiction

    rule = Jurisdiction.objects.get(country="FR", subdivision="")
    client.force_login(staff)
    response = client.post(
        f"/admin/compliance/jurisdiction/{rule.pk}/change/",
        {"country": "FR", "subdivision": "", "rule": "blocked", "reason": "Changed", "is_active": "on"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="admin.changed")
    assert (event.actor_id, event.target_type, event.target_id) == (staff.pk, "compliance.jurisdiction", str(rule.pk))
    assert "Rule" in event.details["change"] or "rule" in event.details["change"].lower()
    call_command("audit_verify", stdout=io.StringIO())


@pytest.mark.skipif(connection.vendor == "postgresql", reason="raw edits are refused by the trigger")
def test_parallel_chains_verify_independently(monkeypatch):
    from itertools import cycle

    from marquee.audit import services

    chains = cycle([0, 1, 2])

    def claim():
        chain = next(chains)
        last = AuditEvent.objects.filter(chain=chain).order_by("-sequence").first()
        return chain, (last.sequence if last else 0), (last.entry_hash if last else "0" * 64)

    monkeypatch.setattr(services, "_claim_chain", claim)
    events = _chain(9)
    assert sorted({e.chain for e in events}) == [0, 1, 2]
    assert [e.sequence for e in events if e.chain == 2] == [1, 2, 3]
    call_command("audit_verify", stdout=io.StringIO())
    victim = [e for e in events if e.chain == 2][1]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE compliance_auditevent SET details = '{}' WHERE id = %s", [victim.pk])
    with pytest.raises(CommandError, match=rf"id={victim.pk} chain=2 sequence=2 .*altered"):
        call_command("audit_verify")


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's")
def test_postgres_append_takes_a_free_chain(settings):
    import threading

    from django.db import connections

    from marquee.audit import services

    settings.AUDIT_CHAINS = 4
    (event,) = _chain(1)
    assert 0 <= event.chain < 4
    call_command("audit_verify", stdout=io.StringIO())
    # This transaction holds its chain's lock until it ends; another
    # connection must take a different, free chain without waiting.
    seen = {}

    def other():
        try:
            with transaction.atomic():
                seen["claim"] = services._claim_chain()
        finally:
            connections.close_all()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert seen["claim"][0] != event.chain


def test_audit_rolls_back_with_the_change():
    with pytest.raises(RuntimeError), transaction.atomic():
        record_audit(action="doomed")
        raise RuntimeError
    assert not AuditEvent.objects.filter(action="doomed").exists()
    _chain(2)
    call_command("audit_verify", stdout=io.StringIO())


def test_admin_bulk_deletion_is_audited_per_object(client, staff):
    from marquee.compliance.models import Jurisdiction

    rules = list(Jurisdiction.objects.filter(country="US", subdivision__in=["TX", "UT"]))
    client.force_login(staff)
    response = client.post(
        "/admin/compliance/jurisdiction/",
        {"action": "delete_selected", "_selected_action": [r.pk for r in rules], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Jurisdiction.objects.filter(pk__in=[r.pk for r in rules]).exists()
    deleted = set(AuditEvent.objects.filter(action="admin.deleted").values_list("target_id", flat=True))
    assert deleted == {str(r.pk) for r in rules}
    assert AuditEvent.objects.filter(action="jurisdiction.deleted").count() == 2


def test_appended_row_reads_back_identically():
    """The PostgreSQL fast insert and the ORM path store the same row."""
    event = record_audit(
        action="money.tip", ip="203.0.113.1", user_agent="UA", target_type="t", target_id=7,
        details={"tokens": 25, "nested": {"b": [1, 2], "a": None}, "text": "ünïcode"},
    )  # fmt: skip
    stored = AuditEvent.objects.get(pk=event.pk)
    for field in ("chain", "sequence", "created_at", "action", "ip", "user_agent", "target_type", "target_id",
                  "details", "prev_hash", "entry_hash"):  # fmt: skip
        assert getattr(stored, field) == getattr(event, field), field
    from marquee.audit.chain import compute_hash

    assert compute_hash(stored) == stored.entry_hash
    call_command("audit_verify", stdout=io.StringIO())


@pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL refuses the edit itself")
def test_audit_verify_names_a_row_whose_actor_was_changed(viewer, outsider):
    # The actor is part of the hash: pinning a row on someone else is detected.
    events = [record_audit(action="test.event", actor=viewer, details={"i": i}) for i in range(3)]
    victim = events[1]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE compliance_auditevent SET actor_id = %s WHERE id = %s", [outsider.pk, victim.pk])
    with pytest.raises(CommandError, match=rf"id={victim.pk} chain=0 sequence={victim.sequence} .*altered"):
        call_command("audit_verify")


@pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL refuses the edit itself")
def test_audit_verify_names_the_next_row_when_a_row_is_rewritten_with_a_fresh_hash():
    # A forger who knows the algorithm rewrites row 2 and its own hash; only the
    # link (row 3's prev_hash) gives it away, and the row named is row 3.
    from marquee.audit.chain import compute_hash

    events = _chain(4)
    forged, following = events[1], events[2]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE compliance_auditevent SET details = %s WHERE id = %s", ['{"i": 99}', forged.pk])
        cursor.execute(
            "UPDATE compliance_auditevent SET entry_hash = %s WHERE id = %s",
            [compute_hash(AuditEvent.objects.get(pk=forged.pk)), forged.pk],
        )
    with pytest.raises(
        CommandError, match=rf"id={following.pk} chain=0 sequence={following.sequence} .*prev_hash does not match"
    ):
        call_command("audit_verify")


@pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL refuses the edit itself")
def test_audit_verify_names_a_row_whose_prev_hash_was_relinked():
    # Row 3 relinked past row 2 (prev_hash and its own hash rewritten).
    from marquee.audit.chain import compute_hash

    events = _chain(4)
    victim = events[2]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE compliance_auditevent SET prev_hash = %s WHERE id = %s", [events[0].entry_hash, victim.pk]
        )
        cursor.execute(
            "UPDATE compliance_auditevent SET entry_hash = %s WHERE id = %s",
            [compute_hash(AuditEvent.objects.get(pk=victim.pk)), victim.pk],
        )
    with pytest.raises(CommandError, match=rf"id={victim.pk} chain=0 sequence={victim.sequence} .*prev_hash"):
        call_command("audit_verify")
