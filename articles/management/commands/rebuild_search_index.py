import importlib
import time

from django.core.management.base import BaseCommand
from django.db import connection

from articles import search


class _Executor:
    """What create_index() uses of a schema editor (which SQLite refuses inside a transaction)."""

    def __init__(self, cursor):
        self.connection = connection
        self.execute = cursor.execute


class Command(BaseCommand):
    help = (
        "Rebuild the full-text search index from the articles table. Needed after changes that "
        "send no signals: QuerySet.update(), bulk_create(), bulk_update(), raw SQL, restores."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size, **options):
        # Creates the index tables if this database applied the migration while it was
        # still an empty placeholder (every statement in it is idempotent).
        migration = importlib.import_module("articles.migrations.0002_search_index")
        with connection.cursor() as cursor:
            migration.create_index(None, _Executor(cursor))
        started = time.perf_counter()
        count = search.rebuild_index(batch_size=batch_size)
        elapsed = time.perf_counter() - started
        self.stdout.write(f"Indexed {count} articles in {elapsed:.1f} s ({connection.vendor}).")
