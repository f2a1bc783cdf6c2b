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
        # Creates missing index tables and columns, e.g. after a restore that left them
        # out (every statement in these migrations is idempotent).
        with connection.cursor() as cursor:
            executor = _Executor(cursor)
            importlib.import_module("articles.migrations.0002_search_index").create_index(None, executor)
            importlib.import_module("articles.migrations.0003_search_faster_lookups").add_columns(executor)
            importlib.import_module("articles.migrations.0012_search_head_in_row").set_storage(executor)
        started = time.perf_counter()
        count = search.rebuild_index(batch_size=batch_size)
        elapsed = time.perf_counter() - started
        self.stdout.write(f"Indexed {count} articles in {elapsed:.1f} s ({connection.vendor}).")
