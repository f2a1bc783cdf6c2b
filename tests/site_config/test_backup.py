"""`manage.py backup` and `manage.py restore` on a real SQLite file (WAL, as in production):
a backup taken during concurrent signups restores every committed row; corrupt, foreign or
unconfirmed restores leave the live database untouched; PostgreSQL is pointed to pg_dump."""

import io
import sqlite3
import subprocess
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from benchmarks.server import PYTHON, ROOT, manage, prepare_site, site_env

# Posts signups one after another through the real view and the real database file, printing
# each address once its signup is committed (the response came back), until the stop file exists.
SIGNUP_WRITER = """
import sys
from pathlib import Path
from django.test import Client
from django.test.utils import setup_test_environment
from protocols.models import Protocol
setup_test_environment()
url = Protocol.objects.get(slug="sleep-protocol").get_absolute_url()
client = Client()
stop = Path(sys.argv[1])
for n in range(100_000):
    if stop.exists():
        break
    email = f"reader{n}@example.org"
    response = client.post(url, {"email": email, "consent": "on"})
    assert response.status_code == 302, response.status_code
    print(email, flush=True)
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("backup-site")
    env = site_env(var_dir)
    prepare_site(env, collectstatic=False)
    return env


def live_path(env):
    return f"{env['DJANGO_VAR_DIR']}/db.sqlite3"


def rows(path, sql):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def signup_emails(path):
    return {email for (email,) in rows(path, "SELECT email FROM protocols_signup")}


def snapshot(path):
    """Everything a restore could change, to prove it did not."""
    return {
        table: rows(path, f'SELECT * FROM "{table}" ORDER BY 1')  # noqa: S608 (names from sqlite_master)
        for (table,) in rows(path, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    }


def start_writer(env, stop_file, errors):
    wrapper = "import django, sys; django.setup(); sys.argv = ['writer', *sys.argv[1:]]; exec(open(0).read())"
    writer = subprocess.Popen(  # noqa: S603
        [PYTHON, "-c", wrapper, str(stop_file)], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=errors, text=True,
    )  # fmt: skip
    writer.stdin.write(SIGNUP_WRITER)
    writer.stdin.close()
    return writer


def test_a_backup_taken_during_signups_restores_every_committed_row(site, tmp_path):
    """Signups keep arriving while the backup runs: the backup holds every signup committed
    before it started, each with its queued email (no half transaction), and restoring it
    brings back exactly that database."""
    live = live_path(site)
    backup = tmp_path / "during-signups.sqlite3"
    stop = tmp_path / "stop"
    errors = tmp_path / "writer.log"
    writer = start_writer(site, stop, errors.open("w"))
    try:
        committed_before = {writer.stdout.readline().strip() for _ in range(40)}
        result = manage(site, "backup", str(backup))
        assert result.stdout.startswith(f"Backed up {live} to {backup} ")
        saved = signup_emails(backup)
        # The writer posts in order, so a consistent copy holds exactly its first len(saved) signups.
        assert saved == {f"reader{n}@example.org" for n in range(len(saved))}
        # Wait for the writer to commit one signup the copy cannot hold, then stop it.
        seen = set(committed_before)
        while (line := writer.stdout.readline().strip()) != f"reader{len(saved)}@example.org":
            assert line, f"the writer stopped: {errors.read_text()[-2000:]}"
            seen.add(line)
        stop.touch()
        seen |= {line} | set(writer.stdout.read().split())
    finally:
        stop.touch()
        writer.wait(timeout=60)
    assert writer.returncode == 0, errors.read_text()[-2000:]
    assert signup_emails(live) == seen

    assert committed_before <= saved  # every signup committed before the backup started
    assert len(saved) < len(seen)  # and the copy was taken while signups went on
    assert rows(backup, "PRAGMA integrity_check") == [("ok",)]
    assert rows(backup, "PRAGMA journal_mode") == [("delete",)]  # one self-contained file
    orphans = rows(
        backup,
        "SELECT count(*) FROM protocols_signup s"
        " WHERE NOT EXISTS (SELECT 1 FROM protocols_emaildelivery d WHERE d.signup_id = s.id)",
    )
    assert orphans == [(0,)], "a signup without its confirmation email: a transaction was cut in half"

    version = "from site_config.page_cache import current_version; print(current_version())"
    cached_before = manage(site, "shell", "-v", "0", "-c", version).stdout
    result = manage(site, "restore", str(backup), "--yes")
    assert f"Restored {backup} into {live}." in result.stdout
    assert manage(site, "shell", "-v", "0", "-c", version).stdout != cached_before  # cached pages are stale
    assert signup_emails(live) == saved
    kept = result.stdout.split("kept in ")[1].strip().rstrip(".")
    assert signup_emails(kept) == seen  # the database as it was before the restore
    assert rows(live, "PRAGMA integrity_check") == [("ok",)]
    # The site reads the restored database (Django's own connection, WAL switched back on).
    count = "from protocols.models import Signup; print(Signup.objects.count())"
    assert manage(site, "shell", "-v", "0", "-c", count).stdout.strip() == str(len(saved))
    assert rows(live, "PRAGMA journal_mode") == [("wal",)]


@pytest.fixture
def good_backup(site, tmp_path):
    path = tmp_path / "good.sqlite3"
    manage(site, "backup", str(path))
    return path


def refused(site, *args):
    result = manage(site, "restore", *args, check=False)
    assert result.returncode == 1
    return result.stderr.strip()


def test_a_corrupt_file_is_refused_and_the_live_database_untouched(site, good_backup, tmp_path):
    """`restore` refuses a corrupt, non-SQLite or missing file in one clear line; the live
    database is left unchanged."""
    before = snapshot(live_path(site))
    data = bytearray(good_backup.read_bytes())
    page = 4096
    data[page * 3 : page * 3 + 512] = b"\xff" * 512  # one page of garbage in the middle
    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(bytes(data))
    assert refused(site, str(corrupt), "--yes").startswith(f"CommandError: {corrupt} is corrupt")
    garbage = tmp_path / "notes.txt"
    garbage.write_text("not a database")
    assert refused(site, str(garbage), "--yes") == f"CommandError: {garbage} is not a SQLite database."
    assert refused(site, str(tmp_path / "missing.sqlite3"), "--yes").endswith("no such file.")
    assert snapshot(live_path(site)) == before


def test_another_sqlite_database_is_refused(site, tmp_path):
    """`restore` refuses another application's SQLite database, Django or not."""
    before = snapshot(live_path(site))
    foreign = tmp_path / "other-app.sqlite3"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    db.close()
    message = refused(site, str(foreign), "--yes")
    assert message == f"CommandError: {foreign} is not a database of this site (no django_migrations table)."
    other_django = tmp_path / "other-django.sqlite3"
    with sqlite3.connect(other_django) as db:
        db.execute("CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT, name TEXT, applied TEXT)")
        db.execute("INSERT INTO django_migrations (app, name, applied) VALUES ('auth', '0001_initial', '2026')")
    db.close()
    assert "is not a database of this site" in refused(site, str(other_django), "--yes")
    assert snapshot(live_path(site)) == before


