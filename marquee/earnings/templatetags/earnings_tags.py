from django import template

register = template.Library()


@register.filter
def dollars(cents) -> str:
    """Integer cents → "$1,234.56" (negative amounts keep their sign)."""
    cents = int(cents or 0)
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{rest:02d}"
