"""The schedule's worker tasks run under their names in the schedule app and
under the names they had in shows (beat entries and queued messages of an
older deploy), and every beat entry names a registered task."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from marquee.celery import app
from marquee.performers.models import Follow
from marquee.schedule.models import Notification
from marquee.shows.models import Show
from tests.factories import PerformerFactory, ScheduleRuleFactory, ShowFactory, UserFactory

REMINDERS = ("marquee.schedule.tasks.send_show_reminders", "marquee.shows.schedule_tasks.send_show_reminders")
EXTEND = ("marquee.schedule.tasks.extend_schedules", "marquee.shows.schedule_tasks.extend_schedules")


@pytest.fixture(autouse=True)
def _worker_tasks():
    # What a worker does at start: import every app's tasks module (autodiscovery).
    app.loader.import_default_modules()


def _run(name: str):
    # apply() runs the registered task by name in this process, as a worker would.
    return app.tasks[name].apply().get()


def test_both_names_of_the_reminder_task_send_due_reminders(performer, django_capture_on_commit_callbacks):
    fan = UserFactory()
    Follow.objects.create(user=fan, performer=performer)
    soon = timezone.now() + datetime.timedelta(minutes=8)
    shows = []
    for name in REMINDERS:
        shows.append(ShowFactory(performer=performer, scheduled_start=soon))
        with django_capture_on_commit_callbacks(execute=True):
            assert _run(name) == 1
    assert sorted(Notification.objects.filter(user=fan).values_list("show_id", flat=True)) == sorted(
        show.pk for show in shows
    )


def test_both_names_of_the_extend_task_materialize_rules(db):
    for name in EXTEND:
        rule = ScheduleRuleFactory(performer=PerformerFactory())
        created = _run(name)
        assert created > 0
        assert Show.objects.filter(performer=rule.performer).count() == created


def test_every_beat_entry_names_a_registered_task():
    names = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert [name for name in names if name not in app.tasks] == []
    assert REMINDERS[0] in names and EXTEND[0] in names
