"""One "worker process" for the concurrency tests: gets ready, waits for the word go, then acts once.

Run as `python -m tests.protocols.concurrent_client <mode> <n>` with DATABASE_URL pointing at
a migrated database. Prints "ready" once Django is set up, then reads one line from stdin
(the parent writes it to every process at once) and prints one JSON line with what it saw.
"""

import json
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.test_settings")


def main(mode, n):
    import django

    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment

    from protocols.models import Protocol
    from protocols.ratelimit import Rate, hit

    setup_test_environment()
    protocol = Protocol.objects.get(slug="sleep-protocol")
    print("ready", flush=True)
    sys.stdin.readline()
    if mode == "signup":
        address = "Same@Example.org" if n % 2 else "same@example.org"
        response = Client().post(protocol.get_absolute_url(), {"email": address, "consent": "on"})
        return {"status": response.status_code}
    if mode == "ratelimit":
        return {"count": hit("test", "10.0.0.1", Rate(limit=5, seconds=600)).count}
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]))))
