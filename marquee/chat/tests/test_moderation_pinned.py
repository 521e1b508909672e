"""Each auto-moderation rule of ``marquee.chat.moderation`` called directly on
a ``Context`` (mutation testing, issue 11): bounds, codes, messages, timeouts,
who is exempt, and the word matching behind the profanity rule.  No database:
the clock the rules read is replaced, the classifier is a fake with a fixed
score, and the counters live in the test cache (cleared per test)."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches

from marquee.chat import moderation
from marquee.chat.moderation import HOLD, REFUSE, Context, Verdict

T0 = 1_800_000_000.0  # a multiple of every window used below


@pytest.fixture
def clock(monkeypatch):
    now = SimpleNamespace(value=T0)
    monkeypatch.setattr(moderation, "time", SimpleNamespace(time=lambda: now.value))
    return now


def config(**overrides):
    base = {
        "max_length": 10,
        "rate_limit_messages": 2,
        "rate_limit_seconds": 10,
        "rate_limit_timeouts": [30, 120],
        "min_account_age_minutes": 10,
        "block_links": True,
        "block_contacts": True,
        "words": [],
        "regex_rules": [],
        "classifier_hold_threshold": 0.80,
        "classifier_block_threshold": 0.97,
    }
    return {**base, **overrides}


def ctx(text="hello", *, user_pk=1, room="room-a", moderator=False, joined=None, **fields):
    user = SimpleNamespace(pk=user_pk, date_joined=joined or datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    cfg = config(**fields.pop("config", {}))
    return Context(user=user, room=room, text=text, is_moderator=moderator, config=cfg, **fields)


def refused(code, message, timeout_seconds=0):
    return Verdict(REFUSE, code, message, timeout_seconds)


HELD = Verdict(HOLD, "held_for_review", "Your message is waiting for a moderator.")


def test_length_limit_bounds():
    assert moderation.length_limit(ctx("")) == refused("empty", "Type a message first.")
    assert moderation.length_limit(ctx(" \n\t")) == refused("empty", "Type a message first.")
    assert moderation.length_limit(ctx("x" * 10)) is None
    assert moderation.length_limit(ctx("x" * 11)) == refused("too_long", "Messages can be at most 10 characters.")


def test_account_age_counts_from_sign_up(clock):
    joined = datetime.datetime.fromtimestamp(T0 - 600, tz=datetime.UTC)  # exactly 10 minutes ago
    assert moderation.account_age(ctx(joined=joined)) is None
    newer = joined + datetime.timedelta(seconds=1)
    assert moderation.account_age(ctx(joined=newer)) == refused(
        "account_too_new", "New accounts can chat 10 minutes after signing up."
    )
    assert moderation.account_age(ctx(joined=newer, moderator=True)) is None
    assert moderation.account_age(ctx(joined=newer, config={"min_account_age_minutes": 0})) is None


def test_rate_limit_per_window_with_escalating_timeouts(clock):
    def send(**kwargs):
        return moderation.rate_limit(ctx(**kwargs))

    assert [send(), send()] == [None, None]
    assert send() == refused("rate_limited", "Too many messages: you are timed out for 30 seconds.", 30)
    assert send() == refused("rate_limited", "Too many messages: slow down.")
    # Others, and the same user in another room, have their own counters.
    assert send(user_pk=2) is None
    assert send(room="room-b") is None
    assert send(moderator=True) is None

    clock.value = T0 + 9.99  # same window
    assert send() == refused("rate_limited", "Too many messages: slow down.")
    clock.value = T0 + 10  # next window: the second offence times out for the next step
    assert [send(), send()] == [None, None]
    assert send() == refused("rate_limited", "Too many messages: you are timed out for 120 seconds.", 120)
    clock.value = T0 + 20  # beyond the last step: the last step again
    assert [send(), send()] == [None, None]
    assert send().timeout_seconds == 120
    # Offences are counted per room too.
    clock.value = T0 + 30
    assert [send(room="room-b"), send(room="room-b")] == [None, None]
    assert send(room="room-b").timeout_seconds == 30


def test_slow_mode_one_message_per_period():
    assert moderation.slow_mode(ctx(slow_mode_seconds=0)) is None
    assert moderation.slow_mode(ctx(slow_mode_seconds=0)) is None
    assert moderation.slow_mode(ctx(slow_mode_seconds=5)) is None
    assert moderation.slow_mode(ctx(slow_mode_seconds=5)) == refused(
        "slow_mode", "Slow mode is on: one message every 5 seconds."
    )
    assert moderation.slow_mode(ctx(slow_mode_seconds=5, moderator=True)) is None
    assert moderation.slow_mode(ctx(slow_mode_seconds=5, user_pk=2)) is None
    assert moderation.slow_mode(ctx(slow_mode_seconds=5, room="room-b")) is None


def test_links_and_contacts_each_switchable():
    contact, link = "whatsapp me", "see www.example.com"
    contact_refused = refused("contact_blocked", "Contact details and off-site payment names are not allowed in chat.")
    link_refused = refused("link_blocked", "Links are not allowed in this chat.")
    assert moderation.links_and_contacts(ctx(contact)) == contact_refused
    assert moderation.links_and_contacts(ctx(link)) == link_refused
    assert moderation.links_and_contacts(ctx("hello there")) is None
    assert moderation.links_and_contacts(ctx(contact, moderator=True)) is None
    assert moderation.links_and_contacts(ctx(link, moderator=True)) is None
    assert moderation.links_and_contacts(ctx(contact, config={"block_contacts": False})) is None
    assert moderation.links_and_contacts(ctx(link, config={"block_contacts": False})) == link_refused
    assert moderation.links_and_contacts(ctx(link, config={"block_links": False})) is None
    assert moderation.links_and_contacts(ctx(contact, config={"block_links": False})) == contact_refused


@pytest.mark.parametrize(
    "text",
    [
        "you zork",
        "ZORK.",
        "z0rk",  # leetspeak next to letters
        "Zörk",  # accents folded
        "say z o r k now",  # spaced letters joined
        "say z.o.r.k",  # joined at the end of the text too
        "zooorrrk",  # repeated letters squeezed
        "we saw big blob",  # a two-word entry, at the end
        "a big red blob here",  # a three-word entry
    ],
)
def test_extra_words_are_found_however_written(text):
    assert moderation.contains_profanity(text, ("zork", "big blob", "big red blob")) is True


@pytest.mark.parametrize("text", ["zor k", "zoork is near", "z o", "big and red blob", "blob"])
def test_near_misses_are_not_words(text):
    assert moderation.contains_profanity(text, ("zork", "big red blob")) is False


def test_extra_words_are_only_those_given():
    assert moderation.contains_profanity("a zork") is False
    assert moderation.contains_profanity("a zork", ["zork"]) is True


def test_the_library_word_list_and_lone_numbers():
    assert moderation.contains_profanity("oh sh1t") is True
    assert moderation.contains_profanity("oh shit") is True
    assert moderation.contains_profanity("455 tokens at 5:30") is False
    assert moderation.contains_profanity("hello there, lovely show") is False


def test_the_profanity_rule_uses_platform_and_room_words():
    message = "That message contains words this room does not allow."
    assert moderation.profanity(ctx("a zork", config={"words": ["zork"]})) == refused("profanity", message)
    assert moderation.profanity(ctx("a blob", blocked_words=["blob"])) == refused("profanity", message)
    assert moderation.profanity(ctx("a blob", config={"words": ["zork"]})) is None


def test_regex_rules_block_or_hold_first_match_wins():
    platform_rule = {"pattern": "ZORK"}  # case-insensitive
    room_rules = [{"pattern": r"\bfoo\b", "action": "hold"}, {"pattern": "bar", "message": "No bar here."}]
    default = refused("blocked_pattern", "That message is not allowed in this room.")
    assert moderation.regex_rules(ctx("a zork", config={"regex_rules": [platform_rule]})) == default
    assert moderation.regex_rules(ctx("a foo", regex_rules=room_rules)) == HELD
    assert moderation.regex_rules(ctx("a bar", regex_rules=room_rules)) == refused("blocked_pattern", "No bar here.")
    assert moderation.regex_rules(ctx("foo bar", regex_rules=room_rules)) == HELD
    assert moderation.regex_rules(ctx("a bar", regex_rules=[{"pattern": "bar", "action": "block"}])) == default
    assert moderation.regex_rules(ctx("nothing", regex_rules=room_rules)) is None


def test_secret_words_are_redacted_and_flagged():
    context = ctx("hi J o h n, and j_o_h_n. bye", secret_words=["John", "  "])
    assert moderation.secret_words(context) is None
    assert (context.text, context.flags) == ("hi [redacted], and [redacted]. bye", ["secret_word"])
    spaced = ctx("call Mary Ann now", secret_words=["mary ann"])
    moderation.secret_words(spaced)
    assert spaced.text == "call [redacted] now"
    untouched = ctx("hi John", secret_words=["  "])
    moderation.secret_words(untouched)
    assert (untouched.text, untouched.flags) == ("hi John", [])
    other = ctx("hi Paul", secret_words=["John"])
    moderation.secret_words(other)
    assert (other.text, other.flags) == ("hi Paul", [])


@pytest.mark.parametrize(
    "score, verdict, flags",
    [
        (0.97, refused("offensive", "That message looks offensive and was not sent."), []),
        (0.969, HELD, ["classifier:0.97"]),
        (0.85, HELD, ["classifier:0.85"]),
        (0.80, HELD, ["classifier:0.80"]),
        (0.799, None, []),
    ],
)
def test_classifier_thresholds(monkeypatch, score, verdict, flags):
    monkeypatch.setattr(moderation, "get_classifier", lambda: SimpleNamespace(score=lambda text: score))
    context = ctx("hello")
    assert moderation.classifier(context) == verdict
    assert context.flags == flags
    moderator = ctx("hello", moderator=True)
    assert moderation.classifier(moderator) is None and moderator.flags == []


def test_the_pipeline_stops_at_the_first_verdict(monkeypatch):
    monkeypatch.setattr(moderation, "get_classifier", lambda: SimpleNamespace(score=lambda text: 0.0))
    assert moderation.run(ctx("")) == refused("empty", "Type a message first.")
    assert moderation.run(ctx("hi zork", config={"words": ["zork"]})).code == "profanity"
    assert moderation.run(ctx("hello")) == Verdict("allow", "", "", 0)


def test_room_config_layers_known_overrides_on_a_copy():
    assert moderation.room_config(None) == django_settings.CHAT_MODERATION
    room = SimpleNamespace(overrides={"max_length": 7, "not_a_setting": 1})
    layered = moderation.room_config(room)
    assert layered == {**django_settings.CHAT_MODERATION, "max_length": 7}
    assert "not_a_setting" not in layered
    assert django_settings.CHAT_MODERATION["max_length"] != 7


@pytest.fixture
def frozen_cache(settings, monkeypatch):
    """A process-local cache whose expiry follows a fake clock (also the
    clock the rules read), so "how long" a counter lives can be checked.
    The in-memory backend on both set-ups: Redis expires keys on its own clock."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "frozen-clock"},
    }
    # In-memory caches of one LOCATION share their data for the whole process:
    # start empty, whatever ran before (keys written on the real clock would
    # look unexpired on the fake one).
    caches["default"].clear()
    now = SimpleNamespace(value=T0)
    monkeypatch.setattr("time.time", lambda: now.value)
    monkeypatch.setattr(moderation, "time", SimpleNamespace(time=lambda: now.value))
    return now


def test_slow_mode_lasts_exactly_its_period(frozen_cache):
    assert moderation.slow_mode(ctx(slow_mode_seconds=5)) is None
    frozen_cache.value = T0 + 4.9
    assert moderation.slow_mode(ctx(slow_mode_seconds=5)).code == "slow_mode"
    frozen_cache.value = T0 + 5.1
    assert moderation.slow_mode(ctx(slow_mode_seconds=5)) is None


def test_a_rate_window_counts_to_its_end_and_offences_are_forgotten_after_an_hour(frozen_cache):
    def send():
        return moderation.rate_limit(ctx())

    assert [send(), send()] == [None, None]
    frozen_cache.value = T0 + 9  # late in the same window: the count is still there
    assert send().timeout_seconds == 30
    frozen_cache.value = T0 + 1000  # a quarter of an hour later the offence still counts
    assert [send(), send()] == [None, None]
    assert send().timeout_seconds == 120
    frozen_cache.value = T0 + 3600 + 20  # an hour after the first offence it is forgotten
    assert [send(), send()] == [None, None]
    assert send().timeout_seconds == 30
