"""Performer profile writes (a services module, split out of ``services``
by job): what viewers see on the profile, the room and the grid.  Used by
the dashboard's profile page and ``PATCH /api/v1/me/performer/``."""

from __future__ import annotations

from django.db import transaction

from marquee.audit.services import record_audit
from marquee.lib import images
from marquee.lib.fields import max_length
from marquee.performers.models import Performer, Tag
from marquee.performers.services import SettingsError

AVATAR_MAX_SIDE = 512  # avatars are shown at most 96 px wide; 512 covers 4x screens
PROFILE_MAX_TAGS = 12


def _tags_of_kind(kind: str, slugs, noun: str) -> list[Tag]:
    wanted = {str(slug) for slug in slugs}
    tags = list(Tag.objects.filter(kind=kind, slug__in=wanted))
    unknown = wanted - {tag.slug for tag in tags}
    if unknown:
        raise SettingsError(f"bad_{noun}", f"Unknown {noun}: {sorted(unknown)[0]}.")
    if len(tags) > PROFILE_MAX_TAGS:
        raise SettingsError(f"too_many_{noun}s", f"Choose at most {PROFILE_MAX_TAGS} {noun}s.")
    return tags


def update_profile(
    *,
    performer: Performer,
    display_name: str | None = None,
    bio: str | None = None,
    tags=None,
    languages=None,
    avatar=None,
    remove_avatar: bool = False,
    request=None,
) -> Performer:
    """Change what viewers see on the profile, the room and the grid; fields
    left as None stay.  ``avatar`` is an uploaded file: it is checked and
    re-encoded (``lib.images``, the one path for pictures) before anything is
    written, so a refused picture leaves the whole profile as it was."""
    changes: dict = {}
    if display_name is not None:
        display_name = display_name.strip()
        if not display_name:
            raise SettingsError("bad_display_name", "Choose a display name.")
        if len(display_name) > max_length(Performer, "display_name"):
            raise SettingsError("bad_display_name", "The display name is too long.")
        changes["display_name"] = display_name
    if bio is not None:
        bio = bio.strip()
        if len(bio) > max_length(Performer, "bio"):
            raise SettingsError("bad_bio", "The bio is too long.")
        changes["bio"] = bio
    new_tags = _tags_of_kind(Tag.Kind.TAG, tags, "tag") if tags is not None else None
    new_languages = _tags_of_kind(Tag.Kind.LANGUAGE, languages, "language") if languages is not None else None
    picture = None
    if avatar is not None:
        try:
            images.check_image_size(avatar)
            picture = images.clean_image(avatar, max_side=AVATAR_MAX_SIDE)
        except images.UploadRefused as exc:
            raise SettingsError(exc.code, exc.message, exc.status) from None
    storage = performer.avatar.storage
    old_avatar = performer.avatar.name
    new_avatar = (
        storage.save(performer.avatar.field.generate_filename(performer, picture.file.name), picture.file)
        if picture
        else ""
    )
    try:
        with transaction.atomic():
            if picture or remove_avatar:
                changes["avatar"] = new_avatar
            before = {name: getattr(performer, name) for name in changes}
            Performer.objects.filter(pk=performer.pk).update(**changes)
            details = {
                name: "changed" if name == "avatar" else [before[name], value] for name, value in changes.items()
            }
            for kind, chosen in ((Tag.Kind.TAG, new_tags), (Tag.Kind.LANGUAGE, new_languages)):
                if chosen is not None:
                    performer.tags.remove(*performer.tags.filter(kind=kind))
                    performer.tags.add(*chosen)
                    details[str(kind)] = sorted(tag.slug for tag in chosen)
            record_audit(action="performer.profile_changed", request=request, target=performer, details=details)
    except BaseException:
        if new_avatar:
            storage.delete(new_avatar)
        raise
    if "avatar" in changes and old_avatar:
        transaction.on_commit(lambda: storage.delete(old_avatar))
    performer.refresh_from_db()
    return performer
