import sys
from datetime import UTC, datetime

from django.core.management import BaseCommand, CommandError
from django.db import connections

from site_config.page_cache import bump_content_version

from ._sqlite import check_database, copy_database, live_database_path

POSTGRES_HINT = (
    'On PostgreSQL use pg_restore: pg_restore --clean --if-exists --no-owner --dbname "$DATABASE_URL" site.dump.'
)


class Command(BaseCommand):
    help = (
        "Check a backup made by `backup` (integrity, and that it is this site's database) and put it in "
        "place of the SQLite database; the current database is kept beside it first."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="a backup made by `manage.py backup`")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *, path, yes, **options):
        live = live_database_path("restore", POSTGRES_HINT)
        _, missing = check_database(path)
        if not yes:
            if not sys.stdin.isatty():
                raise CommandError("Refusing to restore without confirmation: pass --yes.")
            answer = input(f"Replace every row of {live} with {path}? Type 'yes' to continue: ")
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled; nothing changed.")
        connections.close_all()
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        kept = live.with_name(f"{live.name}.before-restore-{stamp}")
        copy_database(live, kept)
        # Through SQLite's backup API again: it takes the write lock and swaps every page in one
        # transaction, so running processes see the old database or the restored one, never a mix.
        copy_database(path, live)
        bump_content_version()  # no cached page of the replaced data is served again
        self.stdout.write(f"Restored {path} into {live}. The database as it was is kept in {kept}.")
        if missing:
            self.stdout.write(f"The backup predates {len(missing)} migration(s): run `manage.py migrate` now.")
