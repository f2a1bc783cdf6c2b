"""Renditions and the social crop, made by the worker (django-tasks-db's Worker, as
`manage.py db_worker --batch` runs it) after the upload commits; never during a request."""

import re

import pytest
from django.core.files.storage import default_storage

from articles.images import cards, renditions
from articles.images.services import queue_image_files, update_image_files
from articles.models import Image
from tests.articles import image_files
from tests.articles.image_files import run_image_worker, stored_files

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


def make_queued_image(django_capture_on_commit_callbacks, data=None, **fields):
    with django_capture_on_commit_callbacks(execute=True):
        image = image_files.make_image(data, **fields)
        queue_image_files(image)
    return image


def test_the_worker_makes_every_width_in_avif_webp_and_jpeg(django_capture_on_commit_callbacks, media_root):
    image = make_queued_image(django_capture_on_commit_callbacks, image_files.jpeg_bytes(1800, 1200))
    assert Image.objects.get().renditions == []  # nothing made during the upload's request

    assert run_image_worker() == ["SUCCESSFUL"]
    image.refresh_from_db()
    assert image.renditions_ready
    made = {(r["format"], r["width"], r["height"]) for r in image.renditions}
    assert made == {(f, w, round(1200 * w / 1800)) for f in ("avif", "webp", "jpeg") for w in (480, 800, 1200, 1600)}
    for rendition in image.renditions:
        name = rendition["name"]
        # images/renditions/<id>/<original>-<width>w-<content hash>.<ext>
        assert re.fullmatch(rf"images/renditions/{image.pk}/\w+-{rendition['width']}w-[0-9a-f]{{16}}\.\w+", name)
        picture = image_files.read_back(default_storage, name)
        assert picture.format == rendition["format"].upper()
        assert picture.size == (rendition["width"], rendition["height"])
        assert picture.getexif().get_ifd(image_files.GPS_IFD) == {}, name
        assert not picture.getexif(), name
        assert picture.info.get("icc_profile") == image_files.srgb_profile(), name
    crop = image_files.read_back(default_storage, image.social_name)
    assert crop.size == cards.CARD_SIZE and crop.format == "JPEG"
    assert crop.getexif().get_ifd(image_files.GPS_IFD) == {}
    assert image.social_focal == image.focal_key
    assert len(stored_files(media_root)) == 1 + 12 + 1


def test_renditions_are_never_upscaled():
    """A 1000 px original gets 480 and 800 only; a 300 px one keeps its own width."""
    wide = image_files.make_image(image_files.jpeg_bytes(1000, 500))
    narrow = image_files.make_image(image_files.jpeg_bytes(300, 200))
    update_image_files(image_id=wide.pk)
    update_image_files(image_id=narrow.pk)
    wide.refresh_from_db()
    narrow.refresh_from_db()
    assert sorted({r["width"] for r in wide.renditions}) == [480, 800]
    assert {(r["width"], r["height"]) for r in narrow.renditions} == {(300, 200)}
    assert renditions.widths_for(5000) == [480, 800, 1200, 1600]


def test_transparent_png_gets_a_white_background_only_in_jpeg():
    image = image_files.make_image(image_files.png_bytes(600, 400, mode="RGBA"))
    update_image_files(image_id=image.pk)
    image.refresh_from_db()
    modes = {r["format"]: image_files.read_back(default_storage, r["name"]).mode for r in image.renditions}
    assert modes["jpeg"] == "RGB" and modes["webp"] == "RGBA"


def test_names_carry_a_content_hash_so_the_same_pixels_keep_the_same_name():
    first = image_files.make_image(image_files.jpeg_bytes(900, 600))
    update_image_files(image_id=first.pk)
    first.refresh_from_db()
    names = [r["name"] for r in first.renditions]
    Image.objects.filter(pk=first.pk).update(renditions=[], renditions_of="")
    update_image_files(image_id=first.pk)
    first.refresh_from_db()
    assert [r["name"] for r in first.renditions] == names


