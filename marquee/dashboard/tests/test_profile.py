"""Issue 15 item 7: performers edit their picture, name, bio, tags and
languages from the dashboard (and PATCH /api/v1/me/performer/); the changes
show on the profile, the room, the grid's search and its tag filters.  The
picture goes through the one image path (re-encoded, no metadata, shrunk).
Strangers are refused and nothing changes; bad input is a field error and
nothing is half-written."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from marquee.audit.models import AuditEvent
from marquee.performers.models import Performer, Tag
from marquee.performers.profile import AVATAR_MAX_SIDE

URL = "/dashboard/profile/"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def tags(db):
    made = {
        slug: Tag.objects.create(slug=slug, label=label, kind=kind)
        for slug, label, kind in [
            ("cosplay", "Cosplay", "tag"),
            ("gaming", "Gaming", "tag"),
            ("de", "Deutsch", "language"),
            ("fr", "Français", "language"),
            ("couples", "Couples", "category"),
        ]
    }
    return made


def _jpeg_with_gps(size=(1200, 800)) -> bytes:
    image = Image.new("RGB", size, "#336699")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0)}  # GPSInfo: latitude
    exif[0x010F] = "SecretCam"  # Make
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _adult_client() -> Client:
    client = Client()
    session = client.session
    session["age_gate_passed"] = True
    session.save()
    return client


def _state(performer):
    return (
        Performer.objects.values().get(pk=performer.pk),
        sorted(performer.tags.values_list("slug", flat=True)),
        AuditEvent.objects.count(),
    )


def _media_files(media_root):
    return sorted(p.name for p in media_root.rglob("*") if p.is_file()) if media_root.exists() else []


def _home_usernames(client, **params):
    # The grid alone (what the filters swap in), not the rows around it.
    html = client.get(reverse("home"), params, HTTP_HX_REQUEST="true").content.decode()
    return set(re.findall(r'href="/rooms/([^/"]+)/"', html))


def test_profile_changes_show_everywhere_viewers_look(
    client, performer, tags, media_root, django_capture_on_commit_callbacks
):
    performer.tags.add(tags["couples"])  # a category staff set: left alone
    client.force_login(performer.user)
    assert client.get(URL).status_code == 200
    upload = SimpleUploadedFile("me.jpg", _jpeg_with_gps(), content_type="image/jpeg")
    data = {
        "display_name": "Stella Nova",
        "bio": "Board games and bad puns.",
        "tags": ["cosplay"],
        "languages": ["de", "fr"],
        "avatar": upload,
    }
    response = client.post(URL, data)
    assert response.status_code == 302
    performer.refresh_from_db()
    assert performer.display_name == "Stella Nova" and performer.bio == "Board games and bad puns."
    assert sorted(performer.tags.values_list("slug", flat=True)) == ["cosplay", "couples", "de", "fr"]
    assert AuditEvent.objects.filter(action="performer.profile_changed", target_id=str(performer.pk)).count() == 1
    # The picture was re-encoded: smaller, and nothing of the camera or place is left.
    with Image.open(performer.avatar.path) as saved:
        assert max(saved.size) == AVATAR_MAX_SIDE
        assert not saved.getexif()
    assert b"SecretCam" not in Path(performer.avatar.path).read_bytes()

    viewer = _adult_client()
    profile = viewer.get(reverse("profile", args=[performer.username])).content.decode()
    assert "Stella Nova" in profile and "Board games and bad puns." in profile
    assert performer.avatar.url in profile and "Cosplay" in profile and "Deutsch" in profile
    room = viewer.get(reverse("room", args=[performer.username])).content.decode()
    assert performer.avatar.url in room and "Cosplay" in room and "Français" in room
    assert performer.username in _home_usernames(viewer, tag="cosplay")
    assert performer.username in _home_usernames(viewer, language="fr")
    assert performer.username in _home_usernames(viewer, q="stella")
    assert performer.username not in _home_usernames(viewer, tag="gaming")
    api = viewer.get("/api/v1/performers/?tag=cosplay").json()
    assert [p["display_name"] for p in api["results"]] == ["Stella Nova"]

    # Changing tags again moves the performer between filters; removing the picture deletes its file.
    with django_capture_on_commit_callbacks(execute=True):  # the old file goes once the change is committed
        client.post(URL, {"display_name": "Stella Nova", "bio": "", "tags": ["gaming"], "remove_avatar": "on"})
    assert performer.username in _home_usernames(viewer, tag="gaming")
    assert performer.username not in _home_usernames(viewer, tag="cosplay")
    assert performer.username not in _home_usernames(viewer, language="de")
    performer.refresh_from_db()
    assert not performer.avatar and not _media_files(media_root)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"avatar": SimpleUploadedFile("me.png", b"not a picture at all", content_type="image/png")}, "avatar"),
        (
            {"avatar": SimpleUploadedFile("me.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, content_type="image/png")},
            "avatar",
        ),
        ({"tags": ["no-such-tag"]}, "tags"),
        ({"languages": ["cosplay"]}, "languages"),  # a tag is not a language
        ({"display_name": "   "}, "display_name"),
        ({"bio": "x" * 2001}, "bio"),
    ],
    ids=["text-as-png", "broken-png", "unknown-tag", "tag-as-language", "blank-name", "long-bio"],
)
def test_bad_input_is_a_field_error_and_nothing_is_written(client, performer, tags, media_root, change, field):
    performer.tags.add(tags["gaming"])
    before, files = _state(performer), _media_files(media_root)
    client.force_login(performer.user)
    data = {"display_name": "Renamed", "bio": "New bio", "tags": ["cosplay"], "languages": ["de"], **change}
    response = client.post(URL, data)
    assert response.status_code == 422
    body = response.content.decode()
    assert re.search(rf'<ul class="errorlist"[^>]*id="id_{field}_error"', body), body
    assert _state(performer) == before and _media_files(media_root) == files


def test_strangers_cannot_edit_a_profile(client, performer, tags, outsider, media_root):
    before = _state(performer)
    data = {"display_name": "Pwned", "bio": "", "tags": ["cosplay"]}
    assert client.post(URL, data).status_code == 302  # anonymous: to the login page
    client.force_login(outsider)
    assert client.get(URL).status_code == 403
    assert client.post(URL, data).status_code == 403
    api = APIClient()
    assert api.patch("/api/v1/me/performer/", data, format="json").status_code in (401, 403)
    api.force_authenticate(outsider)
    response = api.patch("/api/v1/me/performer/", data, format="json")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_a_performer"
    assert _state(performer) == before and not _media_files(media_root)


def test_api_patch_changes_the_profile(performer, tags, media_root):
    api = APIClient()
    api.force_authenticate(performer.user)
    response = api.patch("/api/v1/me/performer/", {"bio": "Hi", "tags": ["gaming"], "languages": ["fr"]}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["bio"] == "Hi" and body["tags"] == ["gaming"] and body["languages"] == ["fr"]
    assert body["display_name"] == performer.display_name  # untouched fields stay
    upload = SimpleUploadedFile("me.jpg", _jpeg_with_gps((300, 200)), content_type="image/jpeg")
    response = api.patch("/api/v1/me/performer/", {"avatar": upload}, format="multipart")
    assert response.status_code == 200 and response.json()["avatar_url"].startswith("/media-files/avatars/")
    performer.refresh_from_db()
    assert performer.bio == "Hi" and performer.avatar


@pytest.mark.parametrize(
    ("data", "fmt", "status", "code"),
    [
        ({"tags": ["nope"]}, "json", 400, "bad_tag"),
        ({"display_name": " "}, "json", 400, None),
        ({"avatar": "text"}, "multipart", 415, "unsupported_type"),
    ],
)
def test_api_patch_bad_input_changes_nothing(performer, tags, media_root, data, fmt, status, code):
    api = APIClient()
    api.force_authenticate(performer.user)
    if data.get("avatar") == "text":
        data = {"bio": "Should not stick", "avatar": SimpleUploadedFile("a.png", b"hello", content_type="image/png")}
    before = _state(performer)
    response = api.patch("/api/v1/me/performer/", data, format=fmt)
    assert response.status_code == status
    if code:
        assert response.json()["error"]["code"] == code
    assert _state(performer) == before and not _media_files(media_root)
