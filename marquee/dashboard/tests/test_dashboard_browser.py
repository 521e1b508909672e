"""Browser walkthrough: schedule a show, see it on the calendar and the
public room, upload a photo and see its thumbnail, see the earnings chart."""

from __future__ import annotations

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from PIL import Image

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(live_server, performer, settings, tmp_path, launch_chromium):
    settings.CONTENT_ROOT = tmp_path / "content"
    performer.timezone = "Europe/Paris"
    performer.save(update_fields=["timezone"])
    # A sale in the ledger for the earnings step (ORM calls must happen before Playwright's event loop starts).
    from marquee.ledger.models import AccountKind
    from marquee.ledger.services import Movement, performer_account, platform_account, post_transfer, provider_account

    post_transfer(
        kind="ticket",
        idempotency_key="browser-ticket",
        performer=performer,
        movements=[
            Movement(provider_account("sandbox"), -1000),
            Movement(performer_account(performer, AccountKind.PERFORMER_PENDING), 600),
            Movement(platform_account(AccountKind.PLATFORM_FEES), 400),
        ],
        gross_cents=1000,
        performer_cents=600,
        available_at=timezone.now() + datetime.timedelta(days=7),
    )
    client = Client()
    client.force_login(performer.user)
    session_cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    browser = launch_chromium()
    context = browser.new_context(
        viewport={"width": 412, "height": 900}, timezone_id="America/New_York", locale="en-GB"
    )
    context.add_cookies(
        [{"name": django_settings.SESSION_COOKIE_NAME, "value": session_cookie, "url": live_server.url}]
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors


def test_performer_walkthrough(browser_page, live_server, performer, tmp_path):
    page = browser_page
    paris = ZoneInfo("Europe/Paris")
    day = (timezone.now().astimezone(paris) + datetime.timedelta(days=3)).date()

    # 1. Schedule a one-off show at 20:30 Paris time.
    page.goto(f"{live_server.url}/dashboard/schedule/")
    form = page.locator("[data-testid=one-off-form]")
    form.locator("input[name=title]").fill("Browser quiz night")
    form.locator("select[name=kind]").select_option("public")
    form.locator("input[name=date]").fill(day.isoformat())
    form.locator("input[name=time]").fill("20:30")
    form.locator("input[name=expected_minutes]").fill("45")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    calendar = page.locator("#calendar")
    assert "20:30 Browser quiz night" in calendar.inner_text()
    # htmx navigation: to the week view and back, without a full reload.
    page.locator("#calendar .cal-switch a", has_text="Week").click()
    page.wait_for_selector("[data-testid=calendar-week]")
    assert "Browser quiz night" in page.locator("[data-testid=calendar-week]").inner_text()

    # 2. The public room lists it, shown in the viewer's zone (New York: 6 hours behind Paris).
    page.goto(f"{live_server.url}/rooms/{performer.username}/")
    upcoming = page.locator("#upcoming-heading + ul")
    assert "Browser quiz night" in upcoming.inner_text()
    expected_local = datetime.datetime.combine(day, datetime.time(20, 30), tzinfo=paris).astimezone(
        ZoneInfo("America/New_York")
    )
    # Shown as "Wed 2 Dec, 2:30 PM EST": 12-hour clock with the viewer's zone named.
    assert f"{expected_local:%-I:%M %p} {expected_local.tzname()}" in upcoming.locator("time").first.inner_text()

    # 3. Upload a photo; the progress bar completes and the thumbnail appears.
    page.goto(f"{live_server.url}/dashboard/content/")
    page.locator("input[name=title]").fill("Window views")
    page.locator("input[name=price_tokens]").fill("30")
    page.locator("button", has_text="Create set").click()
    page.wait_for_selector("form[data-upload]")
    photo = tmp_path / "view.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), "#5d8aa8").save(buffer, "JPEG")
    photo.write_bytes(buffer.getvalue())
    page.locator("input[type=file]").set_input_files(str(photo))
    page.locator("form[data-upload] button[type=submit]").click()
    page.wait_for_selector(".upload-ok")
    assert page.locator(".upload-progress progress").first.get_attribute("value") == "100"
    thumb = page.locator("#set-items img.media-thumb").first
    thumb.wait_for()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())

    # 4. Earnings: the sale posted to the ledger (fixture) shows up in the chart and the totals.
    page.goto(f"{live_server.url}/dashboard/earnings/")
    page.wait_for_selector("canvas[data-earnings-series][data-ready=true]")
    assert page.locator("[data-testid=net]").inner_text() == "$6.00"
    box = page.locator("canvas[data-earnings-series]").bounding_box()
    assert box["width"] > 200 and box["height"] > 100
    page.locator(".cal-switch a", has_text="By week").click()
    page.wait_for_function("() => location.search.includes('by=week')")
    page.wait_for_selector("canvas[data-earnings-series][data-ready=true]")
