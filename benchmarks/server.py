"""Start the site under gunicorn on loopback against a throwaway database.

Shared by `make bench`, `make loadtest` and the live tests in tests/production/. Every
process started here is stopped by the context manager, whatever happens.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def site_env(var_dir, **extra):
    """Production settings (DEBUG off) over plain HTTP, isolated in `var_dir`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("DJANGO_", "DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY", "GUNICORN_", "EMAIL_", "SITE_URL")
        )
    }
    env.update(
        DJANGO_SETTINGS_MODULE="site_config.settings",
        DJANGO_SECRET_KEY="bench-" + "k3y" * 20,
        DJANGO_DEBUG="0",
        DJANGO_HTTPS="0",
        DJANGO_VAR_DIR=str(var_dir),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        SITE_URL="http://127.0.0.1",  # required with DEBUG off; emails' links start with it
        SIGNUP_RATE_LIMIT="off",
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in extra.items() if v is not None})
    return env


def manage(env, *args, timeout=600, check=True):
    return subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=check
    )


def prepare_site(env, *, seed=True, collectstatic=True, extra_articles=0):
    """Migrate, collect static files (hashed names, as in production) and seed."""
    Path(env["DJANGO_VAR_DIR"]).mkdir(parents=True, exist_ok=True)
    manage(env, "migrate", "--noinput")
    if collectstatic:
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    if seed:
        manage(env, "seed_content")
    if extra_articles:
        run_django(env, SYNTHETIC_ARTICLES, str(extra_articles))


SYNTHETIC_ARTICLES = """
import sys
from datetime import timedelta
from django.utils import timezone
from articles.models import Article
count = int(sys.argv[1])
tags = ["magnesium", "sleep", "vitamin-d", "omega-3", "iron", "zinc", "exercise", "hydration"]
for n in range(count):
    slug = f"synthetic-article-{n}"
    if Article.objects.filter(slug=slug).exists():
        continue
    article = Article.objects.create(
        title=f"Synthetic article {n} on everyday health",
        slug=slug,
        summary=f"A synthetic article number {n}, used to give the benchmark realistic pages.",
        body=("Intro paragraph about sleep and minerals. " * 40 + "\\n\\n## Section one\\n\\n")
        + ("Magnesium text for the benchmark. " * 80 + "\\n\\n## Section two\\n\\nMore text.\\n"),
        status="published",
        published_at=timezone.now() - timedelta(days=n + 1),
    )
    article.tags.set([tags[n % len(tags)], tags[(n * 3 + 1) % len(tags)], "magnesium"])
"""


def run_django(env, code, *args, timeout=300):
    """Run a snippet with Django set up in a subprocess (same settings as the server)."""
    wrapper = "import django, sys; django.setup(); sys.argv = ['snippet', *sys.argv[1:]]; exec(sys.stdin.read())"
    result = subprocess.run(  # noqa: S603
        [PYTHON, "-c", wrapper, *args],
        cwd=ROOT,
        env=env,
        input=code,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"snippet failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def http_get(port, path, *, headers=None, timeout=10, method="GET", body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Host": "127.0.0.1", **(headers or {})})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def worker_pids(master_pid):
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        return []
    return [int(pid) for pid in children]


def cpu_seconds(pids):
    """User + system CPU time of these processes (from /proc), in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def rss_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


class Server:
    def __init__(self, process, port, log_path):
        self.process = process
        self.port = port
        self.log_path = log_path
        self.base_url = f"http://127.0.0.1:{port}"

    def get(self, path, **kwargs):
        return http_get(self.port, path, **kwargs)

    def workers(self):
        return worker_pids(self.process.pid)

    def log(self):
        return Path(self.log_path).read_text(errors="replace")


@contextmanager
def gunicorn(
    env, *, workers=2, worker_class=None, threads=None, port=None, log_path=None, startup_timeout=60, healthy=True
):
    """Run gunicorn with the project's gunicorn.conf.py; always stopped on exit.

    Ready when /healthz says ok (or, with healthy=False, answers at all).
    """
    port = port or free_port()
    log_path = Path(log_path or Path(env["DJANGO_VAR_DIR"]) / f"gunicorn-{port}.log")
    server_env = dict(env, GUNICORN_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY=str(workers))
    args = [GUNICORN, "site_config.wsgi", "-c", str(ROOT / "gunicorn.conf.py")]
    if worker_class:
        args += ["--worker-class", worker_class]
    if threads:
        args += ["--threads", str(threads)]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(args, cwd=ROOT, env=server_env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    server = Server(process, port, log_path)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{server.log()}")
            try:
                status, _, body = server.get("/healthz", timeout=30)
                ok = status == 200 and json.loads(body)["status"] == "ok"
                if (ok or not healthy) and len(server.workers()) >= workers:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start in {startup_timeout}s:\n{server.log()}")
            time.sleep(0.1)
        yield server
    finally:
        stop(process)


def stop(process, timeout=15):
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
