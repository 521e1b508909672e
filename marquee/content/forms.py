from __future__ import annotations

from django import forms


class MediaSetForm(forms.Form):
    title = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)
    free_for_subscribers = forms.BooleanField(required=False, initial=True, label="Free for fan-club subscribers")
    price_tokens = forms.IntegerField(min_value=0, initial=0, label="Price in tokens (0 = not for sale)")


class MediaSetEditForm(MediaSetForm):
    is_published = forms.BooleanField(required=False, label="Published")
