import os

import pytest
from django.core.cache import cache
from django.db import connection

from tests.helpers import CHROMIUM_PATH, log_in_staff


def pytest_collection_modifyitems(config, items):
    """Browser tests need Chromium: skipped without it, an error when REQUIRE_BROWSER=1."""
    if CHROMIUM_PATH:
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        if any(item.get_closest_marker("browser") for item in items):
            raise pytest.UsageError("REQUIRE_BROWSER=1 but no Chromium was found (apt-get install chromium)")
        return
    skip = pytest.mark.skip(reason="no Chromium found: browser tests skipped")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("needs DATABASE_URL pointing at PostgreSQL")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty shared cache, so no page leaks between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's admin client, past the second factor as well as the password."""
    return log_in_staff(client, admin_user)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], ids=lambda p: p
)
def live_databases(request, tmp_path_factory):
    """Migrated file databases for tests that run manage.py processes: SQLite in a temporary
    DJANGO_VAR_DIR, and (marked `postgres`) throwaway databases on DATABASE_URL's server."""
    from benchmarks.outbox import Databases

    url = os.environ.get("DATABASE_URL", "") if request.param == "postgresql" else None
    if request.param == "postgresql" and not url.startswith("postgres"):
        pytest.skip("needs DATABASE_URL pointing at PostgreSQL")
    made = Databases(
        tmp_path_factory.mktemp(f"{request.module.__name__.rsplit('.', 1)[-1]}-{request.param}"), database_url=url
    )
    yield made
    made.drop_all()
