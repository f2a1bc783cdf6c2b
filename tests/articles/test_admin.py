"""The editors' admin: list, form, bulk actions, versions (compare, restore), tags, view on site."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from taggit.models import Tag

from articles.models import Article, Reference
from tests.articles.factories import article_form_data, make_article, make_author, make_scheduled
from tests.helpers import log_in_staff

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:articles_article_changelist"


@pytest.fixture
def admin_client(client):
    return log_in_staff(client, get_user_model().objects.create_superuser("boss", "boss@example.com", "pw"))


@pytest.fixture
def editor_client(client):
    """A staff user in the Editors group made by setup_roles."""
    call_command("setup_roles", stdout=None)
    user = get_user_model().objects.create_user("ed", "ed@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return log_in_staff(client, user)


def test_changelist_shows_the_editors_columns_and_filters(admin_client):
    """Title, status, publication/scheduled time, tags, author and updated, with status/tag/author/date filters."""
    make_article(title="Live piece", tags=["sleep", "magnesium"], author=make_author(name="Dana Reyes"))
    make_scheduled(title="Later piece")
    response = admin_client.get(reverse(CHANGELIST))
    page = response.content.decode()
    assert response.status_code == 200
    for text in ("Live piece", "magnesium, sleep", "Dana Reyes", "Scheduled for", "Later piece"):
        assert text in page, text
    for column in ("column-status", "column-publication", "column-tag_names", "column-author", "column-updated_at"):
        assert column in page, column
    for param in ("status__exact=", "tag=sleep", "author__id__exact=", "published_at__gte="):
        assert param in page, param
    assert admin_client.get(reverse(CHANGELIST), {"tag": "sleep"}).content.decode().count("Later piece") == 0
    assert "Live piece" in admin_client.get(reverse(CHANGELIST), {"q": "Live"}).content.decode()


def test_change_form_prefills_slug_and_hides_the_rendered_html(admin_client):
    """The slug is prepopulated from the title; body_html is not a form field; help texts guide editors."""
    page = admin_client.get(reverse("admin:articles_article_add")).content.decode()
    assert "&quot;#id_slug&quot;" in page and "&quot;dependency_ids&quot;: [&quot;#id_title&quot;]" in page
    assert 'name="body_html"' not in page
    assert "Separate tags with commas" in page
    assert "A future time schedules the article" in page


def test_adding_an_article_saves_tags_references_and_a_complete_version(admin_client):
    """One admin save: the article, comma-separated tags (multi-word kept), ordered references, one version."""
    response = admin_client.post(reverse("admin:articles_article_add"), article_form_data())
    assert response.status_code == 302, response.content.decode()[:3000]
    article = Article.objects.get(slug="zinc-and-colds")
    assert article.is_published
    assert sorted(tag.name for tag in article.tags.all()) == ["common cold", "zinc"]
    assert [ref.title for ref in article.references.all()] == ["First source", "Second source"]
    version = article.history.get()
    assert version.tag_names == ["common cold", "zinc"]
    assert [ref["title"] for ref in version.references_snapshot] == ["First source", "Second source"]
    assert version.history_user.username == "boss"


def test_markers_past_the_last_reference_are_pointed_out_to_the_editor(admin_client):
    """[^3] with two references saves, and the editor is told which markers link to nothing."""
    body = "Lead [^1].\n\nMore [^2] and [^3], then [^5]."
    response = admin_client.post(reverse("admin:articles_article_add"), article_form_data(body=body), follow=True)
    assert Article.objects.filter(slug="zinc-and-colds").exists()
    messages = [str(message) for message in response.context["messages"]]
    warning = "The text cites [^3], [^5] but the article has 2 references: add the missing references or correct"
    assert any(message.startswith(warning) for message in messages), messages

    article = Article.objects.get(slug="zinc-and-colds")
    change = article_form_data(body="Lead [^1].\n\nMore [^2].", **{"references-INITIAL_FORMS": "0"})
    Reference.objects.filter(article=article).delete()
    response = admin_client.post(reverse("admin:articles_article_change", args=[article.pk]), change, follow=True)
    assert not any("cites" in str(message) for message in response.context["messages"])


def test_duplicate_slug_is_a_form_error_not_a_500(admin_client):
    """Reusing another article's slug shows a clear error on the form."""
    make_article(slug="zinc-and-colds")
    response = admin_client.post(reverse("admin:articles_article_add"), article_form_data())
    assert response.status_code == 200
    assert "Article with this Slug already exists." in response.content.decode()
    assert Article.objects.filter(slug="zinc-and-colds").count() == 1


