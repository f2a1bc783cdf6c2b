"""`make bench-search`: search at scale, on generated articles in throwaway databases.

    .venv/bin/python benchmarks/bench_search.py [--sizes 10000,100000] [--backends sqlite,postgresql]
        [--postgres-url postgres://.../site_bench] [--data-dir DIR] [--json out.json]

For each size and backend the script runs itself again as a worker process against a
throwaway database (a temporary SQLite file; a PostgreSQL database named `site_bench`
unless --postgres-url says otherwise), never the site's own. The worker generates
synthetic articles (about 400 words each, Zipf-like word frequencies from a seeded
generator, tags, 2% drafts and 1% scheduled), builds the index with rebuild_index(),
and times a fixed mix of 200 queries through search_articles() and through the /search/
view (each query the median of REPEAT runs, after one warm-up pass), plus a naive
`icontains` scan on every tenth query as the baseline. It also reports the slowest SQL
statement the /search/ view ran over the whole mix.

With --data-dir the generated data is kept and reused by the next run with the same
size and backend (a SQLite file in DIR; the PostgreSQL database `<name>_<size>`), so
comparing code changes at 100,000 articles skips the minutes of generating and indexing.
A reused database keeps the index of the code that built it: rebuild after changing how
documents are indexed (delete DIR, or drop the database).
"""

import argparse
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_search_data import Vocabulary, generate_articles, query_mix  # noqa: E402

SEED = 20261125
# Each query is timed REPEAT times and its median kept: this 2-core machine is shared.
REPEAT = 3
BASELINE_EVERY = 10  # the naive scan runs on every tenth query (it takes seconds at 100k)


def percentile(values, fraction):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(seconds):
    return {
        "median_ms": round(statistics.median(seconds) * 1000, 2),
        "p95_ms": round(percentile(seconds, 0.95) * 1000, 2),
        "n": len(seconds),
    }


def naive_search(query):
    """The baseline: what a site without an index does (icontains on every field)."""
    from django.db.models import Q

    from articles.models import Article
    from articles.search import clean_query

    articles = Article.objects.published()
    for word in clean_query(query):
        articles = articles.filter(Q(title__icontains=word) | Q(summary__icontains=word) | Q(body__icontains=word))
    page = list(articles.order_by("-published_at")[:10])
    return articles.count(), page


