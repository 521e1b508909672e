from __future__ import annotations

import datetime

import filetype
from django import forms
from django.conf import settings

from marquee.compliance.models import PerformerRecord, RecordDocument
from marquee.lib.fields import max_length

_IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp", "application/pdf"}


def read_image(upload) -> tuple[bytes, str]:
    """The upload's bytes and sniffed type; only images (and PDF scans)."""
    if upload.size > settings.RECORDS_MAX_UPLOAD_BYTES:
        raise forms.ValidationError(
            f"Files must be smaller than {settings.RECORDS_MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
        )
    data = upload.read()
    kind = filetype.guess(data)
    if kind is None or kind.mime not in _IMAGE_TYPES:
        raise forms.ValidationError("Upload a JPEG, PNG, WebP image or a PDF scan.")
    return data, kind.mime


class DocumentField(forms.FileField):
    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        return read_image(upload) if upload else None


class AgeDocumentForm(forms.Form):
    document = DocumentField(label="Photo of a government ID showing your date of birth")


class PerformerRecordForm(forms.Form):
    legal_name = forms.CharField(
        max_length=max_length(PerformerRecord, "legal_name"), label="Legal name (as on your ID)"
    )
    date_of_birth = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    aliases = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Every other name you have used (stage names, aliases, previous names), one per line",
    )
    id_front = DocumentField(label=RecordDocument.Kind.ID_FRONT.label)
    id_back = DocumentField(label=RecordDocument.Kind.ID_BACK.label, required=False)
    selfie = DocumentField(label=RecordDocument.Kind.SELFIE.label)

    def clean_date_of_birth(self):
        value = self.cleaned_data["date_of_birth"]
        if value > datetime.date.today():
            raise forms.ValidationError("The date of birth is in the future.")
        return value

    def clean_aliases(self):
        names = [line.strip() for line in self.cleaned_data["aliases"].splitlines() if line.strip()]
        if len(names) > 50:
            raise forms.ValidationError("At most 50 names.")
        return names

    def documents(self) -> dict:
        return {
            kind: self.cleaned_data[kind] for kind in ("id_front", "id_back", "selfie") if self.cleaned_data.get(kind)
        }


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    reason = forms.CharField(
        max_length=max_length(PerformerRecord, "rejection_reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "reject" and not cleaned.get("reason", "").strip():
            raise forms.ValidationError("Give a reason for the rejection.")
        return cleaned
