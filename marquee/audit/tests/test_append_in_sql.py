"""The PostgreSQL append (``audit_append``) hashes in SQL: the hash must be
exactly ``chain.compute_hash`` of the stored row, or ``audit_verify`` fails
on every row written that way."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection

from marquee.audit.chain import GENESIS_HASH, canonical_content, canonical_split, compute_hash
from marquee.audit.models import AuditEvent
from marquee.audit.services import record_audit

TRICKY_DETAILS = [
    {},
    {"tokens": 25, "to": 7},
    {"nested": {"b": [1, 2.5, None, True], "a": None}, "text": "ünïcode ✓ 日本", "quote": 'a"b\\c'},
    {"control": "tab\there\nnewline\x01\x7f", "emoji": "🙂", "big": 2**62, "neg": -1},
    {"list": [], "obj": {}, "zero": 0, "empty": ""},
]


def _assembled(event) -> bytes:
    """What ``audit_append`` concatenates, assembled here in Python."""
    head, mid, tail = canonical_split(event)
    chain = f',"chain":{event.chain}' if event.chain else ""
    return f'{head}{chain}{mid}"{event.prev_hash}","sequence":{event.sequence}{tail}'.encode()


@pytest.mark.parametrize("chain", [0, 1, 255])
@pytest.mark.parametrize("details", [*TRICKY_DETAILS, {"nul": "a\x00b"}])  # jsonb refuses NUL: Python-side only
def test_the_split_reassembles_the_canonical_content(chain, details):
    event = AuditEvent(
        chain=chain,
        sequence=123456789,
        created_at=datetime.datetime(2026, 11, 30, 4, 5, 6, 789012, tzinfo=datetime.UTC),
        actor_id=None if chain else 42,
        actor_label='lab"el é',
        action="billing.tip",
        ip_digest="ab" * 32,
        user_agent='Mozilla/5.0 (ünï) "quoted"',
        target_type="billing.tip",
        target_id="99",
        details=details,
        prev_hash="cd" * 32 if chain else GENESIS_HASH,
    )
    assert _assembled(event) == canonical_content(event)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="audit_append is PostgreSQL's")
@pytest.mark.parametrize("chains", [1, 8])
def test_the_hash_computed_in_sql_is_the_python_hash(settings, viewer, chains):
    """Chain 0 (AUDIT_CHAINS=1) and other chains (their key is in the hashed
    text), every awkward JSON value, IPs and user agents: each stored row's
    hash equals compute_hash of that row read back, and the chains verify."""
    settings.AUDIT_CHAINS = chains
    events = []
    for round_ in range(3):
        for i, details in enumerate(TRICKY_DETAILS):
            events.append(
                record_audit(
                    action="test.sql_hash",
                    actor=viewer if i % 2 else None,
                    ip="203.0.113.9" if i % 3 else "",
                    user_agent=f'UA ünï "{round_}"',
                    target_type="x",
                    target_id=i,
                    details=details,
                )
            )
    for event in events:
        stored = AuditEvent.objects.get(pk=event.pk)
        assert (stored.chain, stored.sequence, stored.prev_hash, stored.entry_hash) == (
            event.chain,
            event.sequence,
            event.prev_hash,
            event.entry_hash,
        )
        assert compute_hash(stored) == stored.entry_hash
        assert compute_hash(event) == event.entry_hash
    if chains == 1:
        assert {e.chain for e in events} == {0}
        assert [e.sequence for e in events] == list(range(events[0].sequence, events[0].sequence + len(events)))
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "OK" in out.getvalue()


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="audit_append is PostgreSQL's")
def test_an_append_is_one_statement():
    from django.test.utils import CaptureQueriesContext

    record_audit(action="test.first")
    with CaptureQueriesContext(connection) as captured:
        record_audit(action="test.one", details={"a": 1})
    assert len(captured.captured_queries) == 1, [q["sql"] for q in captured.captured_queries]
