"""Hash chain for the audit log."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets

GENESIS_HASH = "0" * 64


def new_ip_fields(ip: str) -> tuple[str, str]:
    """(salt, digest) for a row's IP.  The chain hashes the digest, never the
    IP, so retention can blank ``ip`` and ``ip_salt`` without breaking
    ``audit_verify``; the random salt, erased with the IP, keeps the digest
    from being reversed by trying all 2^32 IPv4 addresses."""
    if not ip:
        return "", ""
    salt = secrets.token_hex(16)
    return salt, ip_digest(salt, ip)


def ip_digest(salt: str, ip: str) -> str:
    return hmac.new(salt.encode(), ip.encode(), hashlib.sha256).hexdigest()


_DUMPS = {"sort_keys": True, "separators": (",", ":"), "default": str}
# Fields the database assigns when it appends a row (PostgreSQL:
# ``audit_append``): which chain, the sequence in it, the previous row's hash.
_ASSIGNED = ("chain", "sequence", "prev_hash")


def _content(event) -> dict:
    return {
        # Chain 0 rows hash exactly as before chains existed.
        **({"chain": event.chain} if event.chain else {}),
        "sequence": event.sequence,
        "created_at": event.created_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "ip_digest": event.ip_digest,
        "user_agent": event.user_agent,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }


def canonical_content(event) -> bytes:
    return json.dumps(_content(event), **_DUMPS).encode()


def _items(content: dict) -> str:
    return json.dumps(content, **_DUMPS)[1:-1]


def canonical_split(event) -> tuple[str, str, str]:
    """``canonical_content`` with the assigned fields left out, as the text
    around them: ``(head, mid, tail)`` such that the content is

        head + (',"chain":' + chain if chain else '') + mid
             + '"' + prev_hash + '","sequence":' + sequence + tail

    (keys sorted: the ones before "chain", then up to "prev_hash", then
    "sequence", then the rest), which ``audit_append`` hashes in SQL.  The
    split is computed from the same content dict, and a test checks the
    SQL hash against ``compute_hash`` on the same rows."""
    content = {k: v for k, v in _content(event).items() if k not in _ASSIGNED}
    keys = sorted(content)
    head = {k: content[k] for k in keys if k < "chain"}
    mid = {k: content[k] for k in keys if "chain" < k < "prev_hash"}
    between = [k for k in keys if "prev_hash" < k < "sequence"]
    tail = {k: content[k] for k in keys if k > "sequence"}
    assert head and mid and not between, keys
    return (
        "{" + _items(head),
        "," + _items(mid) + ',"prev_hash":',
        ("," + _items(tail) if tail else "") + "}",
    )


def compute_hash(event) -> str:
    return hashlib.sha256(canonical_content(event)).hexdigest()


def verify_chain(events) -> tuple[bool, object | None, str]:
    """Walk the events ordered by (chain, sequence); return (ok,
    first_bad_event, why)."""
    previous_hash = GENESIS_HASH
    expected_sequence = None
    current_chain = None
    for event in events:
        if event.chain != current_chain:
            current_chain, previous_hash, expected_sequence = event.chain, GENESIS_HASH, None
            if event.sequence != 1:
                return False, event, f"chain {event.chain} starts at sequence {event.sequence} (rows deleted)"
        if expected_sequence is not None and event.sequence != expected_sequence:
            return False, event, f"sequence jumps from {expected_sequence - 1} to {event.sequence} (rows deleted)"
        if event.prev_hash != previous_hash:
            return False, event, "prev_hash does not match the previous row's hash"
        if compute_hash(event) != event.entry_hash:
            return False, event, "content does not match its hash (row altered)"
        # An IP still held must be the one hashed (erased: ip and salt blank).
        if (event.ip or event.ip_salt) and ip_digest(event.ip_salt, event.ip) != event.ip_digest:
            return False, event, "ip does not match its digest (row altered)"
        previous_hash = event.entry_hash
        expected_sequence = event.sequence + 1
    return True, None, ""
