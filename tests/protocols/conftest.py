import pytest

from protocols.seed import seed_protocols
from tests.helpers import run_worker
from tests.protocols import factories


@pytest.fixture
def protocol(db):
    """The seeded Sleep Protocol: open and announced."""
    return seed_protocols()


@pytest.fixture
def make_protocol(db):
    """tests.protocols.factories.make_protocol, with database access."""
    return factories.make_protocol


@pytest.fixture
def make_signup(db):
    """tests.protocols.factories.make_signup, with database access."""
    return factories.make_signup


@pytest.fixture
def worker():
    """tests.helpers.run_worker: runs every ready task in this process, returns how many ran."""
    return run_worker
