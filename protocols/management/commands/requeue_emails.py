from django.core.management.base import BaseCommand

from protocols.services import requeue_due_deliveries


class Command(BaseCommand):
    help = (
        "Queue again every undelivered email whose retry is overdue (e.g. its task was lost in a crash). "
        "Safe to run at any time, e.g. from cron every 10 minutes: a delivery is never sent twice."
    )

    def handle(self, *args, **options):
        count = requeue_due_deliveries()
        self.stdout.write(f"Queued {count} overdue email(s).")
