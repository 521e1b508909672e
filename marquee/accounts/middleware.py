from __future__ import annotations

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from marquee.accounts.selectors import has_two_factor


class StaffTwoFactorMiddleware:
    """Staff reach the admin (legal names, IDs, money) only with 2FA on.

    Checked on every admin request, not just the admin's login page: staff can
    sign in through /accounts/login/ too.  Without an authenticator they are
    sent to set one up; the admin view never runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.is_staff
            and request.path.startswith(reverse("admin:index"))
            and not has_two_factor(user)
        ):
            return redirect(f"{reverse('mfa_activate_totp')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
