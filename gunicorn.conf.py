"""gunicorn settings: `gunicorn site_config.wsgi` reads this file from the project root."""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers, one per core. Measured with `make bench` on the 2-core machine (README,
# "Performance"; other suites shared the cores, so compare the workers' CPU per request):
# cached pages cost ~300 us of worker CPU per request with 2 sync, 4 sync or 2 gthread x 4
# alike; uncached ones (protocol form page 3.2-4.8 ms, search 7.4-10.4 ms) showed no
# consistent winner across runs; gthread workers used ~58 MB each against ~52 MB. So: the
# fewest processes that use both cores, the least memory, no threads. Behind a buffering
# proxy (nginx) sync workers need no keep-alive; facing slow clients directly, use gthread.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 5
# Load Django once in the master and fork workers from it: a (re)started worker is ready
# at once instead of spending a second of CPU importing Django while requests queue.
preload_app = True
# Recycle workers now and then so slow leaks never grow a worker's memory. Cached pages
# are served at thousands of requests a second: 5,000 recycled every worker every few
# seconds under load (measured: p99 spikes of 0.3-1.8 s), so recycle far less often.
max_requests = 200_000
max_requests_jitter = 20_000
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG", "0") == "1" else None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# gunicorn's own events go where Django's do: stdout, one JSON object a line.
logger_class = "site_config.gunicorn_logging.OneLineLogger"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def pre_fork(server, worker):
    """Move everything the preloaded app allocated out of the collector's sight before forking.

    A worker's full collections would otherwise walk every object of Django and the apps on
    each pass (measured in-process: 13% of an uncached page's CPU), and touching them
    unshares the master's memory pages (copy-on-write). Runs in the master; idempotent.
    """
    gc.freeze()


def _drop_server_header():
    """gunicorn names itself in a `Server` header on every response (it has no setting to
    turn that off): send none, so the software behind the site is not announced."""
    from gunicorn.http import wsgi

    default_headers = wsgi.Response.default_headers
    if getattr(default_headers, "drops_server_header", False):
        return  # the file is read again on reload (HUP)

    def headers_without_server(self):
        return [line for line in default_headers(self) if not line.lower().startswith("server:")]

    headers_without_server.drops_server_header = True
    wsgi.Response.default_headers = headers_without_server


_drop_server_header()
