"""Demo performer profiles with SFW avatars drawn locally with Pillow."""

from __future__ import annotations

import io

from django.core.files.base import ContentFile
from PIL import Image, ImageDraw, ImageFont

from marquee.accounts.models import User
from marquee.performers.models import Performer, Tag, TipMenuItem

PROFILES = {
    "performer1": (
        "Aurora Vale",
        "Chatty evenings, music requests and board games.",
        ["music", "games"],
        ["en"],
        "#ff3d7f",
    ),
    "performer2": (
        "Milo Reyes",
        "Cooking streams and premium late shows.",
        ["cooking", "talk"],
        ["en", "es"],
        "#8a5cff",
    ),
    "performer3": ("Nina Sol", "Art, sketching and slow mornings.", ["art", "talk"], ["en", "fr"], "#2ecc8f"),
}
TAGS = {"music": "Music", "games": "Games", "cooking": "Cooking", "talk": "Just chatting", "art": "Art"}
LANGUAGES = {"en": "English", "es": "Español", "fr": "Français"}


def draw_avatar(initial: str, color: str) -> bytes:
    image = Image.new("RGB", (512, 512), "#16111f")
    draw = ImageDraw.Draw(image)
    for step in range(256):
        shade = tuple(int(int(color[i : i + 2], 16) * (0.35 + 0.65 * step / 255)) for i in (1, 3, 5))
        draw.ellipse((step, step, 512 - step, 512 - step), outline=shade)
    try:
        font = ImageFont.truetype("DejaVuSans-Bold.ttf", 240)
    except OSError:
        font = ImageFont.load_default(size=240)
    draw.text((256, 256), initial, fill="#ffffff", font=font, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def seed(out) -> None:
    tags = {
        slug: Tag.objects.get_or_create(kind=Tag.Kind.TAG, slug=slug, defaults={"label": label})[0]
        for slug, label in TAGS.items()
    }
    languages = {
        slug: Tag.objects.get_or_create(kind=Tag.Kind.LANGUAGE, slug=slug, defaults={"label": label})[0]
        for slug, label in LANGUAGES.items()
    }
    for username, (name, bio, tag_slugs, language_slugs, color) in PROFILES.items():
        user = User.objects.get(username=username)
        performer, created = Performer.objects.get_or_create(
            user=user,
            defaults={
                "display_name": name,
                "bio": bio,
                "verification_status": Performer.Verification.VERIFIED,
                "room_topic": f"Welcome to {name}'s room!",
            },
        )
        if created or not performer.avatar:
            performer.avatar.save(f"{username}.png", ContentFile(draw_avatar(name[0], color)), save=True)
        performer.tags.add(*(tags[s] for s in tag_slugs), *(languages[s] for s in language_slugs))
        if not performer.tip_menu.exists():
            TipMenuItem.objects.bulk_create(
                [
                    TipMenuItem(performer=performer, label="Say hi", tokens=5, position=0),
                    TipMenuItem(performer=performer, label="Song request", tokens=25, position=1),
                    TipMenuItem(performer=performer, label="Shout-out", tokens=50, position=2),
                ]
            )
