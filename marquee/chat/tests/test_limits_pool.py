"""Thousands of sockets opening or closing at once take and give back their
places through a Redis pool smaller than their number: none fails, none
stays taken."""

from __future__ import annotations

import asyncio

import pytest
from django.conf import settings

from marquee.chat import limits
from marquee.lib import realtime

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="the Redis lease store (PostgreSQL + Redis runs)")


def test_a_mass_join_and_close_takes_and_releases_every_place(settings):
    settings.CHAT_REDIS_MAX_CONNECTIONS = 10
    settings.CHAT_MAX_SOCKETS_PER_IP = 1000

    async def scenario():
        leases = [limits.Lease() for _ in range(300)]
        taken = await asyncio.gather(*(lease.take("ip", "192.0.2.7") for lease in leases))
        client = realtime.async_client()
        held = await client.zcard(realtime.channel("sockets", "ip:192.0.2.7"))
        await asyncio.gather(*(lease.release() for lease in leases))
        left = await client.zcard(realtime.channel("sockets", "ip:192.0.2.7"))
        await client.aclose()
        return taken, held, left

    taken, held, left = asyncio.run(scenario())
    assert all(taken) and held == 300
    assert left == 0
