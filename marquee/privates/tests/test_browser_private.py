"""Issue 13's "done when" in Chromium, on the real media server (nginx-rtmp +
ffmpeg, signed URLs checked by nginx): a viewer requests a private, the
performer accepts in another browser context, video plays for the payer and
stops for a third viewer, who can spy; per-period charges are posted (the
worker's tick is called here, as beat would); ending voids the rest of the
hold.  The root conftest runs ``ledger_check`` afterwards."""

from __future__ import annotations

import pytest
from django.test import Client

from marquee.ledger import selectors as ledger
from marquee.ledger.models import Hold
from marquee.privates import services
from marquee.privates.models import PrivateShow
from marquee.privates.tests.conftest import fund
from marquee.shows.tests.test_media import (  # noqa: F401  (module fixtures: nginx-rtmp, ffmpeg)
    PLAYHEAD,
    live_performer,
    live_show_of,
    media,
    publisher,
    wait_for,
)
from tests.browser import CHROMIUM_ARGS, CHROMIUM_EXECUTABLE
from tests.factories import UserFactory
from tests.support.compliance import approve_age
from tests.support.db_turns import DB_TURN, turn

pytestmark = [pytest.mark.browser, pytest.mark.media, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PERIOD_SECONDS = 2


def _context(browser, live_server, user):
    client = Client()
    turn(lambda: client.force_login(user))  # writes a session row
    context = browser.new_context()
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    return context


def _playing(page, more_than=0.5):
    return page.evaluate(PLAYHEAD) > more_than


def test_browser_private_show_for_the_payer_spy_for_a_third_viewer(
    media,  # noqa: F811  (the imported module fixture)
    publisher,  # noqa: F811
    live_server,
    settings,
    monkeypatch,
):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test reads
    # the database between browser steps (as the worker and an auditor would).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    settings.PRIVATE_BILLING_SECONDS = PERIOD_SECONDS
    performer, key = live_performer("privstar")
    services.update_room_settings(
        actor=performer.user,
        performer=performer,
        privates_enabled=True,
        rate_tokens=10,
        minimum_minutes=2,
        spies_enabled=True,
        spy_rate_tokens=3,
    )
    payer, third = UserFactory(username="payer"), UserFactory(username="third")
    for user in (payer, third):
        approve_age(user)
        fund(user, 500)
    publisher("privstar", key)
    wait_for(lambda: live_show_of(performer), what="show live")
    wait_for(lambda: len(media.playlist_segments("privstar")) >= 2, what="HLS segments")
    room_url = f"{live_server.url}/rooms/privstar/"

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM_EXECUTABLE, args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"]
        )
        try:
            viewer_page = _context(browser, live_server, payer).new_page()
            payer_media = []
            viewer_page.on("response", lambda r: payer_media.append((r.status, r.url)) if "/v/" in r.url else None)
            third_page = _context(browser, live_server, third).new_page()
            performer_page = _context(browser, live_server, performer.user).new_page()
            for page in (viewer_page, third_page):
                page.goto(room_url)
            wait_for(lambda: _playing(third_page), timeout=30, what="public playback (third viewer)")

            # The viewer requests a private: the hold is explained, then placed.
            panel = viewer_page.locator("[data-private-panel]")
            assert "We hold 20 tokens now" in panel.inner_text()
            viewer_page.locator("[data-private-request-form] button[type=submit]").click()
            viewer_page.get_by_text("Request sent: 20 tokens held").wait_for(timeout=15000)
            session = turn(lambda: PrivateShow.objects.get(payer=payer))
            assert turn(lambda: ledger.held_tokens(payer)) == 20

            # The performer sees it (name, member since) in another context and accepts.
            performer_page.goto(room_url)
            request_row = performer_page.locator(f"[data-private-request='{session.pk}']")
            assert "payer" in request_row.inner_text() and "member since" in request_row.inner_text()
            request_row.locator("[data-private-answer=accept]").click()
            performer_page.get_by_text("You are in a private show.").wait_for(timeout=15000)
            wait_for(lambda: turn(lambda: PrivateShow.objects.get(pk=session.pk).status) == "active", what="accepted")

            # The third viewer's video stops (its folder is gone) and shows the private state.
            denied = third_page.locator("[data-player-denied]")
            denied.wait_for(state="visible", timeout=30000)
            assert "In a private show." in denied.inner_text()
            assert third_page.locator("video[data-player-video]").is_hidden()

            # The payer plays the private session's URL, without a reload.
            wait_for(lambda: _playing(viewer_page), timeout=30, what="payer playback")
            start = viewer_page.evaluate(PLAYHEAD)
            wait_for(lambda: viewer_page.evaluate(PLAYHEAD) > start + 2, timeout=30, what="payer keeps playing")
            private_prefix = f"/p{session.pk}/"
            wait_for(
                lambda: any(status == 200 and private_prefix in url for status, url in payer_media),
                timeout=30,
                what="payer fetching the private session's media",
            )

            # Per-period charges (the worker's tick, as beat calls it).
            wait_for(
                lambda: (
                    turn(services.bill_due_periods) is not None
                    and turn(lambda: PrivateShow.objects.get(pk=session.pk).periods_charged) >= 3
                ),
                timeout=30,
                interval=PERIOD_SECONDS / 2,
                what="periods charged",
            )

            # Spies are allowed: the third viewer spies and plays again.
            spy = third_page.locator("[data-private-spy]")
            spy.wait_for(state="visible", timeout=15000)
            spy.click()
            wait_for(
                lambda: _playing(third_page, 0.0) and third_page.locator("[data-player-video]").is_visible(),
                what="spy video",
            )
            spy_session = turn(lambda: PrivateShow.objects.get(payer=third))
            assert spy_session.kind == "spy" and spy_session.status == "active"

            # The payer ends it: the rest of the hold is voided, the spy ends with it.
            viewer_page.locator("[data-private-end]").click()
            viewer_page.get_by_text("Show ended:").wait_for(timeout=15000)
            with DB_TURN:
                ended = PrivateShow.objects.select_related("hold").get(pk=session.pk)
                assert ended.status == "ended" and ended.hold.status in (Hold.Status.VOIDED, Hold.Status.POSTED)
                assert PrivateShow.objects.get(pk=spy_session.pk).status == "ended"
                assert ledger.held_tokens(payer) == 0 and ledger.held_tokens(third) == 0
                assert ledger.wallet_balance(payer) == 500 - ended.periods_charged * 10
                assert ended.periods_charged >= 3
        finally:
            browser.close()
