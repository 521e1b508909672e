"""Issue 15 item 8 in a real browser over the room socket: a tip moves the
goal bar live (in every viewer's page) with a short animation; quick buttons
ask first (and a "no" sends nothing); a refused tip clears the old "Thank you"."""

from __future__ import annotations

import pytest

from tests.support.live_server import logged_in_page, manage_shell, server_env, uvicorn

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SETUP = """
from django.utils import timezone
from tests.support.billing import fund
from marquee.performers.models import Performer
from marquee.shows.models import Show

star = Performer.objects.create(user=user("star"), display_name="Star", verification_status="verified",
                                tip_goal_tokens=100, tip_goal_label="Encore")
star.tip_menu.create(label="Wave", tokens=15)
Show.objects.create(performer=star, title="Live now", status="live", started_at=timezone.now())
fan, other = user("fan"), user("other")
fund(fan, tokens=200)
print(json.dumps({"fan": session_for(fan), "other": session_for(other)}))
"""

SUSPEND = """
from marquee.performers.models import Performer
Performer.objects.filter(user__username="star").update(is_suspended=True)
print(json.dumps({}))
"""

BALANCE = """
from marquee.accounts.models import User
from marquee.ledger import selectors
print(json.dumps({"fan": selectors.wallet_balance(User.objects.get(username="fan"))}))
"""


@pytest.fixture
def site(tmp_path):
    env = server_env(tmp_path, AGE_VERIFICATION_BEFORE_PURCHASE="0")
    sessions = manage_shell(env, SETUP)
    with uvicorn(env) as base:
        yield env, base, sessions


def test_goal_bar_moves_live_with_confirmation_and_animation(site, launch_chromium):
    env, base, sessions = site
    from playwright.sync_api import expect

    browser = launch_chromium()
    fan_context, fan = logged_in_page(browser, base, sessions["fan"])
    other_context, other = logged_in_page(browser, base, sessions["other"], reduced_motion="reduce")
    for page in (fan, other):
        page.goto(f"{base}/rooms/star/")
        expect(page.locator("[data-chat-status]")).not_to_have_text("Connecting…")
    assert fan.locator("[data-goal-tokens]").inner_text() == "0"

    # Saying no to the question sends nothing.
    questions = []
    fan.once("dialog", lambda d: (questions.append(d.message), d.dismiss()))
    fan.get_by_role("button", name="Wave 15").click()
    fan.wait_for_timeout(500)
    assert questions == ["Tip 15 tokens to Star for “Wave”?"]
    assert fan.locator(".tip-ok").count() == 0
    assert manage_shell(env, BALANCE)["fan"] == 200

    fan.once("dialog", lambda d: (questions.append(d.message), d.accept()))
    fan.locator(".tip-quick").get_by_role("button", name="25", exact=True).click()
    fan.locator(".tip-ok").wait_for()
    assert questions[-1] == "Tip 25 tokens to Star?"
    # Both pages' bars follow the socket's tip event, with no reload.
    for page in (fan, other):
        expect(page.locator("[data-goal-tokens]")).to_have_text("25")
        assert page.locator("[data-tip-goal] progress").evaluate("p => [p.value, p.max]") == [25, 100]
    assert fan.locator(".tip-burst").count() == 1
    animation = fan.locator(".tip-burst").evaluate("e => getComputedStyle(e).animationName")
    assert animation == "tip-float"
    # The viewer who asked for reduced motion gets the number, not the motion.
    other.locator(".tip-burst").wait_for(state="attached")
    assert other.locator(".tip-burst").evaluate("e => getComputedStyle(e).animationName") == "none"

    # The room is suspended meanwhile: the next tip is refused (404), and the
    # old "Thank you" does not stay on screen.
    manage_shell(env, SUSPEND)
    fan.once("dialog", lambda d: d.accept())
    fan.locator(".tip-quick").get_by_role("button", name="5", exact=True).click()
    fan.locator("#tip-panel .tip-error").wait_for()
    assert fan.locator("#tip-panel .tip-ok").count() == 0
    assert "not sent" in fan.locator("#tip-panel .tip-error").inner_text()
    assert manage_shell(env, BALANCE)["fan"] == 175
    fan_context.close()
    other_context.close()
