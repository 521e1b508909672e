from django import template

from marquee.access import selectors as access

register = template.Library()

SHELF_SIZE = 6


@register.inclusion_tag("content/_shelf.html", takes_context=True)
def content_shelf(context, performer):
    """The performer's photo and video sets on the room and profile pages
    (what this viewer may be shown, from the one entitlement module)."""
    viewer = access.Viewer.from_request(context["request"])
    shelf = access.content_shelf(viewer, performer, limit=SHELF_SIZE + 1)
    return {"performer": performer, "shelf": shelf[:SHELF_SIZE], "more": len(shelf) > SHELF_SIZE}