def timed(function, queries, repeat=1, cpu=None):
    """Seconds per query: the median of `repeat` runs (damps other processes' noise).

    `cpu`, a list, receives each query's median CPU time of this process as well: it
    counts SQLite's work but not PostgreSQL's, and hardly grows when other processes
    compete for the cores, as wall time does.
    """
    seconds = []
    for query in queries:
        runs, cpu_runs = [], []
        for _ in range(repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            function(query)
            runs.append(time.perf_counter() - started)
            cpu_runs.append(time.process_time() - started_cpu)
        seconds.append(statistics.median(runs))
        if cpu is not None:
            cpu.append(statistics.median(cpu_runs))
    return seconds


def run_worker(size):
    """One measurement in this process, against the database DATABASE_URL names."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from articles import search

    name = str(settings.DATABASES["default"]["NAME"])
    if "bench" not in name:
        raise SystemExit(f"Refusing to run the benchmark worker on {name!r}: not a bench database.")
    rng = random.Random(SEED)
    vocabulary = Vocabulary(rng)
    marker = Path(os.environ["BENCH_DATA_MARKER"]) if os.environ.get("BENCH_DATA_MARKER") else None
    if marker is not None and marker.exists():
        built = json.loads(marker.read_text())
        indexed, generate_seconds, build_seconds = built["indexed"], built["generate_s"], built["build_s"]
        print(f"  reusing the data built on {built['built_at']} ({marker})", flush=True)
        call_command("migrate", verbosity=0)  # the code may have gained migrations since
    else:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        generate_articles(size, rng, vocabulary)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        generate_seconds = time.perf_counter() - started
        started = time.perf_counter()
        indexed = search.rebuild_index()
        build_seconds = time.perf_counter() - started
        if marker is not None:
            marker.write_text(
                json.dumps(
                    {
                        "indexed": indexed,
                        "generate_s": generate_seconds,
                        "build_s": build_seconds,
                        "built_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    }
                )
            )

    mix = query_mix(random.Random(SEED + 1), vocabulary)
    queries = [query for _kind, query in mix]
    timed(search.search_articles, queries)  # warm-up pass: caches, connection, page cache
    per_query = timed(search.search_articles, queries, repeat=REPEAT)
    by_kind = {}
    for (kind, _query), seconds in zip(mix, per_query, strict=True):
        by_kind.setdefault(kind, []).append(seconds)
    totals = {query: search.search_articles(query).total for query in queries[:: len(queries) // 10]}

    client = Client()
    requests = itertools.count()

    def view(query):
        # A parameter no other request had: every run renders the whole page, as for a
        # search nobody asked before (no page or fragment from an earlier run is reused).
        return client.get("/search/", {"q": query, "run": next(requests)})

    timed(view, queries[:20])
    for query in queries:
        response = view(query)
        if response.status_code != 200:
            raise SystemExit(f"/search/?q={query} answered {response.status_code}")
    view_cpu = []
    view_seconds = timed(view, queries, repeat=REPEAT, cpu=view_cpu)
    slowest = slowest_statement(view, queries)

    baseline_queries = queries[::BASELINE_EVERY]
    naive_search(baseline_queries[0])  # warm-up
    naive = timed(naive_search, baseline_queries)
    indexed_same = [seconds for i, seconds in enumerate(per_query) if i % BASELINE_EVERY == 0]
    return {
        "size": size,
        "backend": connection.vendor,
        "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
        "indexed": indexed,
        "generate_s": round(generate_seconds, 1),
        "build_s": round(build_seconds, 1),
        "search": summary_ms(per_query),
        "view": summary_ms(view_seconds),
        "view_cpu": summary_ms(view_cpu),
        "view_by_kind": view_by_kind(mix, view_seconds),
        "slowest_statement": slowest,
        "naive": summary_ms(naive),
        "search_on_baseline_queries": summary_ms(indexed_same),
        "ratio_median": round(statistics.median(naive) / statistics.median(per_query), 1),
        "by_kind": {kind: summary_ms(values) for kind, values in sorted(by_kind.items())},
        "sample_totals": totals,
    }


def view_by_kind(mix, seconds):
    by_kind = {}
    for (kind, _query), value in zip(mix, seconds, strict=True):
        by_kind.setdefault(kind, []).append(value)
    return {kind: summary_ms(values) for kind, values in sorted(by_kind.items())}


def slowest_statement(view, queries):
    """The slowest SQL statement of one more /search/ pass over the mix: its time, query, SQL."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    slowest = {"ms": 0.0, "query": "", "sql": ""}
    statements = 0
    for query in queries:
        with CaptureQueriesContext(connection) as captured:
            view(query)
        statements += len(captured.captured_queries)
        for statement in captured.captured_queries:
            ms = float(statement["time"]) * 1000
            if ms > slowest["ms"]:
                slowest = {"ms": round(ms, 1), "query": query, "sql": statement["sql"][:600]}
    slowest["statements_per_view"] = round(statements / len(queries), 2)
    return slowest


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated article counts")
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite and/or postgresql")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/site_bench"),
        help="a database the benchmark may drop and recreate (its name must contain 'bench')",
    )
    parser.add_argument("--json", dest="json_path", help="also write the figures to this file")
    parser.add_argument("--data-dir", help="keep the generated databases here and reuse them on the next run")
    parser.add_argument("--worker-size", type=int, help="internal: run one measurement in this process")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.worker_size:
        print("BENCH-JSON " + json.dumps(run_worker(args.worker_size)), flush=True)
        return
    results = []
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            print(f"{backend}, {size} articles ...", flush=True)
            results.append(run_child(size, backend, args.postgres_url, data_dir=args.data_dir))
            print_row(results[-1])
    print()
    print_table(results)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(results, indent=2))


