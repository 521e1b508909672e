from __future__ import annotations

from django import forms

from marquee.content.models import MediaSet
from marquee.lib.fields import max_length


class MediaSetForm(forms.Form):
    title = forms.CharField(max_length=max_length(MediaSet, "title"))
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=max_length(MediaSet, "description")
    )
    free_for_subscribers = forms.BooleanField(required=False, initial=True, label="Free for fan-club subscribers")
    price_tokens = forms.IntegerField(min_value=0, initial=0, label="Price in tokens (0 = not for sale)")


class MediaSetEditForm(MediaSetForm):
    is_published = forms.BooleanField(required=False, label="Published")
