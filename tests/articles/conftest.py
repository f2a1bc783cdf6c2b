import pytest


@pytest.fixture
def media_root(settings, tmp_path):
    """An empty media directory for this test (files on local disk, as in the embedded setup)."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root
