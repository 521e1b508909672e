"""/metrics: who may read it, and that the figures it exports move."""

from __future__ import annotations

import asyncio
import json

import pytest
from django.db import connection
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from marquee.audit.models import AuditEvent
from marquee.audit.services import record_audit
from marquee.chat import hub as fanout
from marquee.chat import protocol as chat_protocol
from marquee.ops.models import IntegrityCheck
from marquee.ops.services import run_integrity_checks
from marquee.shows.models import Show
from tests.factories import ShowFactory

pytestmark = pytest.mark.django_db

OUTSIDE = "203.0.113.9"


def scrape(client, **extra) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# --- Who may read it --------------------------------------------------------------


def test_stranger_from_outside_gets_404_and_no_figures(client, settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    rows, audits = IntegrityCheck.objects.count(), AuditEvent.objects.count()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-metrics-token"}):
        response = client.get("/metrics", headers=headers, REMOTE_ADDR=OUTSIDE)
        assert response.status_code == 404
        assert b"marquee_" not in response.content
        assert b"process_" not in response.content
    assert (IntegrityCheck.objects.count(), AuditEvent.objects.count()) == (rows, audits)


def test_no_token_configured_means_no_bearer_access(client, settings):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", headers={"Authorization": "Bearer "}, REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 404


def test_a_request_relayed_by_our_proxy_is_not_internal(client, settings):
    # The load balancer is on loopback; what it relays comes from the internet.
    settings.TRUSTED_PROXIES = [__import__("ipaddress").ip_network("127.0.0.1/32")]
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=OUTSIDE)
    assert response.status_code == 404
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 404


def test_bearer_token_from_anywhere_and_internal_peer_without_one(client, settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    scrape(client, headers={"Authorization": "Bearer s3cret-metrics-token"}, REMOTE_ADDR=OUTSIDE)
    scrape(client, REMOTE_ADDR="127.0.0.1")


def test_post_is_refused(client):
    assert client.post("/metrics", REMOTE_ADDR="127.0.0.1").status_code in (403, 404)


# --- What it exports ---------------------------------------------------------------


def test_requests_by_route_status_and_latency(client, age_ok_client):
    before = scrape(client)
    assert client.get("/healthz").status_code == 200
    assert age_ok_client.get("/no/such/page/").status_code == 404
    after = scrape(client)
    for name, labels, delta in [
        ("marquee_http_requests_total", {"route": "healthz", "method": "GET", "status": "200"}, 1),
        ("marquee_http_requests_total", {"route": "<unmatched>", "method": "GET", "status": "404"}, 1),
        ("marquee_http_request_duration_seconds_count", {"route": "healthz"}, 1),
    ]:
        assert value(after, name, **labels) - value(before, name, **labels) == delta, (name, labels)
    # The path of an unknown page is never a label (bounded cardinality).
    assert not any("/no/such" in str(key) for key in after)


def test_webhook_results_by_provider(client):
    before = scrape(client)
    body = b'{"type": "payment.succeeded", "data": {}}'
    assert (
        client.post(
            "/webhooks/sandbox/", data=body, content_type="application/json", headers={"Sandbox-Signature": "t=1,v1=00"}
        ).status_code
        == 400
    )
    assert client.post("/webhooks/made-up-provider/", data=body, content_type="application/json").status_code == 404
    after = scrape(client)
    name = "marquee_webhooks_total"
    assert (
        value(after, name, provider="sandbox", result="rejected")
        - value(before, name, provider="sandbox", result="rejected")
        == 1
    )
    assert (
        value(after, name, provider="-", result="unknown_provider")
        - value(before, name, provider="-", result="unknown_provider")
        == 1
    )
    assert not any("made-up-provider" in str(key) for key in after)


def test_live_shows_holds_and_integrity_gauges(client, performer):
    samples = scrape(client)
    assert value(samples, "marquee_live_shows") == 0
    ShowFactory(performer=performer, status=Show.Status.LIVE, started_at=timezone.now(), media_session="1")
    run_integrity_checks()
    samples = scrape(client)
    assert value(samples, "marquee_live_shows") == 1
    assert value(samples, "marquee_integrity_ok", check="ledger_check") == 1
    assert value(samples, "marquee_integrity_ok", check="audit_verify") == 1
    assert value(samples, "marquee_integrity_checked_timestamp_seconds", check="audit_verify") > 0
    for status in ("pending", "posted", "voided"):
        assert ("marquee_ledger_holds", (("status", status),)) in samples


@pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL refuses the edit itself")
def test_integrity_gauge_goes_to_zero_when_the_audit_chain_is_broken(client):
    events = [record_audit(action="test.event", target_type="x", target_id=i, details={"i": i}) for i in range(3)]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE compliance_auditevent SET details = %s WHERE id = %s", ['{"i": 99}', events[1].pk])
    assert run_integrity_checks() == {"ledger_check": True, "audit_verify": False}
    samples = scrape(client)
    assert value(samples, "marquee_integrity_ok", check="audit_verify") == 0
    assert f"id={events[1].pk}" in IntegrityCheck.objects.get(name="audit_verify").detail


def test_celery_queue_depth_on_the_filesystem_broker(client, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path)}
    for i in range(3):
        (tmp_path / f"{i}.msg").write_text("{}")
    assert value(scrape(client), "marquee_celery_queue_depth") == 3


class FakeConn:
    def __init__(self, room):
        self.room, self.last_id, self.frames, self.closed = room, 0, [], False

    def push(self, frame, wire=None):
        self.frames.append(frame)


def test_chat_deliveries_are_counted_per_event_and_socket(client, settings):
    settings.CHAT_BATCH_WINDOW_MS = 0
    before = scrape(client)
    loop = asyncio.new_event_loop()
    try:
        hub = fanout.Hub(loop)
        state = hub.rooms["r"] = fanout.RoomState()
        conns = [FakeConn("r") for _ in range(3)]
        state.live.update(conns)
        hub.deliver("r", 1, json.dumps({"id": 1}))
        hub.deliver("r", 2, json.dumps({"id": 2}))
    finally:
        loop.close()
    assert all(len(c.frames) == 2 for c in conns)
    after = scrape(client)
    assert value(after, "marquee_chat_deliveries_total") - value(before, "marquee_chat_deliveries_total") == 6


def test_slow_socket_drops_and_disconnects_are_counted(client, settings):
    from marquee.chat.connection import Connection

    settings.CHAT_CLIENT_BUFFER_FRAMES = 4
    before = scrape(client)

    async def run():
        never = asyncio.Event()

        async def send(message):
            await never.wait()  # a client that never reads

        conn = Connection(send, "r")
        for i in range(10):
            conn.push(f"[{i}]")
        assert conn.closed and conn.close_code == chat_protocol.CLOSE_TOO_SLOW
        if conn.driver:
            conn.driver.cancel()

    asyncio.run(run())
    after = scrape(client)
    assert (
        value(after, "marquee_chat_slow_disconnects_total") - value(before, "marquee_chat_slow_disconnects_total") == 1
    )
    # frame 0 is in flight, 1..4 fill the buffer, 5 overflows: 4 queued + 1 dropped.
    assert value(after, "marquee_chat_dropped_frames_total") - value(before, "marquee_chat_dropped_frames_total") == 5
