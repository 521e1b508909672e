"""Demo accounts: performer1-3 (2FA on) and viewer1-3, password demo-password."""

from __future__ import annotations

import datetime

import pyotp
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from allauth.mfa.utils import decrypt
from django.conf import settings

from marquee.accounts.models import User

DEMO_PASSWORD = "demo-password"
PERFORMERS = ["performer1", "performer2", "performer3"]
VIEWERS = ["viewer1", "viewer2", "viewer3"]


def ensure_user(username: str, *, staff: bool = False) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"email": f"{username}@demo.test", "date_of_birth": datetime.date(1995, 6, 1)},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.is_staff = user.is_superuser = staff
        user.save()
    EmailAddress.objects.get_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
    return user


def ensure_totp(user: User) -> str:
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is None:
        authenticator = TOTP.activate(user, pyotp.random_base32()).instance
        RecoveryCodes.activate(user)
    return decrypt(authenticator.data["secret"])


def seed(out) -> None:
    secrets = {name: ensure_totp(ensure_user(name)) for name in PERFORMERS}
    for name in VIEWERS:
        ensure_user(name)
    ensure_user("admin", staff=True)
    admin_secret = ensure_totp(User.objects.get(username="admin"))
    out.write("")
    out.write("=" * 72)
    out.write(f"Marquee demo: {settings.SITE_URL}/")
    out.write(f"All demo logins use the password: {DEMO_PASSWORD}")
    for name, secret in secrets.items():
        out.write(f"  {name}@demo.test  (performer, 2FA TOTP secret {secret})")
    for name in VIEWERS:
        out.write(f"  {name}@demo.test  (viewer, no 2FA)")
    out.write(f"  admin@demo.test  (staff, 2FA TOTP secret {admin_secret}) → {settings.SITE_URL}/admin/")
    out.write("  Current code for a secret: python -c 'import pyotp,sys; print(pyotp.TOTP(sys.argv[1]).now())' SECRET")
    out.write("=" * 72)
