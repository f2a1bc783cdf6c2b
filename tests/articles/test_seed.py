"""seed_content and setup_roles: idempotent, word for word, never overwriting editors' work."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command

from articles.models import Article
from articles.seed import SEED_DIR, parse_seed_file

pytestmark = pytest.mark.django_db

SOURCE = Path(settings.BASE_DIR).parent / "shared" / "seed" / "000_5e95f7fa87e714f0.txt"
SLUG = "magnesium-and-leg-cramps"
HEADINGS = [
    "What Causes Muscle Cramps in the Calves?",
    "Supplements Recommended for Prevention of Leg Cramps",
    "Preventing Leg Cramps",
    "Conclusion",
]


def seed():
    call_command("seed_content", stdout=StringIO())


def test_seed_creates_the_published_article_with_tags_and_no_reviewer():
    """The seed article is public, has a summary, the four tags, no invented reviewer or author, and
    is marked as mentioning the publisher's products."""
    seed()
    article = Article.objects.published().get(slug=SLUG)
    assert article.title == "Magnesium and Leg Cramps"
    assert article.summary
    assert sorted(tag.name for tag in article.tag_list) == ["leg cramps", "magnesium", "muscle health", "supplements"]
    assert not article.reviews.exists() and article.assigned_reviewer is None
    assert article.mentions_publisher_products  # it recommends "Magnesium Balance"
    assert [text for _, text in article.headings()] == HEADINGS


def test_seed_body_is_the_source_text_word_for_word():
    """Lead paragraphs then the four h2 sections, paragraph by paragraph, exactly as in the source page."""
    seed()
    body = Article.objects.get(slug=SLUG).body
    blocks = [re.sub(r"^## ", "", block) for block in body.strip().split("\n\n")]
    if SOURCE.exists():
        lines = [line.strip() for line in SOURCE.read_text(encoding="utf-8").splitlines() if line.strip()]
        start = lines.index("Magnesium and Leg Cramps") + 1
        expected = [line for line in lines[start:] if line != "Search"]
        assert blocks == expected
    assert blocks[0].startswith("It's estimated that up to 60 percent of adults")
    assert blocks[-1].endswith("may benefit your health in more ways than one.")
    assert len(blocks) == 5 + 1 + 5 + 1 + 4 + 1 + 4 + 1 + 1


def test_seed_data_ships_inside_the_project():
    """The running site reads the article from articles/seed/, never from ../shared."""
    path = SEED_DIR / f"{SLUG}.md"
    assert path.is_file()
    assert parse_seed_file(path)["slug"] == SLUG


def test_seed_twice_changes_nothing():
    """A second run creates no article, no tag and no version."""
    seed()
    article = Article.objects.get(slug=SLUG)
    before = (Article.objects.count(), article.tags.count(), article.history.count(), article.updated_at)
    seed()
    article.refresh_from_db()
    assert (Article.objects.count(), article.tags.count(), article.history.count(), article.updated_at) == before


def test_seed_never_overwrites_an_editors_changes():
    """After an editor edits or unpublishes the article, seeding again leaves it as the editor left it."""
    seed()
    article = Article.objects.get(slug=SLUG)
    article.title = "Magnesium and leg cramps: an update"
    article.body = "Rewritten."
    article.status = Article.Status.DRAFT
    article.save()
    article.tags.set(["magnesium"])
    seed()
    article.refresh_from_db()
    assert article.title == "Magnesium and leg cramps: an update"
    assert article.body == "Rewritten."
    assert article.status == Article.Status.DRAFT
    assert [tag.name for tag in article.tags.all()] == ["magnesium"]


def test_seed_does_not_bring_back_an_article_an_editor_renamed_or_deleted():
    """Seeding is once per slug ever: a new slug or a deletion by an editor stands."""
    seed()
    article = Article.objects.get(slug=SLUG)
    article.slug = "magnesium-for-leg-cramps"
    article.save()
    seed()
    assert list(Article.objects.values_list("slug", flat=True)) == ["magnesium-for-leg-cramps"]
    Article.objects.get().delete()
    seed()
    assert not Article.objects.exists()


def test_setup_roles_creates_editors_who_cannot_touch_users_or_signups():
    """Editors can write and publish articles and tags; no permission on users, groups or signups."""
    call_command("setup_roles", stdout=StringIO())
    codes = {f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name="Editors").permissions.all()}
    assert {"articles.add_article", "articles.change_article", "articles.view_historicalarticle"} <= codes
    assert {"taggit.add_tag", "taggit.change_tag"} <= codes
    assert not {code for code in codes if code.startswith(("auth.", "protocols.")) or "signup" in code}


def test_setup_roles_is_idempotent():
    """Running it again keeps one group with the same permissions, and restores removed ones."""
    call_command("setup_roles", stdout=StringIO())
    group = Group.objects.get(name="Editors")
    first = set(group.permissions.values_list("pk", flat=True))
    group.permissions.clear()
    call_command("setup_roles", stdout=StringIO())
    assert Group.objects.filter(name="Editors").count() == 1
    assert set(group.permissions.values_list("pk", flat=True)) == first
