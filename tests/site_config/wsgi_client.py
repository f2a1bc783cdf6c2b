"""Call the real WSGI stack (page-cache read path + Django) in-process.

Django's test Client calls WSGIHandler directly and so never sees the read path in
site_config/wsgi.py; these helpers do.
"""

import io
from dataclasses import dataclass, field

from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections

from site_config.page_cache import PageCacheWSGI


@dataclass
class WSGIResult:
    status: int
    headers: dict
    body: bytes
    from_django: bool
    raw_headers: list = field(default_factory=list)

    @property
    def text(self):
        return self.body.decode()


class CountingApp:
    """Django's handler, counting how often the read path fell through to it."""

    def __init__(self):
        self.django = WSGIHandler()
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.django(environ, start_response)


class PageCacheClient:
    def __init__(self):
        self.inner = CountingApp()
        self.app = PageCacheWSGI(self.inner)

    def request(self, path, *, method="GET", headers=None, host="testserver", scheme="http", body=""):
        path, _, query = path.partition("?")
        body = body.encode() if isinstance(body, str) else body
        environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": host,
            "wsgi.url_scheme": scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": io.StringIO(),
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name, value in (headers or {}).items():
            name = name.upper().replace("-", "_")
            environ[name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + name] = value
        captured = {}

        def start_response(status, response_headers, exc_info=None):
            captured["status"] = int(status.split()[0])
            captured["headers"] = response_headers

        before = self.inner.calls
        # As Django's test Client does: keep the test's connection open between requests.
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            chunks = self.app(environ, start_response)
            body = b"".join(chunks)
            if hasattr(chunks, "close"):
                chunks.close()
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
        headers = {}
        for name, value in captured["headers"]:
            headers[name.lower()] = value
        return WSGIResult(captured["status"], headers, body, self.inner.calls > before, captured["headers"])

    def get(self, path, **kwargs):
        return self.request(path, **kwargs)
