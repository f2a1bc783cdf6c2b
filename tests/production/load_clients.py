"""Plain HTTP clients for the load tests: threads with http.client, like separate browsers."""

import http.client
import re
import threading
import time
from urllib.parse import urlencode

_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_COOKIE = re.compile(r"csrftoken=([^;]+)")


def request(port, method, path, *, body=None, headers=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Host": "127.0.0.1", **(headers or {})})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


class SignupClient:
    """One visitor: fetches the protocol page once for a CSRF token and cookie, then posts."""

    def __init__(self, port, path):
        self.port = port
        self.path = path
        status, headers, body = request(port, "GET", path)
        if status != 200:
            raise AssertionError(f"GET {path}: {status}")
        self.token = _TOKEN.search(body.decode()).group(1)
        cookie = _COOKIE.search(headers.get("set-cookie", ""))
        self.cookie = f"csrftoken={cookie.group(1)}" if cookie else ""

    def sign_up(self, email):
        form = urlencode({"csrfmiddlewaretoken": self.token, "email": email, "consent": "on", "website": ""})
        return request(
            self.port,
            "POST",
            self.path,
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": self.cookie},
        )


def run_threads(count, target):
    """Run target(i) in `count` threads started together; return results (or exceptions) in order."""
    results = [None] * count
    barrier = threading.Barrier(count)

    def run(index):
        try:
            barrier.wait(timeout=60)
            results[index] = target(index)
        except BaseException as exc:  # reported by the caller
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


def is_success(answer, slug):
    """A successful signup redirects to the protocol's thank-you page."""
    status, headers, _ = answer
    return status == 302 and headers.get("location", "").rstrip("/").endswith(f"/protocols/{slug}/thanks")


class Readers:
    """Threads fetching a page in a loop, recording (start, end, status, body contains marker)."""

    def __init__(self, port, path, marker, threads=8):
        self.port, self.path, self.marker = port, path, marker
        self.records = []
        self.errors = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._loop, daemon=True) for _ in range(threads)]

    def _loop(self):
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                status, _, body = request(self.port, "GET", self.path, timeout=10)
            except Exception as exc:
                with self._lock:
                    self.errors.append(repr(exc))
                continue
            with self._lock:
                self.records.append((started, time.monotonic(), status, self.marker in body))

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
