"""Helpers shared by test modules across apps (fixtures live in the conftest modules)."""

import glob
import os
import shutil
import time
from unittest import mock

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def totp_device(user):
    """The user's confirmed authenticator app (made on first use)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)


def totp_code(key, *, steps_ahead=0):
    """The code an authenticator app holding `key` (bytes) shows now, or `steps_ahead` periods later
    (the site accepts one period of clock drift; a code is taken only once)."""
    totp = TOTP(key, step=30, t0=0, digits=6)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def log_in_staff(client, user):
    """force_login plus a passed second factor: a staff session as it is after two-factor sign-in."""
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = totp_device(user).persistent_id
    session.save()
    return client


def clock_ahead_env(offset):
    """Environment variables that start a subprocess with its clock `offset` ahead ("+20m",
    "+3d"): Debian's libfaketime, preloaded. The offset is fixed for the process's life.

    The monotonic clock moves by the same offset (it is not left alone with
    FAKETIME_DONT_FAKE_MONOTONIC: with libfaketime 0.9.10 that makes Python's time.sleep()
    raise EINVAL), so a server's timeouts and sleeps behave as usual."""
    libraries = glob.glob("/usr/lib/*/faketime/libfaketime.so.1")
    if not libraries:
        raise RuntimeError("libfaketime is missing: apt-get install -y faketime")
    return {"LD_PRELOAD": libraries[0], "FAKETIME": offset}


def run_worker():
    """Run every ready task the way `manage.py db_worker` does, in this process; returns how many ran."""
    before = DBTaskResult.objects.finished().count()
    # The worker closes "old" connections between tasks; inside a test's transaction that
    # would close the test's own connection (PostgreSQL), so it is a no-op here.
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None):
        Worker(
            queue_names=["default"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="test-worker",
            excluded_queue_names=[],
        ).run()
    return DBTaskResult.objects.finished().count() - before


def make_scheduled_tasks_due():
    """Pretend the backoff delay has passed: every deferred task, and every email waiting
    for its next attempt, is due now."""
    from django.utils import timezone

    from protocols.models import EmailDelivery

    now = timezone.now()
    EmailDelivery.objects.filter(next_attempt_at__gt=now).update(next_attempt_at=now)
    return DBTaskResult.objects.filter(status="READY").update(run_after=now)
