"""Search behaviour (articles/search/); the same tests run on SQLite and on PostgreSQL."""

from datetime import timedelta

import pytest
from django.core.paginator import InvalidPage
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from taggit.models import Tag

from articles import search
from articles.admin import SearchIndexAdminMixin
from articles.models import Article
from articles.search.base import MARK_END, MARK_START, Filters, SearchBackend
from articles.search.postgres import DOCUMENT_TABLE, PostgresBackend
from articles.search.query import MAX_WORDS, Terms
from articles.search.snippets import marked_snippet, match_pattern
from articles.search.sqlite import FTS_TABLE, UNPUBLISHED_MARK
from tests.articles.factories import make_article, make_scheduled

pytestmark = pytest.mark.django_db


@pytest.fixture
def article(django_capture_on_commit_callbacks):
    """Create an article and run the on-commit index update, as a real request would."""

    def make(**fields):
        with django_capture_on_commit_callbacks(execute=True):
            return make_article(**fields)

    return make


def titles(results):
    return [hit.article.title for hit in results.hits]


def test_empty_query_runs_no_query(django_assert_num_queries):
    """Nothing to search for: no database query, an empty page, `ran` is False."""
    for query in ("", "   ", "\x00", '"*^ -:', None):
        with django_assert_num_queries(0):
            results = search.search_articles(query)
        assert not results.ran
        assert results.hits == []
        assert results.total == 0


@pytest.mark.parametrize("query", ["cramps", "cramping", "Cramps", "cramp", "CRAMPED"])
def test_stemming_and_case(article, query):
    """Word forms and case find the same article."""
    article(title="Night leg cramps", body="Many adults get cramps at night.")
    article(title="Vitamin D basics", body="Sunlight and diet.")
    assert titles(search.search_articles(query)) == ["Night leg cramps"]


@pytest.mark.parametrize("query", ["cafe", "café", "CAFÉ", "naive", "naïve"])
def test_accents_are_folded(article, query):
    """Accented and unaccented spellings match each other."""
    article(title="Coffee notes", body="A café culture and a naïve reader.")
    assert titles(search.search_articles(query)) == ["Coffee notes"]


def test_last_word_matches_as_prefix(article):
    """The last word is a prefix ("magn" finds magnesium); earlier words are whole words."""
    article(title="Magnesium for leg cramps", body="Magnesium glycinate at night.")
    assert titles(search.search_articles("magn")) == ["Magnesium for leg cramps"]
    assert titles(search.search_articles("cramps magn")) == ["Magnesium for leg cramps"]
    assert titles(search.search_articles("magn cramps")) == []


def test_known_last_word_is_not_a_prefix(article):
    """A last word the index knows matches as that word; an unknown one as a prefix."""
    zinc = article(title="Zinc lozenges")
    zincite = article(title="Zincite crystals")
    assert titles(search.search_articles("zinc")) == [zinc.title]
    assert titles(search.search_articles("zinci")) == [zincite.title]
    assert set(titles(search.search_articles("zin"))) == {zinc.title, zincite.title}


def test_all_words_must_match(article):
    """Two words find the articles containing both, in any field."""
    article(title="Magnesium and sleep", body="Evening routine.")
    article(title="Magnesium and muscles", body="Cramps after exercise.")
    assert titles(search.search_articles("magnesium cramps")) == ["Magnesium and muscles"]
    assert titles(search.search_articles("sleep cramps")) == []


def test_title_above_summary_and_tags_above_body(article):
    """Title matches rank first, then summary or tag matches, then body-only matches."""
    body_only = article(
        title="Night routines",
        summary="What to do in the evening.",
        body="Zinc, zinc and more zinc: " + "zinc " * 30,
    )
    in_summary = article(title="Minerals explained", summary="Covers zinc and iron.", body="Intro text.")
    in_tags = article(title="Immune support", summary="Winter advice.", body="Intro text.", tags=["zinc"])
    in_title = article(title="Zinc", summary="A mineral.", body="One mention of nothing relevant.")
    order = [hit.article.pk for hit in search.search_articles("zinc").hits]
    assert order[0] == in_title.pk
    assert set(order[1:3]) == {in_summary.pk, in_tags.pk}
    assert order[3] == body_only.pk


