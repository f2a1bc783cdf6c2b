"""The media storage settings: S3-compatible storage from the environment, read by settings.py."""

from urllib.parse import urlsplit


def s3_media_storage(environ, *, cache_control="public, max-age=31536000, immutable"):
    """S3-compatible storage (AWS, MinIO, Ceph, ...) from MEDIA_S3_* variables, so several app
    servers share the files: (the STORAGES entry, the origin images are served from), or
    (None, "") without MEDIA_S3_BUCKET."""
    bucket = environ.get("MEDIA_S3_BUCKET", "").strip()
    if not bucket:
        return None, ""
    endpoint = environ.get("MEDIA_S3_ENDPOINT_URL", "").strip()
    # Public base address of the files (a CDN or the bucket's own host), e.g. https://media.example.org;
    # empty: the endpoint's path-style address of the bucket.
    public_url = environ.get("MEDIA_S3_PUBLIC_URL", "").strip().rstrip("/")
    options = {
        "bucket_name": bucket,
        "endpoint_url": endpoint or None,
        "region_name": environ.get("MEDIA_S3_REGION", "").strip() or None,
        "access_key": environ.get("MEDIA_S3_ACCESS_KEY_ID", "").strip() or None,
        "secret_key": environ.get("MEDIA_S3_SECRET_ACCESS_KEY", "").strip() or None,
        # Public, content-addressed files: plain URLs (no expiring signatures), never overwritten.
        "querystring_auth": False,
        "file_overwrite": False,
        "default_acl": None,
        "object_parameters": {"CacheControl": cache_control},
    }
    if public_url:
        public = urlsplit(public_url)
        options["custom_domain"] = public.netloc + public.path
        options["url_protocol"] = f"{public.scheme}:"
        origin = f"{public.scheme}://{public.netloc}"
    elif endpoint:
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(endpoint))
    else:
        origin = f"https://{bucket}.s3.amazonaws.com"
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}, origin
