import logging

from django.core.management.base import BaseCommand

from protocols.management.repeat import add_every_argument, run_passes
from protocols.services import requeue_due_deliveries, send_due_steps

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "One pass of the protocols' scheduler: every subscriber with a program step due gets one "
        "delivery in the outbox, handed to the worker in batches; overdue undelivered emails are queued "
        "again. Safe to run from several places at once: a step is never sent twice. "
        "With --every N it keeps running, a pass every N seconds (the Procfile's scheduler)."
    )

    def add_arguments(self, parser):
        add_every_argument(parser)
        parser.add_argument("--batch-size", type=int, default=500, help="subscribers per transaction (500)")

    def handle(self, *args, every=None, batch_size=500, **options):
        def one_pass():
            written = send_due_steps(batch_size=max(1, batch_size))
            requeued = requeue_due_deliveries()
            self.stdout.write(f"Scheduled {written} program email(s); queued {requeued} overdue email(s) again.")
            if written:
                logger.info("send_due_steps: %s program email(s) scheduled", written)

        run_passes(one_pass, every=every, name="send_due_steps")
