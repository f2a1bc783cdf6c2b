"""Headers as a real gunicorn sends them (production settings, DEBUG off)."""

import json

import pytest


@pytest.mark.parametrize("path", ["/", "/robots.txt", "/no-such-page/", "/favicon.ico"])
def test_gunicorn_does_not_announce_itself(server, path):
    """No `Server` header (gunicorn sends `Server: gunicorn` by default); the site's own headers are there."""
    status, headers, _ = server.get(path)
    assert status in (200, 404), path
    assert "server" not in headers, headers.get("server")
    assert headers["cross-origin-resource-policy"] == "same-origin"
    assert "camera=()" in headers["permissions-policy"]


def test_a_csp_report_reaches_the_server_log(server):
    """A report posted to the live site is answered 204 and logged as one JSON line on stdout."""
    report = {"csp-report": {"document-uri": "http://127.0.0.1/", "blocked-uri": "https://live-probe.example/x.js"}}
    status, headers, _ = server.get(
        "/csp-report/",
        method="POST",
        body=json.dumps(report).encode(),
        headers={"Content-Type": "application/csp-report"},
    )
    assert status == 204
    assert "server" not in headers
    lines = [line for line in server.log().splitlines() if "live-probe.example" in line]
    assert len(lines) == 1
    assert json.loads(lines[0])["logger"] == "site_config.csp"
