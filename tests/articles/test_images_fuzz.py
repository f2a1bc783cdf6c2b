"""Arbitrary and damaged files never escape the upload checks as anything but a form error."""

import functools

from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.images.uploads import clean_upload
from tests.articles import image_files


@functools.cache
def seeds():
    return [
        image_files.encoded("JPEG", 64, 48),
        image_files.encoded("PNG", 64, 48),
        image_files.encoded("WEBP", 64, 48),
        image_files.encoded("AVIF", 64, 48),
    ]


def check(data):
    try:
        clean = clean_upload(image_files.upload(data))
    except ValidationError as error:
        assert error.messages and all(message.strip() for message in error.messages)
    else:
        assert clean.width > 0 and clean.height > 0 and clean.content.size > 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_random_bytes_are_a_form_error_never_an_exception(data):
    check(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=3),
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), max_size=8),
    cut=st.one_of(st.none(), st.integers(min_value=0)),
)
def test_damaged_images_are_a_form_error_never_an_exception(seed, flips, cut):
    """Real JPEG, PNG, WebP and AVIF files with bytes changed or cut short."""
    data = bytearray(seeds()[seed])
    for position, value in flips:
        data[position % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    check(bytes(data))
