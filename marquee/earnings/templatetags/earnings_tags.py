from django import template

register = template.Library()


@register.inclusion_tag("earnings/_tip_goal.html")
def tip_goal(performer):
    from marquee.earnings.selectors import tip_goal_progress

    return {"goal": tip_goal_progress(performer), "performer": performer}
