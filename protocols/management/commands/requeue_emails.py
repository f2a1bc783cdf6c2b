import time

from django.core.management.base import BaseCommand

from protocols.services import requeue_due_deliveries


class Command(BaseCommand):
    help = (
        "Queue again every undelivered email whose retry is overdue (e.g. its task was lost in a crash). "
        "Safe to run at any time and from several places: a delivery is never sent twice. "
        "With --every N it keeps running, checking every N seconds (the Procfile's scheduler)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, metavar="SECONDS", help="keep running, checking every SECONDS")

    def handle(self, *args, every=None, **options):
        while True:
            count = requeue_due_deliveries()
            self.stdout.write(f"Queued {count} overdue email(s).")
            if not every:
                return
            time.sleep(every)
