"""Real-browser tests: Playwright drives Debian's Chromium against Django's live server."""

import io
import os
from pathlib import Path

import pytest

from tests.helpers import CHROMIUM_PATH, run_worker

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls made
# by the test itself (creating data) are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM_PATH,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def site(live_server, transactional_db):
    """The live server's base URL, with a fresh database for each test."""
    return live_server.url


@pytest.fixture
def screenshot_dir():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def axe_violations():
    """Run axe-core (bundled, offline) on the page for WCAG 2.1 A and AA; return the violations."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def run(page):
        results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
        return [
            f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:5]}"
            for v in results.response["violations"]
        ]

    return run


@pytest.fixture
def seeded(site, settings):
    """The live site with the seed content (the article and the Sleep Protocol).

    Links in emails point at the live server, so a test can follow them like a reader.
    """
    from django.core.management import call_command

    settings.SITE_URL = site
    call_command("seed_content", stdout=io.StringIO())
    return site


@pytest.fixture
def deliver_emails(mailoutbox):
    """Run the queued email tasks in this process, as `manage.py db_worker` would; return the outbox."""

    def run():
        run_worker()
        return mailoutbox

    return run
