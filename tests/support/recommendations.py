"""Recommendation test helpers."""

from __future__ import annotations

from marquee.performers.models import Tag
from tests.factories import PerformerFactory, UserFactory


def tagged_performer(username: str, *tags: str, **kwargs):
    performer = PerformerFactory(user=UserFactory(username=username), **kwargs)
    for slug in tags:
        tag, _ = Tag.objects.get_or_create(kind=Tag.Kind.TAG, slug=slug, defaults={"label": slug.title()})
        performer.tags.add(tag)
    return performer
