"""Settings come from the environment and fail fast when production values are missing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_python(code, **env):
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "SITE_URL"))
    }
    base["DJANGO_SETTINGS_MODULE"] = "site_config.settings"
    base["SITE_URL"] = "https://www.example.org"
    base.update(env)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60)


def production_output(code, tmp_path, **env):
    """What `code` prints with DEBUG off, a secret key and this environment."""
    result = run_python(code, DJANGO_SECRET_KEY="x" * 50, DJANGO_VAR_DIR=str(tmp_path), **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_missing_secret_key_is_refused_with_one_clear_line(tmp_path):
    """With DEBUG off and no DJANGO_SECRET_KEY the project will not start, and says why in one line."""
    result = run_python("import django; django.setup()", DJANGO_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "Refusing to start: DJANGO_SECRET_KEY is not set (set it, or set DJANGO_DEBUG=1 for local development)."
    ]


def test_debug_gets_a_development_key(tmp_path):
    """With DJANGO_DEBUG=1 the project starts without DJANGO_SECRET_KEY, on a development key."""
    result = run_python(
        "from django.conf import settings; print(settings.DEBUG, bool(settings.SECRET_KEY))",
        DJANGO_DEBUG="1",
        DJANGO_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True True"


def test_database_url_is_parsed(tmp_path):
    """DATABASE_URL sets every part of the database connection, and PostgreSQL adds contrib.postgres."""
    code = (
        "from django.conf import settings; d = settings.DATABASES['default'];"
        "print(d['ENGINE'], d['NAME'], d['HOST'], d['PORT'], d['USER'],"
        " 'django.contrib.postgres' in settings.INSTALLED_APPS)"
    )
    result = run_python(
        code,
        DJANGO_SECRET_KEY="x" * 50,
        DJANGO_VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://editor:pw@db.internal:6543/site",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "site", "db.internal", "6543", "editor", "True"]


def test_default_database_is_sqlite_under_var_with_pragmas_applied(tmp_path):
    """The default SQLite file lives in var/ and really runs in WAL mode with a busy timeout."""
    code = (
        "import django; django.setup();"
        "from django.db import connection; from django.conf import settings;"
        "c = connection.cursor();"
        "print(settings.DATABASES['default']['NAME']);"
        "print(c.execute('PRAGMA journal_mode').fetchone()[0]);"
        "print(c.execute('PRAGMA busy_timeout').fetchone()[0]);"
        "print(c.execute('PRAGMA synchronous').fetchone()[0]);"
        "print(connection.transaction_mode)"
    )
    var_dir = tmp_path / "fresh-clone" / "var"  # not there yet, as in a fresh clone
    result = run_python(code, DJANGO_SECRET_KEY="x" * 50, DJANGO_VAR_DIR=str(var_dir))
    assert result.returncode == 0, result.stderr
    name, journal, timeout, synchronous, mode = result.stdout.split()
    assert name == str(var_dir / "db.sqlite3")
    assert journal == "wal"
    assert timeout == "20000"
    assert synchronous == "1"  # NORMAL
    assert mode == "IMMEDIATE"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "True filebased"),
        ({"REDIS_URL": "redis://127.0.0.1:6379/3"}, "True redis"),
        ({"DJANGO_HTTPS": "0"}, "False filebased"),
    ],
)
def test_https_and_cache_follow_the_environment(tmp_path, env, expected):
    """DJANGO_HTTPS switches the HTTPS settings, REDIS_URL the cache backend."""
    code = (
        "from django.conf import settings;"
        "print(settings.SECURE_SSL_REDIRECT and settings.SESSION_COOKIE_SECURE and settings.SECURE_HSTS_SECONDS > 0,"
        " settings.CACHES['default']['BACKEND'].split('.')[-2])"
    )
    assert production_output(code, tmp_path, **env) == expected


def test_allowed_hosts_and_admin_url_from_environment(tmp_path):
    """DJANGO_ALLOWED_HOSTS (comma-separated) and DJANGO_ADMIN_URL are read from the environment."""
    code = "from django.conf import settings; print(settings.ALLOWED_HOSTS, settings.ADMIN_URL)"
    result = run_python(
        code,
        DJANGO_SECRET_KEY="x" * 50,
        DJANGO_VAR_DIR=str(tmp_path),
        DJANGO_ALLOWED_HOSTS="example.org, www.example.org",
        DJANGO_ADMIN_URL="/staff-only/",
    )
    assert result.stdout.strip() == "['example.org', 'www.example.org'] staff-only/"


def test_deploy_check_passes_in_production_mode(tmp_path):
    """`check --deploy --fail-level WARNING` has nothing to say with DEBUG off and HTTPS on."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        DJANGO_SECRET_KEY="k3y-" + "abcdefghij" * 6,
        DJANGO_HTTPS="1",
        DJANGO_VAR_DIR=str(tmp_path),
        SITE_URL="https://www.example.org",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "console"),
        (
            {
                "EMAIL_HOST": "smtp.example.org",
                "EMAIL_PORT": "2525",
                "EMAIL_HOST_USER": "mailer",
                "EMAIL_HOST_PASSWORD": "s3cret",
                "EMAIL_USE_TLS": "1",
                "DEFAULT_FROM_EMAIL": "Well Informed <news@example.org>",
            },
            "smtp smtp.example.org 2525 mailer s3cret True Well Informed <news@example.org>",
        ),
    ],
)
def test_email_delivery_follows_the_environment(tmp_path, env, expected):
    """SMTP with the given server and account when EMAIL_HOST is set; the console otherwise."""
    code = (
        "from django.conf import settings; s = settings;"
        "kind = s.EMAIL_BACKEND.split('.')[-2];"
        "print(kind if kind == 'console' else ' '.join(map(str, [kind, s.EMAIL_HOST, s.EMAIL_PORT,"
        " s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, s.DEFAULT_FROM_EMAIL])))"
    )
    assert production_output(code, tmp_path, **env) == expected


