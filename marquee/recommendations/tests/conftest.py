from __future__ import annotations

import uuid

import pytest

from marquee.recommendations import selectors, tracking, training
from marquee.recommendations.models import Interaction
from tests.factories import UserFactory
from tests.support.recommendations import tagged_performer


@pytest.fixture(autouse=True)
def _isolated_recommender(settings, tmp_path):
    """Own artifact folder and interaction buffer per test."""
    settings.RECS_DIR = tmp_path / "recommender"
    settings.RECS_BUFFER_KEY = f"test:recs:{uuid.uuid4().hex}"
    selectors._loaded.clear()
    tracking._buffer.cache_clear()
    yield
    tracking._buffer.cache_clear()
    selectors._loaded.clear()


@pytest.fixture
def taste_world(db):
    """Two taste groups: cooks (c0–c3, "cooking") and artists (a0–a3, "art").
    Cooking fans watch cooks; art fans watch artists; casual viewers follow a0,
    which makes a0 the most popular performer overall."""
    cooks = [tagged_performer(f"c{i}", "cooking") for i in range(4)]
    artists = [tagged_performer(f"a{i}", "art") for i in range(4)]
    cook_fans = [UserFactory(username=f"cookfan{i}") for i in range(8)]
    art_fans = [UserFactory(username=f"artfan{i}") for i in range(8)]
    rows = []
    for i, fan in enumerate(cook_fans):
        for cook in cooks:
            if (i + cook.pk) % 4 != 0:  # each fan misses one cook: something left to recommend
                rows.append(Interaction(user=fan, performer=cook, kind="watch", amount=1800))
    for i, fan in enumerate(art_fans):
        for artist in artists:
            if (i + artist.pk) % 4 != 0:
                rows.append(Interaction(user=fan, performer=artist, kind="watch", amount=1800))
    extra = [UserFactory(username=f"casual{i}") for i in range(10)]
    rows += [Interaction(user=u, performer=artists[0], kind="follow", amount=1) for u in extra]
    Interaction.objects.bulk_create(rows)
    return {"cooks": cooks, "artists": artists, "cook_fans": cook_fans, "art_fans": art_fans}


@pytest.fixture
def trained(taste_world):
    training.train()
    return taste_world