def test_tags_differing_only_in_case_are_one_tag_in_the_admin(admin_client):
    """Typing "Magnesium" when "magnesium" exists reuses the tag."""
    make_article(tags=["magnesium"])
    admin_client.post(reverse("admin:articles_article_add"), article_form_data(tags="Magnesium, MAGNESIUM"))
    assert Tag.objects.filter(name__iexact="magnesium").count() == 1
    assert Article.objects.get(slug="zinc-and-colds").tags.get().name == "magnesium"


def test_publish_now_publishes_drafts_and_scheduled_one_by_one(admin_client):
    """ "Publish now" makes drafts and scheduled articles public at once, saving each (a version each)."""
    draft, scheduled = make_article(published=False), make_scheduled()
    live = make_article(days_ago=10)
    live_date = live.published_at
    response = admin_client.post(
        reverse(CHANGELIST), {"action": "publish_now", "_selected_action": [draft.pk, scheduled.pk, live.pk]}
    )
    assert response.status_code == 302
    for article in (draft, scheduled):
        article.refresh_from_db()
        assert article.is_published
        assert article.history.first().history_change_reason == "Published now (bulk action)"
    live.refresh_from_db()
    assert live.published_at == live_date


def test_move_to_drafts_unpublishes_each_article(admin_client, client):
    """ "Move to drafts" takes articles off the site; each gets a version."""
    article = make_article(tags=["sleep"])
    versions = article.history.count()
    admin_client.post(reverse(CHANGELIST), {"action": "move_to_drafts", "_selected_action": [article.pk]})
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT
    assert article.history.count() == versions + 1
    admin_client.logout()
    assert client.get(article.get_absolute_url()).status_code == 404


def test_bulk_actions_send_save_signals(admin_client):
    """Bulk actions call save() per article, so post_save receivers (cache, search index) run."""
    from django.db.models.signals import post_save

    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_save.connect(receiver, sender=Article)
    try:
        a, b = make_article(published=False), make_article(published=False)
        seen.clear()
        admin_client.post(reverse(CHANGELIST), {"action": "publish_now", "_selected_action": [a.pk, b.pk]})
        admin_client.post(reverse(CHANGELIST), {"action": "move_to_drafts", "_selected_action": [a.pk]})
    finally:
        post_save.disconnect(receiver, sender=Article)
    assert sorted(seen) == sorted([a.pk, b.pk, a.pk])


def test_restore_brings_back_fields_tags_and_references(admin_client):
    """Restoring an old version restores title, body, status, tags and references, as a new version."""
    admin_client.post(reverse("admin:articles_article_add"), article_form_data())
    article = Article.objects.get(slug="zinc-and-colds")
    first = article.history.get()
    change_url = reverse("admin:articles_article_change", args=[article.pk])
    edited = article_form_data(
        title="Zinc: a rewrite",
        body="Different body.",
        tags="zinc, immunity",
        status="draft",
        **{
            "references-TOTAL_FORMS": "1",
            "references-INITIAL_FORMS": "0",
            "references-0-position": "0",
            "references-0-title": "Only new source",
            "references-0-url": "https://example.org/new",
            "references-1-title": "",
            "references-1-url": "",
            "references-1-position": "",
        },
    )
    # Existing references are deleted through the inline's DELETE boxes.
    for i, ref in enumerate(article.references.all()):
        edited[f"references-{i}-id"] = str(ref.pk)
        edited[f"references-{i}-article"] = str(article.pk)
        edited[f"references-{i}-position"] = str(ref.position)
        edited[f"references-{i}-title"] = ref.title
        edited[f"references-{i}-url"] = ref.url
        edited[f"references-{i}-DELETE"] = "on"
    edited.update(
        {
            "references-TOTAL_FORMS": "3",
            "references-INITIAL_FORMS": "2",
            "references-2-position": "0",
            "references-2-title": "Only new source",
            "references-2-url": "https://example.org/new",
        }
    )
    assert admin_client.post(change_url, edited).status_code == 302
    article.refresh_from_db()
    assert article.title == "Zinc: a rewrite"
    assert [ref.title for ref in article.references.all()] == ["Only new source"]
    assert article.history.first().tag_names == ["immunity", "zinc"]

    restore_url = reverse("admin:articles_article_restore", args=[article.pk, first.history_id])
    confirm = admin_client.get(restore_url)
    assert confirm.status_code == 200 and "Restore this version" in confirm.content.decode()
    assert admin_client.post(restore_url).status_code == 302

    article.refresh_from_db()
    assert article.title == "Zinc and colds"
    assert article.body == "Lead.\n\n## Evidence\n\nSome."
    assert article.status == "published"
    assert sorted(tag.name for tag in article.tags.all()) == ["common cold", "zinc"]
    assert [(r.title, r.url) for r in article.references.all()] == [
        ("First source", "https://example.org/1"),
        ("Second source", "https://example.org/2"),
    ]
    newest = article.history.first()
    assert newest.history_change_reason.startswith("Restored the version of")
    assert newest.tag_names == ["common cold", "zinc"]
    assert article.history.count() == 3


