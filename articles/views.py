"""Reader pages. Every one starts from `Article.objects.published()` (search through
search_articles(), which does)."""

from urllib.parse import urlencode

from django.core.paginator import InvalidPage
from django.db.models import Prefetch, Q, prefetch_related_objects
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.decorators import method_decorator
from django.utils.functional import SimpleLazyObject
from django.views.decorators.cache import never_cache
from django.views.generic import DetailView, ListView, TemplateView
from django.views.generic.base import ContextMixin
from taggit.models import Tag

from site_config import page_cache
from site_config.page_cache import cache_public_page

from .forms import SearchForm
from .models import Article, Author, EditorialSettings, Review, Reviewer, tags_by_name, tags_in_use
from .search import search_articles

PREVIEW_PERMISSION = "articles.change_article"


class PublishedArticlesMixin:
    """The shared rule: only published articles, with their author and tags prefetched."""

    model = Article
    paginate_by = 10

    def get_queryset(self):
        return Article.objects.published().for_listing()


class CountedList:
    """What a ListView and its Paginator need of a list whose length is known beforehand:
    its count, and a page's slice, fetched (its queryset even built) when the template
    first reads it. A page from the fragment cache (templates/base.html) then builds no
    queryset and runs no query: a tenth of such a page's CPU under gunicorn was building
    one it never read (docs/performance.md)."""

    def __init__(self, count, build_queryset):
        self._count = count
        self._build_queryset = build_queryset

    def count(self):
        return self._count

    def __len__(self):
        return self._count

    def __getitem__(self, index):
        if not isinstance(index, slice):
            raise TypeError("CountedList gives pages (slices) only")
        return SimpleLazyObject(lambda: list(self._build_queryset()[index]))


@method_decorator(cache_public_page, name="dispatch")
class HomeView(PublishedArticlesMixin, ListView):
    template_name = "articles/home.html"
    context_object_name = "article_list"
    paginate_by = None

    def get_queryset(self):
        return SimpleLazyObject(lambda: list(super(HomeView, self).get_queryset()[:10]))

    def get_template_names(self):
        # Not ListView's, which asks the list for its model (and so would fetch it).
        return [self.template_name]


@method_decorator(cache_public_page, name="dispatch")
class ArticleListView(PublishedArticlesMixin, ListView):
    template_name = "articles/article_list.html"
    context_object_name = "article_list"

    def get_queryset(self):
        # How many are public, remembered under the content version like the tag page's count.
        [count] = page_cache.remembered(self.request, "article-list", [], self.public_count)
        return CountedList(count, super().get_queryset)

    @staticmethod
    def public_count():
        return [Article.objects.published().count()]


@method_decorator(cache_public_page, name="dispatch")
class TagDetailView(PublishedArticlesMixin, ListView):
    template_name = "articles/tag_detail.html"
    context_object_name = "article_list"

    def get_queryset(self):
        # The tag and its number of published articles (the same two queries as ever),
        # remembered under the content version: a page from the fragment cache reads neither.
        found = page_cache.remembered(self.request, "tag-page", [self.kwargs["slug"]], self.tag_and_count)
        if not found:
            raise Http404("No such tag.")
        tag_id, name, slug, self.public_count = found
        self.tag = Tag(id=tag_id, name=name, slug=slug)
        return CountedList(self.public_count, lambda: self.tagged(self.tag))

    def tagged(self, tag):
        return super().get_queryset().filter(tagged_items__tag=tag)

    def tag_and_count(self):
        tag = Tag.objects.filter(slug=self.kwargs["slug"]).first()
        return [tag.pk, tag.name, tag.slug, self.tagged(tag).count()] if tag else []

    def get_context_data(self, **kwargs):
        if self.public_count == 0:
            # A tag used only on drafts or scheduled articles is not public.
            raise Http404("No published article has this tag.")
        return super().get_context_data(tag=self.tag, **kwargs)


@method_decorator(cache_public_page, name="dispatch")
class TagListView(TemplateView):
    template_name = "articles/tag_list.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(tags=tags_in_use(), **kwargs)


