"""Originals, renditions and cards on S3-compatible storage (django-storages and boto3),
against moto's S3 server on loopback, as CI runs it (.ci/run)."""

import io
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from articles.images.services import update_image_files
from articles.models import Image
from site_config.media_storage import s3_media_storage
from tests.articles import image_files
from tests.articles.factories import make_article
from tests.articles.test_views import meta

MOTO_SERVER = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or shutil.which("moto_server")
BUCKET = "site-media"

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        MOTO_SERVER is None and os.environ.get("REQUIRE_S3") != "1",
        reason="moto_server is not installed (pip install 'moto[server]', in requirements-dev.txt)",
    ),
]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    if MOTO_SERVER is None:
        pytest.fail("REQUIRE_S3=1 but moto_server is missing: pip install -r requirements-dev.txt")
    port = _free_port()
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")  # noqa: SIM115 (closed below)
    server = subprocess.Popen([MOTO_SERVER, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        server.kill()
        pytest.fail("moto_server did not start")
    yield endpoint
    server.terminate()
    server.wait(timeout=10)
    log.close()


@pytest.fixture
def s3(s3_endpoint, settings):
    """The site's storage set up from MEDIA_S3_* variables as settings.py reads them; an empty bucket."""
    import boto3

    environ = {
        "MEDIA_S3_BUCKET": BUCKET,
        "MEDIA_S3_ENDPOINT_URL": s3_endpoint,
        "MEDIA_S3_REGION": "us-east-1",
        "MEDIA_S3_ACCESS_KEY_ID": "test-key",
        "MEDIA_S3_SECRET_ACCESS_KEY": "test-secret",
    }
    storage, origin = s3_media_storage(environ)
    assert origin == s3_endpoint
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test-key",
        aws_secret_access_key="test-secret",
    )
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client):
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_originals_renditions_and_crops_go_to_the_bucket_with_immutable_headers(s3, client):
    from PIL import Image as PILImage
    from storages.backends.s3 import S3Storage

    assert isinstance(default_storage, S3Storage)
    image = image_files.make_image(image_files.jpeg_bytes(1800, 1200))
    assert keys(s3) == [image.file.name]
    assert update_image_files(image_id=image.pk) == "made"
    image.refresh_from_db()
    stored = keys(s3)
    assert len(stored) == 1 + 12 + 1
    assert {r["name"] for r in image.renditions} | {image.file.name, image.social_name} == set(stored)
    for key in stored:
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert head["CacheControl"] == "public, max-age=31536000, immutable", key
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        picture = PILImage.open(io.BytesIO(body))
        assert picture.getexif().get_ifd(image_files.GPS_IFD) == {}, key

    article = make_article(title="Magnesium and sleep", hero_image=image)
    html = client.get(article.get_absolute_url()).content.decode()
    endpoint = s3.meta.endpoint_url
    assert f'src="{endpoint}/{BUCKET}/images/renditions/{image.pk}/' in html
    assert meta(html, property="og:image") == f"{endpoint}/{BUCKET}/{image.social_name}"


def test_generated_cards_are_stored_in_the_bucket(s3, client):
    article = make_article(title="Zinc and colds")
    og_image = meta(client.get(article.get_absolute_url()).content.decode(), property="og:image")
    key = og_image.removeprefix(f"{s3.meta.endpoint_url}/{BUCKET}/")
    assert key.startswith("images/cards/") and key in keys(s3)


def test_a_deleted_image_leaves_nothing_in_the_bucket(s3, django_capture_on_commit_callbacks):
    image = image_files.make_image(image_files.jpeg_bytes(900, 600))
    update_image_files(image_id=image.pk)
    assert keys(s3)
    with django_capture_on_commit_callbacks(execute=True):
        Image.objects.get(pk=image.pk).delete()
    assert keys(s3) == []
