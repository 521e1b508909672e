"""Admin actions that need a reason (suspensions, revocations, take-downs):
the first click shows the selected objects and a reason field; the second
posts the reason back to the same action.  Mechanism only: the action
itself calls the owning domain's service."""

from __future__ import annotations

from django import forms
from django.contrib.admin import helpers
from django.template.response import TemplateResponse


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300, widget=forms.Textarea(attrs={"rows": 3}))


def ask_reason(modeladmin, request, queryset, *, title: str, required: bool = True):
    """Returns ``(reason, None)`` once confirmed, else ``(None, response)``
    (the confirmation page) to return from the action."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    form.fields["reason"].required = required
    if form.is_bound and form.is_valid():
        return form.cleaned_data["reason"].strip(), None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "objects": queryset,
        "form": form,
        "action": request.POST.get("action", ""),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "opts": modeladmin.model._meta,
    }
    return None, TemplateResponse(request, "admin/marquee/reason.html", context)


def perm_checker(codename: str):
    """``has_<name>_permission`` for ``@admin.action(permissions=[name])``."""

    def has_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(codename)

    return has_permission
