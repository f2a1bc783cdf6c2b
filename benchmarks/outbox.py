"""The program's email path on loopback: an SMTP server, throwaway databases, subscribers.

Shared by `make bench-email` (benchmarks/email_bench.py) and the live tests in
tests/protocols/test_program_live.py. The processes under test are the real ones
(`manage.py send_due_steps`, `manage.py db_worker`) against a real file database
(SQLite in DJANGO_VAR_DIR, or a throwaway PostgreSQL database).
"""

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from benchmarks.server import PYTHON, ROOT, free_port, manage, run_django, site_env

SLUG = "live-program"
DOMAIN = "example.org"


@dataclass
class Inbox:
    """aiosmtpd handler: records every message it accepts (its content only if asked to).

    `delay` is a server-side pause before each message is accepted (a slow mail server).
    """

    delay: float = 0.0
    keep_content: bool = True
    recipients: list = field(default_factory=list)
    contents: list = field(default_factory=list)
    peers: set = field(default_factory=set)
    first_at: float | None = None
    last_at: float | None = None
    port: int = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        if self.delay:
            await asyncio.sleep(self.delay)
        self.last_at = time.monotonic()
        self.first_at = self.first_at or self.last_at
        self.peers.add(session.peer)
        if self.keep_content:
            self.contents.append(envelope.content)
        # Appended last: a reader who counts recipients sees the rest already recorded.
        self.recipients.extend(envelope.rcpt_tos)
        return "250 Message accepted for delivery"

    def __len__(self):
        return len(self.recipients)