class ArticleDetailView(PublishedArticlesMixin, DetailView):
    template_name = "articles/article_detail.html"
    context_object_name = "article"
    preview = False  # editors' variant: drafts and scheduled articles too

    def get_queryset(self):
        queryset = Article.objects.all() if self.preview else Article.objects.published()
        return queryset.select_related("author", "hero_image")

    def get_object(self, queryset=None):
        """The article, or for readers a lazy one: whether the address names a public article
        is remembered under the content version, so a page from the fragment cache reads no
        article at all (one query when the page is rendered, as before)."""
        if self.preview:
            return super().get_object(queryset)
        return page_cache.remembered_object(
            self.request,
            "article-public",
            [self.kwargs["slug"]],
            lambda: super(ArticleDetailView, self).get_object(queryset),  # Http404 if not public
        )

    def get_context_data(self, **kwargs):
        # Tags, references, reviews, related articles and the disclosure are fetched (their
        # querysets even built) when the template first reads them: not at all when the page
        # comes from the fragment cache (templates/base.html). Nothing here reads the article.
        article = self.object
        page = SimpleLazyObject(lambda: with_page_relations(article))
        kwargs.pop("object", None)
        return ContextMixin.get_context_data(
            self,
            object=page,
            article=page,
            related_articles=SimpleLazyObject(lambda: list(Article.objects.published().related_to(article))),
            product_disclosure=SimpleLazyObject(lambda: product_disclosure(article)),
            **kwargs,
        )


def product_disclosure(article):
    """The disclosure shown above an article that mentions the publisher's products, or ""."""
    return EditorialSettings.load().product_disclosure if article.mentions_publisher_products else ""


def with_page_relations(article):
    """The article with what its page shows prefetched: tags, references, approved reviews."""
    approved = Review.objects.approved().select_related("reviewer__photo")
    prefetch_related_objects(
        [article],
        tags_by_name(),
        "references",
        Prefetch("reviews", approved, to_attr="approved_reviews"),
    )
    return article


class PersonArticlesView(PublishedArticlesMixin, ListView):
    """A person's page: who they are, then their published articles, newest first."""

    person_model = None
    person_related = ()
    context_person_name = None

    def get_queryset(self):
        self.person = get_object_or_404(
            self.person_model.objects.select_related(*self.person_related), slug=self.kwargs["slug"]
        )
        return super().get_queryset().filter(self.articles_filter(self.person))

    def get_context_data(self, **kwargs):
        return super().get_context_data(**{self.context_person_name: self.person, "person": self.person}, **kwargs)


@method_decorator(cache_public_page, name="dispatch")
class AuthorDetailView(PersonArticlesView):
    template_name = "articles/author_detail.html"
    person_model = Author
    context_person_name = "author"

    def articles_filter(self, author):
        return Q(author=author)


@method_decorator(cache_public_page, name="dispatch")
class ReviewerDetailView(PersonArticlesView):
    template_name = "articles/reviewer_detail.html"
    person_model = Reviewer
    person_related = ("photo",)
    context_person_name = "reviewer"

    def articles_filter(self, reviewer):
        # Articles with an approved review by them (a subquery: no duplicates, no DISTINCT).
        return Q(pk__in=Review.objects.approved().filter(reviewer=reviewer).values("article"))


_public_article = cache_public_page(ArticleDetailView.as_view())
_editor_article = never_cache(ArticleDetailView.as_view(preview=True))


def article_detail(request, slug):
    """Readers get the cacheable published page; editors may also open drafts and scheduled ones."""
    if request.user.is_staff and request.user.has_perm(PREVIEW_PERMISSION):
        return _editor_article(request, slug=slug)
    return _public_article(request, slug=slug)


@cache_public_page
def search(request):
    """/search/: validate the query string, call search_articles(), render."""
    form = SearchForm(request.GET)
    if not form.is_valid():
        if "page" in form.errors:
            raise Http404("No such page of results.")
        # A malformed tag narrows nothing; the words are still searched.
        form.cleaned_data.setdefault("q", "")
    data = form.cleaned_data
    query = data.get("q", "")
    tag = data.get("tag") or ""
    try:
        results = search_articles(query, tag=tag, page=data.get("page") or 1)
    except InvalidPage as exc:
        raise Http404("No such page of results.") from exc
    params = {"q": query, **({"tag": tag} if results.tag else {})}
    context = {
        "form": form,
        "results": results,
        "search_query": query,
        "page_obj": results.page_obj,
        # includes/pagination.html appends "&page=N" to this; autoescape turns & into &amp;.
        "pagination_query": urlencode(params),
        # Result pages are landing pages worth indexing; their canonical keeps the words.
        "canonical_query": urlencode(
            {
                **params,
                **({"page": results.page_obj.number} if results.page_obj and results.page_obj.number > 1 else {}),
            }
        ),
        "query_without_tag": urlencode({"q": query}),
        "suggestion_query": urlencode({"q": results.suggestion}) if results.suggestion else "",
        # Most result pages are asked for once (or come from the page cache): storing their
        # fragment would cost every new search a cache write for a rare reuse.
        "render_fragments_afresh": True,
    }
    return render(request, "articles/search.html", context)