def test_only_published_articles_anywhere(article, monkeypatch):
    """Drafts and scheduled articles never appear: not in hits, counts, facets or suggestions."""
    article(title="Public magnesium guide", tags=["public-tag"])
    article(title="Draft magnesium plan", published=False, tags=["draft-tag"])
    scheduled = article(
        title="Scheduled magnesium news",
        tags=["future-tag"],
        published_at=timezone.now() + timedelta(days=1),
    )
    results = search.search_articles("magnesium")
    assert titles(results) == ["Public magnesium guide"]
    assert results.total == 1
    assert [facet.slug for facet in results.facets] == ["public-tag"]
    assert search.search_articles("draft").total == 0
    assert search.search_articles("magnesium", tag="draft-tag").total == 0
    # "Did you mean" must not lead to a word only drafts use.
    assert search.search_articles("plam").suggestion == ""

    # Time passes: the scheduled article becomes public without being saved again.
    later = timezone.now() + timedelta(days=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert set(titles(search.search_articles("magnesium"))) == {"Public magnesium guide", scheduled.title}


def test_staff_entry_point_includes_drafts(article):
    """The admin's search (article_ids_matching) finds drafts and scheduled articles too."""
    public = article(title="Iron basics")
    draft = article(title="Iron draft", published=False)
    scheduled = article(title="Iron soon", published_at=timezone.now() + timedelta(days=3))
    assert set(search.article_ids_matching("iron")) == {public.pk, draft.pk, scheduled.pk}
    assert search.article_ids_matching("") == []


def test_tag_facets_and_narrowing(article):
    """Facets count the matching articles per tag; a tag narrows the results."""
    article(title="Magnesium and sleep", tags=["magnesium", "sleep"])
    article(title="Magnesium and cramps", tags=["magnesium", "cramps"])
    article(title="Sleep hygiene", tags=["sleep"])
    results = search.search_articles("magnesium")
    assert {(facet.slug, facet.count) for facet in results.facets} == {("magnesium", 2), ("sleep", 1), ("cramps", 1)}
    assert results.facets[0].slug == "magnesium"
    narrowed = search.search_articles("magnesium", tag="sleep")
    assert titles(narrowed) == ["Magnesium and sleep"]
    assert narrowed.tag.slug == "sleep"
    assert [facet.slug for facet in narrowed.facets] == ["magnesium"]
    assert search.search_articles("magnesium", tag="no-such-tag").total == 0


def test_facets_and_shown_tags_follow_tag_changes(article, django_capture_on_commit_callbacks):
    """Facets and each result's tags agree with the tags tables after tags are added,
    removed and renamed (PostgreSQL reads a copy kept in the index row)."""
    first = article(title="Selenium and thyroid", tags=["selenium", "Thyroid"])
    second = article(title="Selenium in nuts", tags=["selenium", "nuts"])
    with django_capture_on_commit_callbacks(execute=True):
        first.tags.remove("Thyroid")
        first.tags.add("minerals")
        second.tags.add("minerals")
    with django_capture_on_commit_callbacks(execute=True):
        Tag.objects.filter(slug="nuts").update(name="Tree nuts")  # no signal: reindex by hand
        search.index_articles([second.pk])
    results = search.search_articles("selenium")
    assert [(facet.name, facet.count) for facet in results.facets] == [
        ("minerals", 2),
        ("selenium", 2),
        ("Tree nuts", 1),
    ]
    shown = {hit.article.pk: [tag.name for tag in hit.tags] for hit in results.hits}
    assert shown == {first.pk: ["minerals", "selenium"], second.pk: ["minerals", "selenium", "Tree nuts"]}
    ranked = search.article_ids_matching("selenium", include_unpublished=False)
    expected = [(facet.name, facet.count) for facet in search.tag_facets(ranked)]
    assert [(facet.name, facet.count) for facet in results.facets] == expected
    narrowed = search.search_articles("selenium", tag="minerals")
    assert [facet.name for facet in narrowed.facets] == ["selenium", "Tree nuts"]


def test_pagination_ten_a_page(article):
    """Ten results a page, in rank order across pages; an impossible page raises InvalidPage."""
    for n in range(22):
        article(title=f"Omega {n}", slug=f"omega-{n}", days_ago=n + 1)
    first = search.search_articles("omega")
    assert first.total == 22
    assert len(first.hits) == 10
    assert first.page_obj.paginator.num_pages == 3
    second = search.search_articles("omega", page=2)
    third = search.search_articles("omega", page=3)
    assert (len(second.hits), len(third.hits)) == (10, 2)
    seen = [hit.article.pk for hit in first.hits + second.hits + third.hits]
    assert len(seen) == len(set(seen)) == 22
    with pytest.raises(InvalidPage):
        search.search_articles("omega", page=4)
    with pytest.raises(InvalidPage):
        search.search_articles("omega", page=0)


def test_snippet_marks_matches_and_escapes_the_rest(article):
    """The snippet wraps matched words in <mark>; any HTML in the text arrives escaped."""
    article(
        title="Escaping",
        body="Text with `<script>alert('x')</script>` inside, about magnesium & friends <b>bold</b>.",
    )
    hit = search.search_articles("magnesium").hits[0]
    assert "<mark>magnesium</mark>" in hit.snippet
    assert "<script" not in hit.snippet
    assert "&amp; friends" in hit.snippet
    # Both backends show the tag as escaped text.
    assert "&lt;script&gt;" in hit.snippet or "script" not in hit.snippet
    assert "<b>" not in hit.snippet
    assert hit.snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_results_prefetch_tags(article, django_assert_max_num_queries):
    """Listing the tags of every hit costs no query per hit."""
    for n in range(10):
        article(title=f"Selenium {n}", slug=f"selenium-{n}", tags=["selenium", f"t{n}", f"u{n}"])
    results = search.search_articles("selenium")
    with django_assert_max_num_queries(0):
        names = [[tag.name for tag in hit.tags] for hit in results.hits]
    assert len(names) == 10 and all(len(tags) == 3 for tags in names)


def test_did_you_mean_when_nothing_found(article):
    """A misspelling that finds nothing suggests the index's own word, with its count."""
    article(title="Magnesium glycinate", body="Gentle on the stomach.", tags=["magnesium"])
    article(title="Magnesium citrate", body="Can loosen the bowels.")
    results = search.search_articles("magnesuim")
    assert results.total == 0
    assert results.suggestion == "magnesium"
    assert results.suggestion_total == 2
    assert [tag.slug for tag in results.popular_tags] == ["magnesium"]
    assert search.search_articles("magnesuim glycinate").suggestion == "magnesium glycinate"
    two_edits = search.search_articles("magnisum")
    assert two_edits.suggestion == "magnesium", two_edits


def test_did_you_mean_when_a_close_word_finds_far_more(article):
    """Few results for a rare word next to a common one: the common one is suggested."""
    article(title="Mercury in fish", body="A rare word: magnesum.")
    for n in range(12):
        article(title=f"Magnesium {n}", slug=f"mg-{n}")
    results = search.search_articles("magnesum")
    assert results.total == 1
    assert results.suggestion == "magnesium"
    assert results.suggestion_total == 12
    assert search.search_articles("magnesium").suggestion == ""


INJECTIONS = [
    '"',
    'magnesium"',
    "*",
    "magnesium*",
    "NEAR(",
    "NEAR(magnesium cramps, 2)",
    "AND",
    "magnesium AND",
    "magnesium OR cramps",
    "NOT magnesium",
    "-x",
    "-magnesium",
    "col:x",
    "title:magnesium",
    "{title body}: magnesium",
    "^",
    "^magnesium",
    "magnesium:*",
    "'; DROP TABLE articles_article; --",
    "1' OR '1'='1",
    "' UNION SELECT password FROM auth_user --",
    "<script>alert(1)</script>",
    "😀 magnesium 🧂",
    "mag\x00nesium",
    "\x00",
    "x" * 10_000,
    "magnesium " * 2_000,
    "C++ don't o'neil",
    "a & b | !c <-> d",
    "\\ \\\\ %s %(x)s ?",
]


@pytest.mark.parametrize("query", INJECTIONS, ids=lambda q: repr(q[:30]))
def test_any_input_is_safe(article, query):
    """Operators, SQL, HTML, emoji, NUL bytes and huge inputs neither raise nor act as syntax."""
    article(title="Magnesium and cramps", body="Title words and col x.")
    results = search.search_articles(query)
    plain = search.search_articles(" ".join(search.clean_query(query)))
    assert [hit.article.pk for hit in results.hits] == [hit.article.pk for hit in plain.hits]
    assert Article.objects.count() == 1


@pytest.mark.parametrize(
    ("query", "same_as"),
    [
        ("title:magnesium", "title magnesium"),
        ('magnesium"', "magnesium"),
        ("-cramps", "cramps"),
        ("NEAR(magnesium", "near magnesium"),
        ("magnesium AND cramps", "magnesium and cramps"),
    ],
)
def test_syntax_means_plain_words(article, query, same_as):
    """FTS syntax in the input means nothing beyond its words."""
    article(title="Magnesium and cramps", body="Near the title of it.")
    article(title="Magnesium", body="Other.")
    assert titles(search.search_articles(query)) == titles(search.search_articles(same_as))
    assert search.clean_query(query) == search.clean_query(same_as)


def test_long_queries_are_capped():
    """Input is cut to MAX_QUERY_CHARS characters and MAX_WORDS words."""
    assert len(search.clean_query("word " * 100)) == MAX_WORDS
    assert search.clean_query("y" * 10_000) == ["y" * search.MAX_QUERY_CHARS]


@pytest.fixture
def _hypothesis_corpus(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_article(title="Magnesium and leg cramps", body="Night cramps, magnesium glycinate.", tags=["magnesium"])
        make_scheduled(title="Scheduled magnesium", body="Not yet.")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=300), tag=st.one_of(st.none(), st.text(max_size=30)))
