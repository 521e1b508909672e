"""Uploads: type by content, size limits, decompression bombs, metadata
stripped, previews, signed URLs and who may read what."""

from __future__ import annotations

import io
import struct
import zlib
from fractions import Fraction

import av
import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from PIL import Image

from marquee.content import services
from marquee.content.models import ContentPurchase, MediaItem, MediaSet
from tests.factories import PerformerFactory, UserFactory
from tests.support.compliance import approve_age

GPS_IFD = 0x8825


@pytest.fixture(autouse=True)
def content_root(settings, tmp_path):
    settings.CONTENT_ROOT = tmp_path / "content"
    return settings.CONTENT_ROOT


@pytest.fixture
def media_set(performer):
    return services.create_set(performer=performer, title="Garden photos", free_for_subscribers=True, price_tokens=50)


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (640, 480), "#3a7bd5")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bomb(width=100_000, height=100_000) -> bytes:
    """A tiny PNG whose header claims 10 billion pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def tiny_mp4_with_location() -> bytes:
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        container.metadata["location"] = "+51.5000-000.1167/"
        container.metadata["comment"] = "shot at home"
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        stream.time_base = Fraction(1, 10)
        for i in range(20):
            frame = av.VideoFrame.from_image(Image.new("RGB", (160, 120), (i * 12, 80, 160)))
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def upload(client, media_set, name, data, content_type="application/octet-stream"):
    return client.post(
        reverse("dashboard_content_upload", args=[media_set.pk]),
        {"file": SimpleUploadedFile(name, data, content_type=content_type)},
    )


def test_photo_upload_strips_exif_and_gps_and_makes_thumbnail(
    client, performer, media_set, django_capture_on_commit_callbacks
):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the fixture really has GPS
    client.force_login(performer.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, media_set, "holiday.jpg", original, "image/jpeg")
    assert response.status_code == 201, response.content
    item = MediaItem.objects.get()
    with item.file.open("rb") as handle:
        stored = Image.open(io.BytesIO(handle.read()))
        exif = stored.getexif()
    assert not exif.get_ifd(GPS_IFD) and 0x010F not in exif
    assert b"PhoneMaker" not in item.file.open("rb").read()
    item.refresh_from_db()
    assert item.status == "ready" and item.thumbnail
    with item.thumbnail.open("rb") as handle:
        thumb = Image.open(io.BytesIO(handle.read()))
        assert max(thumb.size) <= 480
    # The owner sees the thumbnail through its signed URL.
    page = client.get(reverse("dashboard_content_set", args=[media_set.pk]))
    thumb_url = page.context["items"][0].urls["thumbnail"]
    fetched = client.get(thumb_url)
    assert fetched.status_code == 200 and fetched["Content-Type"] == "image/jpeg"


def test_file_whose_extension_lies_is_judged_by_content(client, performer, media_set):
    client.force_login(performer.user)
    response = upload(client, media_set, "photo.jpg", b"%PDF-1.7\n" + b"x" * 2000, "image/jpeg")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_type"
    assert not MediaItem.objects.exists()
    png = io.BytesIO()
    Image.new("RGB", (32, 32), "#88cc88").save(png, "PNG")
    response = upload(client, media_set, "notes.txt", png.getvalue(), "text/plain")
    assert response.status_code == 201
    assert MediaItem.objects.get().mime == "image/jpeg"  # re-encoded


def test_decompression_bomb_is_refused(client, performer, media_set, content_root):
    client.force_login(performer.user)
    response = upload(client, media_set, "bomb.png", png_bomb(), "image/png")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_many_pixels"
    assert not MediaItem.objects.exists()
    assert not content_root.exists() or not any(p.is_file() for p in content_root.rglob("*"))


@override_settings(CONTENT_MAX_IMAGE_BYTES=4096)
def test_size_limit(client, performer, media_set):
    client.force_login(performer.user)
    big = io.BytesIO()
    Image.effect_noise((256, 256), 100).convert("RGB").save(big, "PNG")
    assert len(big.getvalue()) > 4096
    response = upload(client, media_set, "big.png", big.getvalue(), "image/png")
    assert response.status_code == 413
    assert "at most" in response.json()["error"]["message"]
    assert not MediaItem.objects.exists()


def test_video_is_remuxed_without_metadata_and_gets_a_frame_thumbnail(
    client, performer, media_set, django_capture_on_commit_callbacks
):
    data = tiny_mp4_with_location()
    with av.open(io.BytesIO(data)) as check:
        assert "location" in check.metadata
    client.force_login(performer.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, media_set, "clip.mp4", data, "video/mp4")
    assert response.status_code == 201, response.content
    item = MediaItem.objects.get()
    assert item.kind == "video" and (item.width, item.height) == (160, 120)
    with av.open(item.file.path) as stored:
        assert "location" not in stored.metadata and "comment" not in stored.metadata
        assert stored.streams.video[0].frames in (0, 20)
    item.refresh_from_db()
    assert item.status == "ready"
    with item.thumbnail.open("rb") as handle:
        assert Image.open(io.BytesIO(handle.read())).size == (160, 120)


def _ready_item(media_set) -> MediaItem:
    png = io.BytesIO()
    Image.new("RGB", (64, 64), "#aa5500").save(png, "PNG")
    item = services.upload_item(media_set=media_set, upload=SimpleUploadedFile("a.png", png.getvalue()))
    MediaItem.objects.filter(pk=item.pk).update(status="ready")
    item.refresh_from_db()
    return item


def test_signed_urls_are_personal_and_expire(client, performer, media_set, outsider, monkeypatch, settings):
    _ready_item(media_set)
    client.force_login(performer.user)
    url = client.get(reverse("dashboard_content_set", args=[media_set.pk])).context["items"][0].urls["file"]
    assert client.get(url).status_code == 200
    # Someone else replaying the owner's link gets nothing.
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    # A tampered token is refused.
    assert client.get(url.replace(url.split("/")[-2], url.split("/")[-2][:-2] + "xx")).status_code == 404
    # The link lives CONTENT_URL_MAX_AGE seconds, then is dead even for the owner.
    client.force_login(performer.user)
    real_time = signing.time.time
    max_age = settings.CONTENT_URL_MAX_AGE
    monkeypatch.setattr(signing.time, "time", lambda: real_time() + max_age - 20)
    assert client.get(url).status_code == 200
    monkeypatch.setattr(signing.time, "time", lambda: real_time() + max_age + 20)
    assert client.get(url).status_code == 404
    # ...while a link minted now works: it was the age, not the item, that was refused.
    fresh = client.get(reverse("dashboard_content_set", args=[media_set.pk])).context["items"][0].urls["file"]
    assert fresh != url and client.get(fresh).status_code == 200


def test_viewers_need_subscription_or_purchase(client, performer, media_set, monkeypatch):
    _ready_item(media_set)
    services.update_set(
        media_set=media_set,
        title=media_set.title,
        description="",
        free_for_subscribers=True,
        price_tokens=50,
        is_published=True,
    )
    buyer, subscriber, stranger = UserFactory(), UserFactory(), UserFactory()
    ContentPurchase.objects.create(user=buyer, media_set=media_set, price_tokens=50)
    from marquee.billing import selectors as billing

    monkeypatch.setattr(billing, "has_active_subscription", lambda user, perf: user.pk == subscriber.pk)
    for user, allowed in ((buyer, True), (subscriber, True), (stranger, False)):
        client.force_login(user)
        response = client.get(reverse("content_set", args=[media_set.pk]))
        assert response.status_code == (200 if allowed else 402), user
        if allowed:
            assert client.get(response.context["items"][0].urls["file"]).status_code == 200


def test_strangers_cannot_upload_or_read_drafts_and_nothing_changes(client, performer, media_set, outsider):
    item = _ready_item(media_set)
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    client.force_login(outsider)
    assert upload(client, media_set, "x.png", png.getvalue()).status_code == 403
    assert client.get(reverse("dashboard_content_set", args=[media_set.pk])).status_code == 403
    assert client.get(reverse("content_set", args=[media_set.pk])).status_code == 404  # unpublished draft
    other = PerformerFactory()
    client.force_login(other.user)
    assert upload(client, media_set, "x.png", png.getvalue()).status_code == 404
    assert client.post(reverse("dashboard_content_delete", args=[item.pk])).status_code == 404
    assert client.get(reverse("dashboard_content_set", args=[media_set.pk])).status_code == 404
    assert list(MediaItem.objects.values_list("pk", flat=True)) == [item.pk]
    assert MediaSet.objects.get().title == "Garden photos"


def test_buying_a_set_moves_tokens_through_the_ledger(client, performer, media_set, settings):
    from marquee.ledger.models import AccountKind, Transfer
    from marquee.ledger.selectors import wallet_balance
    from marquee.ledger.services import Movement, performer_account, platform_account, post_transfer, wallet_account

    _ready_item(media_set)
    services.update_set(
        media_set=media_set,
        title=media_set.title,
        description="",
        free_for_subscribers=True,
        price_tokens=50,
        is_published=True,
    )
    buyer, poor = UserFactory(), UserFactory()
    approve_age(buyer)
    approve_age(poor)
    post_transfer(
        kind="grant",
        idempotency_key="g1",
        user=buyer,
        movements=[Movement(platform_account(AccountKind.TOKEN_SUPPLY), -80), Movement(wallet_account(buyer), 80)],
    )
    client.force_login(poor)
    response = client.post(reverse("content_buy", args=[media_set.pk]), follow=True)
    assert "You need 50 tokens" in response.content.decode()
    assert not ContentPurchase.objects.exists() and not Transfer.objects.filter(kind="content").exists()
    client.force_login(buyer)
    client.post(reverse("content_buy", args=[media_set.pk]))
    client.post(reverse("content_buy", args=[media_set.pk]))  # a double click buys once
    assert wallet_balance(buyer) == 30
    transfer = Transfer.objects.get(kind="content")
    gross = 50 * settings.TOKEN_VALUE_CENTS
    assert transfer.gross_cents == gross
    assert transfer.performer_cents == gross * settings.PERFORMER_SHARE_PERCENT // 100
    assert performer_account(performer, AccountKind.PERFORMER_PENDING).balance == transfer.performer_cents
    assert client.get(reverse("content_set", args=[media_set.pk])).status_code == 200
