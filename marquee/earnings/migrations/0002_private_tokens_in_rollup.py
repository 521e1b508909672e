"""Days rolled up before the private cell carried its tokens are dropped: the
roll-up is a cache of the ledger, recomputed on the next read (or the hourly task)."""

from django.db import migrations


def drop_days_without_private_tokens(apps, schema_editor):
    EarningsDay = apps.get_model("earnings", "EarningsDay")
    stale = [
        pk
        for pk, totals in EarningsDay.objects.filter(totals__has_key="private").values_list("pk", "totals").iterator()
        if len(totals["private"]) < 4
    ]
    for start in range(0, len(stale), 1000):
        EarningsDay.objects.filter(pk__in=stale[start : start + 1000]).delete()


class Migration(migrations.Migration):
    dependencies = [("earnings", "0001_initial")]

    operations = [migrations.RunPython(drop_days_without_private_tokens, migrations.RunPython.noop)]
