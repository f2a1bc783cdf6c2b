from django.conf import settings
from django.core.management.base import BaseCommand

from protocols.management.repeat import add_every_argument, run_passes
from protocols.services.retention import purge_expired


class Command(BaseCommand):
    help = (
        "Delete signups still pending after SIGNUP_PENDING_DAYS and clear the stored text of emails sent "
        "more than EMAIL_CONTENT_DAYS ago (the delivery rows stay). Run it daily: --every 86400."
    )

    def add_arguments(self, parser):
        add_every_argument(parser)

    def handle(self, *args, every=None, **options):
        def one_pass():
            signups, emails = purge_expired()
            self.stdout.write(
                f"Deleted {signups} signup(s) pending for over {settings.SIGNUP_PENDING_DAYS} days; "
                f"cleared the text of {emails} email(s) sent over {settings.EMAIL_CONTENT_DAYS} days ago."
            )

        run_passes(one_pass, every=every, name="purge_expired")
