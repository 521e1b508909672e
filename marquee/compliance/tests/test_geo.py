from __future__ import annotations

import pytest

from marquee.compliance import policy
from marquee.compliance.models import Jurisdiction
from marquee.lib import geo
from marquee.lib.geo import Location, locate
from tests.factories import JurisdictionFactory
from tests.support.compliance import (
    CALIFORNIA_V4,
    CALIFORNIA_V6,
    ENGLAND_V4,
    GERMANY_V4,
    NOWHERE_V4,
    TEXAS_V4,
    TEXAS_V6,
    approve_age,
)


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        (TEXAS_V4, Location("US", "TX")),
        (TEXAS_V6, Location("US", "TX")),
        ("::ffff:" + TEXAS_V4, Location("US", "TX")),
        (CALIFORNIA_V4, Location("US", "CA")),
        (CALIFORNIA_V6, Location("US", "CA")),
        (ENGLAND_V4, Location("GB", "ENG")),  # the nation, not the county
        (GERMANY_V4, Location("DE", None)),
        (NOWHERE_V4, geo.UNKNOWN),
        ("not an ip", geo.UNKNOWN),
        ("", geo.UNKNOWN),
    ],
)
def test_locate(geoip_db, ip, expected):
    assert locate(ip) == expected


def test_lookups_are_cached_per_ip(geoip_db, monkeypatch):
    locate(TEXAS_V4)
    before = geo._locate_cached.cache_info()
    locate(TEXAS_V4)
    after = geo._locate_cached.cache_info()
    assert after.hits == before.hits + 1 and after.misses == before.misses


def test_replaced_database_is_picked_up(geoip_db, tmp_path):
    import os

    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    assert locate(TEXAS_V4) == Location("US", "TX")
    writer = MMDBWriter(ip_version=6, database_type="GeoIP2-City", ipv4_compatible=True)
    writer.insert_network(
        IPSet(["203.0.113.0/24"]), {"country": {"iso_code": "US"}, "subdivisions": [{"iso_code": "OK"}]}
    )
    writer.to_db_file(str(geoip_db))
    stat = os.stat(geoip_db)
    os.utime(geoip_db, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert locate(TEXAS_V4) == Location("US", "OK")


def test_missing_or_broken_database_means_unknown(settings, tmp_path):
    settings.GEOIP_DATABASE = str(tmp_path / "absent.mmdb")
    assert locate(TEXAS_V4) == geo.UNKNOWN
    broken = tmp_path / "broken.mmdb"
    broken.write_bytes(b"not a database")
    settings.GEOIP_DATABASE = str(broken)
    geo.clear_cache()
    assert locate(TEXAS_V4) == geo.UNKNOWN


def test_local_location_for_developers(settings):
    settings.GEO_LOCAL_LOCATION = "US-TX"
    assert locate("127.0.0.1") == Location("US", "TX")
    settings.GEO_LOCAL_LOCATION = ""
    settings.GEOIP_DATABASE = ""
    assert locate("127.0.0.1") == geo.UNKNOWN


@pytest.mark.django_db
def test_shipped_2026_rules():
    verify = set(Jurisdiction.objects.filter(rule="verify", is_active=True).values_list("country", "subdivision"))
    states = "AL AZ AR FL GA ID IN KS KY LA MS MO MT NE NC ND OH OK SC SD TN TX UT VA WY".split()  # noqa: SIM905
    assert len(states) == 25
    assert verify == {("US", state) for state in states} | {("GB", ""), ("FR", "")}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ip", "needs_verification"),
    [
        (TEXAS_V4, True),
        (TEXAS_V6, True),
        (ENGLAND_V4, True),
        (CALIFORNIA_V4, False),
        (CALIFORNIA_V6, False),
        (GERMANY_V4, False),
    ],
)
def test_adult_content_decision_by_location(geoip_db, viewer, ip, needs_verification):
    location = locate(ip)
    decision = policy.can_view_adult_content(viewer, location)
    assert bool(decision) is not needs_verification
    if needs_verification:
        assert decision.code == "age_verification_required"
        approve_age(viewer)
        viewer = type(viewer).objects.get(pk=viewer.pk)  # drop the per-request memo
        assert policy.can_view_adult_content(viewer, location)


@pytest.mark.django_db
def test_unknown_location_follows_the_setting(settings, viewer):
    settings.GEO_UNKNOWN_POLICY = "allow"
    assert policy.can_view_adult_content(viewer, geo.UNKNOWN)
    settings.GEO_UNKNOWN_POLICY = "verify"
    assert policy.can_view_adult_content(viewer, geo.UNKNOWN).code == "age_verification_required"


@pytest.mark.django_db
def test_subdivision_rule_and_country_block(geoip_db, viewer):
    JurisdictionFactory(country="US", subdivision="CA", rule="blocked", reason="Test block.")
    from marquee.compliance.selectors import forget_jurisdiction_rules

    forget_jurisdiction_rules()
    decision = policy.can_view_adult_content(viewer, locate(CALIFORNIA_V4))
    assert decision.status == 451 and decision.message == "Test block."
    # A country-wide block wins over a state's verify rule.
    JurisdictionFactory(country="US", subdivision="", rule="blocked")
    forget_jurisdiction_rules()
    assert policy.can_view_adult_content(viewer, locate(TEXAS_V4)).status == 451


def test_production_fails_closed_on_unknown_location():
    import subprocess
    import sys

    env = {
        "DEBUG": "0",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "example.test",
        "MEDIA_HOOK_SECRET": "s",
        "RECORDS_ENCRYPTION_KEY": "k" * 43 + "=",
        "PATH": "/usr/bin:/bin",
    }
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'marquee.settings'); django.setup();"
        "from django.conf import settings; print(settings.GEO_UNKNOWN_POLICY)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "verify"
    del env["RECORDS_ENCRYPTION_KEY"]
    failed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert failed.returncode != 0 and "RECORDS_ENCRYPTION_KEY" in failed.stderr
