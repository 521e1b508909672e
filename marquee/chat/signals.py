"""Thin hook: a logout closes that session's chat sockets (or all of the
user's when the session is unknown)."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from marquee.lib.events import send_user_event


@receiver(user_logged_out)
def close_chat_sockets_on_logout(sender, request, user, **kwargs):
    if user is None:
        return
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    send_user_event(user.pk, "logout", {"session_key": session_key})
