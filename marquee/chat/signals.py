"""Thin hooks: when a session ends, or a user's rights in a room change, the
affected chat sockets hear it through one user event (realtime.publish_user_event,
on commit).  Any way a session ends is covered: logout, allauth's sessions
page and token revocation (both delete the UserSession row); anything else
(a password change, an expired session) is caught by the sockets' periodic
session re-check (consumers.ChatSocket._watch)."""

from __future__ import annotations

from allauth.usersessions.models import UserSession
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from marquee.lib.events import send_user_event
from marquee.performers.models import RoomModerator


@receiver(user_logged_out)
def close_chat_sockets_on_logout(sender, request, user, **kwargs):
    if user is None:
        return
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    send_user_event(user.pk, "session_ended", {"session_key": session_key, "reason": "logged_out"})


@receiver(post_delete, sender=UserSession)
def close_chat_sockets_of_ended_session(sender, instance, **kwargs):
    send_user_event(instance.user_id, "session_ended", {"session_key": instance.session_key, "reason": "session_ended"})


@receiver(post_save, sender=RoomModerator)
@receiver(post_delete, sender=RoomModerator)
def recheck_chat_rights(sender, instance, **kwargs):
    send_user_event(instance.user_id, "rights_changed", {"performer_id": instance.performer_id})
