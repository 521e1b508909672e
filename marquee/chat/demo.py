"""Demo chat set-up: demo accounts old enough to post, a moderator and
room rules in performer1's room (SFW placeholders only)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from marquee.accounts.models import User
from marquee.chat.models import ChatRoomRules
from marquee.performers.models import Performer, RoomModerator


def seed(out) -> None:
    # New accounts wait before chatting; demo accounts are made "old" so a
    # fresh `make run` can chat at once.
    old_enough = timezone.now() - datetime.timedelta(minutes=settings.CHAT_MODERATION["min_account_age_minutes"] + 1)
    User.objects.filter(email__endswith="@demo.test", date_joined__gt=old_enough).update(date_joined=old_enough)
    room = Performer.objects.filter(user__username="performer1").first()
    moderator = User.objects.filter(username="viewer3").first()
    if room is None:
        return
    if moderator is not None:
        RoomModerator.objects.get_or_create(performer=room, user=moderator)
    ChatRoomRules.objects.get_or_create(
        performer=room,
        defaults={
            "blocked_words": ["pineapplepizza"],
            "regex_rules": [{"pattern": r"\bspoilers?\b", "action": "hold"}],
            "secret_words": ["Aurora Placeholder-Realname"],
        },
    )
    out.write("chat: demo rules in performer1's room, viewer3 moderates it")
