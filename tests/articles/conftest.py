import pytest


@pytest.fixture(autouse=True)
def _axes_off(settings):
    """force_login() has no client address; django-axes would log "unknown", which PostgreSQL rejects.

    Login throttling is not what these tests are about (the production tests cover it).
    """
    settings.AXES_ENABLED = False
