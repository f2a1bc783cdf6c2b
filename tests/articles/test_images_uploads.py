"""Uploads through the admin's image form (real POSTs): hostile files are refused with a clear
message and leave nothing behind; good files are stored re-encoded, without metadata."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image as PILImage

from articles.models import Image
from tests.articles import image_files
from tests.articles.image_files import stored_files
from tests.helpers import log_in_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

ADD_URL = reverse("admin:articles_image_add")


@pytest.fixture
def staff_client(client):
    return log_in_staff(client, get_user_model().objects.create_superuser("boss", "boss@example.com", "pw"))


def post_upload(client, data, name="photo.jpg", content_type="image/jpeg", **fields):
    form = {
        "file": image_files.upload(data, name, content_type),
        "alt_text": "Magnesium tablets beside a glass of water",
        "caption": "",
        "credit": "Jane Doe / CC BY 4.0",
        "focal_x": "0.5",
        "focal_y": "0.5",
        **fields,
    }
    return client.post(ADD_URL, form)


def assert_refused(response, media_root, message):
    assert response.status_code == 200, "a refused upload shows the form again, never a 500"
    errors = " ".join(response.context["adminform"].form.errors.get("file", []))
    assert message in errors, errors
    assert message in response.content.decode()
    assert Image.objects.count() == 0
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("data", "name", "content_type", "message"),
    [
        pytest.param(image_files.bomb_png(), "bomb.png", "image/png", "too many pixels", id="decompression-bomb"),
        pytest.param(
            image_files.huge_dimensions_png(), "huge.png", "image/png", "too many pixels", id="huge-dimensions"
        ),
        pytest.param(image_files.TEXT_AS_JPEG, "photo.jpg", "image/jpeg", "not a JPEG, PNG, WebP or AVIF", id="text"),
        pytest.param(image_files.SVG, "logo.svg", "image/svg+xml", "web page or script code", id="svg-with-script"),
        pytest.param(
            image_files.SVG.replace(b"<script>alert(1)</script>", b""),
            "logo.jpg",
            "image/jpeg",
            "(HTML, SVG or JavaScript)",
            id="plain-svg-named-jpg",
        ),
        pytest.param(image_files.polyglot_jpeg(), "photo.jpg", "image/jpeg", "web page or script", id="polyglot-html"),
        pytest.param(
            image_files.trailing_zip_jpeg(), "photo.jpg", "image/jpeg", "extra data after the end", id="appended-file"
        ),
        pytest.param(
            image_files.script_in_png_text_chunk(), "photo.png", "image/png", "web page or script", id="script-inside"
        ),
        pytest.param(image_files.truncated_jpeg(), "photo.jpg", "image/jpeg", "damaged or incomplete", id="truncated"),
        pytest.param(
            image_files.encoded("GIF", 50, 50), "anim.gif", "image/gif", "not a JPEG, PNG, WebP or AVIF", id="gif"
        ),
        pytest.param(
            image_files.encoded("BMP", 50, 50), "photo.jpg", "image/jpeg", "not a JPEG, PNG, WebP or AVIF", id="bmp"
        ),
    ],
)
def test_hostile_uploads_are_refused_and_nothing_is_stored(
    staff_client, media_root, data, name, content_type, message
):
    """Each bad file gets its own clear error on the form; no row, no file."""
    assert_refused(post_upload(staff_client, data, name, content_type), media_root, message)


def test_an_upload_over_the_size_limit_is_refused_and_never_stored(staff_client, media_root, settings, monkeypatch):
    """Past the limit the upload handlers store nothing more: no temporary file, no memory copy."""
    from django.core.files import uploadhandler

    settings.IMAGE_MAX_UPLOAD_MB = 1
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024  # so a stored upload would go to a temporary file
    stored_bytes = []
    real_chunk = uploadhandler.TemporaryFileUploadHandler.receive_data_chunk

    def counting_chunk(self, raw_data, start):
        stored_bytes.append(len(raw_data))
        return real_chunk(self, raw_data, start)

    monkeypatch.setattr(uploadhandler.TemporaryFileUploadHandler, "receive_data_chunk", counting_chunk)
    data = image_files.jpeg_bytes(100, 100, gps=False) + b"\x00" * (3 * 1024 * 1024)
    assert_refused(post_upload(staff_client, data), media_root, "The file is 3.0 MB; the limit is 1 MB")
    assert sum(stored_bytes) <= 1024 * 1024


def test_the_size_limit_is_checked_before_the_file_is_read():
    """The size comes from the upload handler: an oversized upload is refused unread."""
    from django.core.exceptions import ValidationError

    from articles.images.uploads import clean_upload

    class OversizedUpload:
        size = 11 * 1024 * 1024

        def seek(self, *args):
            raise AssertionError("seeked into an oversized upload")

        def read(self, *args):
            raise AssertionError("read an oversized upload")

    with pytest.raises(ValidationError, match="the limit is 10 MB"):
        clean_upload(OversizedUpload())


def test_a_good_jpeg_is_stored_reencoded_without_gps_camera_or_owner(staff_client, media_root):
    """EXIF orientation applied (a 6 turns 1800x1200 upright into 1200x1800), then every
    metadata field dropped; the colour profile kept; the uploader and size recorded."""
    data = image_files.jpeg_bytes(1800, 1200, orientation=6)
    before = PILImage.open(io.BytesIO(data))
    assert before.getexif().get_ifd(image_files.GPS_IFD), "the test file must carry GPS data"

    response = post_upload(staff_client, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    image = Image.objects.get()
    assert (image.width, image.height) == (1200, 1800)
    assert image.uploaded_by.username == "boss"
    assert image.file.name.startswith("images/originals/") and image.file.name.endswith(".jpg")
    stored = image_files.read_back(default_storage, image.file.name)
    exif = stored.getexif()
    assert exif.get_ifd(image_files.GPS_IFD) == {}
    assert image_files.ORIENTATION not in exif and 0x010F not in exif and 0x013B not in exif
    assert "xmp" not in stored.info and "exif" not in stored.info
    assert stored.info.get("icc_profile") == image_files.srgb_profile()
    assert stored.size == (1200, 1800)
    assert stored_files(media_root) == [image.file.name]


@pytest.mark.parametrize(
    ("image_format", "name", "options"),
    [("PNG", "a.png", {}), ("WEBP", "a.webp", {"quality": 80}), ("AVIF", "a.avif", {"quality": 60})],
)
def test_png_webp_and_avif_are_accepted_in_their_own_format(staff_client, image_format, name, options):
    data = image_files.encoded(image_format, 640, 480, exif=image_files.gps_exif(), **options)
    response = post_upload(staff_client, data, name, f"image/{image_format.lower()}")
    assert response.status_code == 302
    image = Image.objects.get()
    stored = image_files.read_back(default_storage, image.file.name)
    assert stored.format == image_format
    assert stored.getexif().get_ifd(image_files.GPS_IFD) == {}
    assert (image.width, image.height) == (640, 480)


def test_alt_text_and_credit_are_required(staff_client, media_root):
    response = post_upload(staff_client, image_files.jpeg_bytes(300, 200), alt_text="", credit="")
    form = response.context["adminform"].form
    assert "alt_text" in form.errors and "credit" in form.errors
    assert Image.objects.count() == 0
    assert stored_files(media_root) == []


def test_a_file_name_is_not_alt_text(staff_client):
    response = post_upload(staff_client, image_files.jpeg_bytes(300, 200), alt_text="IMG_2041.JPG")
    assert "a file name is not alt text" in response.content.decode()


def test_an_upload_queues_its_renditions_on_commit(staff_client, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        post_upload(staff_client, image_files.jpeg_bytes(900, 600))
    assert len(callbacks) >= 1
    image = Image.objects.get()
    task = DBTaskResult.objects.get(task_path="articles.images.tasks.make_image_files")
    assert task.args_kwargs["args"] == [image.pk]