def test_a_backup_from_a_newer_version_is_refused(site, good_backup):
    """`restore` refuses a backup with migrations this code does not have, naming them."""
    with sqlite3.connect(good_backup) as db:
        db.execute("INSERT INTO django_migrations (app, name, applied) VALUES ('articles', '9999_future', '2027')")
    db.close()
    message = refused(site, str(good_backup), "--yes")
    assert "comes from a newer version of the site (migrations articles.9999_future)" in message


def test_restore_asks_for_confirmation(site, good_backup):
    """Without --yes and without a terminal to ask on, nothing is restored."""
    before = snapshot(live_path(site))
    assert refused(site, str(good_backup)) == "CommandError: Refusing to restore without confirmation: pass --yes."
    assert snapshot(live_path(site)) == before


def test_backup_does_not_overwrite_a_file_unless_forced(site, good_backup):
    """backup refuses to overwrite an existing file unless given --force."""
    result = manage(site, "backup", str(good_backup), check=False)
    assert result.returncode == 1 and "exists: choose another name or pass --force" in result.stderr
    assert manage(site, "backup", str(good_backup), "--force").returncode == 0


@pytest.mark.parametrize(
    ("command", "hint"),
    [("backup", "use pg_dump: pg_dump --format=custom"), ("restore", "use pg_restore: pg_restore --clean")],
)
def test_postgresql_is_pointed_to_pg_dump_and_pg_restore(command, hint, tmp_path):
    """The commands refuse any database but SQLite, naming PostgreSQL's own tools."""
    with mock.patch.object(connection, "vendor", "postgresql"), pytest.raises(CommandError) as error:
        call_command(command, str(tmp_path / "x.sqlite3"), stdout=io.StringIO())
    assert f"works on SQLite only; this site uses postgresql. On PostgreSQL {hint}" in str(error.value)
    assert not (tmp_path / "x.sqlite3").exists()
