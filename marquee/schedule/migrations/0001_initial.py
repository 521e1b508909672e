# The schedule moved out of shows: the tables (shows_schedulerule,
# shows_notification), their constraints and indexes stay as they are; only
# Django's state and the content types move.


import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODELS = ("schedulerule", "notification")


def move_content_types(apps, schema_editor):
    """Keep permissions given to groups: move the content types instead of
    letting new ones be created."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for model in MODELS:
        if not ContentType.objects.using(db).filter(app_label="schedule", model=model).exists():
            ContentType.objects.using(db).filter(app_label="shows", model=model).update(app_label="schedule")


def move_content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    ContentType.objects.using(db).filter(app_label="schedule", model__in=MODELS).update(app_label="shows")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("performers", "0001_initial"),
        ("shows", "0003_merge_0002_media_session_0002_schedule"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "kind",
                            models.CharField(
                                choices=[("show_reminder", "Show reminder"), ("show_cancelled", "Show cancelled")],
                                max_length=20,
                            ),
                        ),
                        ("text", models.CharField(max_length=300)),
                        ("url", models.CharField(blank=True, max_length=300)),
                        ("read_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "show",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="shows.show",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="notifications",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "shows_notification",
                        "ordering": ["-created_at"],
                        "indexes": [models.Index(fields=["user", "read_at"], name="shows_notif_user_id_92e857_idx")],
                        "constraints": [
                            models.UniqueConstraint(
                                condition=models.Q(("show__isnull", False)),
                                fields=("user", "show", "kind"),
                                name="notification_once_per_show",
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="ScheduleRule",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("title", models.CharField(max_length=120)),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("public", "Public (free)"),
                                    ("premium", "Premium (ticket)"),
                                    ("subscribers", "Subscribers only"),
                                    ("private", "Private"),
                                ],
                                default="public",
                                max_length=12,
                            ),
                        ),
                        ("price_cents", models.PositiveIntegerField(default=0)),
                        ("expected_minutes", models.PositiveIntegerField(default=60)),
                        ("rrule", models.CharField(max_length=200)),
                        ("start_time", models.TimeField()),
                        ("starts_on", models.DateField()),
                        ("until", models.DateField(blank=True, null=True)),
                        ("timezone", models.CharField(default="UTC", max_length=64)),
                        ("is_published", models.BooleanField(default=True)),
                        ("is_active", models.BooleanField(default=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "performer",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="schedule_rules",
                                to="performers.performer",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "shows_schedulerule",
                        "ordering": ["starts_on", "start_time"],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("kind", "premium"), _negated=True),
                                    ("price_cents__gt", 0),
                                    _connector="OR",
                                ),
                                name="schedulerule_premium_has_price",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("expected_minutes__gte", 5), ("expected_minutes__lte", 1440)),
                                name="schedulerule_length_range",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
