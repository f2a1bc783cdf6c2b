"""Image files for tests, good and hostile, made with Pillow; and library images made from them."""

import functools
import io
import random
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage
from PIL import ImageCms, ImageDraw

from articles.images.uploads import clean_upload
from articles.models import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def photo(width=1800, height=1200, *, seed=1):
    """A picture with shapes and some noise: compresses like a photo, not like a flat colour."""
    picture = PILImage.linear_gradient("L").resize((width, height)).convert("RGB")
    draw = ImageDraw.Draw(picture)
    rnd = random.Random(seed)
    for _ in range(60):
        x, y = rnd.randrange(width), rnd.randrange(height)
        size = rnd.randrange(width // 20 + 1, width // 4 + 2)
        draw.ellipse((x, y, x + size, y + size), fill=tuple(rnd.randrange(256) for _ in range(3)))
    return PILImage.blend(picture, PILImage.effect_noise((width, height), 30).convert("RGB"), 0.15)


def gps_exif(orientation=None):
    exif = PILImage.Exif()
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    exif[0x010F] = "Camera Maker"  # Make
    exif[0x013B] = "Owner Name"  # Artist
    if orientation:
        exif[ORIENTATION] = orientation
    return exif


@functools.cache
def srgb_profile():
    """One profile for the whole run (a new one carries the time it was made)."""
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def jpeg_bytes(width=1800, height=1200, *, gps=True, orientation=None, icc=True, quality=85):
    """A JPEG with GPS, camera and owner EXIF and an ICC profile (by default)."""
    options = {"quality": quality}
    if gps:
        options["exif"] = gps_exif(orientation)
    if icc:
        options["icc_profile"] = srgb_profile()
    buffer = io.BytesIO()
    photo(width, height).save(buffer, "JPEG", **options)
    return buffer.getvalue()


def png_bytes(width=600, height=400, *, mode="RGBA"):
    """A PNG; in RGBA its left half is transparent."""
    picture = photo(width, height).convert(mode)
    if mode == "RGBA":
        alpha = PILImage.new("L", (width, height), 255)
        alpha.paste(0, (0, 0, width // 2, height))
        picture.putalpha(alpha)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def encoded(image_format, width=900, height=600, **options):
    buffer = io.BytesIO()
    photo(width, height).save(buffer, image_format, **options)
    return buffer.getvalue()


def bomb_png(width=20_000, height=20_000):
    """A decompression bomb: a few hundred KB on disk, 400 million pixels once decoded."""
    raw_row = b"\x00" + b"\x00" * width  # filter byte + one grey byte per pixel
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(raw_row) for _ in range(height)) + compressor.flush()
    return _png_from_chunks(width, height, data)


def _png_from_chunks(width, height, idat, colour_type=0):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def huge_dimensions_png(width=8000, height=6000):
    """48 million pixels: over the default 40 million limit, yet small on disk."""
    buffer = io.BytesIO()
    PILImage.new("L", (width, height), 200).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
)
TEXT_AS_JPEG = b"Just some text pretending to be a photo.\n" * 20


def polyglot_jpeg():
    """A valid JPEG with an HTML page appended after its end marker."""
    return jpeg_bytes(400, 300, gps=False) + b"<html><script>alert(document.cookie)</script></html>"


def trailing_zip_jpeg():
    """A valid JPEG with another file appended (no markup): still refused."""
    return jpeg_bytes(400, 300, gps=False) + b"PK\x03\x04" + bytes(range(256)) * 4


def script_in_png_text_chunk():
    """A PNG carrying a script in a text chunk, inside the image structure."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    buffer = io.BytesIO()
    photo(300, 200).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def truncated_jpeg():
    data = jpeg_bytes(1200, 800, gps=False)
    return data[: len(data) // 2]


def upload(data, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def make_image(data=None, **fields):
    """A library image stored as the admin would store it (checked, re-encoded), renditions not made yet."""
    clean = clean_upload(upload(data if data is not None else jpeg_bytes()))
    fields.setdefault("alt_text", "A glass of water beside magnesium tablets on a table")
    fields.setdefault("credit", "Jane Doe / CC BY 4.0")
    return Image.objects.create(file=clean.content, width=clean.width, height=clean.height, **fields)


def read_back(storage, name):
    """Open a stored file with Pillow (loaded)."""
    with storage.open(name, "rb") as handle:
        picture = PILImage.open(io.BytesIO(handle.read()))
        picture.load()
    return picture


def stored_files(root):
    """Every file under the media root, as relative paths."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def run_image_worker():
    """Run every queued task as `manage.py db_worker --batch` does, in this process; the status of
    every task so far, oldest first."""
    from django_tasks_db.models import DBTaskResult

    from tests.helpers import run_worker

    run_worker()
    return list(DBTaskResult.objects.order_by("enqueued_at").values_list("status", flat=True))
