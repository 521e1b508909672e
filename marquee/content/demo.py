"""Demo photo sets: SFW landscapes drawn with Pillow (sky, sun, hills)."""

from __future__ import annotations

import io
import random
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from marquee.content import services
from marquee.content.models import MediaSet
from marquee.content.tasks import make_previews
from marquee.performers.models import Performer

SETS = {
    "performer1": ("Sunset walks", ["#ff7e5f", "#feb47b"]),
    "performer2": ("Market mornings", ["#4facfe", "#00f2fe"]),
    "performer3": ("Sketchbook skies", ["#a18cd1", "#fbc2eb"]),
}


def landscape(seed: int, top: str, bottom: str) -> bytes:
    rng = random.Random(seed)
    width, height = 1200, 800
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    a = tuple(int(top[i : i + 2], 16) for i in (1, 3, 5))
    b = tuple(int(bottom[i : i + 2], 16) for i in (1, 3, 5))
    for y in range(height):
        t = y / height
        draw.line([(0, y), (width, y)], fill=tuple(int(a[i] + (b[i] - a[i]) * t) for i in range(3)))
    sun_x, sun_y = rng.randint(200, 1000), rng.randint(150, 350)
    draw.ellipse((sun_x - 70, sun_y - 70, sun_x + 70, sun_y + 70), fill="#fff4c2")
    for layer in range(3):
        base = 520 + layer * 90
        points = (
            [(0, height)] + [(x, base - rng.randint(0, 120)) for x in range(0, width + 100, 100)] + [(width, height)]
        )
        shade = 40 + layer * 25
        draw.polygon(points, fill=(shade // 2, shade, shade // 2 + 20))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def seed(out) -> None:
    for username, (title, colors) in SETS.items():
        performer = Performer.objects.get(user__username=username)
        if MediaSet.objects.filter(performer=performer, title=title).exists():
            continue
        media_set = services.create_set(performer=performer, title=title, free_for_subscribers=True, price_tokens=120)
        for index in range(4):
            data = landscape(zlib.crc32(f"{username}-{index}".encode()), *colors)
            item = services.upload_item(
                media_set=media_set, upload=SimpleUploadedFile(f"{index}.jpg", data, content_type="image/jpeg")
            )
            make_previews(item.pk)  # now, so the set can be published in this run
        services.update_set(
            media_set=media_set,
            title=title,
            description="Placeholder landscapes.",
            free_for_subscribers=True,
            price_tokens=120,
            is_published=True,
        )
