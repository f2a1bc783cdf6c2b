"""Live tests: the site under a real gunicorn on loopback against a throwaway database.

The server runs with production settings (DEBUG off, hashed static files) in its own
DJANGO_VAR_DIR. Content is changed from another process (`edit()`), as an editor's save
in the admin would be. REDIS_URL, when set for the test run, is used by the server too.
Load tests (`@pytest.mark.loadtest`) run only with RUN_LOADTESTS=1 (`make loadtest`).
"""

import os

import pytest

from benchmarks.server import gunicorn, prepare_site, run_django, site_env

PREAMBLE = """
from datetime import timedelta
from django.utils import timezone
from articles.models import Article
"""


def pytest_configure(config):
    config.addinivalue_line("markers", "loadtest: bounded load and fault tests (make loadtest, CI)")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("RUN_LOADTESTS") == "1":
        return
    skip = pytest.mark.skip(reason="load test: run with `make loadtest` (RUN_LOADTESTS=1)")
    for item in items:
        if item.get_closest_marker("loadtest"):
            item.add_marker(skip)


class Site:
    def __init__(self, env):
        self.env = env

    def edit(self, code):
        """Run ORM code in another process against the server's database; returns its stdout."""
        return run_django(self.env, PREAMBLE + code)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A migrated, seeded site in its own DJANGO_VAR_DIR. Its cache is chosen here, not
    inherited from the suite's in-memory one: the file cache in that folder (shared by the
    gunicorn workers), or Redis when the run has REDIS_URL (CI's Redis pass)."""
    var_dir = tmp_path_factory.mktemp("live-site")
    env = site_env(var_dir, REDIS_URL=os.environ.get("REDIS_URL") or None)
    prepare_site(env, extra_articles=3)
    return Site(env)


@pytest.fixture(scope="module")
def server(site):
    with gunicorn(site.env, workers=2) as running:
        yield running
    errors = [line for line in running.log().splitlines() if '"level": "ERROR"' in line or "[ERROR]" in line]
    assert not errors, errors[:3]
