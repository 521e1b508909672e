from __future__ import annotations

import datetime

from django import forms
from django.conf import settings
from django.utils import timezone

from marquee.accounts.models import age_on


def validate_adult_birth_date(value: datetime.date) -> None:
    today = timezone.localdate()
    if value > today:
        raise forms.ValidationError("Date of birth cannot be in the future.")
    if value.year < 1900:
        raise forms.ValidationError("Please enter a real date of birth.")
    if age_on(value, today) < settings.MINIMUM_AGE:
        raise forms.ValidationError(
            f"You must be at least {settings.MINIMUM_AGE} years old to use Marquee. No account was created."
        )


class SignupExtraForm(forms.Form):
    """Extra fields on allauth's signup form (web and headless API alike)."""

    date_of_birth = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
        help_text=f"You must be {settings.MINIMUM_AGE} or older.",
        validators=[validate_adult_birth_date],
    )

    def signup(self, request, user):
        # The adapter's save_user already stored the date of birth with the
        # user's first save, so an account never exists without one.
        pass