def run_child(size, backend, postgres_url, *, data_dir=None):
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp:
        marker = None
        if data_dir:
            Path(data_dir).mkdir(parents=True, exist_ok=True)
            marker = Path(data_dir).resolve() / f"{backend}-{size}.json"
        if backend == "sqlite":
            folder = Path(data_dir).resolve() if data_dir else Path(tmp)
            database_url = f"sqlite:///{folder}/bench-{size}.sqlite3"
            if marker is not None and not marker.exists():
                (folder / f"bench-{size}.sqlite3").unlink(missing_ok=True)
        elif backend in {"postgres", "postgresql"}:
            database_url = postgres_url
            if marker is not None:
                base, _, name = postgres_url.rpartition("/")
                database_url = f"{base}/{name}_{size}"
            if marker is None or not marker.exists():
                recreate_postgres(database_url)
        else:
            raise SystemExit(f"Unknown backend {backend!r}")
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "site_config.test_settings",
            "DJANGO_VAR_DIR": tmp,
            "DJANGO_DEBUG": "0",
            "DJANGO_LOG_LEVEL": "WARNING",
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "BENCH_DATA_MARKER": str(marker) if marker else "",
        }
        process = subprocess.run(  # noqa: S603 (this script, fixed arguments)
            [sys.executable, __file__, "--worker-size", str(size)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if process.returncode != 0:
            raise SystemExit(f"worker failed ({backend}, {size}):\n{process.stdout[-3000:]}\n{process.stderr[-3000:]}")
        line = next(line for line in process.stdout.splitlines() if line.startswith("BENCH-JSON "))
        return json.loads(line.removeprefix("BENCH-JSON "))


def recreate_postgres(url):
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    name = config["NAME"]
    if "bench" not in name:
        raise SystemExit(f"--postgres-url must name a throwaway database containing 'bench', not {name!r}")
    with psycopg.connect(
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {}").format(psycopg.sql.Identifier(name)))
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))


def print_row(r):
    s, v, n = r["search"], r["view"], r["naive"]
    print(
        f"  build {r['build_s']} s | search median {s['median_ms']} ms, p95 {s['p95_ms']} ms | "
        f"view median {v['median_ms']} ms, p95 {v['p95_ms']} ms (CPU median {r['view_cpu']['median_ms']} ms, "
        f"p95 {r['view_cpu']['p95_ms']} ms) | naive median {n['median_ms']} ms, "
        f"p95 {n['p95_ms']} ms | {r['ratio_median']}x | load average {r['load_average_at_end']}"
    )
    for kind, figures in r["by_kind"].items():
        view = r.get("view_by_kind", {}).get(kind, {})
        print(
            f"    {kind:<18} median {figures['median_ms']:>7} ms  p95 {figures['p95_ms']:>7} ms"
            f"  | view median {view.get('median_ms', '-'):>7} ms  p95 {view.get('p95_ms', '-'):>7} ms"
        )
    slowest = r.get("slowest_statement")
    if slowest:
        print(
            f"    slowest statement in the /search/ mix: {slowest['ms']} ms (q={slowest['query']!r}), "
            f"{slowest['statements_per_view']} statements a page: {slowest['sql'][:200]}"
        )
    sys.stdout.flush()


def print_table(results):
    print(
        "| backend | articles | index build | search median | search p95 | view median | view p95 "
        "| naive median | naive p95 | naive / search (median) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['backend']} | {r['size']:,} | {r['build_s']} s | {r['search']['median_ms']} ms "
            f"| {r['search']['p95_ms']} ms | {r['view']['median_ms']} ms | {r['view']['p95_ms']} ms "
            f"| {r['naive']['median_ms']} ms | {r['naive']['p95_ms']} ms | {r['ratio_median']}x |"
        )
    for backend in {r["backend"] for r in results}:
        rows = sorted((r for r in results if r["backend"] == backend), key=lambda r: r["size"])
        if len(rows) >= 2:
            growth = rows[-1]["search"]["median_ms"] / max(rows[0]["search"]["median_ms"], 0.001)
            print(f"{backend}: median grows {growth:.1f}x from {rows[0]['size']:,} to {rows[-1]['size']:,} articles")


if __name__ == "__main__":
    main()
