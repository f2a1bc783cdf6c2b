"""What `backup` and `restore` share: the live SQLite file and checks of a copy."""

import sqlite3
from pathlib import Path

from django.core.management import CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader

SQLITE_HEADER = b"SQLite format 3\x00"
# A database of this site has at least these apps' first migrations.
REQUIRED_MIGRATIONS = {("articles", "0001_initial"), ("protocols", "0001_initial"), ("auth", "0001_initial")}


def live_database_path(command_name, postgres_hint):
    """The path of the live SQLite file, or a clear refusal on any other database."""
    if connection.vendor != "sqlite":
        raise CommandError(f"{command_name} works on SQLite only; this site uses {connection.vendor}. {postgres_hint}")
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        raise CommandError(f"{command_name} needs a database file, not {name!r}.")
    return Path(name)


def copy_database(source_path, target_path):
    """Copy one SQLite database into another with SQLite's online backup API.

    The copy is one read transaction: with WAL, writers go on meanwhile and the copy is the
    database as it was when the copy started, every committed transaction and nothing half done.
    """
    source = sqlite3.connect(source_path, timeout=20)
    target = sqlite3.connect(target_path, timeout=20)
    try:
        source.backup(target)  # all pages in one step: one consistent snapshot
    finally:
        source.close()
        target.close()


def check_database(path):
    """Refuse (CommandError) anything but an intact database of this site.

    Returns (migrations recorded in it, migrations of this code it lacks).
    """
    path = Path(path)
    if not path.is_file():
        raise CommandError(f"{path}: no such file.")
    with path.open("rb") as f:
        if f.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise CommandError(f"{path} is not a SQLite database.")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        try:
            problems = [row[0] for row in db.execute("PRAGMA integrity_check")]
        except sqlite3.DatabaseError as error:
            raise CommandError(f"{path} is corrupt: {error}.") from error
        if problems != ["ok"]:
            raise CommandError(f"{path} is corrupt (PRAGMA integrity_check): {'; '.join(problems[:5])}")
        try:
            recorded = set(db.execute("SELECT app, name FROM django_migrations"))
        except sqlite3.DatabaseError as error:
            raise CommandError(f"{path} is not a database of this site (no django_migrations table).") from error
    finally:
        db.close()
    if not recorded >= REQUIRED_MIGRATIONS:
        raise CommandError(
            f"{path} is not a database of this site (the articles and protocols apps never migrated it)."
        )
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    newer = sorted(recorded - known)
    if newer:
        # Migrations this code does not know: the data may not fit these models.
        names = ", ".join(f"{app}.{name}" for app, name in newer[:5])
        raise CommandError(f"{path} comes from a newer version of the site (migrations {names}): deploy it first.")
    return recorded, sorted(known - recorded)
