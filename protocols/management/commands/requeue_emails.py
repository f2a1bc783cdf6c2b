import logging
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections

from protocols.services import requeue_due_deliveries

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Queue again every undelivered email whose retry is overdue (e.g. its task was lost in a crash). "
        "Safe to run at any time and from several places: a delivery is never sent twice. "
        "With --every N it keeps running, checking every N seconds (the Procfile's scheduler)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, metavar="SECONDS", help="keep running, checking every SECONDS")

    def handle(self, *args, every=None, **options):
        if every is not None and every < 1:
            raise CommandError("--every takes a number of seconds, 1 or more.")
        while True:
            try:
                count = requeue_due_deliveries()
            except DatabaseError:
                if not every:
                    raise
                # Keep the scheduler alive through a database restart: log, reconnect next time.
                logger.exception("requeue_emails: the database failed; trying again in %s s", every)
                close_old_connections()
            else:
                self.stdout.write(f"Queued {count} overdue email(s).")
            if not every:
                return
            time.sleep(every)