def test_gunicorn_logs_to_stdout_one_json_object_a_line(tmp_path):
    """gunicorn's own events (start, workers, errors) go where Django's do: stdout, JSON lines."""
    import json
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        DJANGO_SECRET_KEY="x" * 50,
        DJANGO_HTTPS="0",
        DJANGO_VAR_DIR=str(tmp_path),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        SITE_URL=f"http://127.0.0.1:{port}",
    )
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        server = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
            [str(Path(sys.executable).parent / "gunicorn"), "site_config.wsgi", "--workers", "1"],
            cwd=ROOT, env=env, stdout=stdout, stderr=stderr,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while b"Booting worker" not in out.read_bytes() and time.monotonic() < deadline:
                time.sleep(0.1)  # a bounded wait for the process to start, not for the clock
            for _ in range(50):  # a request, which must write no access line by default
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/robots.txt", timeout=5).read()  # noqa: S310
                    break
                except OSError:
                    time.sleep(0.1)  # not listening yet: a bounded wait for the worker
            else:
                raise AssertionError(f"gunicorn never answered:\n{out.read_text()}\n{err.read_text()}")
        finally:
            server.terminate()
            server.wait(timeout=30)
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert any(e["logger"] == "gunicorn.error" and e["message"].startswith("Listening at") for e in events)
    assert "gunicorn.error" not in err.read_text()
    assert all(e["logger"] != "gunicorn.access" for e in events)  # no access log unless asked for


def test_missing_site_url_is_refused_with_one_clear_line(tmp_path):
    """With DEBUG off and no SITE_URL the project will not start (emails would link to a
    development address), and says why in one line."""
    result = run_python(
        "import django; django.setup()", DJANGO_SECRET_KEY="x" * 50, DJANGO_VAR_DIR=str(tmp_path), SITE_URL=""
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "Refusing to start: SITE_URL is not set (the site's public address for links in emails,"
        " e.g. https://www.example.org; or set DJANGO_DEBUG=1 for local development)."
    ]


def test_a_site_url_that_is_not_an_http_address_is_refused(tmp_path):
    """A SITE_URL without a scheme or host is refused in one line, not used to build broken links."""
    result = run_python(
        "import django; django.setup()",
        DJANGO_SECRET_KEY="x" * 50,
        DJANGO_VAR_DIR=str(tmp_path),
        SITE_URL="example.org",
    )
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "SITE_URL must be an http(s) address" in result.stderr


def test_debug_keeps_the_development_site_url(tmp_path):
    """`make run` (DEBUG on) needs no SITE_URL: links point at the development server."""
    code = "from django.conf import settings; print(settings.SITE_URL)"
    result = run_python(code, DJANGO_DEBUG="1", DJANGO_VAR_DIR=str(tmp_path), SITE_URL="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "http://127.0.0.1:8000"


def test_deploy_check_warns_when_site_url_is_not_https(tmp_path):
    """`check --deploy` names SITE_URL (site_config.W001) when it is plain http, and fails CI on it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    env.update(
        DJANGO_SECRET_KEY="k3y-" + "abcdefghij" * 6,
        DJANGO_HTTPS="1",
        DJANGO_VAR_DIR=str(tmp_path),
        SITE_URL="http://www.example.org",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "site_config.W001" in result.stdout + result.stderr


def test_unit_tests_use_the_in_memory_cache_unless_redis_is_asked_for():
    """The suite's own process caches in memory (nothing shared between tests or xdist workers
    but what the test sets up); REDIS_URL (CI's Redis pass) opts into Redis explicitly."""
    from django.conf import settings

    backend = settings.CACHES["default"]["BACKEND"]
    if os.environ.get("REDIS_URL"):
        assert backend == "django.core.cache.backends.redis.RedisCache"
    else:
        assert backend == "django.core.cache.backends.locmem.LocMemCache"
