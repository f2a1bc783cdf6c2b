"""Citations: DOI and PMID checks and links, numbered references, [^n] markers and back links,
and the version history of structured references."""

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError

from articles.citations import citation_link, normalise_doi, normalise_pmid, validate_doi, validate_pmid
from articles.history import restore_version
from articles.models import Reference
from core.markdown import render_markdown
from tests.articles.factories import make_article
from tests.articles.html_checks import dangerous_markup

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "doi", ["10.1002/14651858.CD009402.pub3", "10.1016/S0140-6736(20)30183-5", "10.1093/ajcn/nqab123"]
)
def test_valid_dois_pass(doi):
    """DOIs as Crossref issues them, brackets included, are accepted."""
    validate_doi(doi)


@pytest.mark.parametrize("doi", ["10.12/abc", "11.1000/abc", "10.1000", "10.1000/", "doi 10.1000/x", "10.1000/a b"])
def test_malformed_dois_are_refused_with_an_example(doi):
    """A wrong DOI raises an error that says what a DOI looks like."""
    with pytest.raises(ValidationError, match="A DOI starts with “10.”"):
        validate_doi(doi)


@pytest.mark.parametrize("pmid", ["0", "0123", "12a", "1234567890", "-5"])
def test_malformed_pmids_are_refused(pmid):
    """A PMID is 1 to 9 digits without a leading zero."""
    with pytest.raises(ValidationError, match="PubMed ID"):
        validate_pmid(pmid)


def test_pasted_identifiers_are_normalised():
    """doi.org addresses, "doi:" and "PMID:" prefixes and PubMed addresses are reduced to the identifier."""
    assert normalise_doi(" https://doi.org/10.1000/xyz ") == "10.1000/xyz"
    assert normalise_doi("doi: 10.1000/xyz") == "10.1000/xyz"
    assert normalise_pmid("PMID: 32956536") == "32956536"
    assert normalise_pmid("https://pubmed.ncbi.nlm.nih.gov/32956536/") == "32956536"


def test_links_prefer_doi_then_pubmed_then_url():
    """A DOI links to doi.org (escaped), else a PMID to PubMed, else the URL."""
    assert citation_link(doi="10.1000/a<b>", pmid="1", url="https://x.example") == "https://doi.org/10.1000/a%3Cb%3E"
    assert citation_link(pmid="32956536", url="https://x.example") == "https://pubmed.ncbi.nlm.nih.gov/32956536/"
    assert citation_link(url="https://x.example") == "https://x.example"
    assert citation_link(doi="not a doi") == ""


def test_model_validation_normalises_and_refuses():
    """full_clean() stores a pasted DOI bare and refuses a malformed PMID."""
    article = make_article()
    ref = Reference(article=article, title="T", doi="https://doi.org/10.1000/xyz", pmid="PMID 123")
    ref.full_clean()
    assert (ref.doi, ref.pmid) == ("10.1000/xyz", "123")
    with pytest.raises(ValidationError) as error:
        Reference(article=article, title="T", pmid="12x").full_clean()
    assert "pmid" in error.value.message_dict


def make_cited_article(**fields):
    article = make_article(
        body="Magnesium helps[^1] and more.[^2] Again[^1].\n\n## Section\n\nText.",
        **fields,
    )
    Reference.objects.create(
        article=article, position=0, authors="Garrison SR", title="Magnesium for cramps", journal="Cochrane",
        year=2020, doi="10.1002/14651858.CD009402.pub3",
    )  # fmt: skip
    Reference.objects.create(article=article, position=1, title="A PubMed study", pmid="32956536")
    Reference.objects.create(article=article, position=2, title="A web page", url="https://example.org/page")
    return article


def test_references_render_as_numbered_citations_with_links(client):
    """Each reference is a numbered item (id ref-n) with authors, linked title, journal, year and identifier."""
    page = client.get(make_cited_article().get_absolute_url()).content.decode()
    assert (
        '<li id="ref-1">Garrison SR. <a href="https://doi.org/10.1002/14651858.CD009402.pub3" '
        'rel="nofollow noopener noreferrer">Magnesium for cramps</a>. <i>Cochrane</i>. 2020. '
        "doi:10.1002/14651858.CD009402.pub3."
    ) in page
    assert '<li id="ref-2"><a href="https://pubmed.ncbi.nlm.nih.gov/32956536/"' in page and "PMID: 32956536." in page
    assert '<li id="ref-3"><a href="https://example.org/page"' in page


def test_footnote_markers_link_to_the_reference_and_back(client):
    """[^1] becomes a superscript link to #ref-1 with id cite-1; the reference links back; uncited ones do not."""
    article = make_cited_article()
    assert '<sup><a href="#ref-1" id="cite-1"' in article.body_html
    assert '<sup><a href="#ref-1" id="cite-1-2"' in article.body_html  # the second marker, its own id
    assert article.cited_numbers == {1, 2}
    page = client.get(article.get_absolute_url()).content.decode()
    assert 'href="#cite-1" class="backref"' in page and 'href="#cite-2" class="backref"' in page
    assert 'href="#cite-3"' not in page


def test_markers_are_sanitised_and_odd_labels_stay_text():
    """Named or zero labels stay literal text; hostile labels cannot inject markup; headings never take ref ids."""
    html = render_markdown('See [^note] and [^0] and [^<script>] and [^1"onclick=x].\n\n## Ref 1\n')
    assert "[^note]" in html and "[^0]" in html
    assert dangerous_markup(html) == []
    assert 'id="ref-1"' not in html and 'id="section-ref-1"' in html


def test_restore_brings_back_structured_references():
    """A restored version has its references with authors, journal, year, DOI and PMID as they were."""
    article = make_cited_article()
    version = article.history.order_by("-history_date", "-history_id").first()
    article.references.all().delete()
    Reference.objects.create(article=article, title="Replacement", url="https://example.org/r")
    restore_version(article, version)
    restored = list(article.references.values_list("title", "doi", "pmid", "year", "authors"))
    assert restored == [
        ("Magnesium for cramps", "10.1002/14651858.CD009402.pub3", "", 2020, "Garrison SR"),
        ("A PubMed study", "", "32956536", None, ""),
        ("A web page", "", "", None, ""),
    ]


def test_restore_accepts_snapshots_from_before_structured_references():
    """Versions saved before this change hold only position, title and url: they still restore."""
    article = make_article()
    version = article.history.first()
    type(version).objects.filter(pk=version.pk).update(
        references_snapshot=[{"position": 0, "title": "Old style", "url": "https://example.org/old"}]
    )
    version.refresh_from_db()
    restore_version(article, version)
    assert list(article.references.values_list("title", "url", "doi")) == [
        ("Old style", "https://example.org/old", "")
    ]


def test_disclosure_shows_above_the_body_only_on_marked_articles(client):
    """Marked articles show the disclosure (default wording) before the body; others show none."""
    marked = make_article(mentions_publisher_products=True)
    page = client.get(marked.get_absolute_url()).content.decode()
    assert '<p class="disclosure" role="note">Disclosure: this article mentions products sold by the publisher' in page
    assert page.index('class="disclosure"') < page.index('class="prose article-body"')
    cache.clear()
    assert 'class="disclosure"' not in client.get(make_article().get_absolute_url()).content.decode()
