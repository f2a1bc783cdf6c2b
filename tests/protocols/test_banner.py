import pytest
from django.test import Client

from protocols.banner import get_banner_protocol
from protocols.models import Protocol

BANNER = "Our newest protocol, the Sleep Protocol is now available!"


@pytest.mark.django_db
def test_banner_shows_the_exact_sentence_with_link(protocol):
    """Every page carries the publisher's sentence with "Find out more here" linking to the protocol."""
    html = Client().get("/protocols/").content.decode()
    assert BANNER in html
    assert f'<a href="{protocol.get_absolute_url()}">Find out more here</a>.' in html


@pytest.mark.django_db
def test_no_banner_when_nothing_is_announced(make_protocol):
    """Without an announced open protocol there is no banner at all."""
    make_protocol(announce=False)
    make_protocol(announce=True, status=Protocol.Status.CLOSED)
    make_protocol(announce=True, status=Protocol.Status.UPCOMING)
    html = Client().get("/protocols/").content.decode()
    assert "Our newest protocol" not in html
    assert 'class="announcement"' not in html


@pytest.mark.django_db
def test_banner_picks_the_newest_announced_open_protocol(make_protocol):
    """The most recently launched announced open protocol wins."""
    from datetime import timedelta

    from django.utils import timezone

    make_protocol(name="Old Protocol", announce=True, launched_at=timezone.now() - timedelta(days=30))
    make_protocol(name="New Protocol", announce=True, launched_at=timezone.now())
    assert get_banner_protocol().name == "New Protocol"


@pytest.mark.django_db
def test_banner_costs_one_query_cold_and_none_warm(protocol, django_assert_num_queries):
    """The banner lookup is one query with a cold cache and zero once cached."""
    with django_assert_num_queries(1):
        assert get_banner_protocol().slug == protocol.slug
    with django_assert_num_queries(0):
        assert get_banner_protocol().slug == protocol.slug


@pytest.mark.django_db
def test_no_banner_is_cached_too(django_assert_num_queries):
    """Nothing announced is cached as well, so pages without a banner cost no query either."""
    assert get_banner_protocol() is None
    with django_assert_num_queries(0):
        assert get_banner_protocol() is None


@pytest.mark.django_db(transaction=True)
def test_saving_or_deleting_a_protocol_refreshes_the_banner():
    """Editing, un-announcing or deleting the protocol shows on the very next lookup."""
    from protocols.seed import seed_protocols

    protocol = seed_protocols()
    assert get_banner_protocol().name == "Sleep Protocol"
    protocol.name = "Sleep Protocol 2"
    protocol.save()
    assert get_banner_protocol().name == "Sleep Protocol 2"
    protocol.announce = False
    protocol.save()
    assert get_banner_protocol() is None
    protocol.announce = True
    protocol.save()
    assert get_banner_protocol() is not None
    protocol.delete()
    assert get_banner_protocol() is None


@pytest.mark.django_db
def test_page_with_banner_costs_no_banner_query_when_warm(protocol, django_assert_max_num_queries):
    """A page render reads the banner from the cache, not the database, once warm."""
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    get_banner_protocol()
    with django_assert_max_num_queries(0):
        html = render_to_string("includes/banner.html", {"banner_protocol": get_banner_protocol()}, request)
    assert BANNER in html