def test_property_any_text_never_raises(_hypothesis_corpus, query, tag):
    """Arbitrary text as query and tag: search_articles never raises, and its count agrees
    with its hits: the one published article at most (the scheduled one never counts)."""
    results = search.search_articles(query, tag=tag)
    assert results.total == len(results.hits) <= 1
    assert results.ran or results.total == 0


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_property_results_are_published_matches(_hypothesis_corpus, query):
    """Whatever the text, every hit is published and the snippet holds no raw tag but <mark>."""
    results = search.search_articles(query)
    for hit in results.hits:
        assert hit.article.is_published
        assert hit.snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0


def test_admin_mixin_searches_the_index(article, rf):
    """SearchIndexAdminMixin: the admin box finds drafts by stemmed words, and slugs still match."""
    from django.contrib import admin

    class ArticleSearchAdmin(SearchIndexAdminMixin, admin.ModelAdmin):
        search_fields = ["slug"]

    draft = article(title="Leg cramps at night", slug="night-draft", published=False)
    other = article(title="Other", slug="other-one")
    model_admin = ArticleSearchAdmin(Article, admin.site)
    queryset, _ = model_admin.get_search_results(rf.get("/"), Article.objects.all(), "cramping")
    assert list(queryset) == [draft]
    queryset, _ = model_admin.get_search_results(rf.get("/"), Article.objects.all(), "other-one")
    assert list(queryset) == [other]


