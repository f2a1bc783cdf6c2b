"""`make bench-images`: what the image library costs, measured through the real processes.

1. Renditions: a 4000 x 3000 photo (with GPS EXIF) is uploaded through the upload checks as the
   seed article's hero, then `manage.py db_worker --batch --no-startup-delay` makes its 12
   renditions and the social crop. Printed: the task's own time (from the task row), the
   worker process's wall time (Python and Django start-up included), and the bytes per file.
2. Page weight: the article page served by gunicorn (DEBUG off, collected static files), loaded
   by Chromium at 375 px wide (device pixel ratio 2, then 3) with an empty cache: every byte
   transferred (HTML, CSS, images), and the image the browser chose.
3. With --lighthouse: Lighthouse (mobile) on that article page with its hero.

    .venv/bin/python benchmarks/bench_images.py [--width 4000 --height 3000] [--lighthouse]

The photo is synthetic (shapes, gradients and noise): it compresses worse than most real photos,
so real renditions are usually smaller and faster to make than these.
"""

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.outbox import WORKER, start  # noqa: E402
from benchmarks.server import gunicorn, prepare_site, run_django, site_env  # noqa: E402

ARTICLE = "/articles/magnesium-and-leg-cramps/"
RENDITIONS_TARGET_S = 5.0
PAGE_WEIGHT_TARGET_KB = 150

ATTACH_HERO = """
import json
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from articles.images.services import queue_image_files
from articles.images.uploads import clean_upload
from articles.models import Article, Image

path, slug = sys.argv[1], sys.argv[2]
with open(path, "rb") as handle:
    clean = clean_upload(SimpleUploadedFile("photo.jpg", handle.read(), "image/jpeg"))
with transaction.atomic():
    image = Image.objects.create(
        file=clean.content, width=clean.width, height=clean.height,
        alt_text="A leg stretched out on a bed at dawn", caption="Night cramps often strike the calf.",
        credit="Benchmark photo / CC0",
    )
    Article.objects.filter(slug=slug).update(hero_image=image)
    queue_image_files(image)
print(json.dumps({"id": image.pk, "bytes": clean.content.size}))
"""

IMAGE_STATE = """
import json
from django.core.files.storage import default_storage
from django_tasks_db.models import DBTaskResult
from articles.models import Image

image = Image.objects.get(pk=int(sys.argv[1]))
task = DBTaskResult.objects.filter(task_path="articles.images.tasks.make_image_files").order_by("-enqueued_at").first()
seconds = (task.finished_at - task.started_at).total_seconds() if task and task.finished_at else None
files = [(r["format"], r["width"], default_storage.size(r["name"]), r["name"]) for r in image.renditions]
print(json.dumps({
    "status": task.status if task else None, "task_seconds": seconds, "renditions": files,
    "social": image.social_name, "original": image.file.name,
    "paths": [default_storage.path(name) for name in [image.file.name, image.social_name, *(f[3] for f in files)]],
}))
"""


def photo_jpeg(path, width, height):
    """A synthetic 'photo' with GPS, camera and owner EXIF, saved as JPEG at quality 90."""
    from PIL import Image, ImageDraw

    picture = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(picture)
    rnd = random.Random(4)
    for _ in range(300):
        x, y = rnd.randrange(width), rnd.randrange(height)
        size = rnd.randrange(width // 40, width // 5)
        draw.ellipse((x, y, x + size, y + size), fill=tuple(rnd.randrange(256) for _ in range(3)))
    picture = Image.blend(picture, Image.effect_noise((width, height), 24).convert("RGB"), 0.12)
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}
    exif[0x010F] = "Camera Maker"
    picture.save(path, "JPEG", quality=90, exif=exif)
    return Path(path).stat().st_size


def attach_hero(env, photo_path, slug="magnesium-and-leg-cramps"):
    """Upload `photo_path` through the checks as the article's hero; the task is queued. Returns the image id."""
    return json.loads(run_django(env, ATTACH_HERO, str(photo_path), slug))["id"]


def image_state(env, image_id):
    return json.loads(run_django(env, IMAGE_STATE, str(image_id)))


