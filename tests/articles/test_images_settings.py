"""MEDIA_S3_* variables as settings.py reads them: the storage, its public URLs and the CSP."""

from site_config.media_storage import s3_media_storage
from site_config.settings import MEDIA_CACHE_CONTROL


def test_without_a_bucket_files_stay_on_local_disk(settings):
    assert s3_media_storage({}) == (None, "")
    assert settings.STORAGES["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert settings.MEDIA_ROOT.name == "media"


def test_a_bucket_with_an_endpoint_serves_from_the_endpoint():
    storage, origin = s3_media_storage(
        {"MEDIA_S3_BUCKET": " media ", "MEDIA_S3_ENDPOINT_URL": "https://s3.example.net", "MEDIA_S3_REGION": "eu-1"}
    )
    options = storage["OPTIONS"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert (options["bucket_name"], options["endpoint_url"], options["region_name"]) == (
        "media",
        "https://s3.example.net",
        "eu-1",
    )
    assert options["object_parameters"] == {"CacheControl": MEDIA_CACHE_CONTROL}
    assert options["querystring_auth"] is False and options["file_overwrite"] is False
    assert origin == "https://s3.example.net"


def test_a_public_url_becomes_the_files_address_and_the_csp_origin():
    storage, origin = s3_media_storage({"MEDIA_S3_BUCKET": "media", "MEDIA_S3_PUBLIC_URL": "https://cdn.example.org/"})
    assert storage["OPTIONS"]["custom_domain"] == "cdn.example.org"
    assert storage["OPTIONS"]["url_protocol"] == "https:"
    assert origin == "https://cdn.example.org"
    _storage, aws_origin = s3_media_storage({"MEDIA_S3_BUCKET": "media"})
    assert aws_origin == "https://media.s3.amazonaws.com"
