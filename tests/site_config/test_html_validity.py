"""Every public page and the confirmation email are valid HTML for the Nu Html Checker (vnu).

Needs java and vnu.jar (npm `vnu-jar`, installed by `.ci/run` into var/vnu); skipped without
them unless REQUIRE_VNU=1, as in CI. VNU_JAR names another copy of the jar.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.site_config.pages import (
    confirmation_email_html,
    error_pages,
    make_content,
    program_email_html,
    public_pages,
)

ROOT = Path(__file__).resolve().parents[2]
VNU_JAR = Path(os.environ.get("VNU_JAR") or ROOT / "var/vnu/node_modules/vnu-jar/build/dist/vnu.jar")
JAVA = shutil.which("java")

pytestmark = [pytest.mark.vnu, pytest.mark.django_db]


@pytest.fixture(scope="module")
def vnu():
    missing = [what for what, there in (("java", JAVA), (str(VNU_JAR), VNU_JAR.is_file())) if not there]
    if missing:
        if os.environ.get("REQUIRE_VNU") == "1":
            pytest.fail(f"REQUIRE_VNU=1 but missing: {', '.join(missing)} (see .ci/run)")
        pytest.skip(f"Nu Html Checker not installed: {', '.join(missing)}")

    def check(files):
        """vnu's errors in these files, as (file name, line, message)."""
        result = subprocess.run(  # noqa: S603 (java and the jar we installed, fixed arguments)
            [JAVA, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *map(str, files)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        messages = json.loads(result.stderr or '{"messages": []}')["messages"]
        return [(Path(m.get("url", "")).name, m.get("lastLine"), m["message"]) for m in messages]

    return check


def test_every_public_page_and_the_email_are_valid_html(vnu, tmp_path):
    """Home, lists, article, author and reviewer pages, tags, search (with and without results), protocol pages, the
    signup flow's pages, the subscriber's page, 404/500/503, the confirmation and a program
    email: zero vnu errors."""
    content = make_content()
    documents = [(name, html) for name, _url, _status, html in public_pages(content)]
    documents += error_pages()
    documents.append(("confirmation email", confirmation_email_html(content[2])))
    documents.append(("program email", program_email_html(content[1])))
    files = []
    for name, html in documents:
        path = tmp_path / (name.replace(" ", "-") + ".html")
        path.write_text(html, encoding="utf-8")
        files.append(path)
    assert len(files) == 25
    assert vnu(files) == []


def test_the_checker_really_reports_errors(vnu, tmp_path):
    """A page with a microsecond <time datetime> fails: the check above cannot pass by not running."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>x</title></head>'
        '<body><time datetime="2026-12-01T02:19:50.002438+00:00">x</time></body></html>'
    )
    errors = vnu([bad])
    assert len(errors) == 1
    assert "fraction of a second" in errors[0][2]
