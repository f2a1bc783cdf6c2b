"""Which backend serves the database: chosen by `connection.vendor`, as wagtail's
database search backends are."""

from django.db import connection

from .postgres import PostgresBackend
from .sqlite import SQLiteBackend

BACKENDS = {backend.vendor: backend for backend in (SQLiteBackend, PostgresBackend)}


def backend():
    try:
        return BACKENDS[connection.vendor]()
    except KeyError:
        raise NotImplementedError(f"Search supports SQLite and PostgreSQL, not {connection.vendor}") from None
