"""Built-in template filters (``TEMPLATES[...]["OPTIONS"]["builtins"]``): every
template formats money and times the same way, without ``{% load %}``."""

from django import template

from marquee.lib import formatting

register = template.Library()


@register.filter
def money(cents) -> str:
    """``{{ cents|money }}`` → "$7.99"."""
    return formatting.money(cents)


@register.filter
def when(dt) -> str:
    """``{{ dt|when }}`` → "Sun 6 Dec, 7:30 PM EST (in 3 h)" in the viewer's zone."""
    return formatting.when(dt)


@register.filter
def when_plain(dt) -> str:
    """Like ``when`` without the relative part (tables, receipts)."""
    return formatting.when(dt, with_relative=False)


@register.filter
def day(value) -> str:
    """``{{ dt|day }}`` → "6 Dec 2026" (the date in the viewer's zone)."""
    return formatting.day(value)