def test_restore_refuses_a_slug_now_taken_by_another_article(admin_client):
    """A version whose slug another article now uses is not restored; the editor sees why."""
    article = make_article(slug="first-slug")
    old = article.history.get()
    article.slug = "second-slug"
    article.save()
    make_article(slug="first-slug")
    url = reverse("admin:articles_article_restore", args=[article.pk, old.history_id])
    response = admin_client.post(url, follow=True)
    assert "Not restored" in response.content.decode()
    article.refresh_from_db()
    assert article.slug == "second-slug"


def test_compare_two_versions(admin_client):
    """The compare page shows which fields changed between two versions, tags and body included."""
    article = make_article(title="Before", body="Line one.\nLine two.", tags=["zinc"])
    older = article.history.get()
    article.title = "After"
    article.body = "Line one.\nLine 2."
    article.save()
    article.tags.add("sleep")
    newer = article.history.first()
    url = reverse("admin:articles_article_compare", args=[article.pk])
    page = admin_client.get(url, {"a": older.history_id, "b": newer.history_id}).content.decode()
    assert "Before" in page and "After" in page
    assert "-Line two." in page and "+Line 2." in page
    assert "zinc, sleep" in page or "sleep, zinc" in page
    assert admin_client.get(url, {"a": "junk"}).status_code == 404


def test_history_page_links_compare_and_restore(admin_client):
    """Each version in the history list links to compare-with-current and restore."""
    article = make_article(tags=["zinc"])
    page = admin_client.get(reverse("admin:articles_article_history", args=[article.pk])).content.decode()
    assert "Compare with current" in page and "Restore…" in page
    version = article.history.get()
    view = reverse("admin:articles_article_simple_history", args=[article.pk, version.history_id])
    assert admin_client.post(view, {"title": "sneaky"}).status_code == 403


def test_view_on_site_opens_a_preview_for_drafts(admin_client):
    """ "View on site" leads to the article URL, which editors can open even for a draft."""
    draft = make_article(published=False, slug="draft-piece")
    page = admin_client.get(reverse("admin:articles_article_change", args=[draft.pk])).content.decode()
    assert "View on site" in page
    response = admin_client.get(reverse("admin:view_on_site", args=[_content_type_id(), draft.pk]))
    assert response.status_code == 302 and response["Location"].endswith("/articles/draft-piece/")
    assert admin_client.get("/articles/draft-piece/").status_code == 200


def _content_type_id():
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Article).pk


def test_tag_admin_shows_usage_counts(admin_client):
    """The tag list shows how many articles, and how many published ones, use each tag."""
    make_article(tags=["zinc"])
    make_article(tags=["zinc"], published=False)
    response = admin_client.get(reverse("admin:taggit_tag_changelist"))
    page = response.content.decode()
    assert response.status_code == 200
    assert '<td class="field-article_count">2</td>' in page
    assert '<td class="field-published_count">1</td>' in page


def test_editors_can_publish_but_not_manage_users(editor_client):
    """An Editors member can open the article admin and run the actions, not the user admin."""
    draft = make_article(published=False)
    assert editor_client.get(reverse(CHANGELIST)).status_code == 200
    editor_client.post(reverse(CHANGELIST), {"action": "publish_now", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.is_published
    assert editor_client.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_a_single_version_can_be_viewed_read_only(admin_client):
    """simple_history's version page opens for reading; its revert button is replaced by Restore."""
    article = make_article(title="Readable version")
    version = article.history.get()
    url = reverse("admin:articles_article_simple_history", args=[article.pk, version.history_id])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "Readable version" in response.content.decode()


@pytest.mark.parametrize(
    ("tags", "message"),
    [("magnesium, ???", "needs at least one letter or digit"), ("x" * 101, "100 characters at most")],
)
def test_admin_refuses_tags_that_cannot_be_stored_or_linked(tags, message):
    """The admin form refuses tags that could not be stored or linked, with a message saying why."""
    from articles.forms import ArticleAdminForm

    form = ArticleAdminForm(data={"title": "T", "slug": "t", "summary": "S", "body": "B", "tags": tags})
    assert not form.is_valid()
    assert message in " ".join(form.errors["tags"])


def test_slug_help_text_shows_the_address_literally(admin_client):
    """The slug's help text reads as an address in the admin (no angle brackets taken as a tag)."""
    page = admin_client.get("/admin/articles/article/add/").content.decode()
    assert "/articles/magnesium-and-leg-cramps/" in page
    assert "/articles//" not in page
