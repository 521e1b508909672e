"""Issue 15 item 10: staff act from the admin (suspend and unsuspend, revoke, end a stream,
take down, refund, decide one age verification) through each domain's
service, only with the right permission, and every action is audit-logged.
A stranger (not staff) and staff without the permission change nothing."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from marquee.audit.models import AuditEvent
from marquee.billing.models import Purchase
from marquee.compliance.models import AgeVerification, PerformerRecord
from marquee.content.models import MediaSet
from marquee.performers.models import Performer
from marquee.shows.models import Show
from tests.factories import PerformerFactory, ShowFactory, UserFactory, enable_totp
from tests.support.billing import fund

pytestmark = pytest.mark.django_db


def _staff_with(*codenames):
    user = UserFactory(is_staff=True)
    enable_totp(user)
    for codename in codenames:
        app, code = codename.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=code))
    return user


def _suspend_user(viewer, performer):
    return viewer, "/admin/accounts/user/", "suspend", lambda: viewer.__class__.objects.get(pk=viewer.pk).is_active


def _suspend_performer(viewer, performer):
    def state():
        return Performer.objects.get(pk=performer.pk).is_suspended

    return performer, "/admin/performers/performer/", "suspend", state


def _unsuspend_user(viewer, performer):
    viewer.__class__.objects.filter(pk=viewer.pk).update(is_active=False)
    return viewer, "/admin/accounts/user/", "unsuspend", lambda: viewer.__class__.objects.get(pk=viewer.pk).is_active


def _unsuspend_performer(viewer, performer):
    Performer.objects.filter(pk=performer.pk).update(is_suspended=True, suspended_reason="Policy breach")

    def state():
        fresh = Performer.objects.get(pk=performer.pk)
        return fresh.is_suspended, fresh.suspended_reason

    return performer, "/admin/performers/performer/", "unsuspend", state


def _revoke(viewer, performer):
    record = PerformerRecord.objects.create(
        performer=performer, legal_name="Pat Example", date_of_birth=datetime.date(1990, 1, 1), status="approved"
    )

    def state():
        return Performer.objects.get(pk=performer.pk).verification_status, PerformerRecord.objects.get().status

    return record, "/admin/compliance/performerrecord/", "revoke_verification", state


def _end_show(viewer, performer):
    show = ShowFactory(performer=performer, status=Show.Status.LIVE, started_at=timezone.now(), media_session="s1")
    return show, "/admin/shows/show/", "end_live", lambda: Show.objects.get(pk=show.pk).status


def _take_down(viewer, performer):
    media_set = MediaSet.objects.create(performer=performer, title="Set", is_published=True)
    return media_set, "/admin/content/mediaset/", "take_down", lambda: MediaSet.objects.get().is_published


def _refund(viewer, performer):
    purchase = fund(viewer)
    return purchase, "/admin/billing/purchase/", "refund_purchase", lambda: Purchase.objects.get().status


REVIEWED, REVOKED = ("verified", "approved"), ("rejected", "rejected")
SUSPENDED, CLEARED = (True, "Policy breach"), (False, "")
# (case, permission needed besides viewing, audit action written, state before → after)
CASES = [
    (_suspend_user, "accounts.suspend_user", "account.suspended", (True, False)),
    (_suspend_performer, "performers.suspend_performer", "performer.suspended", (False, True)),
    (_unsuspend_user, "accounts.suspend_user", "account.unsuspended", (False, True)),
    (_unsuspend_performer, "performers.suspend_performer", "performer.unsuspended", (SUSPENDED, CLEARED)),
    (_revoke, "compliance.revoke_verification", "performer.verification_revoked", (REVIEWED, REVOKED)),
    (_end_show, "shows.end_show", "show.ended_by_staff", ("live", "ended")),
    (_take_down, "content.change_mediaset", "content.taken_down", (True, False)),
    (_refund, "billing.refund_purchase", "billing.refund_requested", ("paid", "refunded")),
]  # fmt: skip


def _view_perm(url):
    app, model = url.strip("/").split("/")[1:3]
    return f"{app}.view_{model}"


def _post_action(client, url, action, obj):
    data = {"action": action, "_selected_action": [obj.pk], "apply": "Confirm", "reason": "Policy breach"}
    return client.post(url, data)


@pytest.mark.parametrize(("case", "perm", "audit_action", "states"), CASES, ids=[c[0].__name__ for c in CASES])
def test_staff_with_the_permission_can(client, viewer, case, perm, audit_action, states):
    performer = PerformerFactory()
    obj, url, action, state = case(viewer, performer)
    assert state() == states[0]
    staff = _staff_with(_view_perm(url), perm)
    client.force_login(staff)
    if action not in ("refund_purchase", "unsuspend"):
        # The first click asks for a reason and changes nothing yet.
        page = client.post(url, {"action": action, "_selected_action": [obj.pk]})
        assert page.status_code == 200 and 'name="reason"' in page.content.decode()
        assert state() == states[0]
    response = _post_action(client, url, action, obj)
    assert response.status_code == 302
    assert state() == states[1]
    assert AuditEvent.objects.filter(action=audit_action, actor_id=staff.pk).count() == 1


@pytest.mark.parametrize(("case", "perm", "audit_action", "states"), CASES, ids=[c[0].__name__ for c in CASES])
def test_without_the_permission_nothing_changes(client, viewer, outsider, case, perm, audit_action, states):
    performer = PerformerFactory()
    obj, url, action, state = case(viewer, performer)
    audit_before = AuditEvent.objects.count()
    for who in (outsider, _staff_with(_view_perm(url))):
        client.force_login(who)
        response = _post_action(client, url, action, obj)
        # Not staff: sent to the admin login.  Staff without the permission:
        # the action is not offered (the changelist says nothing was done).
        assert response.status_code in (200, 302)
        if who is outsider:
            assert "/admin/login/" in response["Location"]
        assert state() == states[0]
    assert AuditEvent.objects.count() == audit_before


def _pending(viewer):
    return AgeVerification.objects.create(user=viewer, provider="sandbox", method="document")


@pytest.mark.parametrize(("decision", "status"), [("approve", "approved"), ("reject", "declined")])
def test_one_age_verification_is_decided_from_its_page(client, viewer, decision, status):
    pending = _pending(viewer)
    staff = _staff_with("compliance.view_ageverification", "compliance.change_ageverification")
    client.force_login(staff)
    change = client.get(f"/admin/compliance/ageverification/{pending.pk}/change/").content.decode()
    review = f"/admin/compliance/ageverification/{pending.pk}/review/"
    assert f'href="{review}"' in change
    assert 'name="decision"' in client.get(review).content.decode()
    response = client.post(review, {"decision": decision, "reason": "Checked by hand"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == status and pending.reviewed_by == staff
    assert AuditEvent.objects.filter(action=f"age_verification.{status}", actor_id=staff.pk).count() == 1


def test_age_verification_page_refuses_without_the_permission(client, viewer, outsider):
    pending = _pending(viewer)
    review = f"/admin/compliance/ageverification/{pending.pk}/review/"
    audit_before = AuditEvent.objects.count()
    for who in (outsider, _staff_with("compliance.view_ageverification")):
        client.force_login(who)
        response = client.post(review, {"decision": "approve"})
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/" if who is outsider else "/admin/")
        assert not response["Location"].startswith(review)
    pending.refresh_from_db()
    assert pending.status == "pending" and AuditEvent.objects.count() == audit_before