def run_worker_measured(env):
    """`db_worker --batch` until the queue is empty: (wall seconds, CPU seconds, peak RSS MB)."""
    process = start(env, *WORKER)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - process.started
    process.log.seek(0)
    output = process.log.read().decode(errors="replace")
    process.log.close()
    if os.waitstatus_to_exitcode(status) != 0 or "Traceback" in output:
        raise RuntimeError(f"db_worker failed:\n{output}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def page_weight(base_url, path, *, width=375, scale=2):
    """Bytes Chromium transfers for `path` with an empty cache, and the images it loaded."""
    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM_PATH

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": width, "height": 800}, device_scale_factor=scale)
        page = context.new_page()
        page.goto(base_url + path, wait_until="networkidle")
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_load_state("networkidle")
        entries = page.evaluate(
            """() => [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')]
                .map(e => ({name: e.name, transfer: e.transferSize, type: e.initiatorType}))"""
        )
        hero = page.evaluate("() => document.querySelector('.article-hero img')?.currentSrc || null")
        shift = page.evaluate(
            """() => new Promise(resolve => {
                let total = 0;
                new PerformanceObserver(list => { for (const e of list.getEntries()) total += e.value; })
                  .observe({type: 'layout-shift', buffered: true});
                setTimeout(() => resolve(total), 300);
            })"""
        )
        browser.close()
    return entries, hero, shift


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("--lighthouse", action="store_true", help="also run Lighthouse on the article page")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-images-") as var_dir:
        env = site_env(var_dir)
        print("Preparing the site (migrate, collectstatic, seed_content)...", flush=True)
        prepare_site(env)
        photo = Path(var_dir) / "photo.jpg"
        size = photo_jpeg(photo, args.width, args.height)
        _, idle_cpu, _ = run_worker_measured(env)  # start-up and an empty queue: the baseline
        image_id = attach_hero(env, photo)
        load = os.getloadavg()[0]
        wall, cpu, rss = run_worker_measured(env)
        state = image_state(env, image_id)
        assert state["status"] == "SUCCESSFUL", state
        print(f"\nRenditions of a {args.width} x {args.height} JPEG ({size / 1e6:.1f} MB upload), one worker:")
        print(f"  task (renditions + social crop): {state['task_seconds']:.2f} s (target < {RENDITIONS_TARGET_S:g} s)")
        print(f"  its CPU time: {cpu - idle_cpu:.2f} s (the worker's {cpu:.2f} s less {idle_cpu:.2f} s of start-up)")
        print(f"  db_worker process: {wall:.2f} s wall, peak RSS {rss:.0f} MB; load average {load:.1f} before")
        print("  | format | " + " | ".join(str(w) for w in sorted({r[1] for r in state["renditions"]})) + " |")
        for image_format in ("avif", "webp", "jpeg"):
            cells = [f"{r[2] / 1024:.0f} KB" for r in sorted(state["renditions"]) if r[0] == image_format]
            print(f"  | {image_format} | " + " | ".join(cells) + " |")

        with gunicorn(env, workers=2) as server:
            for scale in (2, 3):
                entries, hero, shift = page_weight(server.base_url, ARTICLE, scale=scale)
                total = sum(e["transfer"] for e in entries)
                print(f"\nArticle page at 375 px, device pixel ratio {scale}, empty cache:")
                for entry in entries:
                    print(f"  {entry['transfer'] / 1024:6.1f} KB  {entry['name'].replace(server.base_url, '')}")
                print(f"  total {total / 1024:.1f} KB (target <= {PAGE_WEIGHT_TARGET_KB} KB); hero: {hero}")
                print(f"  layout shift (CLS, page load): {shift:.3f}")
            if args.lighthouse:
                lighthouse_article(server.base_url + ARTICLE)
    return 0


def lighthouse_article(url):
    from benchmarks.lighthouse import DEFAULT_LIGHTHOUSE, REPORTS, find_chromium, losses, run_lighthouse, scores

    if not DEFAULT_LIGHTHOUSE.exists():
        print("\nLighthouse not installed: `make lighthouse` installs it (var/lighthouse).")
        return
    REPORTS.mkdir(parents=True, exist_ok=True)
    report = run_lighthouse(DEFAULT_LIGHTHOUSE, find_chromium(), url, REPORTS / "article-with-hero")
    audits = report["audits"]
    print(f"\nLighthouse {report['lighthouseVersion']} (mobile) on the article with its hero: {scores(report)}")
    for audit in ("largest-contentful-paint", "cumulative-layout-shift", "total-byte-weight"):
        print(f"  {audits[audit]['title']}: {audits[audit].get('displayValue', '')}")
    for item in losses(report):
        print(f"  lost: {item}")


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    sys.exit(main())
