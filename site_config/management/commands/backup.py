import os
import sqlite3
from pathlib import Path

from django.core.management import BaseCommand, CommandError

from ._sqlite import check_database, copy_database, live_database_path

POSTGRES_HINT = 'On PostgreSQL use pg_dump: pg_dump --format=custom --file=site.dump "$DATABASE_URL".'


class Command(BaseCommand):
    help = "Write a consistent copy of the SQLite database to PATH while the site runs (SQLite's online backup)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="file to write, e.g. backups/site-2026-12-02.sqlite3")
        parser.add_argument("--force", action="store_true", help="replace PATH if it exists")

    def handle(self, *, path, force, **options):
        live = live_database_path("backup", POSTGRES_HINT)
        target = Path(path)
        if target.exists() and not force:
            raise CommandError(f"{target} exists: choose another name or pass --force.")
        if target.resolve() == live.resolve():
            raise CommandError("PATH is the live database itself.")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        partial.unlink(missing_ok=True)
        try:
            copy_database(live, partial)
            # One self-contained file: no -wal or -shm beside the copy.
            with sqlite3.connect(partial) as db:
                db.execute("PRAGMA journal_mode=DELETE")
            db.close()
            check_database(partial)
            os.replace(partial, target)  # never a half-written file under the final name
        finally:
            partial.unlink(missing_ok=True)
        size_kb = target.stat().st_size // 1024
        self.stdout.write(f"Backed up {live} to {target} ({size_kb} KB).")
