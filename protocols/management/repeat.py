"""`--every SECONDS` for the scheduler commands: run a pass, sleep, again, through database restarts."""

import logging
import time

from django.core.management.base import CommandError
from django.db import DatabaseError, close_old_connections

logger = logging.getLogger(__name__)


def add_every_argument(parser):
    parser.add_argument("--every", type=int, metavar="SECONDS", help="keep running, a pass every SECONDS")


def run_passes(one_pass, *, every, name):
    """Run `one_pass()` once, or every `every` seconds until the process is stopped.

    A database error in a pass is logged and the next pass reconnects, so the scheduler
    survives a database restart; without --every it is raised.
    """
    if every is not None and every < 1:
        raise CommandError("--every takes a number of seconds, 1 or more.")
    while True:
        try:
            one_pass()
        except DatabaseError:
            if not every:
                raise
            logger.exception("%s: the database failed; trying again in %s s", name, every)
            close_old_connections()
        if not every:
            return
        time.sleep(every)
