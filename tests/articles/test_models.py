"""Article model: what is public, rendering, tags, related articles, version snapshots."""

from datetime import timedelta

import pytest
from django.utils import timezone
from taggit.models import Tag

from articles.models import Article, Reference, tags_in_use
from tests.articles.factories import make_article, make_scheduled
from tests.articles.html_checks import dangerous_markup

pytestmark = pytest.mark.django_db


def test_published_excludes_drafts_and_scheduled():
    """published() is status published and a publication time in the past, nothing else."""
    live = make_article()
    make_article(published=False)
    make_scheduled()
    assert list(Article.objects.published()) == [live]


def test_is_published_and_is_scheduled_match_the_queryset():
    """The per-object flags agree with published() for live, draft and scheduled articles."""
    live, draft, scheduled = make_article(), make_article(published=False), make_scheduled()
    assert live.is_published and not live.is_scheduled
    assert not draft.is_published and not draft.is_scheduled
    assert not scheduled.is_published and scheduled.is_scheduled


def test_publishing_without_a_time_stamps_now():
    """Saving a published article without a time sets published_at, so it is public at once."""
    article = make_article(published=False)
    article.status = Article.Status.PUBLISHED
    article.save()
    assert article.published_at is not None and article.published_at <= timezone.now()
    assert article in Article.objects.published()


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "<iframe src=//evil.example></iframe>",
    ],
)
def test_body_html_is_sanitised(hostile):
    """Scripts, event handlers, javascript: links and iframes never reach body_html."""
    article = make_article(body=f"Before.\n\n{hostile}\n\nAfter.")
    assert dangerous_markup(article.body_html) == []
    assert "<p>Before.</p>" in article.body_html


def test_headings_get_ids_and_form_the_table_of_contents():
    """Each h2 gets a stable, unique id; headings() lists them in order for the table of contents."""
    article = make_article(body="Lead.\n\n## Why *it* matters\n\nx\n\n## Why it matters\n\ny\n\n### Not in toc\n")
    assert '<h2 id="why-it-matters">Why <em>it</em> matters</h2>' in article.body_html
    assert article.headings() == [("why-it-matters", "Why it matters"), ("why-it-matters-2", "Why it matters")]


def test_tags_are_case_insensitive():
    """Tags "Magnesium" and "magnesium" are one tag, whichever article used it first."""
    first = make_article(tags=["Magnesium"])
    second = make_article(tags=["magnesium", "MAGNESIUM"])
    assert Tag.objects.count() == 1
    assert first.tag_list == second.tag_list


def test_tags_in_use_counts_published_articles_only():
    """Tag counts ignore drafts and scheduled articles; a tag used only on drafts is not listed."""
    make_article(tags=["sleep", "magnesium"])
    make_article(tags=["magnesium"])
    make_article(tags=["magnesium", "secret"], published=False)
    make_scheduled(tags=["magnesium", "future"])
    counts = {tag.name: tag.article_count for tag in tags_in_use()}
    assert counts == {"magnesium": 2, "sleep": 1}


def test_related_articles_are_ranked_by_shared_tags():
    """Most shared tags first, newest first among equals; never itself, drafts or unrelated articles."""
    article = make_article(tags=["a", "b", "c"])
    two_old = make_article(tags=["a", "b"], days_ago=30)
    three = make_article(tags=["a", "b", "c", "z"], days_ago=40)
    two_new = make_article(tags=["b", "c"], days_ago=2)
    make_article(tags=["a"], days_ago=1)
    make_article(tags=["a", "b", "c"], published=False)
    make_article(tags=["z"])
    related = list(Article.objects.published().related_to(article))
    assert related == [three, two_new, two_old]
    assert [r.shared_tags for r in related] == [3, 2, 2]


def test_every_save_keeps_a_version_with_tags_and_references():
    """ORM saves create versions; tags and references added after save() land on the newest one."""
    article = make_article(tags=["magnesium"], references=[("Study", "https://example.org/study")])
    latest = article.history.first()
    assert latest.tag_names == ["magnesium"]
    assert [(r["position"], r["title"], r["url"]) for r in latest.references_snapshot] == [
        (0, "Study", "https://example.org/study")
    ]

    article.title = "New title"
    article.save()
    article.tags.add("sleep")
    Reference.objects.create(article=article, position=1, title="Review", url="https://example.org/review")
    assert article.history.count() == 2
    newest, oldest = article.history.all()
    assert newest.title == "New title"
    assert newest.tag_names == ["magnesium", "sleep"]
    assert [ref["title"] for ref in newest.references_snapshot] == ["Study", "Review"]
    assert oldest.tag_names == ["magnesium"]


def test_reading_time_is_at_least_a_minute():
    """Reading time rounds words at 230 a minute and never shows zero."""
    assert make_article(body="short").reading_minutes == 1
    assert make_article(body="word " * 1150).reading_minutes == 5


def test_scheduled_becomes_public_when_its_time_passes():
    """A scheduled article needs no further action: once its time is past it is published."""
    article = make_scheduled()
    Article.objects.filter(pk=article.pk).update(published_at=timezone.now() - timedelta(seconds=1))
    assert Article.objects.published().filter(pk=article.pk).exists()


def test_removing_tags_and_references_updates_the_newest_version():
    """Removing a tag or deleting a reference after save() is reflected on the newest version too."""
    article = make_article(tags=["zinc", "sleep"], references=[("Study", "https://example.org/s")])
    article.tags.remove("sleep")
    article.references.get().delete()
    newest = article.history.first()
    assert newest.tag_names == ["zinc"]
    assert newest.references_snapshot == []


def test_deleting_an_article_keeps_its_last_tags_and_references_in_history():
    """The deletion version still records the tags and references the article had."""
    article = make_article(tags=["zinc"], references=[("Study", "https://example.org/s")])
    pk = article.pk
    article.delete()
    deleted = Article.history.filter(id=pk).first()
    assert deleted.history_type == "-"
    assert deleted.tag_names == ["zinc"]
    assert [ref["title"] for ref in deleted.references_snapshot] == ["Study"]


@pytest.mark.django_db
def test_tags_stored_without_a_slug_get_one_from_the_migration():
    """Tags saved with an empty slug before the fix are given one by migration 0004."""
    import importlib

    from django.apps import apps
    from django.urls import reverse
    from taggit.models import Tag

    tag = Tag.objects.create(name="???")
    Tag.objects.filter(pk=tag.pk).update(slug="")  # as such tags were stored before
    importlib.import_module("articles.migrations.0004_tags_without_slugs").give_slugs(apps, None)
    tag.refresh_from_db()
    assert tag.slug.startswith("tag-")
    assert reverse("articles:tag", args=[tag.slug]) == f"/tags/{tag.slug}/"
