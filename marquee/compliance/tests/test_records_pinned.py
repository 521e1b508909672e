"""The 2257 record rules of ``compliance/records.py`` called directly: every
stored field, every refusal (code, message, status, and nothing changed), the
audit row each action writes (actor, target, details, client address) and the
files kept or removed.  Written for the mutation target of records.py: each
assertion is one a plausible slip in that module would break."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.utils import timezone

from marquee.audit.models import AuditEvent
from marquee.compliance import crypto, records
from marquee.compliance.errors import ComplianceError
from marquee.compliance.models import PerformerRecord, RecordAlias, RecordDocument, ShowPerformer
from marquee.performers.models import Performer
from tests.factories import PerformerFactory, ShowFactory, UserFactory

pytestmark = pytest.mark.django_db

FRONT, BACK, SELFIE = b"front of the ID", b"back of the ID", b"selfie holding the ID"
CLIENT_IP = "198.51.100.23"


def _request():
    return RequestFactory().post("/performer-verification/", REMOTE_ADDR=CLIENT_IP)


def _documents(*kinds):
    data = {"id_front": (FRONT, "image/png"), "id_back": (BACK, "image/jpeg"), "selfie": (SELFIE, "image/webp")}
    return {kind: data[kind] for kind in kinds}


def _years_ago(years: int, today: datetime.date) -> datetime.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February in a year that has none
        return today.replace(year=today.year - years, day=28)


def _submit(performer, **overrides):
    arguments = {
        "performer": performer,
        "legal_name": "Jane Q Example",
        "date_of_birth": datetime.date(1990, 1, 2),
        "aliases": ["Nova Star"],
        "documents": _documents("id_front", "selfie"),
    }
    return records.submit_performer_record(**(arguments | overrides))


def _stored_files(root) -> set[str]:
    return {str(path.relative_to(root)) for path in root.rglob("*.bin")} if root.exists() else set()


def _refusal(call) -> ComplianceError:
    with pytest.raises(ComplianceError) as caught:
        call()
    return caught.value


@pytest.fixture
def newcomer(db):
    return PerformerFactory(
        user=UserFactory(username="newcomer"), verification_status="unverified", display_name="Nova"
    )


@pytest.fixture
def reviewer(db):
    return UserFactory(username="reviewer", is_staff=True)


@pytest.fixture
def custodian(db):
    user = UserFactory(username="custodian", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_id_documents"))
    return user


# --- submit_performer_record -----------------------------------------------------


def test_submission_stores_identity_documents_aliases_and_one_audit_row(newcomer, private_root):
    bystander = PerformerFactory(user=UserFactory(username="bystander"))
    record = _submit(
        newcomer,
        legal_name="  Jane Q Example  ",
        aliases=["  Nova Star ", "", "   ", "N. S.", "Nova"],
        documents=_documents("id_front", "id_back", "selfie"),
        request=_request(),
    )

    stored = PerformerRecord.objects.get()
    assert record.pk == stored.pk and stored.performer_id == newcomer.pk
    assert stored.legal_name == "Jane Q Example"
    assert stored.date_of_birth == datetime.date(1990, 1, 2)
    assert (stored.status, stored.rejection_reason, stored.reviewed_at, stored.reviewed_by) == (
        "pending",
        "",
        None,
        None,
    )
    # Every other name used: the ones given (trimmed, blanks dropped, no
    # duplicate of the display name) plus the display name and the username.
    assert sorted(RecordAlias.objects.filter(record=stored).values_list("name", flat=True)) == [
        "N. S.",
        "Nova",
        "Nova Star",
        "newcomer",
    ]
    documents = {d.kind: d for d in RecordDocument.objects.filter(record=stored)}
    assert {kind: (d.content_type, crypto.read_private(d.storage_name)) for kind, d in documents.items()} == {
        "id_front": ("image/png", FRONT),
        "id_back": ("image/jpeg", BACK),
        "selfie": ("image/webp", SELFIE),
    }
    assert _stored_files(private_root) == {d.storage_name for d in documents.values()}
    assert all(d.storage_name.startswith("records/") for d in documents.values())

    assert Performer.objects.get(pk=newcomer.pk).verification_status == "pending"
    assert Performer.objects.get(pk=bystander.pk).verification_status == "verified"

    event = AuditEvent.objects.get()
    assert event.action == "performer_record.submitted"
    assert (event.actor_id, event.target_type, event.target_id) == (
        newcomer.user_id,
        "compliance.performerrecord",
        str(stored.pk),
    )
    assert event.details == {
        "aliases": ["N. S.", "Nova", "Nova Star", "newcomer"],
        "documents": ["id_back", "id_front", "selfie"],
    }
    assert event.ip == CLIENT_IP


def test_legal_name_and_aliases_are_cut_to_their_columns(newcomer, private_root):
    legal_max = PerformerRecord._meta.get_field("legal_name").max_length
    alias_max = RecordAlias._meta.get_field("name").max_length
    _submit(newcomer, legal_name=" " + "L" * (legal_max + 30) + " ", aliases=["A" * (alias_max + 30)])
    stored = PerformerRecord.objects.get()
    assert stored.legal_name == "L" * legal_max
    assert "A" * alias_max in set(stored.aliases.values_list("name", flat=True))


def test_the_minimum_age_is_reached_on_the_birthday_not_a_day_before(newcomer, private_root, settings):
    today = timezone.localdate()
    eighteen_today = _years_ago(settings.MINIMUM_AGE, today)
    refused = _refusal(lambda: _submit(newcomer, date_of_birth=eighteen_today + datetime.timedelta(days=1)))
    assert (refused.code, refused.status) == ("under_age", 400)
    assert refused.message == f"Performers must be at least {settings.MINIMUM_AGE} years old."
    assert not PerformerRecord.objects.exists() and _stored_files(private_root) == set()
    assert Performer.objects.get(pk=newcomer.pk).verification_status == "unverified"
    assert not AuditEvent.objects.exists()

    assert _submit(newcomer, date_of_birth=eighteen_today).status == "pending"


def test_the_minimum_age_comes_from_the_setting(newcomer, private_root, settings):
    settings.MINIMUM_AGE = 21
    twenty = _years_ago(20, timezone.localdate())
    refused = _refusal(lambda: _submit(newcomer, date_of_birth=twenty))
    assert refused.code == "under_age" and "at least 21 years" in refused.message
    assert not PerformerRecord.objects.exists()


@pytest.mark.parametrize("kinds", [("id_front",), ("selfie",), ("id_back", "selfie"), ()])
def test_the_front_of_the_id_and_a_selfie_are_both_required(newcomer, private_root, kinds):
    refused = _refusal(lambda: _submit(newcomer, documents=_documents(*kinds)))
    assert (refused.code, refused.status) == ("documents_missing", 400)
    assert refused.message == "Upload the front of your ID and a selfie holding it."
    assert not PerformerRecord.objects.exists() and _stored_files(private_root) == set()
    assert Performer.objects.get(pk=newcomer.pk).verification_status == "unverified"


def test_the_back_of_the_id_is_optional(newcomer, private_root):
    record = _submit(newcomer, documents=_documents("id_front", "selfie"))
    assert set(record.documents.values_list("kind", flat=True)) == {"id_front", "selfie"}


def test_an_approved_record_cannot_be_resubmitted_and_stays_as_it_was(newcomer, private_root, reviewer):
    record = _submit(newcomer)
    records.review_performer_record(record=record, approved=True, reviewer=reviewer)
    files_before = _stored_files(private_root)
    events_before = AuditEvent.objects.count()

    refused = _refusal(lambda: _submit(newcomer, legal_name="Someone Else", aliases=["Other"]))
    assert (refused.code, refused.status) == ("already_approved", 400)
    assert refused.message == "Your identity is already verified."
    stored = PerformerRecord.objects.get()
    assert (stored.status, stored.legal_name, stored.reviewed_by_id) == ("approved", "Jane Q Example", reviewer.pk)
    assert "Other" not in set(stored.aliases.values_list("name", flat=True))
    assert _stored_files(private_root) == files_before
    assert Performer.objects.get(pk=newcomer.pk).verification_status == "verified"
    assert AuditEvent.objects.count() == events_before


def test_resubmission_after_rejection_replaces_everything_and_deletes_old_files(
    newcomer, private_root, reviewer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = _submit(newcomer, aliases=["Old Alias"], documents=_documents("id_front", "id_back", "selfie"))
    old_files = _stored_files(private_root)
    assert len(old_files) == 3
    records.review_performer_record(record=first, approved=False, reason="Blurred", reviewer=reviewer)

    with django_capture_on_commit_callbacks(execute=True):
        second = _submit(
            newcomer,
            legal_name="Jane R Example",
            date_of_birth=datetime.date(1991, 5, 6),
            aliases=["New Alias"],
            documents=_documents("id_front", "selfie"),
        )

    stored = PerformerRecord.objects.get()
    assert second.pk == first.pk == stored.pk
    assert (stored.legal_name, stored.date_of_birth) == ("Jane R Example", datetime.date(1991, 5, 6))
    assert (stored.status, stored.rejection_reason, stored.reviewed_at, stored.reviewed_by) == (
        "pending",
        "",
        None,
        None,
    )
    assert sorted(stored.aliases.values_list("name", flat=True)) == ["New Alias", "Nova", "newcomer"]
    documents = {d.kind: d.storage_name for d in stored.documents.all()}
    assert set(documents) == {"id_front", "selfie"}
    # The old files are gone once the new record is committed; only the new ones remain.
    assert _stored_files(private_root) == set(documents.values())
    assert not old_files & set(documents.values())
    assert Performer.objects.get(pk=newcomer.pk).verification_status == "pending"


def test_old_files_stay_until_the_resubmission_commits(newcomer, private_root, reviewer):
    first = _submit(newcomer)
    old_files = _stored_files(private_root)
    records.review_performer_record(record=first, approved=False, reason="Blurred", reviewer=reviewer)
    _submit(newcomer)  # the test's transaction never commits
    assert old_files <= _stored_files(private_root)


def test_a_failed_submission_leaves_no_row_and_no_file(newcomer, private_root, monkeypatch):
    def broken_audit(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(records, "record_audit", broken_audit)
    with pytest.raises(RuntimeError, match="audit store down"):
        _submit(newcomer, documents=_documents("id_front", "id_back", "selfie"))
    assert not PerformerRecord.objects.exists() and not RecordDocument.objects.exists()
    assert _stored_files(private_root) == set()
    assert Performer.objects.get(pk=newcomer.pk).verification_status == "unverified"


# --- review_performer_record ---------------------------------------------------


def _pending_record(username: str) -> PerformerRecord:
    performer = PerformerFactory(user=UserFactory(username=username), verification_status="unverified")
    return _submit(performer)


def test_approval_marks_record_and_performer_and_touches_no_other_record(private_root, reviewer):
    record = _pending_record("first")
    other = _pending_record("second")
    before = timezone.now()

    returned = records.review_performer_record(
        record=record, approved=True, reason="  looks fine  ", reviewer=reviewer, request=_request()
    )

    after = timezone.now()
    assert returned is record and returned.status == "approved"
    stored = PerformerRecord.objects.get(pk=record.pk)
    assert (stored.status, stored.rejection_reason, stored.reviewed_by_id) == ("approved", "", reviewer.pk)
    assert before <= stored.reviewed_at <= after
    assert Performer.objects.get(pk=record.performer_id).verification_status == "verified"
    untouched = PerformerRecord.objects.get(pk=other.pk)
    assert (untouched.status, untouched.reviewed_at, untouched.reviewed_by_id) == ("pending", None, None)
    assert Performer.objects.get(pk=other.performer_id).verification_status == "pending"

    event = AuditEvent.objects.get(action="performer_record.approved")
    assert (event.actor_id, event.target_type, event.target_id) == (
        reviewer.pk,
        "compliance.performerrecord",
        str(record.pk),
    )
    # The reviewer's note is audited even on approval; the record keeps no reason.
    assert event.details == {"performer": record.performer_id, "reason": "looks fine"}
    assert event.ip == CLIENT_IP


def test_rejection_keeps_the_trimmed_reason(private_root, reviewer):
    record = _pending_record("first")
    returned = records.review_performer_record(
        record=record, approved=False, reason="  The ID photo is blurred.  ", reviewer=reviewer, request=_request()
    )
    assert returned.status == "rejected" and returned.rejection_reason == "The ID photo is blurred."
    stored = PerformerRecord.objects.get(pk=record.pk)
    assert (stored.status, stored.rejection_reason, stored.reviewed_by_id) == (
        "rejected",
        "The ID photo is blurred.",
        reviewer.pk,
    )
    assert stored.reviewed_at is not None
    assert Performer.objects.get(pk=record.performer_id).verification_status == "rejected"
    event = AuditEvent.objects.get(action="performer_record.rejected")
    assert (event.actor_id, event.target_id, event.ip) == (reviewer.pk, str(record.pk), CLIENT_IP)
    assert event.details == {"performer": record.performer_id, "reason": "The ID photo is blurred."}


def test_rejection_reason_is_cut_to_its_column(private_root, reviewer):
    limit = PerformerRecord._meta.get_field("rejection_reason").max_length
    record = _pending_record("first")
    records.review_performer_record(record=record, approved=False, reason="R" * (limit + 40), reviewer=reviewer)
    assert PerformerRecord.objects.get(pk=record.pk).rejection_reason == "R" * limit
    assert AuditEvent.objects.get(action="performer_record.rejected").details["reason"] == "R" * limit


@pytest.mark.parametrize("reason", ["", "   "])
def test_rejection_needs_a_reason_and_changes_nothing(private_root, reviewer, reason):
    record = _pending_record("first")
    events_before = AuditEvent.objects.count()
    refused = _refusal(
        lambda: records.review_performer_record(record=record, approved=False, reason=reason, reviewer=reviewer)
    )
    assert (refused.code, refused.status) == ("reason_required", 400)
    assert refused.message == "Give the performer a reason for the rejection."
    stored = PerformerRecord.objects.get(pk=record.pk)
    assert (stored.status, stored.reviewed_at, stored.reviewed_by_id) == ("pending", None, None)
    assert Performer.objects.get(pk=record.performer_id).verification_status == "pending"
    assert AuditEvent.objects.count() == events_before


def test_approval_needs_no_reason_and_records_none(private_root, reviewer):
    record = _pending_record("first")
    assert records.review_performer_record(record=record, approved=True, reviewer=reviewer).status == "approved"
    event = AuditEvent.objects.get(action="performer_record.approved")
    assert event.details == {"performer": record.performer_id, "reason": ""}


def test_a_rejection_without_any_reason_argument_is_refused(private_root, reviewer):
    record = _pending_record("first")
    refused = _refusal(lambda: records.review_performer_record(record=record, approved=False, reviewer=reviewer))
    assert refused.code == "reason_required"
    assert PerformerRecord.objects.get(pk=record.pk).status == "pending"


@pytest.mark.parametrize("first_decision", [True, False])
def test_only_a_pending_record_can_be_reviewed(private_root, reviewer, first_decision):
    record = _pending_record("first")
    records.review_performer_record(record=record, approved=first_decision, reason="First look", reviewer=reviewer)
    decided = PerformerRecord.objects.get(pk=record.pk)
    status_before = Performer.objects.get(pk=record.performer_id).verification_status
    events_before = AuditEvent.objects.count()
    second_reviewer = UserFactory(username="second", is_staff=True)

    refused = _refusal(
        lambda: records.review_performer_record(
            record=record, approved=not first_decision, reason="Second look", reviewer=second_reviewer
        )
    )
    assert (refused.code, refused.status) == ("not_pending", 400)
    assert refused.message == "Only a pending record can be reviewed."
    stored = PerformerRecord.objects.get(pk=record.pk)
    assert (stored.status, stored.rejection_reason, stored.reviewed_at, stored.reviewed_by_id) == (
        decided.status,
        decided.rejection_reason,
        decided.reviewed_at,
        reviewer.pk,
    )
    assert Performer.objects.get(pk=record.performer_id).verification_status == status_before
    assert AuditEvent.objects.count() == events_before


# --- read_record_document -------------------------------------------------------


def test_the_custodian_reads_a_document_and_the_read_is_audited(newcomer, private_root, custodian):
    record = _submit(newcomer, documents=_documents("id_front", "id_back", "selfie"))
    document = record.documents.get(kind="id_back")
    assert records.read_record_document(document=document, viewer=custodian, request=_request()) == BACK
    event = AuditEvent.objects.get(action="performer_record.document_viewed")
    assert (event.actor_id, event.target_type, event.target_id, event.ip) == (
        custodian.pk,
        "compliance.recorddocument",
        str(document.pk),
        CLIENT_IP,
    )
    assert event.details == {"record": record.pk, "kind": "id_back"}


@pytest.mark.parametrize("who", ["viewer", "staff", "inactive_custodian"])
def test_anyone_else_is_refused_and_nothing_is_logged(newcomer, private_root, custodian, who):
    stranger = {
        "viewer": lambda: UserFactory(username="stranger"),
        "staff": lambda: UserFactory(username="plainstaff", is_staff=True, is_superuser=False),
        "inactive_custodian": lambda: custodian,
    }[who]()
    if who == "inactive_custodian":
        stranger.is_active = False
    document = _submit(newcomer).documents.get(kind="id_front")
    events_before = AuditEvent.objects.count()
    refused = _refusal(lambda: records.read_record_document(document=document, viewer=stranger))
    assert (refused.code, refused.status) == ("forbidden", 403)
    assert refused.message == "Only the custodian of records may view ID documents."
    assert AuditEvent.objects.count() == events_before


# --- co-performers --------------------------------------------------------------


def test_a_verified_co_performer_is_added_once_with_one_audit_row(performer):
    show = ShowFactory(performer=performer)
    partner = PerformerFactory(user=UserFactory(username="partner"))
    link = records.add_co_performer(show=show, performer=partner, actor=performer.user, request=_request())
    assert (link.show_id, link.performer_id) == (show.pk, partner.pk)
    assert list(ShowPerformer.objects.values_list("show_id", "performer_id")) == [(show.pk, partner.pk)]
    event = AuditEvent.objects.get(action="show.co_performer_added")
    assert (event.actor_id, event.target_type, event.target_id, event.ip) == (
        performer.user_id,
        "shows.show",
        str(show.pk),
        CLIENT_IP,
    )
    assert event.details == {"performer": partner.pk}

    again = records.add_co_performer(show=show, performer=partner, actor=performer.user)
    assert again.pk == link.pk
    assert ShowPerformer.objects.count() == 1
    assert AuditEvent.objects.filter(action="show.co_performer_added").count() == 1


@pytest.mark.parametrize(
    ("status", "suspended"), [("unverified", False), ("pending", False), ("rejected", False), ("verified", True)]
)
def test_an_unverified_or_suspended_co_performer_is_refused(performer, status, suspended):
    show = ShowFactory(performer=performer)
    partner = PerformerFactory(user=UserFactory(username="partner"), verification_status=status, is_suspended=suspended)
    refused = _refusal(lambda: records.add_co_performer(show=show, performer=partner, actor=performer.user))
    assert (refused.code, refused.status) == ("co_performer_unverified", 400)
    assert refused.message == "Every performer on a show must be verified first."
    assert not ShowPerformer.objects.exists()
    assert not AuditEvent.objects.filter(action="show.co_performer_added").exists()


def test_the_host_is_not_added_as_a_co_performer(performer):
    show = ShowFactory(performer=performer)
    refused = _refusal(lambda: records.add_co_performer(show=show, performer=performer, actor=performer.user))
    assert (refused.code, refused.status) == ("host", 400)
    assert refused.message == "The host is already on the show."
    assert not ShowPerformer.objects.exists()
    assert not AuditEvent.objects.filter(action="show.co_performer_added").exists()


def test_unverified_co_performers_lists_exactly_the_unverified_in_one_query(performer, django_assert_num_queries):
    show = ShowFactory(performer=performer)
    other_show = ShowFactory(performer=performer)
    partners = {
        status: PerformerFactory(user=UserFactory(username=f"partner-{status}"))
        for status in ("verified", "pending", "rejected", "unverified")
    }
    for partner in partners.values():
        ShowPerformer.objects.create(show=show, performer=partner)
    for status, partner in partners.items():
        Performer.objects.filter(pk=partner.pk).update(verification_status=status)
    stray = PerformerFactory(user=UserFactory(username="stray"), verification_status="rejected")
    ShowPerformer.objects.create(show=other_show, performer=stray)

    with django_assert_num_queries(1):
        found = records.unverified_co_performers(show)
        names = {p.user_id for p in found}
    assert all(isinstance(p, Performer) for p in found)
    assert names == {partners[s].user_id for s in ("pending", "rejected", "unverified")}
    assert records.unverified_co_performers(ShowFactory(performer=performer)) == []
