"""Concurrent requests against a real database, as several gunicorn workers would send them.

On SQLite the processes share a migrated database file (the suite's in-memory database
cannot be shared between processes); on PostgreSQL they use the test database.
"""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client

from protocols.models import EmailDelivery, Signup
from protocols.ratelimit import Rate, hit

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 8
SEED_SCRIPT = "import django; django.setup(); from protocols.seed import seed_protocols; seed_protocols()"


def child_env(database_url):
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "site_config.test_settings"}
    env.pop("REDIS_URL", None)
    return env


@pytest.fixture(scope="module")
def sqlite_file_db(tmp_path_factory):
    """A migrated SQLite file with the seed protocol (WAL, IMMEDIATE: the production settings)."""
    path = tmp_path_factory.mktemp("concurrency") / "db.sqlite3"
    url = f"sqlite:///{path}"
    env = child_env(url)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from protocols.seed import seed_protocols; seed_protocols()",
        ],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return url


def run_processes(mode, database_url, n=PROCESSES):
    """Start `n` clients, wait until every one has set Django up, then let them all go at once."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.protocols.concurrent_client", mode, str(i)],
            cwd=ROOT,
            env=child_env(database_url),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    ]
    try:
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = []
        for proc in procs:
            out, err = proc.communicate(timeout=90)
            assert proc.returncode == 0, err
            outputs.append(json.loads(out.strip().splitlines()[-1]))
        return outputs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def run_threads(n, target):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def worker(i):
        try:
            barrier.wait(timeout=10)
            results.append(target(i))
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


def sqlite_counts(database_url):
    import sqlite3

    db = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    try:
        signups = db.execute("select count(*) from protocols_signup").fetchone()[0]
        deliveries = db.execute("select count(*) from protocols_emaildelivery").fetchone()[0]
    finally:
        db.close()
    return signups, deliveries


@pytest.mark.skipif(settings.DATABASE_IS_POSTGRES, reason="the SQLite variant")
def test_concurrent_posts_of_the_same_address_leave_one_row_sqlite(sqlite_file_db):
    """Eight processes posting one address (in two cases) at once: all succeed, one row, one email."""
    results = run_processes("signup", sqlite_file_db)
    assert [r["status"] for r in results] == [302] * PROCESSES
    assert sqlite_counts(sqlite_file_db) == (1, 1)


@pytest.mark.skipif(settings.DATABASE_IS_POSTGRES, reason="the SQLite variant")
def test_rate_limit_counter_is_exact_across_processes_sqlite(sqlite_file_db):
    """Eight processes hitting the database counter at once count to exactly 1..8."""
    results = run_processes("ratelimit", sqlite_file_db)
    assert sorted(r["count"] for r in results) == list(range(1, PROCESSES + 1))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_of_the_same_address_leave_one_row_postgres():
    """Eight threads (own connections) posting one address at once on PostgreSQL: one row, one email."""
    from protocols.seed import seed_protocols

    url = seed_protocols().get_absolute_url()

    def post(i):
        address = "Same@Example.org" if i % 2 else "same@example.org"
        return Client().post(url, {"email": address, "consent": "on"}).status_code

    assert run_threads(PROCESSES, post) == [302] * PROCESSES
    assert Signup.objects.count() == 1
    assert EmailDelivery.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_across_processes_postgres():
    """Eight separate processes (like gunicorn workers) posting one address on PostgreSQL leave one row."""
    from protocols.seed import seed_protocols

    seed_protocols()
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    results = run_processes("signup", url)
    assert [r["status"] for r in results] == [302] * PROCESSES
    assert Signup.objects.count() == 1
    assert EmailDelivery.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rate_limit_counter_is_exact_under_concurrency_postgres(settings):
    """Twenty simultaneous hits from one client count to exactly 1..20 in the database counter."""
    settings.REDIS_URL = ""
    results = run_threads(20, lambda i: hit("test", "10.0.0.1", Rate(limit=5, seconds=600)).count)
    assert sorted(results) == list(range(1, 21))
