from __future__ import annotations

import zoneinfo

from django import forms

from marquee.lib.fields import max_length
from marquee.performers import regions
from marquee.performers.models import Performer, Tag
from marquee.performers.services import DEFAULT_KINDS


def _dollars(label):
    return forms.DecimalField(label=label, min_value=0, max_digits=7, decimal_places=2)


def cents(value) -> int:
    return round((value or 0) * 100)


class RoomSettingsForm(forms.Form):
    room_topic = forms.CharField(max_length=max_length(Performer, "room_topic"), required=False)
    default_show_kind = forms.ChoiceField(choices=[(k.value, k.label) for k in DEFAULT_KINDS])
    ticket_price = _dollars("Default ticket price ($)")
    subscription_price = _dollars("Fan-club subscription ($/month)")
    private_price = _dollars("Private show price ($)")
    tip_goal_tokens = forms.IntegerField(label="Tip goal (tokens, 0 = none)", min_value=0)
    tip_goal_label = forms.CharField(
        label="Tip goal label", max_length=max_length(Performer, "tip_goal_label"), required=False
    )
    timezone = forms.ChoiceField(choices=[(z, z) for z in sorted(zoneinfo.available_timezones())])

    @classmethod
    def for_performer(cls, performer, data=None):
        return cls(
            data,
            initial={
                "room_topic": performer.room_topic,
                "default_show_kind": performer.default_show_kind,
                "ticket_price": performer.default_ticket_price_cents / 100,
                "subscription_price": performer.subscription_price_cents / 100,
                "private_price": performer.private_show_price_cents / 100,
                "tip_goal_tokens": performer.tip_goal_tokens,
                "tip_goal_label": performer.tip_goal_label,
                "timezone": performer.timezone,
            },
        )


class TipMenuItemForm(forms.Form):
    label = forms.CharField(max_length=80)
    # The allowed range is billing.prices' (checked by the service, shown at this field).
    tokens = forms.IntegerField()


class ModeratorForm(forms.Form):
    username = forms.CharField(max_length=150)


class RegionBlockForm(forms.Form):
    region = forms.ChoiceField(choices=regions.region_choices, label="Region")


class ProfileForm(forms.Form):
    """What viewers see of a performer.  Limits on the text come from the
    model; tags, languages and the picture are checked by the profile service."""

    display_name = forms.CharField(max_length=max_length(Performer, "display_name"))
    bio = forms.CharField(
        required=False,
        max_length=max_length(Performer, "bio"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Shown on your profile. Keep it safe for work.",
    )
    tags = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    languages = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    avatar = forms.FileField(
        required=False, label="New picture", help_text="JPEG, PNG, WebP or GIF; it is re-encoded without its metadata."
    )
    remove_avatar = forms.BooleanField(required=False, label="Remove my picture")

    def __init__(self, *args, performer, **kwargs):
        chosen = list(performer.tags.all())
        kwargs.setdefault(
            "initial",
            {
                "display_name": performer.display_name,
                "bio": performer.bio,
                "tags": [t.slug for t in chosen if t.kind == Tag.Kind.TAG],
                "languages": [t.slug for t in chosen if t.kind == Tag.Kind.LANGUAGE],
            },
        )
        super().__init__(*args, **kwargs)
        for name, kind in (("tags", Tag.Kind.TAG), ("languages", Tag.Kind.LANGUAGE)):
            self.fields[name].choices = list(Tag.objects.filter(kind=kind).values_list("slug", "label"))
