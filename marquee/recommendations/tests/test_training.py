from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from marquee.recommendations import selectors, training
from marquee.recommendations.models import Interaction


def test_command_publishes_versions_atomically_and_prunes_old_ones(settings, taste_world):
    settings.RECS_KEEP_VERSIONS = 2
    versions = []
    for _ in range(3):
        out = StringIO()
        call_command("train_recommender", stdout=out, stderr=StringIO())
        versions.append(training.current_version())
        assert versions[-1] in out.getvalue()
    assert len(set(versions)) == 3
    on_disk = sorted(p.stem for p in training.models_dir().glob("*.npz"))
    assert on_disk == sorted(versions[1:])
    assert not list(training.models_dir().glob("*.tmp")) and not list(settings.RECS_DIR.glob(".current-*"))
    artifacts = selectors.current_artifacts()
    assert artifacts.version == versions[-1]
    assert set(artifacts.item_ids.tolist()) == {p.pk for p in taste_world["cooks"] + taste_world["artists"]}


def test_periodic_task_flushes_then_trains(taste_world, django_capture_on_commit_callbacks):
    from marquee.recommendations import tasks, tracking

    fan, cook = taste_world["cook_fans"][0], taste_world["cooks"][0]
    with django_capture_on_commit_callbacks(execute=True):
        tracking.record(user_id=fan.pk, performer_id=cook.pk, kind="tip", weight=10)
    version = tasks.train_recommender()
    assert training.current_version() == version
    assert Interaction.objects.filter(user=fan, performer=cook, kind="tip", amount=10).exists()
