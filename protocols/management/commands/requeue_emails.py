from django.core.management.base import BaseCommand

from protocols.management.repeat import add_every_argument, run_passes
from protocols.services import requeue_due_deliveries


class Command(BaseCommand):
    help = (
        "Queue again every undelivered email whose retry is overdue (e.g. its task was lost in a crash). "
        "Safe to run at any time and from several places: a delivery is never sent twice. "
        "With --every N it keeps running, checking every N seconds. send_due_steps does this too."
    )

    def add_arguments(self, parser):
        add_every_argument(parser)

    def handle(self, *args, every=None, **options):
        def one_pass():
            self.stdout.write(f"Queued {requeue_due_deliveries()} overdue email(s).")

        run_passes(one_pass, every=every, name="requeue_emails")
