"""Issue 15 items 5 and 6: every main page fits a 390 px phone and a 1440 px
desktop with no horizontal scrolling; on phones the chat sits under the video
and the tip panel; the "New messages ↓" button stays hidden until needed.

Served by uvicorn against the test database (tests/support/live_server.py),
driven by Debian's Chromium (tests/browser.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.live_server import logged_in_page, served

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1440, "height": 900}}

SETUP = """
from allauth.mfa.totp.internal.auth import TOTP
from marquee.performers.models import Performer, TipMenuItem
from marquee.shows.models import Show

now = timezone.now()

def performer(name, display):
    p = Performer.objects.create(user=user(name), display_name=display, verification_status="verified",
                                 room_topic="A rather long room topic that keeps going to test wrapping on phones")
    for i, label in enumerate(["Say hello", "Song request of your choice", "Dance"]):
        TipMenuItem.objects.create(performer=p, label=label, tokens=10 * (i + 1))
    return p

live = performer("livestage", "Live Stage Performer With A Long Name")
Show.objects.create(performer=live, title="Morning coffee and conversation", status="live", started_at=now)
Show.objects.create(performer=live, title="A premium evening concert", kind="premium", price_cents=799,
                    scheduled_start=now + datetime.timedelta(days=2))
offline = performer("offstage", "Offline Stage")
Show.objects.create(performer=offline, title="Weekly jam session with a long title", kind="premium", price_cents=1299,
                    scheduled_start=now + datetime.timedelta(hours=3))
paid = performer("paidstage", "Paid Stage")
Show.objects.create(performer=paid, title="Ticketed show", kind="premium", price_cents=999,
                    status="live", started_at=now)