def test_body_only_matches_are_ranked_when_a_page_reaches_them(article):
    """Head matches (title, summary, tags) rank above body-only ones, so a page the head
    matches fill does not rank the bodies (score 0, newest first); a page that reaches the
    body-only matches ranks them, and every page is the same as with every match ranked."""
    heads = [article(title=f"Zinc {n}", slug=f"zinc-{n}", body="A mineral.", days_ago=50 + n) for n in range(3)]
    # The older the body-only match, the more it is about zinc: rank order is not id order.
    bodies = [
        article(title=f"Minerals {n}", slug=f"minerals-{n}", body="zinc " * (n + 1) + "and more.", days_ago=n)
        for n in range(4)
    ]
    exact = search.article_ids_matching("zinc", include_unpublished=False)
    assert exact[3:] == [a.pk for a in reversed(bodies)]  # the most zinc first
    pages = [[hit.article.pk for hit in search.search_articles("zinc", page=n, per_page=2).hits] for n in (1, 2, 3, 4)]
    assert sum(pages, []) == exact
    assert set(pages[0]) <= {a.pk for a in heads}

    engine = search.backend()
    words = search.terms_for(search.clean_query("zinc"))
    filters = Filters(now=timezone.now())
    body_scores = lambda ranking: {ranking.scores[a.pk][1] for a in bodies}  # noqa: E731
    assert body_scores(engine.ranked(words, filters, exact_to=3)) == {0}
    assert 0 not in body_scores(engine.ranked(words, filters, exact_to=4))
    assert 0 not in body_scores(engine.ranked(words, filters))