def test_a_new_focal_point_makes_a_new_crop_and_keeps_the_renditions():
    image = image_files.make_image(image_files.jpeg_bytes(1800, 1200))
    update_image_files(image_id=image.pk)
    image.refresh_from_db()
    renditions_before, crop_before = image.renditions, image.social_name
    image.focal_x, image.focal_y = 0.5, 0.05  # a wide crop of a 3:2 image moves up and down
    image.save()
    assert update_image_files(image_id=image.pk) == "made"
    image.refresh_from_db()
    assert image.renditions == renditions_before
    assert image.social_name != crop_before
    assert update_image_files(image_id=image.pk) == "up to date"


def test_the_crop_keeps_the_focal_point_in_view():
    """A 1800 x 1200 image cropped to 1200:630 keeps the full width; the focal point moves the band."""
    assert cards.crop_box((1800, 1200), (0.5, 0.0)) == (0, 0, 1800, 945)
    assert cards.crop_box((1800, 1200), (0.5, 1.0)) == (0, 255, 1800, 1200)
    assert cards.crop_box((1800, 1200), (0.5, 0.5)) == (0, 128, 1800, 1073)
    # A tall image: full width, a band around y.
    left, top, right, bottom = cards.crop_box((3000, 600), (0.9, 0.5))
    assert (right - left, bottom - top) == (1143, 600) and right == 3000


def test_a_deleted_image_is_nothing_to_do_for_the_worker(django_capture_on_commit_callbacks):
    image = make_queued_image(django_capture_on_commit_callbacks)
    Image.objects.filter(pk=image.pk).delete()
    assert run_image_worker() == ["SUCCESSFUL"]


def test_a_file_replaced_while_the_worker_ran_is_not_overwritten(monkeypatch):
    """The worker writes its results only if the row still has the file it started from."""
    image = image_files.make_image(image_files.jpeg_bytes(600, 400))
    real = renditions.make_renditions

    def replaced_meanwhile(target):
        made = real(target)
        Image.objects.filter(pk=target.pk).update(file="images/originals/another.jpg")
        return made

    monkeypatch.setattr(renditions, "make_renditions", replaced_meanwhile)
    assert update_image_files(image_id=image.pk) == "stale"
    image.refresh_from_db()
    assert image.renditions == []


@pytest.mark.parametrize(
    ("image_format", "mode"),
    [
        ("PNG", "1"),
        ("PNG", "L"),
        ("PNG", "LA"),
        ("PNG", "P"),
        ("PNG", "I;16"),
        ("JPEG", "L"),
        ("JPEG", "CMYK"),
        ("WEBP", "RGBA"),
    ],
)
def test_every_colour_mode_accepted_gets_its_renditions(image_format, mode):
    """Grey, palette, 1-bit, 16-bit and CMYK files are stored and rendered, never a failed task."""
    import io

    from PIL import Image as PILImage

    picture = image_files.photo(700, 500)
    picture = picture.convert(mode) if mode != "I;16" else picture.convert("L").convert("I;16")
    if mode == "P":
        picture.info["transparency"] = 0
    buffer = io.BytesIO()
    picture.save(buffer, image_format)
    image = image_files.make_image(buffer.getvalue())
    assert update_image_files(image_id=image.pk) == "made"
    image.refresh_from_db()
    assert {r["format"] for r in image.renditions} == {"avif", "webp", "jpeg"}
    for rendition in image.renditions:
        assert PILImage.open(default_storage.open(rendition["name"])).size == (480, round(500 * 480 / 700))


def test_make_image_files_queues_only_what_is_missing(django_capture_on_commit_callbacks):
    import io

    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    done = image_files.make_image(image_files.jpeg_bytes(600, 400))
    update_image_files(image_id=done.pk)
    waiting = image_files.make_image(image_files.jpeg_bytes(600, 400))
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("make_image_files", stdout=out)
    assert out.getvalue().strip() == "1 image(s) queued for the worker."
    assert [task.args_kwargs["args"] for task in DBTaskResult.objects.all()] == [[waiting.pk]]

    call_command("make_image_files", "--now", "--all", stdout=out)
    assert "2 image(s) made." in out.getvalue()
    assert all(Image.objects.get(pk=pk).renditions_ready for pk in (done.pk, waiting.pk))
