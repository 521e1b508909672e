import os
import threading

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "marquee.ops"
    label = "ops"
    verbose_name = "Operations: metrics and integrity checks"

    def ready(self):
        # Several worker processes share PROMETHEUS_MULTIPROC_DIR: each flushes
        # its chat counts to its own file every few seconds, since a scrape only
        # reaches one of them.  A single process syncs at scrape time instead.
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from marquee.ops.metrics import flush_chat_forever

            threading.Thread(target=flush_chat_forever, name="metrics-chat-flush", daemon=True).start()
