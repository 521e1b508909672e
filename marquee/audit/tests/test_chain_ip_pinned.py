"""The IP fields of the audit chain (``new_ip_fields``, and the rule that an
IP still held must match its digest), without a database: survivors of the
mutation run of issue 11 after the chain moved to hashing IP digests."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac

from marquee.audit.chain import new_ip_fields, verify_chain
from marquee.compliance.tests.test_audit_chain_edges import chain


def test_no_ip_gives_no_salt_and_no_digest():
    assert new_ip_fields("") == ("", "")


def test_an_ip_gets_a_fresh_random_salt_and_its_hmac():
    salt, digest = new_ip_fields("198.51.100.7")
    assert len(salt) == 32 and int(salt, 16) >= 0
    assert digest == hmac.new(salt.encode(), b"198.51.100.7", hashlib.sha256).hexdigest()
    again_salt, again_digest = new_ip_fields("198.51.100.7")
    assert again_salt != salt and again_digest != digest


def test_an_ip_erased_without_its_salt_breaks_the_chain():
    rows = chain(2)
    rows[1] = dataclasses.replace(rows[1], ip="")  # salt left behind: not an erasure
    ok, bad, why = verify_chain(rows)
    assert (ok, bad, why) == (False, rows[1], "ip does not match its digest (row altered)")


def test_a_salt_erased_without_its_ip_breaks_the_chain():
    rows = chain(2)
    rows[0] = dataclasses.replace(rows[0], ip_salt="")
    ok, bad, why = verify_chain(rows)
    assert (ok, bad, why) == (False, rows[0], "ip does not match its digest (row altered)")


def test_ip_and_salt_erased_together_keep_the_chain_valid():
    rows = [dataclasses.replace(row, ip="", ip_salt="") for row in chain(3)]
    assert verify_chain(rows) == (True, None, "")
