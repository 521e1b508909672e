from django.core.management.base import BaseCommand, CommandError

from marquee.privacy import services
from marquee.privacy.models import AccountClosure


class Command(BaseCommand):
    help = "Reopen a closed account within its grace period (support, after checking who asks)."

    def add_arguments(self, parser):
        parser.add_argument("user_id", type=int)

    def handle(self, *args, user_id, **options):
        closure = AccountClosure.objects.filter(user_id=user_id).first()
        if closure is None:
            raise CommandError(f"user {user_id} has no closed account")
        try:
            services.reopen_account(closure=closure)
        except services.PrivacyError as refused:
            raise CommandError(refused.message) from None
        self.stdout.write(self.style.SUCCESS(f"reopened user {user_id}: they set a new password by reset"))
