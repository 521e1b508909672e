"""The jurisdiction rules in force in 2026: age verification required before
adult content.  Staff change them in the admin from here on."""

from django.db import migrations

US_STATES = [
    "AL",
    "AZ",
    "AR",
    "FL",
    "GA",
    "ID",
    "IN",
    "KS",
    "KY",
    "LA",
    "MS",
    "MO",
    "MT",
    "NE",
    "NC",
    "ND",
    "OH",
    "OK",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VA",
    "WY",
]
RULES = [
    *[("US", state, "State law requires age verification before adult content.") for state in US_STATES],
    ("GB", "", "The UK Online Safety Act 2023 requires highly effective age assurance."),
    ("FR", "", "French law (SREN, Arcom standard) requires age verification before adult content."),
]


def forwards(apps, schema_editor):
    Jurisdiction = apps.get_model("compliance", "Jurisdiction")
    for country, subdivision, reason in RULES:
        Jurisdiction.objects.get_or_create(
            country=country, subdivision=subdivision, defaults={"rule": "verify", "reason": reason, "is_active": True}
        )


def backwards(apps, schema_editor):
    Jurisdiction = apps.get_model("compliance", "Jurisdiction")
    for country, subdivision, _ in RULES:
        Jurisdiction.objects.filter(country=country, subdivision=subdivision).delete()


class Migration(migrations.Migration):
    dependencies = [("compliance", "0003_verification_records")]
    operations = [migrations.RunPython(forwards, backwards)]
