import logging
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections

from articles.reminders import requeue_due_reminders, schedule_reminders

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Email each medical reviewer one digest of their overdue and soon-due articles, through the "
        "outbox and the worker; at most once a week per reviewer however often it runs. "
        "With --every N it keeps running, a pass every N seconds (the Procfile's reminders process)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=int, metavar="SECONDS", help="keep running, a pass every SECONDS")

    def handle(self, *args, every=None, **options):
        if every is not None and every < 1:
            raise CommandError("--every takes a number of seconds, 1 or more.")
        while True:
            try:
                written = schedule_reminders()
                requeued = requeue_due_reminders()
                self.stdout.write(f"Queued {written} review reminder(s); queued {requeued} overdue reminder(s) again.")
            except DatabaseError:
                if not every:
                    raise
                # Survive a database restart: the next pass reconnects.
                logger.exception("send_review_reminders: the database failed; trying again in %s s", every)
                close_old_connections()
            if not every:
                return
            time.sleep(every)
