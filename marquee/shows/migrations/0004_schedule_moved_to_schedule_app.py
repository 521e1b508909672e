# ScheduleRule and Notification now belong to the schedule app (schedule
# 0001): state only, the tables stay where they are.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("schedule", "0001_initial"),
        ("shows", "0003_merge_0002_media_session_0002_schedule"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="schedulerule",
                    name="performer",
                ),
                migrations.AlterField(
                    model_name="show",
                    name="schedule_rule",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="shows",
                        to="schedule.schedulerule",
                    ),
                ),
                migrations.DeleteModel(
                    name="Notification",
                ),
                migrations.DeleteModel(
                    name="ScheduleRule",
                ),
            ],
            database_operations=[],
        ),
    ]
