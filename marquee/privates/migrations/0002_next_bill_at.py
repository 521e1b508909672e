from django.db import migrations, models


class Migration(migrations.Migration):
    # Existing active sessions get null: the next tick looks at them and sets it.
    dependencies = [("privates", "0001_private_shows")]

    operations = [
        migrations.AddField(
            model_name="privateshow",
            name="next_bill_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="privateshow",
            index=models.Index(
                condition=models.Q(("status", "active")), fields=["next_bill_at"], name="privates_active_next_bill"
            ),
        ),
    ]
