"""Idempotent demo data: performers, viewers, shows; every app may add its
own part in ``marquee/<app>/demo.py`` (a ``seed(out)`` function)."""

from __future__ import annotations

import importlib

from django.core.management.base import BaseCommand
from django.db import transaction

# compliance before money: demo purchases need verified buyers and performers.
DEMO_APPS = [
    "accounts",
    "performers",
    "compliance",
    "shows",
    "schedule",
    "ledger",
    "billing",
    "chat",
    "content",
    "recommendations",
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo performers, viewers and shows. Safe to run repeatedly."

    def handle(self, *args, **options):
        for app in DEMO_APPS:
            try:
                module = importlib.import_module(f"marquee.{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"marquee.{app}.demo":
                    raise
                continue
            with transaction.atomic():
                module.seed(self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
