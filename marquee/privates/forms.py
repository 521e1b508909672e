"""Dashboard forms: types only; the platform's limits are checked in
``billing.prices`` (through the services), the one place they live."""

from __future__ import annotations

from django import forms


class PrivateSettingsForm(forms.Form):
    privates_enabled = forms.BooleanField(required=False, label="Take private shows")
    rate_tokens = forms.IntegerField(label="Private rate (tokens per minute)")
    minimum_minutes = forms.IntegerField(label="Minimum length (minutes)")
    exclusive_enabled = forms.BooleanField(required=False, label="Offer exclusive privates (no spies)")
    exclusive_rate_tokens = forms.IntegerField(label="Exclusive rate (tokens per minute)")
    spies_enabled = forms.BooleanField(required=False, label="Allow spies")
    spy_rate_tokens = forms.IntegerField(label="Spy rate (tokens per minute)")
    group_shows_enabled = forms.BooleanField(required=False, label="Group shows")
    cam2cam_enabled = forms.BooleanField(required=False, label="Let the paying viewer send their camera (cam2cam)")
    recordings_enabled = forms.BooleanField(
        required=False, label="Record private shows for the paying viewer (your camera only, never cam2cam)"
    )


class GroupShowForm(forms.Form):
    rate_tokens = forms.IntegerField(label="Price (tokens per minute)")
    goal_viewers = forms.IntegerField(label="Starts when this many viewers join")
    window_minutes = forms.IntegerField(label="within (minutes)")
