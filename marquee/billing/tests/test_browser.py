"""The purchase in a real browser: wallet → sandbox checkout → back with the
tokens, receipt listed; a tip from the room's tip panel; a ticket for the live
premium show bought from the room → back in the room with access."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from marquee.access.selectors import Viewer, watch
from marquee.billing.models import Purchase
from marquee.ledger import selectors as ledger
from marquee.lib.geo import UNKNOWN
from tests.factories import PerformerFactory, ShowFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(live_server, chromium):
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15000)
    return context, page


def login(context, live_server, user):
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def test_buy_tokens_in_sandbox_then_tip(browser_page, live_server):
    context, page = browser_page
    buyer = UserFactory(username="buyer")
    performer = PerformerFactory(user=UserFactory(username="star"), display_name="Star")
    performer.tip_menu.create(label="Wave", tokens=15)
    login(context, live_server, buyer)

    page.goto(f"{live_server.url}/billing/wallet/")
    page.get_by_role("button", name="100 tokens — $9.99").click()
    page.wait_for_url("**/billing/sandbox/**")
    # No card fields, ever: the only inputs are hidden ones and the site search.
    assert page.locator("input:not([type=hidden]):not([type=search])").count() == 0
    page.get_by_role("button", name="Pay $9.99").click()
    page.wait_for_url(f"{live_server.url}/billing/wallet/")
    assert page.locator(".wallet-balance strong").inner_text() == "100"
    assert ledger.wallet_balance(buyer) == 100

    page.goto(f"{live_server.url}/billing/purchases/")
    # In the page, not the header (whose balance link also reads "100 tokens").
    page.locator("main").get_by_role("link", name="100 tokens").click()
    purchase = Purchase.objects.get(user=buyer)
    page.wait_for_url(f"**/billing/receipts/{purchase.reference}/")
    assert "$9.99" in page.locator(".receipt").inner_text()

    page.goto(f"{live_server.url}/rooms/star/")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Wave 15").click()
    page.locator(".tip-ok").wait_for()
    assert questions == ["Tip 15 tokens to Star for “Wave”?"]  # quick buttons ask first by default
    assert page.locator("[data-wallet-balance]").inner_text() == "85"
    assert ledger.wallet_balance(buyer) == 85

    show = ShowFactory(performer=performer, title="Premiere", kind="premium", price_cents=799, status="live")
    assert watch(Viewer(buyer, UNKNOWN), show).code == "paywall"
    page.goto(f"{live_server.url}/rooms/star/")
    page.get_by_role("button", name="Ticket: Premiere — $7.99").click()
    page.wait_for_url("**/billing/sandbox/**")
    page.get_by_role("button", name="Pay $7.99").click()
    page.wait_for_url(f"{live_server.url}/rooms/star/")
    assert "You have a ticket" in page.locator(".room-offers").inner_text()
    assert watch(Viewer(buyer, UNKNOWN), show).allowed
    page.goto(f"{live_server.url}/billing/purchases/")
    assert page.get_by_role("link", name="Ticket: Premiere (Star)").count() == 1
