"""The auto-moderation pipeline, rule by rule, through services.post_message."""

from __future__ import annotations

import datetime
import time

import pytest
from django.utils import timezone

from marquee.chat import moderation, services
from marquee.chat.classifier import ProfanityCheckClassifier
from marquee.chat.models import ChatBan, ChatMessage, ChatRoomRules
from marquee.lib import realtime

pytestmark = pytest.mark.django_db


def post(user, performer, text, *, moderator=False):
    return services.post_message(
        user=user, performer=performer, text=text, role="moderator" if moderator else "viewer", is_moderator=moderator
    )


def rules(performer, **fields):
    return ChatRoomRules.objects.update_or_create(performer=performer, defaults=fields)[0]


def history_texts(room="performer"):
    import json

    return [json.loads(raw).get("text") for _, raw in realtime.recent_events(room)[1]]


def test_plain_message_is_published_once_and_stored_in_a_batch(viewer, performer):
    from marquee.chat import store

    result = post(viewer, performer, "hello")
    assert result.status == "sent" and result.event_id == 1
    assert history_texts() == ["hello"]
    assert not ChatMessage.objects.exists()  # not on the hot path
    assert store.flush() == 1
    row = ChatMessage.objects.get()
    assert (row.seq, row.text, row.author, row.state) == (1, "hello", viewer, "visible")


@pytest.mark.parametrize("text, code", [("", "empty"), ("   ", "empty"), ("hi " * 167, "too_long")])
def test_length_limit(viewer, performer, text, code):
    result = post(viewer, performer, text)
    assert (result.status, result.code) == ("refused", code)
    assert history_texts() == []


def test_room_override_of_length_limit(viewer, performer):
    rules(performer, overrides={"max_length": 10})
    assert post(viewer, performer, "hello mate!").code == "too_long"
    assert post(viewer, performer, "hello mate").status == "sent"


def test_new_accounts_cannot_post(viewer, performer, settings):
    settings.CHAT_MODERATION = {**settings.CHAT_MODERATION, "min_account_age_minutes": 10}
    assert post(viewer, performer, "hi").code == "account_too_new"
    viewer.date_joined = timezone.now() - datetime.timedelta(minutes=11)
    viewer.save()
    assert post(viewer, performer, "hi").status == "sent"


def _start_of_window(seconds):
    time.sleep(seconds - time.time() % seconds + 0.02)


def test_rate_limit_escalates_timeouts(viewer, performer, settings):
    settings.CHAT_MODERATION = {**settings.CHAT_MODERATION, "rate_limit_seconds": 2}
    limit, steps = settings.CHAT_MODERATION["rate_limit_messages"], settings.CHAT_MODERATION["rate_limit_timeouts"]
    _start_of_window(2)
    for i in range(limit):
        assert post(viewer, performer, f"m{i}").status == "sent"
    refused = post(viewer, performer, "one too many")
    assert refused.code == "rate_limited"
    ban = ChatBan.objects.get(user=viewer)
    assert ban.kind == "timeout"
    assert abs((ban.expires_at - timezone.now()).total_seconds() - steps[0]) < 5
    assert post(viewer, performer, "still here?").code == "timed_out"
    # Second offence within the hour: the next, longer step.
    ban.lifted_at = timezone.now()
    ban.save()
    _start_of_window(2)
    for i in range(limit + 1):
        post(viewer, performer, f"again {i}")
    second = ChatBan.objects.filter(user=viewer, lifted_at__isnull=True).get()
    assert abs((second.expires_at - timezone.now()).total_seconds() - steps[1]) < 5


def test_manual_slow_mode_and_moderators_exempt(viewer, moderator, performer):
    services.set_slow_mode(actor=performer.user, performer=performer, seconds=30)
    assert post(viewer, performer, "first").status == "sent"
    assert post(viewer, performer, "second").code == "slow_mode"
    assert post(moderator, performer, "mod 1", moderator=True).status == "sent"
    assert post(moderator, performer, "mod 2", moderator=True).status == "sent"


def test_automatic_slow_mode_on_a_spike(viewer, outsider, performer, settings):
    settings.CHAT_MODERATION = {**settings.CHAT_MODERATION, "auto_slow_mode_messages_per_10s": 3}
    for i in range(4):
        post(outsider if i % 2 else viewer, performer, f"spike {i}", moderator=False)
    import json

    events = [json.loads(raw) for _, raw in realtime.recent_events("performer")[1]]
    slow = [e for e in events if e["type"] == "moderation" and e["action"] == "slow_mode"]
    assert slow and slow[0]["automatic"] is True
    post(viewer, performer, "after the spike")  # the first one in the slow period passes
    assert post(viewer, performer, "and again").code == "slow_mode"


@pytest.mark.parametrize("text", ["you piece of sh1t", "s h i t", "f.u.c.k this", "fuuuuuck", "SHIT", "$h!t", "4ss"])
def test_profanity_with_leetspeak_and_spacing(viewer, performer, text):
    assert post(viewer, performer, text).code == "profanity"


@pytest.mark.parametrize(
    "text",
    [
        "class assignment",
        "assess the passage",
        "Scunthorpe",
        "cocktail hour",
        "a b c",
        "tip 455 tokens",
        "at 17:45:55",
        "b:12:1795714455.5",
    ],
)
def test_clean_words_pass_profanity_filter(text):
    assert not moderation.contains_profanity(text)


