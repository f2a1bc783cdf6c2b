"""`make bench-email`: the program's email path, scheduler then worker, on loopback.

A throwaway database (SQLite in a temporary DJANGO_VAR_DIR, or PostgreSQL when
DATABASE_URL points at it: a database named after it, dropped at the end) gets N
confirmed subscribers who each have a step due. Then, with an aiosmtpd server on
loopback counting messages:

* one pass of `manage.py send_due_steps` (the real command): wall time of the process,
  Django's start-up included; target: 10,000 deliveries in 10 s or less;
* one `manage.py db_worker --batch` until the queue is empty: emails the SMTP server
  accepted per second of the worker process; target: 100 a second or more;
* the peak resident memory (ru_maxrss) of each process; target at 100,000: under 150 MB.

    .venv/bin/python benchmarks/email_bench.py [--subscribers 10000] [--batch-size 500]
        [--worker-tasks N] [--profile DIR] [--json out.json]

--worker-tasks stops the worker after N tasks (500 emails each), for a memory reading at
100,000 without waiting for every email; --profile writes cProfile files of both
processes to DIR and prints where the time goes.
"""

import argparse
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.outbox import WORKER, Databases, add_subscribers, finish, run_django, smtp_env, smtp_server, start  # noqa: E402
from benchmarks.server import cpu_seconds  # noqa: E402

SCHEDULER_TARGET_S = 10.0  # for 10,000 due steps
WORKER_TARGET_PER_S = 100.0
MEMORY_TARGET_MB = 150.0

COUNT = """
from protocols.models import EmailDelivery
print(EmailDelivery.objects.filter(kind="step").count(), EmailDelivery.objects.filter(sent_at__isnull=False).count())
"""


def run_measured(env, args, *, profile_dir, name, timeout):
    """Start `manage.py ARGS`; sample its CPU time while it runs; wait for it."""
    process = start(env, *args, profile=Path(profile_dir) / f"{name}.prof" if profile_dir else None)
    cpu = [0.0]

    def sample(pid):
        # CPU time of the process itself (the worker waits on the SMTP server, not the CPU).
        cpu[0] = max(cpu[0], cpu_seconds([pid]))

    result = finish(process, timeout=timeout, every_tick=sample)
    result.cpu_seconds = cpu[0]
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} exited with {result.returncode}:\n{result.output[-3000:]}")
    return result


def print_profile(path, limit=25):
    print(f"\n--- {path.name}: cumulative time ---")
    stats = pstats.Stats(str(path))
    ours = r"protocols|smtplib|django/(core/mail|template|db/models/query\.py)"
    stats.sort_stats("cumulative").print_stats(ours, limit)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=500, help="send_due_steps --batch-size (500)")
    parser.add_argument("--worker-tasks", type=int, help="stop the worker after this many tasks")
    parser.add_argument("--profile", metavar="DIR", help="cProfile both processes, files in DIR")
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)

    database_url = os.environ.get("DATABASE_URL", "").strip()
    database_url = database_url if database_url.startswith("postgres") else None
    count = args.subscribers
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="email-bench-") as base:
        databases = Databases(base, database_url=database_url)
        try:
            env = databases.new("bench")
            started = time.monotonic()
            add_subscribers(env, count)
            took = time.monotonic() - started
            print(f"{databases.vendor}: {count:,} confirmed subscribers with a step due (set up in {took:.0f} s)")
            with smtp_server(keep_content=False) as inbox:
                env = smtp_env(env, inbox.port)
                scheduler = run_measured(
                    env,
                    ("send_due_steps", "--batch-size", str(args.batch_size)),
                    profile_dir=args.profile,
                    name="scheduler",
                    timeout=1800,
                )
                written, _ = (int(n) for n in run_django(env, COUNT).split())
                worker_args = WORKER + ((f"--max-tasks={args.worker_tasks}",) if args.worker_tasks else ())
                worker = run_measured(env, worker_args, profile_dir=args.profile, name="worker", timeout=7200)
                received, distinct = len(inbox), len(set(inbox.recipients))
                steady = (received - 1) / (inbox.last_at - inbox.first_at) if received > 1 else 0.0
            _, sent = (int(n) for n in run_django(env, COUNT).split())
        finally:
            databases.drop_all()

    expected = count if not args.worker_tasks else min(count, args.worker_tasks * args.batch_size)
    per_second = received / worker.seconds
    figures = {
        "database": databases.vendor,
        "subscribers": count,
        "scheduler_seconds": round(scheduler.seconds, 2),
        "scheduler_cpu_seconds": round(scheduler.cpu_seconds, 2),
        "scheduler_deliveries": written,
        "scheduler_peak_mb": round(scheduler.max_rss_mb, 1),
        "worker_seconds": round(worker.seconds, 2),
        "worker_cpu_seconds": round(worker.cpu_seconds, 2),
        "worker_emails_received": received,
        "worker_distinct_addresses": distinct,
        "worker_recorded_sent": sent,
        "worker_emails_per_second": round(per_second, 1),
        "worker_steady_emails_per_second": round(steady, 1),
        "worker_peak_mb": round(worker.max_rss_mb, 1),
        "load_average": os.getloadavg()[0],
    }

    def verdict(ok):
        return "ok" if ok else "MISSED"

    scheduler_budget = SCHEDULER_TARGET_S * count / 10_000
    print(
        f"\n{'':24}{'measured':>14}   target\n"
        f"{'send_due_steps':24}{scheduler.seconds:>12.2f} s   <= {scheduler_budget:.0f} s for {count:,}  "
        f"{verdict(scheduler.seconds <= scheduler_budget)}  (CPU {scheduler.cpu_seconds:.1f} s; "
        f"{written:,} deliveries)\n"
        f"{'db_worker':24}{per_second:>10.1f} /s   >= {WORKER_TARGET_PER_S:.0f} emails/s  "
        f"{verdict(per_second >= WORKER_TARGET_PER_S)}  ({received:,} emails in {worker.seconds:.1f} s, "
        f"CPU {worker.cpu_seconds:.1f} s; {steady:.0f}/s from first to last email)\n"
        f"{'peak memory, scheduler':24}{scheduler.max_rss_mb:>11.1f} MB   < {MEMORY_TARGET_MB:.0f} MB  "
        f"{verdict(scheduler.max_rss_mb < MEMORY_TARGET_MB)}\n"
        f"{'peak memory, worker':24}{worker.max_rss_mb:>11.1f} MB   < {MEMORY_TARGET_MB:.0f} MB  "
        f"{verdict(worker.max_rss_mb < MEMORY_TARGET_MB)}\n"
        f"load average (1 min) at the end: {figures['load_average']:.1f} on {os.cpu_count()} cores"
    )
    problems = []
    if written != count:
        problems.append(f"{written} deliveries written for {count} due steps")
    if received != expected or distinct != received or sent != received:
        problems.append(f"{received} emails received ({distinct} addresses, {sent} recorded), {expected} expected")
    for problem in problems:
        print(f"WRONG: {problem}")
    if args.profile:
        for name in ("scheduler", "worker"):
            print_profile(Path(args.profile) / f"{name}.prof")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
