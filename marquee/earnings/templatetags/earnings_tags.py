from django import template

register = template.Library()


@register.filter
def dollars(cents) -> str:
    """Integer cents → "$1,234.56" (negative amounts keep their sign)."""
    cents = int(cents or 0)
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{rest:02d}"


@register.inclusion_tag("earnings/_tip_goal.html")
def tip_goal(performer):
    from marquee.earnings.selectors import tip_goal_progress

    return {"goal": tip_goal_progress(performer), "performer": performer}
