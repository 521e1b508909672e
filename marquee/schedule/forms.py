from __future__ import annotations

import datetime

from django import forms

from marquee.performers.models import ShowKind
from marquee.schedule.recurrence import WEEKDAYS

KIND_CHOICES = [(k.value, k.label) for k in (ShowKind.PUBLIC, ShowKind.PREMIUM, ShowKind.SUBSCRIBERS)]
WEEKDAY_CHOICES = list(zip(WEEKDAYS, ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], strict=True))


class ShowFieldsForm(forms.Form):
    title = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=KIND_CHOICES)
    price = forms.DecimalField(
        label="Ticket price ($, premium only)", min_value=0, max_digits=7, decimal_places=2, required=False
    )
    expected_minutes = forms.IntegerField(label="Expected length (minutes)", min_value=5, max_value=1440, initial=60)

    def price_cents(self) -> int:
        price = self.cleaned_data.get("price") or 0
        return round(price * 100)


class OneOffShowForm(ShowFieldsForm):
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))


class RecurringShowForm(ShowFieldsForm):
    weekdays = forms.MultipleChoiceField(choices=WEEKDAY_CHOICES, widget=forms.CheckboxSelectMultiple)
    time = forms.TimeField(widget=forms.TimeInput(attrs={"type": "time"}))
    starts_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), initial=datetime.date.today)
    until = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), required=False)
    publish = forms.BooleanField(required=False, initial=True, label="Publish now (untick to keep as a draft)")
