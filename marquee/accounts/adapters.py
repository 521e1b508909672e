from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from allauth.usersessions.adapter import DefaultUserSessionsAdapter
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils.crypto import get_random_string

from marquee.audit.services import record_audit
from marquee.lib import mail
from marquee.lib.fields import clip


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        user.date_of_birth = form.cleaned_data["date_of_birth"]
        if commit:
            user.save()
        return user

    def get_from_email(self):
        return mail.sender()  # the configured neutral sender name (discretion)

    def send_mail(self, template_prefix, email, context):
        # Name the site in e-mails, not whatever Host header the request carried.
        # (allauth's own send_mail would look the site up from the request,
        # which an on-commit notification may no longer have.)
        site = SimpleNamespace(name="Marquee", domain=urlsplit(settings.SITE_URL).netloc)
        ctx = {"request": allauth_context.request, "email": email, "current_site": site, **context}
        self.render_mail(template_prefix, email, ctx).send()

    def send_confirmation_mail(self, request, emailconfirmation, signup):
        super().send_confirmation_mail(request, emailconfirmation, signup)
        address = emailconfirmation.email_address
        if signup:
            return
        # An address being added: tell the verified primary address now, not
        # only once the new one becomes primary.
        primary = EmailAddress.objects.filter(user_id=address.user_id, primary=True, verified=True).first()
        if primary is not None and primary.email.lower() != address.email.lower():
            self.send_notification_mail(
                "account/email/email_added", address.user, {"added_email": address.email}, email=primary.email
            )

    def send_account_already_exists_mail(self, email):
        # Signing up with a registered address must cost what a new signup
        # costs (which hashes the password), or the answer's timing tells
        # which addresses have accounts.  Hash a throwaway password the same way.
        make_password(get_random_string(32))
        super().send_account_already_exists_mail(email)

    def _get_login_attempts_cache_key(self, request, **credentials):
        # Failed logins count per account AND client address (allauth keys
        # them per account alone), so strangers cannot lock the owner out;
        # the per-address cap ("ip" in ACCOUNT_RATE_LIMITS) still stops one
        # address from trying many accounts.
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{self.get_client_ip(request)}"

    def get_client_ip(self, request):
        # Rate limits key on the address our trusted-proxy rule resolved.
        # No address at all (e.g. a unix socket without a proxy): allauth's own
        # rule refuses with 403 rather than storing a session without an IP.
        return getattr(request, "client_ip", None) or super().get_client_ip(request)

    def authentication_failed(self, request, **credentials):
        login = clip(str(credentials.get("email") or credentials.get("username") or ""), EmailAddress, "email").lower()
        record_audit(action="auth.login_failed", request=request, details={"login": login})


class UserSessionsAdapter(DefaultUserSessionsAdapter):
    def end_sessions(self, sessions):
        request = allauth_context.request
        for session in sessions:
            with transaction.atomic():
                session.end()
                record_audit(
                    action="auth.session_revoked",
                    request=request,
                    details={"reason": "ended_by_user", "session_ip": session.ip or ""},
                )
