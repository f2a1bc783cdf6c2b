"""`make lighthouse`: Lighthouse scores of the main pages, served as in production.

Starts the site under gunicorn with DEBUG off (collected static files, a seeded throwaway
database whose article has a hero image with its renditions; see benchmarks/server.py), runs
the Lighthouse CLI with Debian's Chromium (headless, Lighthouse's default mobile emulation and
throttling) against the home page, the seed article, search results and the protocol page, and
prints the four category scores of each. Audits that cost points are listed under the table.
The JSON and HTML reports stay in var/lighthouse/reports/.

    .venv/bin/python benchmarks/lighthouse.py [--lighthouse PATH] [--runs N] [--strict]

The Makefile installs the pinned npm package into var/lighthouse first. Nothing here
downloads a browser: CHROME_PATH points Lighthouse at the system Chromium.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_images import attach_hero, photo_jpeg, run_worker_measured  # noqa: E402
from benchmarks.server import ROOT, gunicorn, prepare_site, site_env  # noqa: E402

PAGES = {
    "home": "/",
    "article": "/articles/magnesium-and-leg-cramps/",
    "search": "/search/?q=magnesium",
    "protocol": "/protocols/sleep-protocol/",
}
CATEGORIES = {
    "performance": "Performance",
    "accessibility": "Accessibility",
    "best-practices": "Best practices",
    "seo": "SEO",
}
ATTEMPTS = 3
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu"
DEFAULT_LIGHTHOUSE = ROOT / "var" / "lighthouse" / "node_modules" / ".bin" / "lighthouse"
REPORTS = ROOT / "var" / "lighthouse" / "reports"


def find_chromium():
    path = os.environ.get("CHROME_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        sys.exit("No Chromium found: apt-get install chromium (or set CHROME_PATH).")
    return path


def run_lighthouse(lighthouse, chrome, url, report_base):
    env = dict(os.environ, CHROME_PATH=chrome, PUPPETEER_SKIP_DOWNLOAD="1")
    command = [
        str(lighthouse),
        url,
        "--quiet",
        f"--chrome-flags={CHROME_FLAGS}",
        "--only-categories=" + ",".join(CATEGORIES),
        "--output=json",
        "--output=html",
        f"--output-path={report_base}",
    ]
    # Chromium occasionally loses the trace of a load (NO_NAVSTART, NO_FCP): try again then.
    for attempt in range(1, ATTEMPTS + 1):
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)  # noqa: S603
        report_path = Path(f"{report_base}.report.json")
        report = json.loads(report_path.read_text()) if result.returncode == 0 and report_path.exists() else None
        if report is not None and not report.get("runtimeError"):
            return report
        print(f"  attempt {attempt} failed: {(result.stderr or result.stdout).strip()[-300:]}", flush=True)
    raise RuntimeError(f"lighthouse failed {ATTEMPTS} times for {url}")


def scores(report):
    return {key: round(report["categories"][key]["score"] * 100) for key in CATEGORIES}


def losses(report):
    """Audits that count in a category's score and did not pass, with their weight."""
    lost = []
    for key, category in report["categories"].items():
        for ref in category["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref["weight"] > 0 and audit["score"] is not None and audit["score"] < 1:
                value = audit.get("displayValue") or ""
                lost.append(
                    f"{CATEGORIES[key]}: {audit['id']} ({audit['score']:.2f}) {audit['title']} {value}".strip()
                )
    return lost


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lighthouse", default=str(DEFAULT_LIGHTHOUSE), help="the lighthouse CLI")
    parser.add_argument("--runs", type=int, default=1, help="runs per page; the median score is shown")
    parser.add_argument("--strict", action="store_true", help="exit 1 unless every score is 100")
    args = parser.parse_args()

    lighthouse = Path(args.lighthouse)
    if not lighthouse.exists():
        sys.exit(f"{lighthouse} not found: run `make lighthouse` (it installs the pinned npm package).")
    chrome = find_chromium()
    REPORTS.mkdir(parents=True, exist_ok=True)

    results = {}
    with tempfile.TemporaryDirectory(prefix="lighthouse-site-") as var_dir:
        env = site_env(var_dir)
        print("Preparing the site (migrate, collectstatic, seed_content, a hero image)...", flush=True)
        prepare_site(env)
        # The seed article gets a hero image (a 2400 x 1600 photo) and the worker's renditions:
        # the scores hold with the page's largest image, as editors will publish it.
        photo = Path(var_dir) / "hero.jpg"
        photo_jpeg(photo, 2400, 1600)
        attach_hero(env, photo)
        run_worker_measured(env)
        with gunicorn(env, workers=2) as server:
            for name, path in PAGES.items():
                runs = []
                for n in range(args.runs):
                    print(f"Lighthouse: {path} (run {n + 1} of {args.runs})...", flush=True)
                    runs.append(run_lighthouse(lighthouse, chrome, server.base_url + path, REPORTS / name))
                per_category = {key: statistics.median(scores(r)[key] for r in runs) for key in CATEGORIES}
                results[name] = (path, per_category, losses(runs[-1]))

    version = runs[-1]["lighthouseVersion"]
    print(f"\nLighthouse {version}, mobile emulation, {args.runs} run(s) a page (median):\n")
    print("| page | " + " | ".join(CATEGORIES.values()) + " |")
    print("|---|" + "---|" * len(CATEGORIES))
    for name, (path, per_category, _) in results.items():
        print(f"| {name} (`{path}`) | " + " | ".join(f"{per_category[k]:g}" for k in CATEGORIES) + " |")
    lost = [(name, item) for name, (_, _, items) in results.items() for item in items]
    if lost:
        print("\nAudits that cost points:")
        for name, item in lost:
            print(f"  {name}: {item}")
    print(f"\nReports: {REPORTS.relative_to(ROOT)}/<page>.report.html")
    if args.strict and any(v < 100 for _, per, _ in results.values() for v in per.values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
