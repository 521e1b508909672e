"""Demo viewers get a viewing history, and a model is trained right away, so
a fresh ``make run`` shows personalised rows."""

from __future__ import annotations

import datetime

from django.utils import timezone

from marquee.accounts.models import User
from marquee.performers.models import Performer
from marquee.recommendations import training
from marquee.recommendations.models import Interaction

# viewer → [(performer, kind, amount)]
HISTORY = {
    "viewer1": [("performer1", "watch", 5400), ("performer1", "follow", 1), ("performer1", "tip", 50)],
    "viewer2": [("performer2", "watch", 3600), ("performer2", "ticket", 1), ("performer3", "watch", 600)],
    "viewer3": [("performer3", "watch", 4800), ("performer3", "chat", 12), ("performer2", "watch", 900)],
}


def seed(out) -> None:
    performers = {p.user.username: p for p in Performer.objects.select_related("user")}
    viewers = {u.username: u for u in User.objects.filter(username__in=HISTORY)}
    start = timezone.now() - datetime.timedelta(days=7)
    rows = [
        Interaction(user=viewers[viewer], performer=performers[name], kind=kind, amount=amount, created_at=start)
        for viewer, events in HISTORY.items()
        if viewer in viewers and not Interaction.objects.filter(user=viewers[viewer]).exists()
        for name, kind, amount in events
        if name in performers
    ]
    Interaction.objects.bulk_create(rows)
    artifacts = training.train()
    out.write(f"Recommendations: {len(rows)} demo interactions, model {artifacts.version}.")
