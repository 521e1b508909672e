"""The auto-moderation pipeline: small ordered rules over one message.

Each rule looks at a ``Context`` and returns ``None`` (next rule), a refusal,
or a hold for review; a rule may also rewrite the text (redaction) and add
flags for moderators.  Configuration is ``settings.CHAT_MODERATION`` with a
room's ``ChatRoomRules`` layered on top.  Counters live in the Django cache
(Redis in production) so limits hold across processes.
"""

from __future__ import annotations

import functools
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import re2
from django.conf import settings
from django.core.cache import cache

from marquee.chat.classifier import get_classifier

REFUSE, HOLD, ALLOW = "refuse", "hold", "allow"


@dataclass
class Verdict:
    action: str
    code: str = ""
    message: str = ""
    timeout_seconds: int = 0


@dataclass
class Context:
    user: object
    room: str
    text: str
    is_moderator: bool
    config: dict
    blocked_words: list[str] = field(default_factory=list)
    regex_rules: list[dict] = field(default_factory=list)
    secret_words: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    slow_mode_seconds: int = 0


def refuse(code: str, message: str, **extra) -> Verdict:
    return Verdict(REFUSE, code, message, **extra)


# --- Rules, in order -------------------------------------------------------------


def length_limit(ctx: Context):
    if not ctx.text.strip():
        return refuse("empty", "Type a message first.")
    if len(ctx.text) > ctx.config["max_length"]:
        return refuse("too_long", f"Messages can be at most {ctx.config['max_length']} characters.")
    return None


def account_age(ctx: Context):
    minutes = ctx.config["min_account_age_minutes"]
    if ctx.is_moderator or not minutes:
        return None
    age_seconds = time.time() - ctx.user.date_joined.timestamp()
    if age_seconds < minutes * 60:
        return refuse("account_too_new", f"New accounts can chat {minutes} minutes after signing up.")
    return None


