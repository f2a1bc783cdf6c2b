"""The database unreachable: /healthz says 503 and pages give the 503 page quickly, not a hang.

gunicorn runs against a PostgreSQL address that never answers: a socket that accepts the
TCP connection (the kernel completes it) but never speaks, the case a plain "connection
refused" test would miss. DATABASE_CONNECT_TIMEOUT bounds each attempt.
"""

import socket
import time

import pytest

from benchmarks.server import gunicorn, site_env

CONNECT_TIMEOUT = 2


@pytest.fixture
def silent_database():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)  # never accept(): connections complete, nobody answers
        # sslmode=disable: one connection attempt per request (libpq's "prefer" tries twice).
        yield f"postgres://postgres@127.0.0.1:{listener.getsockname()[1]}/site?sslmode=disable"


@pytest.fixture
def refused_database():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgres://postgres@127.0.0.1:{port}/site"  # nothing listens here any more


@pytest.mark.parametrize("database", ["silent_database", "refused_database"])
def test_pages_and_healthz_answer_503_quickly(request, tmp_path, database):
    """With the database unreachable, gunicorn answers /healthz and pages with a 503 within the connect timeout,
    leaking nothing."""
    env = site_env(tmp_path, DATABASE_URL=request.getfixturevalue(database), DATABASE_CONNECT_TIMEOUT=CONNECT_TIMEOUT)
    with gunicorn(env, workers=2, healthy=False) as server:
        started = time.monotonic()
        status, headers, body = server.get("/healthz", timeout=30)
        assert status == 503
        assert b'"database": "down"' in body
        assert time.monotonic() - started < CONNECT_TIMEOUT * 2 + 3
        for path in ("/", "/protocols/"):
            started = time.monotonic()
            status, headers, body = server.get(path, timeout=30)
            elapsed = time.monotonic() - started
            assert status in (500, 503), (path, status)
            assert b"Temporarily unavailable" in body or b"Something went wrong" in body
            assert b"Traceback" not in body and b"postgres" not in body
            assert elapsed < CONNECT_TIMEOUT * 2 + 3, (path, elapsed)
            if path == "/":
                assert status == 503 and b"Temporarily unavailable" in body
                assert headers["retry-after"] == "30"