@contextmanager
def smtp_server(port=None, *, delay=0.0, keep_content=True):
    """An aiosmtpd server on 127.0.0.1 (in a thread of this process); stopped on exit."""
    from aiosmtpd.controller import Controller

    inbox = Inbox(delay=delay, keep_content=keep_content, port=port or free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def wait_for(condition, *, timeout, interval=0.05):
    """Poll `condition()` until it is true or `timeout` seconds passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    return condition()


# --- Throwaway databases ----------------------------------------------------------------


def postgres_admin_url(database_url):
    """The maintenance database (`postgres`) on the server DATABASE_URL points at."""
    parts = urlsplit(database_url)
    return urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))


def _postgres_admin(database_url):
    import psycopg

    return psycopg.connect(postgres_admin_url(database_url), autocommit=True, connect_timeout=5)


class Databases:
    """Migrate once, then hand out fresh copies: a file copy on SQLite, `CREATE DATABASE ...
    TEMPLATE` on PostgreSQL (named after DATABASE_URL's database, dropped at the end)."""

    def __init__(self, base_dir, *, database_url=None):
        self.base_dir = Path(base_dir)
        self.database_url = database_url
        self.prefix = f"{urlsplit(database_url).path.lstrip('/')}_live_{secrets.token_hex(3)}" if database_url else ""
        self.created = []
        self.template = None

    @property
    def vendor(self):
        return "postgresql" if self.database_url else "sqlite"

    def _env(self, var_dir, name=None, **extra):
        url = urlunsplit(urlsplit(self.database_url)._replace(path=f"/{name}")) if name else None
        return site_env(var_dir, DATABASE_URL=url, **extra)

    def _template(self):
        if self.template is None:
            var_dir = self.base_dir / "template"
            var_dir.mkdir(parents=True)
            name = None
            if self.database_url:
                name = self._create(f"{self.prefix}_tpl")
            env = self._env(var_dir, name)
            manage(env, "migrate", "--noinput")
            self.template = (var_dir, name)
        return self.template

    def _create(self, name, template=None):
        with _postgres_admin(self.database_url) as admin:
            admin.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        self.created.append(name)
        return name

    def new(self, label, **extra):
        """A migrated, empty database of its own; returns the environment of the processes using it."""
        template_dir, template_name = self._template()
        var_dir = self.base_dir / label
        var_dir.mkdir(parents=True)
        if self.database_url:
            return self._env(var_dir, self._create(f"{self.prefix}_{label}", template=template_name), **extra)
        for path in template_dir.glob("db.sqlite3*"):
            shutil.copy2(path, var_dir / path.name)
        return self._env(var_dir, **extra)

    def drop_all(self):
        if not self.created:
            return
        with _postgres_admin(self.database_url) as admin:
            for name in reversed(self.created):
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created = []


def smtp_env(env, port):
    """The processes send through the loopback server on `port`."""
    return dict(env, EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(port), EMAIL_USE_TLS="0", SITE_URL="http://127.0.0.1:8000")


# --- Subscribers --------------------------------------------------------------------------

SUBSCRIBERS = """
import json, sys
from benchmarks.outbox import create_subscribers
print(create_subscribers(int(sys.argv[1]), step_delays=json.loads(sys.argv[2])))
"""


def create_subscribers(count, *, step_delays=(0,), chunk=5000):
    """A protocol whose steps have these delays (days) and `count` confirmed subscribers in
    its program with their first step due a minute ago. Run with Django set up."""
    from datetime import timedelta

    from django.utils import timezone

    from protocols.models import Protocol, Signup, Step

    protocol = Protocol.objects.create(
        name="Live Program",
        slug=SLUG,
        tagline="A program for the live tests and the benchmark.",
        description="Delivered **by email**.",
        status=Protocol.Status.OPEN,
        consent_text="I agree to receive these emails.",
        time_zone="UTC",
    )
    for position, delay in enumerate(step_delays, start=1):
        Step.objects.create(
            protocol=protocol,
            position=position,
            subject=f"Step {position} of the live program",
            body=f"Step {position}. Read [the guide](/protocols/{SLUG}/) and *write down* how you slept.",
            delay_days=delay,
        )
    now = timezone.now()
    started, due = now - timedelta(hours=1), now - timedelta(minutes=1)
    for first in range(0, count, chunk):
        Signup.objects.bulk_create(
            Signup(
                protocol=protocol,
                email=address(n),
                status=Signup.Status.CONFIRMED,
                consent_text=protocol.consent_text,
                consented_at=started,
                confirmed_at=started,
                program_started_at=started,
                next_step_due_at=due,
            )
            for n in range(first, min(first + chunk, count))
        )
    return Signup.objects.filter(protocol=protocol).count()


def address(n):
    return f"reader{n}@{DOMAIN}"


def add_subscribers(env, count, *, step_delays=(0,)):
    created = int(run_django(env, SUBSCRIBERS, str(count), json.dumps(list(step_delays)), timeout=900).strip())
    assert created == count, created
    return created


STATE = """
import json
from django.db.models import Count
from django_tasks_db.models import DBTaskResult
from protocols.models import EmailDelivery, Signup
steps = EmailDelivery.objects.filter(kind="step")
per_pair = steps.filter(skipped_reason="").values("signup", "step").annotate(n=Count("pk"))
handed = [i for args in DBTaskResult.objects.filter(task_path__endswith="send_email_deliveries")
          .values_list("args_kwargs", flat=True) for i in args["args"][0]]
print(json.dumps({
    "deliveries": steps.count(),
    "pairs": per_pair.count(),
    "max_per_pair": max((row["n"] for row in per_pair), default=0),
    "sent": steps.filter(sent_at__isnull=False).count(),
    "skipped": dict(steps.exclude(skipped_reason="").values_list("skipped_reason").annotate(n=Count("pk"))),
    "failed_attempts": steps.filter(sent_at__isnull=True, attempts__gte=1).count(),
    "claimed": steps.filter(claimed_until__isnull=False).count(),
    "handed_to_worker": len(handed),
    "handed_twice": len(handed) - len(set(handed)),
    "tasks": dict(DBTaskResult.objects.values_list("status").annotate(n=Count("pk"))),
    "due": Signup.objects.filter(next_step_due_at__isnull=False).count(),
}))
"""


def state(env):
    """What the outbox holds, as seen from another process."""
    return json.loads(run_django(env, STATE))


# --- Processes ---------------------------------------------------------------------------

WORKER = ("db_worker", "--batch", "--no-startup-delay", "--verbosity", "0")


def faketime(offset):
    """Prefix for a command that must see the clock `offset` ahead (e.g. "+15m"): libfaketime."""
    if not shutil.which("faketime"):
        raise RuntimeError("faketime is missing: apt-get install -y faketime")
    return ["faketime", "-f", offset]


def start(env, *args, clock=None, profile=None):
    """Start `manage.py ARGS` (under faketime when `clock` is given, e.g. "+15m"; under
    cProfile, writing to `profile`, when given).

    Its output goes to a temporary file, not a pipe: a worker logs a line per email and
    would block on a full pipe.
    """
    profiler = ["-m", "cProfile", "-o", str(profile)] if profile else []
    command = [*(faketime(clock) if clock else []), PYTHON, *profiler, "manage.py", *args]
    env = dict(env, FAKETIME_DONT_FAKE_MONOTONIC="1") if clock else env
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by finish())
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    process.log = log
    process.started = time.monotonic()
    return process


@dataclass
class Finished:
    returncode: int
    seconds: float
    max_rss_mb: float
    output: str


def finish(process, timeout=900, *, every_tick=None):
    """Wait for a process from `start()`: exit code, wall time, peak memory (ru_maxrss), output.

    `every_tick(pid)` is called about every 20 ms while it runs (to sample it).
    """
    deadline = time.monotonic() + timeout
    while True:
        if every_tick:
            every_tick(process.pid)
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise TimeoutError(f"{process.args} took more than {timeout}s")
        time.sleep(0.02)
    seconds = time.monotonic() - process.started
    process.returncode = os.waitstatus_to_exitcode(status)
    process.log.seek(0)
    output = process.log.read().decode(errors="replace")
    process.log.close()
    return Finished(process.returncode, seconds, usage.ru_maxrss / 1024, output)


def run(env, *args, clock=None, timeout=900, check=True):
    result = finish(start(env, *args, clock=clock), timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} exited with {result.returncode}:\n{result.output}")
    return result
