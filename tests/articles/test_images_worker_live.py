"""The renditions made by the real worker process: `manage.py db_worker --batch
--no-startup-delay` against a file database (SQLite in a temporary DJANGO_VAR_DIR, or a
throwaway PostgreSQL database), as in production."""

from PIL import Image as PILImage

from benchmarks.bench_images import attach_hero, image_state, photo_jpeg
from benchmarks.outbox import WORKER, run
from benchmarks.server import manage


def test_db_worker_makes_the_renditions_queued_by_an_upload(live_databases, tmp_path):
    env = live_databases.new("renditions")
    manage(env, "seed_content")
    photo = tmp_path / "photo.jpg"
    photo_jpeg(photo, 2000, 1500)
    image_id = attach_hero(env, photo)
    assert image_state(env, image_id)["renditions"] == []  # queued, not made by the upload

    worker = run(env, *WORKER, timeout=300)
    assert "Traceback" not in worker.output, worker.output

    state = image_state(env, image_id)
    assert state["status"] == "SUCCESSFUL"
    assert sorted((fmt, width) for fmt, width, _size, _name in state["renditions"]) == sorted(
        (fmt, width) for fmt in ("avif", "jpeg", "webp") for width in (480, 800, 1200, 1600)
    )
    for path in state["paths"]:
        picture = PILImage.open(path)
        assert picture.getexif().get_ifd(0x8825) == {}, path
    social = PILImage.open(state["paths"][1])
    assert social.size == (1200, 630)
