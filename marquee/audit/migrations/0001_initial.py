# The audit log moved from compliance to its own app: the table, its indexes,
# the append-only trigger and compliance_audit_claim_chain() stay as they are
# (raw SQL names them); only Django's state moves.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    """Keep the permissions (view_auditevent …) given to groups: move the
    content type instead of letting a new one be created."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label="audit", model="auditevent").exists():
        ContentType.objects.using(db).filter(app_label="compliance", model="auditevent").update(app_label="audit")


def move_content_type_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    ContentType.objects.using(db).filter(app_label="audit", model="auditevent").update(app_label="compliance")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        ("compliance", "0006_audit_claim_chain_function"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("chain", models.PositiveSmallIntegerField(default=0)),
                        ("sequence", models.BigIntegerField()),
                        ("created_at", models.DateTimeField()),
                        ("actor_label", models.CharField(blank=True, max_length=200)),
                        ("action", models.CharField(db_index=True, max_length=80)),
                        ("ip", models.CharField(blank=True, max_length=45)),
                        ("user_agent", models.CharField(blank=True, max_length=300)),
                        ("target_type", models.CharField(blank=True, max_length=80)),
                        ("target_id", models.CharField(blank=True, max_length=80)),
                        ("details", models.JSONField(blank=True, default=dict)),
                        ("prev_hash", models.CharField(max_length=64)),
                        ("entry_hash", models.CharField(max_length=64, unique=True)),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "compliance_auditevent",
                        "ordering": ["created_at", "chain", "sequence"],
                        "indexes": [
                            models.Index(fields=["target_type", "target_id"], name="compliance__target__4a30ae_idx"),
                            models.Index(fields=["actor", "created_at"], name="compliance__actor_i_efdaf7_idx"),
                            models.Index(fields=["created_at"], name="compliance__created_6fff64_idx"),
                        ],
                        "constraints": [
                            models.UniqueConstraint(fields=("chain", "sequence"), name="auditevent_chain_sequence")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
