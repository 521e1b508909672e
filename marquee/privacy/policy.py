"""Every category of personal data the platform holds: what it is for, the
legal basis, how long it lives (from settings) and whether the person's export
carries it.  docs/privacy.md is rendered from this list, the export writes one
file per category and the retention task reads the same settings, so the three
cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    purpose: str
    basis: str
    retention_setting: str = ""  # days, from settings; empty: see ``retention``
    retention: str = ""
    performers_only: bool = False

    def retention_text(self) -> str:
        if self.retention_setting:
            days = getattr(settings, self.retention_setting)
            return f"{days} days (`{self.retention_setting}`){'; ' + self.retention if self.retention else ''}"
        return self.retention


CONTRACT = "Contract (GDPR art. 6(1)(b))"
LEGAL = "Legal obligation (art. 6(1)(c))"
INTEREST = "Legitimate interest: security and abuse prevention (art. 6(1)(f))"
CLOSURE = "until the account is closed"

CATEGORIES = (
    Category(
        "profile",
        "Profile: username, e-mail, date of birth, time zone",
        "Log in, age gate, contact",
        CONTRACT,
        retention=CLOSURE,
    ),
    Category(
        "sessions",
        "Sessions and devices: IP address, browser",
        "Account security, list and end sessions",
        INTEREST,
        "PRIVACY_SESSION_IP_DAYS",
        "sessions older than this are deleted",
    ),
    Category(
        "two_factor",
        "Two-factor devices (type and dates only in the export)",
        "Account security",
        CONTRACT,
        retention=CLOSURE,
    ),
    Category(
        "purchases",
        "Purchases and receipts",
        "Payment, refunds, tax",
        LEGAL,
        "PRIVACY_RECEIPT_DETAIL_DAYS",
        "then the description and return address are blanked; amounts stay for accounting",
    ),
    Category(
        "wallet",
        "Wallet ledger entries",
        "Token balance, accounting",
        LEGAL,
        retention="kept for accounting; at closure linked only to a pseudonym",
    ),
    Category(
        "tips",
        "Tips sent (and their message)",
        "Deliver the tip, accounting",
        CONTRACT,
        retention="kept for accounting; at closure linked only to a pseudonym",
    ),
    Category(
        "subscriptions",
        "Subscriptions",
        "Deliver the subscription, billing",
        CONTRACT,
        retention="kept for accounting; at closure linked only to a pseudonym",
    ),
    Category("follows", "Performers you follow", "Notify you when they go live", CONTRACT, retention=CLOSURE),
    Category(
        "chat_messages",
        "Chat messages you wrote",
        "Room chat, moderation",
        CONTRACT,
        "PRIVACY_CHAT_MESSAGE_DAYS",
        'at closure the author shows as "deleted user"',
    ),
    Category(
        "held_messages", "Chat messages held for moderation", "Moderation review", INTEREST, "PRIVACY_HELD_MESSAGE_DAYS"
    ),
    Category(
        "watch_history",
        "Watch history and other interactions",
        "Recommendations",
        INTEREST,
        "PRIVACY_WATCH_HISTORY_DAYS",
    ),
    Category("notifications", "Notifications", "Tell you about shows", CONTRACT, "PRIVACY_NOTIFICATION_DAYS"),
    Category(
        "push_devices",
        "Push devices: each browser's push service address and whether it may show names",
        "Go-live alerts you turned on",
        CONTRACT,
        retention="until you turn push off, the push service drops it, or the account is closed",
    ),
    Category(
        "age_verification",
        "Age verification outcome",
        "Prove viewers are adults",
        LEGAL,
        retention="outcome kept; documents deleted at decision or closure",
    ),
    Category(
        "audit_events",
        "Audit events about you (with IP address, browser, geo-block location)",
        "Security and legal audit trail (hash-chained)",
        LEGAL,
        "PRIVACY_AUDIT_IP_DAYS",
        "then the IP address is blanked (the chain hashes a salted digest of it, so `audit_verify` still passes);"
        " the rest of the row is kept; closure is recorded as its own event",
    ),
    Category(
        "earnings",
        "Earnings and payouts",
        "Pay performers, accounting",
        LEGAL,
        retention="kept for accounting",
        performers_only=True,
    ),
    Category(
        "content",
        "Content you published (metadata)",
        "Sell and show your content",
        CONTRACT,
        retention=CLOSURE,
        performers_only=True,
    ),
    Category(
        "performer_records",
        "Performer records (18 U.S.C. 2257)",
        "Statutory record keeping",
        LEGAL,
        retention="the statutory period, also after closure",
        performers_only=True,
    ),
)

EXPORT_LINK = "PRIVACY_EXPORT_LINK_HOURS"
GRACE = "PRIVACY_CLOSURE_GRACE_DAYS"


def render_markdown() -> str:
    lines = [
        "# Privacy: what Marquee keeps, why, and for how long",
        "",
        "Generated by `manage.py privacy_doc` from `marquee/privacy/policy.py` and the settings; "
        "a test fails if this file differs from what the command renders.",
        "",
        "| category | purpose | legal basis | retention | in your export |",
        "|---|---|---|---|---|",
    ]
    for c in CATEGORIES:
        export = f"`{c.key}`" + (" (performers)" if c.performers_only else "")
        lines.append(f"| {c.label} | {c.purpose} | {c.basis} | {c.retention_text()} | {export} |")
    lines += [
        "",
        "## Closing an account",
        "",
        f"- Reversible for {getattr(settings, GRACE)} days (`{GRACE}`): the person reopens at `/accounts/reopen/` "
        "(or `POST /api/v1/account/reopen/`) with a code mailed to their old address, found through a keyed digest "
        "of it kept only during the grace period; support can run `manage.py privacy_reopen <user id>`. "
        "Then a worker task makes it final (the encrypted copy of the login identity and the digest are deleted).",
        "- Erased at once: e-mail, username (replaced by `deleted-<id>`), names, date of birth, sessions, "
        "two-factor devices, follows, notifications, watch history and recommendation data, moderator roles; "
        'chat messages show "deleted user"; a performer\'s public profile is blanked and hidden.',
        "- Kept (the law): ledger transfers, purchases and tips, linked to the pseudonymous user row; "
        "2257 records; the age-verification outcome without documents; the audit log.",
        "- Unspent tokens are not refundable: they are written off through the ledger to the "
        "`forfeited_tokens` account (transfer kind `forfeit`), never silently.",
        "- A performer can close only when pending and available earnings are zero and no payout is in flight.",
        "- The audit chain is never rewritten: the closure is recorded as its own event "
        "(`privacy.account_closed`, then `privacy.account_erasure_final`), so `audit_verify` still passes.",
        "",
        "## Download your data",
        "",
        f"A ZIP with one JSON and one CSV file per category above, prepared by the worker and downloaded through "
        f"a signed link valid for {getattr(settings, EXPORT_LINK)} hours (`{EXPORT_LINK}`); "
        "each request and download is in the audit log.",
        "",
    ]
    return "\n".join(lines)