viewer = user("viewer")
staff = user("staffer", is_staff=True, is_superuser=True)
TOTP.activate(staff, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
newbie = User.objects.create(username="newbie", email="newbie@example.test", date_of_birth=datetime.date(1995, 5, 5))
anonymous = SessionStore()
anonymous["age_gate_passed"] = True  # clicked "I am 18 or older", nothing else
anonymous.create()
print(json.dumps({"viewer": session_for(viewer), "performer": session_for(live.user), "staff": session_for(staff),
                  "newbie": session_for(newbie), "anonymous": anonymous.session_key}))
"""

PAGES = [
    ("viewer", "/"),
    ("viewer", "/rooms/livestage/"),
    ("viewer", "/rooms/offstage/"),
    ("viewer", "/rooms/paidstage/"),
    ("viewer", "/performers/livestage/"),
    ("viewer", "/me/"),
    ("viewer", "/billing/wallet/"),
    ("viewer", "/billing/purchases/"),
    ("viewer", "/verify-age/"),
    ("viewer", "/notifications/"),
    ("performer", "/dashboard/"),
    ("performer", "/dashboard/room/"),
    ("performer", "/dashboard/profile/"),
    ("performer", "/dashboard/stream/"),
    ("performer", "/dashboard/schedule/"),
    ("performer", "/dashboard/earnings/"),
    ("performer", "/dashboard/payouts/"),
    ("performer", "/dashboard/content/"),
    ("performer", "/rooms/livestage/"),
    ("staff", "/admin/"),
]


@pytest.fixture
def server(tmp_path):
    # Per test: transactional tests flush the (PostgreSQL) test database after each one.
    with served(tmp_path, SETUP) as server:
        yield server


@pytest.fixture
def browser(server, chromium):
    # After the server fixture: it sets up the database before Playwright's loop starts.
    return chromium


def _page(browser, server, who, size):
    base, sessions = server
    return logged_in_page(browser, base, sessions[who], viewport=SIZES[size], is_mobile=size == "phone")


def test_no_horizontal_scrolling_on_main_pages(server, browser):
    base, _ = server
    overflowing = []
    for size, who in ((size, who) for size in SIZES for who in ("viewer", "performer", "staff")):
        context, page = _page(browser, server, who, size)
        for _, path in (p for p in PAGES if p[0] == who):
            response = page.goto(f"{base}{path}", wait_until="load")
            assert response.status == 200, (path, response.status)
            page.wait_for_timeout(150)
            widths = page.evaluate(
                """(screen) => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
                  wide: [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > screen + 1)
                    .slice(-4).map(e => `${e.tagName}.${e.className}`)})""",
                SIZES[size]["width"],
            )
            # A phone browser widens its layout viewport to fit overflowing content,
            # so innerWidth alone can grow with the page: compare with the screen too.
            if widths["scroll"] > widths["inner"] or widths["inner"] > SIZES[size]["width"]:
                overflowing.append((size, path, widths))
        context.close()
    assert not overflowing, overflowing


def test_room_chat_placement_and_hidden_jump_button(server, browser):
    base, _ = server
    context, page = _page(browser, server, "viewer", "phone")
    page.goto(f"{base}/rooms/livestage/")
    sels = (".player", "#tip-panel", ".chat", "#upcoming-heading")
    top = {sel: page.locator(sel).first.bounding_box()["y"] for sel in sels}
    # Phones: video, tip panel, then chat — before the rest of the page.
    assert top[".player"] < top["#tip-panel"] < top[".chat"] < top["#upcoming-heading"], top
    context.close()
    for size in SIZES:
        context, page = _page(browser, server, "viewer", size)
        page.goto(f"{base}/rooms/livestage/")
        jump = page.locator("[data-chat-jump]")
        assert jump.get_attribute("hidden") is not None
        assert not jump.is_visible(), size
        context.close()


AXE = ROOT / "marquee" / "static" / "vendor" / "axe.min.js"  # npm axe-core, pinned; `npm run build` copies it


def test_no_serious_accessibility_violations_on_main_pages(server, browser):
    """axe-core on the same pages at both sizes: no serious or critical violation."""
    base, _ = server
    assert AXE.exists(), "run `npm ci && npm run build` (axe-core is an npm dependency)"
    found = []
    for size, who in ((size, who) for size in SIZES for who in ("viewer", "performer", "staff")):
        context, page = _page(browser, server, who, size)
        for _, path in (p for p in PAGES if p[0] == who):
            page.goto(f"{base}{path}", wait_until="load")
            # Served by the site itself: the pages' CSP allows scripts from 'self' only.
            page.add_script_tag(url="/static/vendor/axe.min.js")
            violations = page.evaluate(
                """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
                    .filter(v => v.impact === 'serious' || v.impact === 'critical')
                    .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join()}`)"""
            )
            found += [(size, path, v) for v in violations]
        context.close()
    assert not found, "\n".join(map(str, found))


# The walk-through of issue 15's "done when": the main pages as each kind of
# visitor, beyond the layout list (a visitor who only passed the age gate and
# a viewer who signed up a moment ago, with nothing verified or bought).
WALK = [
    ("anonymous", "/"),
    ("anonymous", "/rooms/livestage/"),
    ("anonymous", "/rooms/offstage/"),
    ("anonymous", "/performers/offstage/"),
    ("anonymous", "/accounts/login/"),
    ("anonymous", "/accounts/signup/"),
    ("newbie", "/"),
    ("newbie", "/rooms/livestage/"),
    ("newbie", "/rooms/paidstage/"),
    ("newbie", "/me/"),
    ("newbie", "/billing/wallet/"),
    ("newbie", "/verify-age/"),
    ("newbie", "/notifications/"),
    *PAGES,
    ("performer", "/performers/livestage/"),
    ("staff", "/admin/performers/performer/"),
    ("staff", "/admin/accounts/user/"),
    ("staff", "/admin/audit/auditevent/"),
]

# Collected from before any page script runs: CSP violations (reported as
# events, whatever the console says) and uncaught errors.
WATCH = """
window.__problems = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__problems.push(`CSP ${e.violatedDirective}: ${e.blockedURI || "inline"}`));
window.addEventListener("error", (e) => window.__problems.push(`error: ${e.message}`));
window.addEventListener("unhandledrejection", (e) => window.__problems.push(`rejection: ${e.reason}`));
"""


# What this test's server cannot serve, and the pages handle: no media server
# runs here, so a live room's first frame (the card falls back to the avatar)
# and its HLS playlist (the player retries) are missing.
NO_MEDIA_SERVER = re.compile(r"/rooms/[^/]+/thumbnail\.jpg$|/index\.m3u8")


def test_walk_through_has_no_console_error_or_csp_violation(server, browser):
    base, _ = server
    problems = []
    for who in dict.fromkeys(who for who, _ in WALK):
        context, page = _page(browser, server, who, "desktop")
        context.add_init_script(WATCH)
        found = []

        def console(message, found=found):
            # A failed load is reported with its URL below; the console line has none.
            if message.type in ("error", "warning") and not message.text.startswith("Failed to load resource"):
                found.append(message.text)

        page.on("console", console)
        page.on("pageerror", lambda error, found=found: found.append(f"page error: {error}"))
        page.on(
            "response",
            lambda r, found=found: (
                found.append(f"{r.status} {r.url}") if r.status >= 400 and not NO_MEDIA_SERVER.search(r.url) else None
            ),
        )
        page.on(
            "requestfailed",
            lambda r, found=found: None if NO_MEDIA_SERVER.search(r.url) else found.append(f"failed {r.url}"),
        )
        for _, path in (p for p in WALK if p[0] == who):
            found.clear()
            response = page.goto(f"{base}{path}", wait_until="load")
            assert response.status == 200, (who, path, response.status)
            page.wait_for_timeout(300)  # late scripts: time zone save, players, sockets
            problems += [(who, path, text) for text in found + page.evaluate("window.__problems")]
        context.close()
    assert not problems, "\n".join(map(str, problems))


def test_tip_menu_reorders_by_keyboard_and_the_room_follows(server, browser):
    """Issue 15 item 7 in the browser: htmx swaps the panel under the strict
    CSP, focus stays on the button pressed, and the room shows the new order."""
    base, _ = server
    context, page = _page(browser, server, "performer", "phone")
    page.goto(f"{base}/dashboard/room/")
    page.get_by_role("button", name="Move “Say hello” down").focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('[data-tip-item] input[name=label]').value === 'Song request of your choice'"
    )
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Move “Say hello” down"
    context.close()
    context, page = _page(browser, server, "viewer", "phone")
    page.goto(f"{base}/rooms/livestage/")
    labels = page.locator("#tip-panel .tip-menu-item").all_inner_texts()
    # Each button reads "<label>" then its token count on the next line.
    assert [label.split("\n")[0].strip() for label in labels] == [
        "Song request of your choice",
        "Say hello",
        "Dance",
    ], labels
    context.close()
