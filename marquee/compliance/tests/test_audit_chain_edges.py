"""The audit hash chain on its own (no database): every content field is
hashed, stored hashes keep verifying, each way a chain can break is named.
(prev_hash and actor_id coverage is pinned on the auth branch.)"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import hmac

import pytest

from marquee.audit.chain import GENESIS_HASH, compute_hash, verify_chain


@dataclasses.dataclass
class Row:
    chain: int = 0
    sequence: int = 1
    created_at: datetime.datetime = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    actor_id: int | None = 7
    actor_label: str = "viewer"
    action: str = "auth.login"
    ip: str = "198.51.100.7"
    ip_salt: str = "00112233445566778899aabbccddeeff"
    # What the chain covers since audit migration 0002: HMAC-SHA256(salt, ip).
    ip_digest: str = hmac.new(b"00112233445566778899aabbccddeeff", b"198.51.100.7", hashlib.sha256).hexdigest()
    user_agent: str = "ua"
    target_type: str = "user"
    target_id: str = "7"
    details: dict = dataclasses.field(default_factory=lambda: {"k": "v"})
    prev_hash: str = GENESIS_HASH
    entry_hash: str = ""


def chain(n, chain_no=0, **fields):
    rows, previous = [], GENESIS_HASH
    for sequence in range(1, n + 1):
        row = Row(chain=chain_no, sequence=sequence, prev_hash=previous, **fields)
        row.entry_hash = compute_hash(row)
        previous = row.entry_hash
        rows.append(row)
    return rows


def test_genesis_is_64_zeros_and_an_empty_log_verifies():
    assert GENESIS_HASH == "0" * 64
    assert verify_chain([]) == (True, None, "")


def test_stored_hashes_keep_verifying():
    """The serialisation is a stored format: sha256 of compact, key-sorted JSON,
    with "chain" only on chains other than 0 (rows from before chains existed
    must keep verifying).  Since audit migration 0002 the IP enters as its
    salted digest ("ip_digest"), never in clear.  Written out here byte for byte."""
    zeros, digest = "0" * 64, Row().ip_digest
    fields = (
        f'"created_at":"2026-01-02T03:04:05+00:00","details":{{"k":"v"}},"ip_digest":"{digest}",'
        f'"prev_hash":"{zeros}","sequence":1,"target_id":"7","target_type":"user","user_agent":"ua"}}'
    )
    chain_0 = '{"action":"auth.login","actor_id":7,"actor_label":"viewer",' + fields
    chain_2 = '{"action":"auth.login","actor_id":7,"actor_label":"viewer","chain":2,' + fields
    assert compute_hash(Row()) == hashlib.sha256(chain_0.encode()).hexdigest()
    assert compute_hash(Row(chain=2)) == hashlib.sha256(chain_2.encode()).hexdigest()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("chain", 1),
        ("sequence", 2),
        ("created_at", datetime.datetime(2026, 1, 2, 3, 4, 6, tzinfo=datetime.UTC)),
        ("actor_label", "other"),
        ("action", "auth.logout"),
        ("ip_digest", "e" * 64),
        ("user_agent", "ua2"),
        ("target_type", "performer"),
        ("target_id", "8"),
        ("details", {"k": "w"}),
    ],
)
def test_every_content_field_is_hashed(field, value):
    assert compute_hash(dataclasses.replace(Row(), **{field: value})) != compute_hash(Row())


def test_clean_chains_verify_each_from_genesis():
    rows = chain(3) + chain(2, chain_no=1)
    assert verify_chain(rows) == (True, None, "")


def test_a_chain_that_does_not_start_at_one_is_reported():
    rows = chain(3)
    ok, bad, why = verify_chain(rows[1:])
    assert (ok, bad, why) == (False, rows[1], "chain 0 starts at sequence 2 (rows deleted)")
    later = chain(2, chain_no=3)
    ok, bad, why = verify_chain(chain(1) + later[1:])
    assert (ok, bad, why) == (False, later[1], "chain 3 starts at sequence 2 (rows deleted)")


def test_a_gap_in_the_sequence_is_reported():
    rows = chain(4)
    ok, bad, why = verify_chain([rows[0], rows[1], rows[3]])
    assert (ok, bad, why) == (False, rows[3], "sequence jumps from 2 to 4 (rows deleted)")


def test_an_altered_row_is_reported_with_the_row():
    rows = chain(3)
    rows[1].details = {"k": "tampered"}
    assert verify_chain(rows) == (False, rows[1], "content does not match its hash (row altered)")


def test_a_relinked_row_is_reported():
    rows = chain(3)
    rows[2].prev_hash = rows[0].entry_hash
    rows[2].entry_hash = compute_hash(rows[2])  # re-hashed by whoever edited it
    assert verify_chain(rows) == (False, rows[2], "prev_hash does not match the previous row's hash")


def test_the_last_row_is_checked_too():
    rows = chain(3)
    rows[2].action = "edited"
    ok, bad, _ = verify_chain(rows)
    assert (ok, bad) == (False, rows[2])


def test_details_with_non_json_values_still_hash():
    """Details may carry dates, UUIDs or decimals: they are hashed as text,
    not refused (an audit write must never fail on its own details)."""
    import decimal
    import uuid

    row = Row(details={"on": datetime.date(2026, 1, 1), "id": uuid.UUID(int=1), "amount": decimal.Decimal("9.99")})
    as_text = Row(details={"on": "2026-01-01", "id": str(uuid.UUID(int=1)), "amount": "9.99"})
    assert compute_hash(row) == compute_hash(as_text)


def test_an_erased_ip_verifies_and_a_changed_one_is_named():
    rows = chain(3)
    rows[0].ip = rows[0].ip_salt = ""  # retention's erasure
    assert verify_chain(rows) == (True, None, "")
    rows[1].ip = "198.51.100.8"
    assert verify_chain(rows) == (False, rows[1], "ip does not match its digest (row altered)")
