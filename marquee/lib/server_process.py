"""Start-up of a long-lived web server process: the ASGI ``lifespan`` scope,
which uvicorn runs once per worker process before it serves
(``--lifespan on``, as the Procfile, Containerfile and cluster start it).

What it does there is tune Python's cyclic garbage collector for a process
holding thousands of chat sockets.  Measured through the Procfile in
``bench/chat_fanout`` (3,000 readers, 20 messages/s; docs/benchmarks.md): with
the defaults a full (generation-2) collection ran every ~7 s while the room
posted, each walking every object of the process (about 700,000: Django's
start-up heap plus ~130 per socket) for 400-550 ms with the event loop, and
so every room's fan-out, held.  Those collections freed almost nothing (0 to
1,300 objects each): this server's garbage is freed by reference counting.

So, at start-up:
* freeze what start-up built (modules, URL patterns, templates, settings):
  no later collection walks it again;
* let a full collection wait for ``WEB_GC_FULL_COLLECTION_AFTER``
  generation-1 collections instead of CPython's 10.  Young collections are
  unchanged, so short-lived cycles are freed as before; cycles that outlive
  them wait longer (a few MB at the rate measured above).
"""

from __future__ import annotations

import gc

from django.conf import settings


def tune_garbage_collector() -> None:
    gc.collect()  # what start-up left as garbage goes now, not frozen for good
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, settings.WEB_GC_FULL_COLLECTION_AFTER)


async def lifespan(scope, receive, send) -> None:
    """ASGI lifespan: tune the process on start-up; nothing to undo on shutdown."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            tune_garbage_collector()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
