"""The CSP violation report endpoint: both report formats logged one line each, and the
limits that keep an anonymous POST endpoint from filling the logs."""

import json
import logging

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

URL = "/csp-report/"

CSP_LEVEL_2 = {
    "csp-report": {
        "document-uri": "https://www.example.org/articles/magnesium/",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "blocked-uri": "https://evil.example/x.js",
        "source-file": "https://www.example.org/articles/magnesium/",
        "line-number": 12,
        "disposition": "enforce",
    }
}
REPORTING_API = [
    {
        "type": "csp-violation",
        "url": "https://www.example.org/",
        "body": {
            "documentURL": "https://www.example.org/",
            "effectiveDirective": "img-src",
            "blockedURL": "https://tracker.example/p.gif",
            "disposition": "enforce",
        },
    },
    {"type": "deprecation", "url": "https://www.example.org/", "body": {"id": "x"}},
    {
        "type": "csp-violation",
        "url": "https://www.example.org/tags/",
        "body": {"documentURL": "https://www.example.org/tags/", "effectiveDirective": "style-src-elem"},
    },
]


def post(client, payload, content_type="application/csp-report", **extra):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(URL, data=body, content_type=content_type, **extra)


def violations(caplog):
    return [
        json.loads(r.getMessage().removeprefix("csp violation: "))
        for r in caplog.records
        if r.name == "site_config.csp"
    ]


def test_a_report_uri_report_is_logged_in_one_line_and_answered_204(client, caplog):
    """application/csp-report: 204, one log line with the document, directive and blocked URL."""
    with caplog.at_level(logging.WARNING, logger="site_config.csp"):
        response = post(client, CSP_LEVEL_2)
    assert response.status_code == 204
    assert violations(caplog) == [
        {
            "document": "https://www.example.org/articles/magnesium/",
            "directive": "script-src-elem",
            "blocked": "https://evil.example/x.js",
            "source": "https://www.example.org/articles/magnesium/",
            "line": "12",
            "disposition": "enforce",
        }
    ]
    assert all("\n" not in record.getMessage() for record in caplog.records)


def test_reporting_api_reports_are_logged_one_line_per_csp_violation(client, caplog):
    """application/reports+json: each csp-violation report is one line; other report types are ignored."""
    with caplog.at_level(logging.WARNING, logger="site_config.csp"):
        response = post(client, REPORTING_API, content_type="application/reports+json")
    assert response.status_code == 204
    assert [(v["document"], v["directive"]) for v in violations(caplog)] == [
        ("https://www.example.org/", "img-src"),
        ("https://www.example.org/tags/", "style-src-elem"),
    ]


def test_reports_need_no_csrf_token():
    """Browsers post reports without cookies or a token: CSRF protection does not refuse them."""
    response = post(Client(enforce_csrf_checks=True), CSP_LEVEL_2)
    assert response.status_code == 204


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_post_is_allowed(client, method):
    """GET and other methods get 405."""
    assert getattr(client, method)(URL).status_code == 405


def test_other_content_types_and_broken_json_are_refused(client, caplog):
    """A form post is 415, broken JSON 400; neither is logged as a violation."""
    with caplog.at_level(logging.WARNING, logger="site_config.csp"):
        assert post(client, b"a=b", content_type="application/x-www-form-urlencoded").status_code == 415
        assert post(client, b"{not json", content_type="application/csp-report").status_code == 400
    assert violations(caplog) == []


def test_a_body_over_16_kb_is_413_and_not_logged(client, caplog):
    """Reports are small: a body over CSP_REPORT_MAX_BYTES is refused with 413."""
    big = {"csp-report": {"document-uri": "https://www.example.org/", "blocked-uri": "x" * 20_000}}
    with caplog.at_level(logging.WARNING, logger="site_config.csp"):
        assert post(client, big).status_code == 413
    assert violations(caplog) == []


def test_long_values_are_cut_in_the_log(client, caplog):
    """An attacker's long value cannot make a huge log line."""
    report = {"csp-report": {"document-uri": "https://www.example.org/", "blocked-uri": "y" * 5000}}
    with caplog.at_level(logging.WARNING, logger="site_config.csp"):
        assert post(client, report).status_code == 204
    assert len(violations(caplog)[0]["blocked"]) == 300


def test_reports_are_rate_limited_per_client(client, settings, caplog):
    """Beyond CSP_REPORT_RATE_LIMIT a client gets 429 and its reports are not logged; another
    client is not affected."""
    settings.CSP_REPORT_RATE_LIMIT = "3/1m"
    with caplog.at_level(logging.WARNING, logger="site_config.csp"):
        answers = [post(client, CSP_LEVEL_2, REMOTE_ADDR="203.0.113.7").status_code for _ in range(5)]
        other = post(client, CSP_LEVEL_2, REMOTE_ADDR="203.0.113.8").status_code
    assert answers == [204, 204, 204, 429, 429]
    assert other == 204
    assert len(violations(caplog)) == 4
