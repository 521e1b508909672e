"""Fixtures only; the WebSocket test client and helpers are in tests/support/chat.py."""

from __future__ import annotations

import pytest

from marquee.chat import limits, moderation, store
from marquee.lib import realtime


@pytest.fixture(scope="session", autouse=True)
def _classifier_loaded():
    from marquee.chat.classifier import get_classifier

    get_classifier()


@pytest.fixture(autouse=True)
def _moderation_caches_cleared():
    """mutmut forks each mutant from a process that already ran the tests, so
    memoised word lists and compiled patterns would be inherited from the
    unmutated code: every test computes them anew."""
    for value in vars(moderation).values():
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()


@pytest.fixture(autouse=True)
def _chat_clean(settings):
    settings.CHAT_BATCH_WINDOW_MS = 10
    settings.CHAT_MODERATION = {**settings.CHAT_MODERATION, "min_account_age_minutes": 0}
    realtime.backend().reset()
    limits.store().reset()
    store.discard()
    yield
    store.discard()
    realtime.backend().reset()
    limits.store().reset()
