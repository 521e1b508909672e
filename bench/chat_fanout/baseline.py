"""Baseline for the benchmark: the stock Channels pattern, one group per room
and ``group_send`` per message, with a channel layer set up here
(RedisPubSubChannelLayer when REDIS_URL is set; the project itself has no
channel layer, and channels-redis is a dev dependency for this baseline).  Same wire format (a JSON
array per frame) so the same viewers measure it."""

from __future__ import annotations

import json
import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marquee.settings")
django.setup()

from django.conf import settings  # noqa: E402

settings.CHANNEL_LAYERS = (
    {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": settings.REDIS_URL, "socket_timeout": None, "max_connections": 1000}],
                "prefix": settings.CHAT_CHANNEL_PREFIX + ":asgi",
            },
        }
    }
    if settings.REDIS_URL
    else {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
)
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

_counter = {"seq": 0}


class BaselineChat(AsyncWebsocketConsumer):
    async def connect(self):
        self.room = "room-" + self.scope["url_route"]["kwargs"]["username"]
        await self.channel_layer.group_add(self.room, self.channel_name)
        await self.accept()
        await self.send(json.dumps([{"type": "hello"}]))

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.room, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        data = json.loads(text_data)
        if data.get("type") == "message":
            _counter["seq"] += 1
            await self.channel_layer.group_send(
                self.room, {"type": "chat.message", "text": data["text"], "ts": time.time()}
            )

    async def chat_message(self, event):
        await self.send(json.dumps([{"type": "message", "text": event["text"]}]))


application = ProtocolTypeRouter(
    {"websocket": URLRouter([path("ws/rooms/<str:username>/chat/", BaselineChat.as_asgi())])}
)
