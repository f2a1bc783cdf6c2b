"""Compare two checkouts' /search/ on the same data, request by request.

    git worktree add /tmp/before <commit>
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/site_bench_100000 \\
        .venv/bin/python benchmarks/ab_search.py --other /tmp/before [--what view|search]

The database is one that `bench_search.py --data-dir DIR` built and kept (for SQLite,
sqlite:///DIR/bench-100000.sqlite3). Two server processes, one per checkout, load the
same benchmark mix; the driver sends each query to both in turn, REPEAT times (the order
alternating between queries), and keeps each side's median per query. Both sides run
through the same minutes, so the machine's own drift in speed (a third between runs
minutes apart on this shared 2-core machine) falls on both alike: a difference between
two separate runs of bench_search.py is often that drift.

Prints, for each side, the median and p95 over the mix, the median CPU time of its
process (PostgreSQL's work not included) and the median per kind of query.
"""

import argparse
import itertools
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPEAT = 3
WARM_UP = 40


def serve():
    """One side: read 'view <q>' or 'search <q>' lines, answer 'wall_ms cpu_ms'."""
    sys.path.insert(0, os.getcwd())
    import django

    django.setup()
    from django.test import Client

    from articles import search

    client, runs = Client(), itertools.count()
    print("ready", flush=True)
    for line in sys.stdin:
        what, query = line.rstrip("\n").split(" ", 1)
        started, started_cpu = time.perf_counter(), time.process_time()
        if what == "view":
            # A parameter no other request had: every run renders the whole page.
            if client.get("/search/", {"q": query, "run": next(runs)}).status_code != 200:
                raise SystemExit(f"/search/?q={query} failed")
        else:
            search.search_articles(query)
        wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
        print(f"{wall * 1000:.3f} {cpu * 1000:.3f}", flush=True)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--other", required=True, help="the other checkout (a git worktree)")
    parser.add_argument("--what", choices=["view", "search"], default="view")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    if "bench" not in os.environ.get("DATABASE_URL", ""):
        raise SystemExit("DATABASE_URL must name a benchmark database (one bench_search.py --data-dir kept).")
    sys.path.insert(0, str(ROOT))
    from benchmarks.bench_search import SEED
    from benchmarks.bench_search_data import Vocabulary, query_mix

    mix = query_mix(random.Random(SEED + 1), Vocabulary(random.Random(SEED)))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "site_config.test_settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_ALLOWED_HOSTS": "testserver",
    }
    sides = {"other": Path(args.other).resolve(), "this": ROOT}
    servers = {}
    for name, tree in sides.items():
        servers[name] = subprocess.Popen(  # noqa: S603 (this script, fixed arguments)
            [sys.executable, str(Path(__file__).resolve()), "--serve", "--other", "-"],
            cwd=tree,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        if servers[name].stdout.readline().strip() != "ready":
            raise SystemExit(f"the server for {tree} did not start")

    def ask(name, query):
        server = servers[name]
        server.stdin.write(f"{args.what} {query}\n")
        server.stdin.flush()
        wall, cpu = server.stdout.readline().split()
        return float(wall), float(cpu)

    for _kind, query in mix[:WARM_UP]:
        for name in servers:
            ask(name, query)
    figures = {name: {"wall": [], "cpu": [], "kinds": {}} for name in servers}
    for i, (kind, query) in enumerate(mix):
        order = list(servers) if i % 2 else list(reversed(servers))
        runs = {name: [] for name in servers}
        for _ in range(REPEAT):
            for name in order:
                runs[name].append(ask(name, query))
        for name, results in runs.items():
            wall = statistics.median(r[0] for r in results)
            figures[name]["wall"].append(wall)
            figures[name]["cpu"].append(statistics.median(r[1] for r in results))
            figures[name]["kinds"].setdefault(kind, []).append(wall)
    for server in servers.values():
        server.stdin.close()
        server.wait()
    for name, tree in sides.items():
        f = figures[name]
        print(
            f"{name} ({tree}): {args.what} median {statistics.median(f['wall']):.2f} ms, "
            f"p95 {percentile(f['wall'], 0.95):.2f} ms, CPU median {statistics.median(f['cpu']):.2f} ms"
        )
        print("    " + "  ".join(f"{kind} {statistics.median(v):.1f}" for kind, v in sorted(f["kinds"].items())))


if __name__ == "__main__":
    main()