def test_bounded_ranking_keeps_title_matches_and_caps_the_count(article, monkeypatch):
    """Beyond `candidates` matches only the newest are ranked, but older title matches still
    come first; counts stop at `count_cap` and say so."""
    monkeypatch.setattr(SearchBackend, "candidates", 3)
    monkeypatch.setattr(SearchBackend, "count_cap", 5)
    old_title_match = article(title="Boron", body="Trace mineral.", days_ago=400)
    for n in range(7):
        article(title=f"Minerals {n}", slug=f"minerals-{n}", body="Mentions boron once.", days_ago=n + 1)
    results = search.search_articles("boron")
    assert results.hits[0].article == old_title_match
    assert results.total == 5 and results.total_capped and not results.complete
    assert len(results.hits) == 4  # the 3 newest body matches and the title match


def test_recent_span_of_a_common_word_changes_no_result(article, monkeypatch):
    """PostgreSQL: sorting only the matches among the newest id buckets (a common word)
    gives the same ids, count and cap as searching every match, whether the buckets hold
    enough matches or too few (then the full queries run), for the whole documents and
    for the heads (every other article has the word in its title)."""
    if connection.vendor != "postgresql":
        pytest.skip("the recent buckets are PostgreSQL's")
    monkeypatch.setattr(SearchBackend, "candidates", 3)
    monkeypatch.setattr(SearchBackend, "count_cap", 5)
    monkeypatch.setattr(PostgresBackend, "recent_bucket_bits", 0)  # a bucket per id: exact windows
    article(title="Boron", body="Trace mineral.", days_ago=400)
    made = [
        article(
            title=f"Boron minerals {n}" if n % 2 else f"Minerals {n}",
            slug=f"minerals-{n}",
            body="Mentions boron once.",
            days_ago=n + 1,
        )
        for n in range(9)
    ]
    article(title="Boron draft", body="Boron.", published=False)
    newest = max(a.pk for a in made)

    def run(since):
        buckets = None if since is None else PostgresBackend.bucket_query(since, newest + 1)
        monkeypatch.setattr(PostgresBackend, "_recent_window", staticmethod(lambda words: buckets))
        results = search.search_articles("boron")
        ids = search.article_ids_matching("boron", include_unpublished=False)
        return ids, results.total, results.total_capped, [hit.article.pk for hit in results.hits]

    expected = run(None)
    for since in (newest - 10, newest - 8, newest - 4, newest - 2, newest):
        assert run(since) == expected
    assert expected[1] == 5 and expected[2]
    assert expected[3][:3] == [made[7].pk, made[5].pk, made[3].pk]  # the newest title matches


