from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin
from taggit.admin import TagAdmin as TaggitTagAdmin
from taggit.models import Tag

from .admin_reviews import ReviewInline, ReviewQueueAdminMixin
from .forms import ArticleAdminForm, ReferenceForm
from .history import compare, restore_version
from .images import admin as image_admin  # noqa: F401 (registers the image library)
from .models import Article, Author, Reference
from .search import article_ids_matching


class SearchIndexAdminMixin:
    """For ModelAdmin: the admin's search box uses the search index, drafts included.

    Slug fragments (the default `search_fields` lookup) still match as well. The result
    keeps the admin's own ordering; ranking applies on the public search page.
    """

    def get_search_results(self, request, queryset, search_term):
        default, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        ids = article_ids_matching(search_term)
        if not ids:
            return default, may_have_duplicates
        return queryset.filter(pk__in=ids) | default, may_have_duplicates


class ReferenceInline(admin.TabularInline):
    model = Reference
    form = ReferenceForm
    extra = 1
    fields = ["position", "authors", "title", "journal", "year", "doi", "pmid", "url"]
    verbose_name_plural = "References (numbered in this order: [^1] in the body cites the first)"
    ordering = ["position", "id"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class TagFilter(admin.SimpleListFilter):
    title = "tag"
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        return Tag.objects.filter(articles_taggedarticle_items__isnull=False).distinct().values_list("slug", "name")

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(tagged_items__tag__slug=self.value())
        return queryset


@admin.register(Article)
class ArticleAdmin(ReviewQueueAdminMixin, SearchIndexAdminMixin, SimpleHistoryAdmin):
    form = ArticleAdminForm
    list_display = ["title", "status", "publication", "tag_names", "author", "updated_at"]
    list_filter = ["status", TagFilter, "author", "published_at"]
    list_select_related = ["author"]
    search_fields = ["title", "summary", "slug"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    inlines = [ReferenceInline, ReviewInline]
    actions = ["publish_now", "move_to_drafts"]
    autocomplete_fields = ["author", "assigned_reviewer", "hero_image"]
    history_list_display = ["version_tags", "version_actions"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "body", "tags"]}),
        (
            "Images",
            {
                "fields": ["hero_image"],
                "description": "Pick the hero from the image library by its alt text, caption or credit, or upload "
                "one with “+”. In the body, <code>![](image:42)</code> shows library image 42 (text in the brackets "
                "replaces its alt text).",
            },
        ),
        (
            "Publication",
            {
                "fields": ["status", "published_at", "author"],
                "description": "Public only when the status is “Published” and the publication time has passed. "
                "A future time schedules the article. Drafts can be previewed with “View on site”.",
            },
        ),
        (
            "Medical review",
            {
                "fields": ["assigned_reviewer", "review_interval_months"],
                "description": "Record reviews in “Medical reviews” below (only after a qualified reviewer checked "
                "the article) or from the review queue. A review does not change the “Updated” date.",
            },
        ),
        (
            "Disclosure",
            {
                "fields": ["mentions_publisher_products"],
                "description": "Tick when the article names or recommends a product the publisher sells.",
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).for_listing()

    @admin.display(description="published / scheduled", ordering="published_at")
    def publication(self, obj):
        if obj.published_at is None:
            return "—"
        when = timezone.localtime(obj.published_at).strftime("%Y-%m-%d %H:%M")
        return f"Scheduled for {when}" if obj.is_scheduled else when

    @admin.display(description="tags")
    def tag_names(self, obj):
        return ", ".join(tag.name for tag in obj.tag_list)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Tags and references are saved after the article row: complete this save's version.
        form.instance.refresh_history_snapshot()
        self.warn_about_markers_without_a_reference(request, form.instance)

    def warn_about_markers_without_a_reference(self, request, article):
        """A `[^7]` with six references links to nothing on the page: tell the editor."""
        count = article.references.count()
        missing = sorted(number for number in article.cited_numbers if number > count)
        if missing:
            markers = ", ".join(f"[^{number}]" for number in missing)
            self.message_user(
                request,
                f"The text cites {markers} but the article has {count} reference{'s' if count != 1 else ''}: "
                "add the missing references or correct the markers.",
                messages.WARNING,
            )

    # Bulk actions save each article on its own (not queryset.update()) so signals, the
    # page cache, the search index and the history all see the change.
    @admin.action(description="Publish now", permissions=["change"])
    def publish_now(self, request, queryset):
        now = timezone.now()
        count = 0
        for article in queryset:
            if article.is_published:
                continue
            article.status = Article.Status.PUBLISHED
            article.published_at = now
            article._history_user = request.user
            article._change_reason = "Published now (bulk action)"
            article.save()
            count += 1
        self.message_user(request, f"{count} article(s) published.", messages.SUCCESS)

    @admin.action(description="Move to drafts", permissions=["change"])
    def move_to_drafts(self, request, queryset):
        count = 0
        for article in queryset.exclude(status=Article.Status.DRAFT):
            article.status = Article.Status.DRAFT
            article._history_user = request.user
            article._change_reason = "Moved to drafts (bulk action)"
            article.save()
            count += 1
        self.message_user(request, f"{count} article(s) moved to drafts.", messages.SUCCESS)

    # --- History: compare two versions, restore one ---------------------------------------

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        urls = [
            path(
                "<path:object_id>/history/compare/",
                self.admin_site.admin_view(self.compare_view),
                name=f"{prefix}_compare",
            ),
            path(
                "<path:object_id>/history/<int:history_id>/restore/",
                self.admin_site.admin_view(self.restore_view),
                name=f"{prefix}_restore",
            ),
        ]
        # Before simple_history's own "<id>/history/<version>/" pattern, which would match "compare".
        return urls + super().get_urls()

    def revert_disabled(self, request, obj=None):
        # simple_history's form-based revert would keep today's tags and references: use restore_view.
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    @admin.display(description="tags")
    def version_tags(self, record):
        return ", ".join(record.tag_names or [])

    @admin.display(description="compare / restore")
    def version_actions(self, record):
        compare_url = reverse("admin:articles_article_compare", args=[record.id])
        restore_url = reverse("admin:articles_article_restore", args=[record.id, record.history_id])
        return format_html(
            '<a href="{}?a={}&amp;b=current">Compare with current</a> · <a href="{}">Restore…</a>',
            compare_url,
            record.history_id,
            restore_url,
        )

    def _article_and_versions(self, request, object_id):
        article = self.get_object(request, object_id)
        if article is None:
            raise Http404
        if not self.has_change_permission(request, article):
            raise PermissionDenied
        return article, article.history.select_related("history_user").order_by("-history_date", "-history_id")

    def compare_view(self, request, object_id):
        article, versions = self._article_and_versions(request, object_id)

        def pick(key):
            value = request.GET.get(key, "current")
            if value == "current":
                return article
            try:
                return get_object_or_404(versions, history_id=int(value))
            except ValueError:
                raise Http404 from None

        older, newer = pick("a"), pick("b")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Compare versions: {article}",
            "opts": self.opts,
            "original": article,
            "versions": versions,
            "selected_a": request.GET.get("a", "current"),
            "selected_b": request.GET.get("b", "current"),
            "rows": compare(older, newer),
            "older": older,
            "newer": newer,
        }
        return TemplateResponse(request, "admin/articles/article/compare.html", context)

    def restore_view(self, request, object_id, history_id):
        article, versions = self._article_and_versions(request, object_id)
        version = get_object_or_404(versions, history_id=history_id)
        if request.method == "POST":
            try:
                restore_version(article, version, user=request.user)
            except ValidationError as error:
                self.message_user(request, f"Not restored: {' '.join(error.messages)}", messages.ERROR)
            else:
                self.log_change(request, article, f"Restored the version of {version.history_date:%Y-%m-%d %H:%M}.")
                self.message_user(request, "The version was restored, with its tags and references.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:articles_article_change", args=[article.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Restore a version of “{article}”",
            "opts": self.opts,
            "original": article,
            "version": version,
            "rows": compare(article, version),
        }
        return TemplateResponse(request, "admin/articles/article/restore.html", context)


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "credentials", "user"]
    search_fields = ["name", "credentials"]
    prepopulated_fields = {"slug": ["name"]}


admin.site.unregister(Tag)


@admin.register(Tag)
class TagAdmin(TaggitTagAdmin):
    list_display = ["name", "slug", "article_count", "published_count"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                article_count=Count("articles_taggedarticle_items", distinct=True),
                published_count=Count(
                    "articles_taggedarticle_items",
                    filter=Q(articles_taggedarticle_items__content_object__in=Article.objects.published()),
                    distinct=True,
                ),
            )
        )

    @admin.display(description="articles", ordering="article_count")
    def article_count(self, obj):
        return obj.article_count

    @admin.display(description="published", ordering="published_count")
    def published_count(self, obj):
        return obj.published_count