def rate_limit(ctx: Context):
    """N messages per window per user and room; each further offence within
    an hour times the user out for the next, longer step."""
    if ctx.is_moderator:
        return None
    limit, window = ctx.config["rate_limit_messages"], ctx.config["rate_limit_seconds"]
    bucket = int(time.time() // window)
    key = f"chat:rl:{ctx.room}:{ctx.user.pk}:{bucket}"
    cache.add(key, 0, timeout=window * 2)
    count = cache.incr(key)
    if count <= limit:
        return None
    if count == limit + 1:  # the first refused message of this window counts as one offence
        offence_key = f"chat:rl-offences:{ctx.room}:{ctx.user.pk}"
        cache.add(offence_key, 0, timeout=3600)
        offences = cache.incr(offence_key)
        steps = ctx.config["rate_limit_timeouts"]
        seconds = steps[min(offences, len(steps)) - 1]
        return refuse(
            "rate_limited", f"Too many messages: you are timed out for {seconds} seconds.", timeout_seconds=seconds
        )
    return refuse("rate_limited", "Too many messages: slow down.")


def slow_mode(ctx: Context):
    seconds = ctx.slow_mode_seconds
    if ctx.is_moderator or not seconds:
        return None
    if not cache.add(f"chat:slow:{ctx.room}:{ctx.user.pk}", 1, timeout=seconds):
        return refuse("slow_mode", f"Slow mode is on: one message every {seconds} seconds.")
    return None


_URL = re.compile(
    r"(?:https?://|www\.|t\.me/)\S+"
    r"|\b[a-z0-9-]{2,}\s*(?:\.|\(dot\)|\[dot\]|\sdot\s)\s*"
    r"(?:com|net|org|io|me|co|tv|xyz|info|biz|ly|gg|app|site|online|link|to|ru|de|uk|fr|cc|us)\b",
    re.IGNORECASE,
)
_CONTACT = re.compile(
    r"[\w.+-]+\s*(?:@|\(at\)|\[at\])\s*[\w-]+\s*(?:\.|\(dot\)|\[dot\])\s*[a-z]{2,}"  # e-mail
    r"|(?:\+?\d[\s().-]{0,3}){8,}"  # phone number, however it is spaced
    r"|\b(?:whats\s*app|telegram|snap\s*chat|kik|wickr|cash\s*app|venmo|pay\s*pal|skype|discord)\b",
    re.IGNORECASE,
)


def links_and_contacts(ctx: Context):
    if ctx.is_moderator:
        return None
    if ctx.config["block_contacts"] and _CONTACT.search(ctx.text):
        return refuse("contact_blocked", "Contact details and off-site payment names are not allowed in chat.")
    if ctx.config["block_links"] and _URL.search(ctx.text):
        return refuse("link_blocked", "Links are not allowed in this chat.")
    return None


# Profanity: better-profanity's maintained word list and its leetspeak map,
# matched after normalizing the text (its own matcher costs ~25 ms a message).
_LEET = str.maketrans(
    {
        "@": "a",
        "4": "a",
        "1": "i",
        "!": "i",
        "|": "l",
        "3": "e",
        "0": "o",
        "$": "s",
        "5": "s",
        "7": "t",
        "+": "t",
        "v": "u",
    }
)
_WORD = re.compile(r"[a-z]+")


@functools.cache
def _base_words() -> frozenset[str]:
    import better_profanity

    path = Path(better_profanity.__file__).parent / "profanity_wordlist.txt"
    return frozenset(_normalize_word(w) for w in path.read_text().splitlines() if w.strip())


def _normalize_word(word: str) -> str:
    return " ".join(_WORD.findall(_fold(word)))


# Numbers on their own ("455 tokens", a time) are not leetspeak: only digits
# touching a letter are read as letters ("sh1t", "4ss").
_LONE_NUMBER = re.compile(r"(?<![a-z@$!|+])[\d.,:]*\d(?![a-z@$!|+])")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _LONE_NUMBER.sub(" ", plain).translate(_LEET)


def _squeeze(word: str) -> str:
    return re.sub(r"(.)\1+", r"\1", word)


def _candidates(text: str):
    """Words of the text, with runs of single letters joined ("f u c k",
    "f.u.c.k") and phrases of two and three words."""
    tokens = _WORD.findall(_fold(text))
    joined, run = [], []
    for token in tokens:
        if len(token) == 1:
            run.append(token)
            continue
        if len(run) > 1:
            joined.append("".join(run))
        run = []
    if len(run) > 1:
        joined.append("".join(run))
    yield from tokens
    yield from joined
    for n in (2, 3):
        for i in range(len(tokens) - n + 1):
            yield " ".join(tokens[i : i + n])


def _wordset(extra: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    words = _base_words() | {_normalize_word(w) for w in extra if w.strip()}
    return words, frozenset(_squeeze(w) for w in words)


@functools.lru_cache(maxsize=256)
def _wordset_cached(extra: tuple[str, ...]):
    return _wordset(extra)


def contains_profanity(text: str, extra_words=()) -> bool:
    words, squeezed = _wordset_cached(tuple(sorted(extra_words)))
    for candidate in _candidates(text):
        if candidate in words:
            return True
        # "fuuuck": compare squeezed forms, only when letters were repeated.
        if re.search(r"(.)\1\1", candidate) and _squeeze(candidate) in squeezed:
            return True
    return False


def profanity(ctx: Context):
    if contains_profanity(ctx.text, (*ctx.config["words"], *ctx.blocked_words)):
        return refuse("profanity", "That message contains words this room does not allow.")
    return None


@functools.lru_cache(maxsize=1024)
def compile_rule(pattern: str):
    """RE2: linear time, so no rule can hang the room (raises re2.error)."""
    options = re2.Options()
    options.max_mem = 1 << 20
    options.case_sensitive = False
    return re2.compile(pattern, options)


def regex_rules(ctx: Context):
    for rule in (*ctx.config["regex_rules"], *ctx.regex_rules):
        if compile_rule(rule["pattern"]).search(ctx.text):
            if rule.get("action") == "hold":
                return Verdict(HOLD, "held_for_review", "Your message is waiting for a moderator.")
            return refuse("blocked_pattern", rule.get("message") or "That message is not allowed in this room.")
    return None


@functools.lru_cache(maxsize=256)
def _secret_pattern(words: tuple[str, ...]):
    # Letters may be separated by anything ("J o h n", "j.o.h.n").
    alternatives = [r"[\W_]*".join(re2.escape(ch) for ch in word if not ch.isspace()) for word in words if word.strip()]
    return compile_rule("|".join(f"(?:{a})" for a in alternatives)) if alternatives else None


def secret_words(ctx: Context):
    pattern = _secret_pattern(tuple(ctx.secret_words))
    if pattern is not None and pattern.search(ctx.text):
        ctx.text = pattern.sub("[redacted]", ctx.text)
        ctx.flags.append("secret_word")
    return None


def classifier(ctx: Context):
    if ctx.is_moderator:
        return None
    score = get_classifier().score(ctx.text)
    if score >= ctx.config["classifier_block_threshold"]:
        return refuse("offensive", "That message looks offensive and was not sent.")
    if score >= ctx.config["classifier_hold_threshold"]:
        ctx.flags.append(f"classifier:{score:.2f}")
        return Verdict(HOLD, "held_for_review", "Your message is waiting for a moderator.")
    return None


RULES = [
    length_limit,
    account_age,
    rate_limit,
    slow_mode,
    links_and_contacts,
    profanity,
    regex_rules,
    secret_words,
    classifier,
]


def run(ctx: Context) -> Verdict:
    for rule in RULES:
        verdict = rule(ctx)
        if verdict is not None:
            return verdict
    return Verdict(ALLOW)


def room_config(rules) -> dict:
    config = dict(settings.CHAT_MODERATION)
    if rules is not None:
        config.update({k: v for k, v in rules.overrides.items() if k in config})
    return config
