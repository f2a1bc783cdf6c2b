"""The /search/ page: validate the query string, call search_articles(), render."""

from urllib.parse import urlencode

from django import forms
from django.core.paginator import InvalidPage
from django.http import Http404
from django.shortcuts import render

from site_config.page_cache import cache_public_page

from . import search as search_module


class SearchForm(forms.Form):
    # Not a max_length error: a long paste is shortened, like the input box does.
    q = forms.CharField(required=False, strip=True)
    tag = forms.SlugField(required=False, max_length=100, allow_unicode=True)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000)

    def clean_q(self):
        return self.cleaned_data["q"].replace("\x00", "")[: search_module.MAX_QUERY_CHARS].strip()


@cache_public_page
def search(request):
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
        results = search_module.search_articles(query, tag=tag, page=data.get("page") or 1)
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
    }
    return render(request, "articles/search.html", context)
