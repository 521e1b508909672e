from __future__ import annotations

import zoneinfo

from django import forms

from marquee.performers import regions
from marquee.performers.services import DEFAULT_KINDS


def _dollars(label):
    return forms.DecimalField(label=label, min_value=0, max_digits=7, decimal_places=2)


def cents(value) -> int:
    return round((value or 0) * 100)


class RoomSettingsForm(forms.Form):
    room_topic = forms.CharField(max_length=200, required=False)
    default_show_kind = forms.ChoiceField(choices=[(k.value, k.label) for k in DEFAULT_KINDS])
    ticket_price = _dollars("Default ticket price ($)")
    subscription_price = _dollars("Fan-club subscription ($/month)")
    private_price = _dollars("Private show price ($)")
    tip_goal_tokens = forms.IntegerField(label="Tip goal (tokens, 0 = none)", min_value=0)
    tip_goal_label = forms.CharField(label="Tip goal label", max_length=120, required=False)
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
    tokens = forms.IntegerField(min_value=1)


class ModeratorForm(forms.Form):
    username = forms.CharField(max_length=150)


class RegionBlockForm(forms.Form):
    region = forms.ChoiceField(choices=regions.region_choices, label="Region")
