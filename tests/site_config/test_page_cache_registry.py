"""Who invalidates the page cache: each app registers its own models; one function bumps.

site_config knows no app model: articles and protocols call ``page_cache.register()`` in
their ``AppConfig.ready()``, and every invalidation goes through ``bump_content_version``.
"""

import ast
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from taggit.models import Tag, TaggedItem

from articles.models import Article, Author, EditorialSettings, Image, Reference, Review, Reviewer, TaggedArticle
from protocols.banner import BANNER_CACHE_KEY
from protocols.models import Protocol, Signup
from protocols.seed import seed_protocols
from site_config import page_cache

ROOT = Path(__file__).resolve().parents[2]


def test_each_app_registers_what_its_public_pages_show():
    """Each app registers the models its public pages show, with Article's published_at as the publish field."""
    assert page_cache.registered_models() == {
        Article: "published_at",
        Author: None,
        Reference: None,
        TaggedArticle: None,
        Tag: None,
        TaggedItem: None,
        Image: None,  # alt text, captions, credits, focal points, new renditions
        Reviewer: None,
        Review: None,
        EditorialSettings: None,
        Protocol: None,
    }


def test_the_page_cache_names_no_app_and_the_apps_use_only_its_public_api():
    """No app label in site_config/page_cache/; no app imports one of its modules or private names."""
    for path in (ROOT / "site_config" / "page_cache").glob("*.py"):
        source = path.read_text()
        for app in ("articles", "protocols", "taggit"):
            assert app not in source, f"{path.name} names {app}"
    for app in ("articles", "protocols"):
        for path in (ROOT / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("site_config.page_cache"):
                    assert node.module == "site_config.page_cache", f"{path}: imports {node.module}"
                    assert {alias.name for alias in node.names} <= set(page_cache.__all__), path
                    assert not any(alias.name.startswith("_") for alias in node.names), path


def test_a_misspelt_publish_at_field_fails_at_start_up():
    """Registering a publish_at field that does not exist fails at once and registers nothing."""
    with pytest.raises(FieldDoesNotExist):
        page_cache.register(Signup, publish_at="publish_at_typo")
    assert Signup not in page_cache.registered_models()


@pytest.mark.django_db
def test_a_change_to_an_unregistered_model_keeps_the_cached_pages(django_capture_on_commit_callbacks):
    """A signup is not on any public page: it must not empty the cache for everyone."""
    protocol = seed_protocols()
    before = page_cache.current_version(create=True)
    with django_capture_on_commit_callbacks(execute=True):
        Signup.objects.create(
            protocol=protocol, email="reader@example.org", consent_text="Yes.", consented_at=timezone.now()
        )
    assert page_cache.current_version() == before


@pytest.mark.django_db
def test_a_protocol_change_bumps_once_after_the_banner_is_refreshed(django_capture_on_commit_callbacks, monkeypatch):
    """The bump comes after the banner's refresh: no page is stored with the old banner
    under the new version. And one bump only, from the registry."""
    protocol = seed_protocols()
    bumps = []

    def bump():
        bumps.append(cache.get(BANNER_CACHE_KEY, "refreshed"))

    monkeypatch.setattr(page_cache.store, "bump_content_version", bump)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        protocol.announce = False
        protocol.save()
        cache.set(BANNER_CACHE_KEY, "stale")  # a request between the save and the commit re-caches the old banner
    for callback in callbacks:
        callback()
    assert bumps == ["refreshed"]