def test_platform_and_room_word_lists(viewer, performer, settings):
    settings.CHAT_MODERATION = {**settings.CHAT_MODERATION, "words": ["grapefruit"]}
    rules(performer, blocked_words=["rhubarb"])
    assert post(viewer, performer, "gr4pefruit").code == "profanity"
    assert post(viewer, performer, "r h u b a r b").code == "profanity"
    assert post(viewer, performer, "apples").status == "sent"


def test_custom_regex_rules_block_or_hold(viewer, outsider, performer):
    services.update_room_rules(
        actor=performer.user,
        performer=performer,
        regex_rules=[
            {"pattern": r"\bspoiler\b", "action": "block", "message": "No spoilers."},
            {"pattern": r"giveaway", "action": "hold"},
        ],
    )
    blocked = post(viewer, performer, "SPOILER: it ends")
    assert (blocked.code, blocked.message) == ("blocked_pattern", "No spoilers.")
    assert post(outsider, performer, "free giveaway").status == "held"
    assert ChatMessage.objects.get(state="held").text == "free giveaway"
    assert history_texts() == []


def test_regex_rules_are_linear_time_and_validated(performer):
    pattern = moderation.compile_rule(r"(a+)+$")
    start = time.perf_counter()
    assert pattern.search("a" * 50_000 + "!") is None
    assert time.perf_counter() - start < 0.5
    with pytest.raises(services.ChatError):
        services.update_room_rules(actor=performer.user, performer=performer, regex_rules=[{"pattern": "(unclosed"}])
    assert not ChatRoomRules.objects.exists()


@pytest.mark.parametrize(
    "text, code",
    [
        ("see https://example.com", "link_blocked"),
        ("www.example.org", "link_blocked"),
        ("my site example dot com", "link_blocked"),
        ("mail me jane.doe@example.net", "contact_blocked"),
        ("jane (at) example (dot) net", "contact_blocked"),
        ("call +1 (555) 123-4567", "contact_blocked"),
        ("add me on whatsapp", "contact_blocked"),
        ("pay me by cash app", "contact_blocked"),
    ],
)
def test_links_and_contact_details_blocked(viewer, performer, text, code):
    assert post(viewer, performer, text).code == code


def test_secret_words_redacted_for_everyone_and_flagged(viewer, performer):
    rules(performer, secret_words=["Jane Roe", "Springfield"])
    result = post(viewer, performer, "isn't she J a n e R o e from springfield?")
    assert result.status == "sent"
    assert history_texts() == ["isn't she [redacted] from [redacted]?"]


def test_fast_classifier_matches_the_library():
    from profanity_check import predict_prob

    texts = ["you are an idiot", "have a nice day", "i will hurt you", "great show tonight", "shut up loser"]
    fast = ProfanityCheckClassifier()
    for text, expected in zip(texts, predict_prob(texts), strict=True):
        assert fast.score(text) == pytest.approx(float(expected), abs=1e-9)


def test_classifier_holds_borderline_and_blocks_clear_cases(viewer, outsider, performer):
    rules(performer, overrides={"classifier_hold_threshold": 0.5, "classifier_block_threshold": 0.999})
    held = post(viewer, performer, "you are an idiot")
    assert held.status == "held" or held.code == "offensive"
    scored = ProfanityCheckClassifier().score("you are an idiot")
    assert held.status == ("held" if scored < 0.999 else "refused")
    assert post(outsider, performer, "what a lovely evening").status == "sent"
    assert "you are an idiot" not in history_texts()


def test_review_queue_approve_and_reject(viewer, performer):
    rules(performer, regex_rules=[{"pattern": "check me", "action": "hold"}])
    post(viewer, performer, "check me one")
    post(viewer, performer, "check me two")
    first, second = ChatMessage.objects.filter(state="held").order_by("pk")
    seq = services.review_held(actor=performer.user, performer=performer, held_id=first.pk, approve=True)
    assert history_texts() == ["check me one"]
    first.refresh_from_db()
    assert (first.state, first.seq) == ("visible", seq)
    assert services.review_held(actor=performer.user, performer=performer, held_id=second.pk, approve=False) is None
    second.refresh_from_db()
    assert second.state == "rejected"
    with pytest.raises(services.ChatError):
        services.review_held(actor=performer.user, performer=performer, held_id=second.pk, approve=True)


def test_stranger_cannot_review_or_change_rules(viewer, outsider, performer):
    rules(performer, regex_rules=[{"pattern": "check me", "action": "hold"}])
    post(viewer, performer, "check me")
    held = ChatMessage.objects.get(state="held")
    with pytest.raises(services.ChatError):
        services.review_held(actor=outsider, performer=performer, held_id=held.pk, approve=True)
    with pytest.raises(services.ChatError):
        services.update_room_rules(actor=outsider, performer=performer, blocked_words=["x"])
    held.refresh_from_db()
    assert held.state == "held" and history_texts() == []
    assert ChatRoomRules.objects.get(performer=performer).blocked_words == []


def test_sent_messages_count_as_chat_activity_refused_ones_do_not(
    viewer, performer, django_capture_on_commit_callbacks
):
    from marquee.recommendations import tracking
    from marquee.recommendations.models import Interaction

    with django_capture_on_commit_callbacks(execute=True):
        assert post(viewer, performer, "hello").status == "sent"
        assert post(viewer, performer, "").status == "refused"
    tracking.flush()
    assert list(Interaction.objects.values_list("user_id", "performer_id", "kind")) == [
        (viewer.pk, performer.pk, "chat")
    ]