def test_recent_window_is_estimated_from_the_vocabulary(article, monkeypatch):
    """PostgreSQL: the window is used only for words the vocabulary counts in enough
    articles, and it names the id buckets from the estimated span up to the newest."""
    if connection.vendor != "postgresql":
        pytest.skip("the recent buckets are PostgreSQL's")
    monkeypatch.setattr(SearchBackend, "count_cap", 1)  # the window should hold about 3 matches
    monkeypatch.setattr(PostgresBackend, "recent_bucket_bits", 0)
    made = [article(title=f"Zinc {n}", slug=f"zinc-{n}", body="Zinc and copper.") for n in range(12)]
    last_id = max(a.pk for a in made)

    def window(counts):
        terms = Terms(list(counts))
        terms.counts = counts
        return PostgresBackend._recent_window(terms)

    def buckets_for(count):  # 1.5 x (count_cap + 1) = 3 expected matches, newest ids first
        since = int(last_id - 3 * last_id / count)
        return " | ".join(f"'~{n}'" for n in range(since, last_id + 2))

    assert window({"zinc": last_id}) == buckets_for(last_id)
    assert window({"zinc": last_id // 2}) == buckets_for(last_id // 2)
    assert window({"zinc": last_id // 2}).count("~") > window({"zinc": last_id}).count("~")
    assert window({"zinc": last_id, "copper": last_id // 2}) == window({"zinc": last_id // 2})
    assert window({"copper": 1}) is None  # rare: the window would span most ids
    terms = Terms(["zinc", "unknown"])
    terms.counts = {"zinc": last_id}
    assert PostgresBackend._recent_window(terms) is None  # a word the vocabulary lacks
    with connection.cursor() as cursor:  # each indexed document holds its bucket's lexeme
        cursor.execute(
            f"SELECT article_id FROM {DOCUMENT_TABLE} WHERE document @@ %s::tsquery",
            [PostgresBackend.bucket_query(last_id - 1, last_id - 1)],
        )
        assert {row[0] for row in cursor.fetchall()} == {last_id - 1, last_id}  # and one past


def test_public_filter_matches_published_exactly(article):
    """The index's public filter agrees with Article.objects.published() for every state."""
    article(title="Zeaxanthin public")
    article(title="Zeaxanthin draft", published=False)
    article(title="Zeaxanthin scheduled", published_at=timezone.now() + timedelta(hours=1))
    no_date = article(title="Zeaxanthin no date")
    Article.objects.filter(pk=no_date.pk).update(published_at=None)  # only possible by bypassing save()
    search.index_articles([no_date.pk])  # the documented step after QuerySet.update()
    published = set(Article.objects.published().filter(title__startswith="Zeaxanthin").values_list("pk", flat=True))
    results = search.search_articles("zeaxanthin")
    assert {hit.article.pk for hit in results.hits} == published
    assert results.total == len(published) == 1


def test_bulk_update_never_shows_a_hidden_article(article):
    """A QuerySet.update() to draft without reindexing never shows the draft on a page."""
    hidden = article(title="Lutein guide")
    Article.objects.filter(pk=hidden.pk).update(status=Article.Status.DRAFT)
    assert titles(search.search_articles("lutein")) == []
    search.index_articles([hidden.pk])
    assert search.search_articles("lutein").total == 0


def _planner_settings():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan'), current_setting('enable_indexscan')")
        return cursor.fetchone()


@pytest.mark.parametrize("in_transaction", [True, pytest.param(False, marks=pytest.mark.django_db(transaction=True))])
def test_search_leaves_the_planner_settings_as_they_were(article, in_transaction):
    """PostgreSQL: the bitmap-only settings last for the search's own statements only,
    inside a transaction (reset after) or outside one (its implicit transaction)."""
    if connection.vendor != "postgresql":
        pytest.skip("the planner settings are PostgreSQL's")
    article(title="Chromium and blood sugar", body="Chromium is a trace mineral.")
    assert connection.in_atomic_block == in_transaction
    assert search.search_articles("chromium").total == 1
    search.suggest(search.terms_for(["chromiun"]), 0)  # the count query path
    assert _planner_settings() == ("on", "on")


def _marks(snippet):
    return [part.split(MARK_END)[0] for part in snippet.split(MARK_START)[1:]]


def test_marked_snippet_marks_whole_words_folded():
    """PostgreSQL's snippets: whole words only, case and accents folded, a prefix too."""
    pattern = match_pattern({"cafe", "cramp", "cramps"}, prefix="magn")
    text = "Café owners' cramps: a CAFE, cafeteria, recramp, Magnesium and amagnet cramp."
    assert _marks(marked_snippet(text, pattern)) == ["Café", "cramps", "CAFE", "Magnesium", "cramp"]
    assert marked_snippet("", pattern) is None
    assert marked_snippet("No match here.", pattern) == "No match here."


def test_marked_snippet_window_and_cut_marks():
    """About SNIPPET_TOKENS words around the part with the most distinct matched words,
    starting a few words before it, with "…" where the text was cut."""
    filler = " ".join(f"w{n}" for n in range(100))
    text = f"zinc {filler} copper and zinc together {filler} end"
    snippet = marked_snippet(text, match_pattern({"zinc", "copper"}), size=10)
    assert snippet.startswith("…w97 w98 w99 \x02copper\x03 and \x02zinc\x03")
    assert snippet.endswith("…") and len(snippet.strip("…").split()) == 10
    assert marked_snippet("zinc and more", match_pattern({"zinc"}), size=10) == "\x02zinc\x03 and more"
    near_end = f"{filler} a <b>zinc</b> note."  # fills the window from before; whole tokens
    snippet = marked_snippet(near_end, match_pattern({"zinc"}), size=10)
    assert snippet == "…w95 w96 w97 w98 w99 a <b>\x02zinc\x03</b> note."  # "b" counts as a word


def test_unpublished_mark_cannot_be_typed(article, django_capture_on_commit_callbacks):
    """SQLite marks unpublished articles in the index; no query can reach the mark, and
    publishing removes it."""
    draft = article(title="Boron draft", body="Boron notes.", published=False)
    for query in ("unpublished", UNPUBLISHED_MARK, f"boron {UNPUBLISHED_MARK}"):
        assert search.search_articles(query).total == 0
    assert search.article_ids_matching("boron") == [draft.pk]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT tags FROM {FTS_TABLE} WHERE rowid = %s", [draft.pk])
            assert UNPUBLISHED_MARK in cursor.fetchone()[0]
    with django_capture_on_commit_callbacks(execute=True):
        draft.status = Article.Status.PUBLISHED
        draft.published_at = timezone.now()
        draft.save()
    assert titles(search.search_articles("boron")) == ["Boron draft"]


def test_a_query_of_stop_words_finds_nothing_however_common_they_are(article, monkeypatch):
    """PostgreSQL drops stop words ("the"): such a query finds nothing, even when the
    vocabulary counts "the" in enough articles for the recent-id window."""
    monkeypatch.setattr(SearchBackend, "candidates", 3)
    monkeypatch.setattr(SearchBackend, "count_cap", 5)
    for n in range(20):
        article(title=f"Note {n}", slug=f"note-{n}", body="The body of the note.")
    search.rebuild_index()
    results = search.search_articles("the")
    if connection.vendor == "postgresql":
        assert (results.total, results.hits) == (0, [])
    else:  # FTS5 has no stop words: "the" is a word like any other
        assert results.total == 5 and results.total_capped


def test_short_words_are_marked_in_snippets_unless_stop_words(article):
    """ "uv" and the "d" of "vitamin d" are marked; a stop word such as "a" is not."""
    article(title="Sun safety", body=" ".join(["filler"] * 60) + " Avoid UV light; vitamin D comes from a sunny day.")
    uv = search.search_articles("uv").hits[0].snippet
    assert "<mark>UV</mark>" in uv
    vitamin_d = search.search_articles("vitamin d").hits[0].snippet
    assert "<mark>vitamin</mark> <mark>D</mark>" in vitamin_d
    with_a = search.search_articles("sunny a").hits[0].snippet
    assert "<mark>sunny</mark>" in with_a
    assert ("<mark>a</mark>" in with_a) == (connection.vendor == "sqlite")
