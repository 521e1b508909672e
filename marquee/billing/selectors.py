"""Reads of what a viewer has paid for.  The money issue fills these in with
purchases and subscriptions; until then nothing is paid for."""

from __future__ import annotations


def has_show_ticket(user, show) -> bool:
    return False


def has_active_subscription(user, performer) -> bool:
    return False
