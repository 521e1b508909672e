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


def test_renewing_thousands_of_leases_never_builds_one_huge_pipeline(settings, monkeypatch):
    """Every lease is renewed, in round trips of at most RENEW_CHUNK leases:
    one pipeline for every socket of a busy process held the event loop (and
    every room's fan-out) for about a second."""
    from redis.asyncio.client import Pipeline

    settings.CHAT_MAX_SOCKETS_PER_IP = 10_000
    settings.CHAT_SOCKET_LEASE_SECONDS = 60
    sizes = []
    execute = Pipeline.execute

    async def counting(self, *args, **kwargs):
        sizes.append(len(self.command_stack))
        return await execute(self, *args, **kwargs)

    async def scenario():
        leases = [limits.Lease() for _ in range(limits.RENEW_CHUNK * 3 + 7)]
        for index, lease in enumerate(leases):
            assert await lease.take("ip", f"198.51.100.{index % 200}")
        key = realtime.channel("sockets", "ip:198.51.100.0")
        client = realtime.async_client()
        before = await client.zrange(key, 0, -1, withscores=True)
        monkeypatch.setattr(Pipeline, "execute", counting)
        await asyncio.sleep(0.05)
        await limits.store().renew(leases)
        monkeypatch.undo()
        after = await client.zrange(key, 0, -1, withscores=True)
        await asyncio.gather(*(lease.release() for lease in leases))
        await client.aclose()
        return len(leases), before, after

    count, before, after = asyncio.run(scenario())
    # Every lease of the key was pushed back (compared by member: renewed
    # leases share one lapse time, and Redis orders equal scores by name).
    before, after = dict(before), dict(after)
    assert before and before.keys() == after.keys()
    assert all(after[member] > before[member] for member in before)
    # All renewed, none in a pipeline of more than RENEW_CHUNK leases (2 commands each, 1 key here).
    assert sum(sizes) == 2 * count
    assert max(sizes) <= 2 * limits.RENEW_CHUNK
