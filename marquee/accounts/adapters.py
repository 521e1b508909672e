from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        user.date_of_birth = form.cleaned_data["date_of_birth"]
        if commit:
            user.save()
        return user

    def get_client_ip(self, request):
        # Rate limits key on the address our trusted-proxy rule resolved.
        # No address at all (e.g. a unix socket without a proxy): allauth's own
        # rule refuses with 403 rather than storing a session without an IP.
        return getattr(request, "client_ip", None) or super().get_client_ip(request)
