"""Plain HTTP clients for the load tests: threads with http.client, like separate browsers."""

import http.client
import threading
import time
from urllib.parse import urlencode


def request(port, method, path, *, body=None, headers=None, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"Host": "127.0.0.1", **(headers or {})})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


class SignupClient:
    """One visitor: fetches the protocol page once, then posts its form as a browser would
    from that page (the form carries no CSRF token; the browser sends Origin and
    Sec-Fetch-Site)."""

    def __init__(self, port, path):
        self.port = port
        self.path = path
        status, _, body = request(port, "GET", path)
        if status != 200 or b'name="email"' not in body:
            raise AssertionError(f"GET {path}: {status}, no signup form")

    def sign_up(self, email):
        form = urlencode({"email": email, "consent": "on", "website": ""})
        return request(
            self.port,
            "POST",
            self.path,
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": "http://127.0.0.1",  # the Host header sent above
                "Sec-Fetch-Site": "same-origin",
            },
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

    def wait_for_requests(self, count, *, started_after=0.0, timeout=120):
        """Block until `count` requests that started after `started_after` (a monotonic time)
        have been answered: a number of requests, whatever the machine's speed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.errors or sum(1 for record in self.records if record[0] > started_after) >= count:
                    return
            time.sleep(0.05)
        raise AssertionError(f"fewer than {count} requests answered in {timeout}s")

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
