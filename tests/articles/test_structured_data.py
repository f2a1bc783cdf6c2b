"""Structured data of the real rendered pages, read by extruct as search engines read it."""

import extruct
import pytest
from django.templatetags.static import static

from tests.articles.factories import make_article, make_author, make_review, make_reviewer

pytestmark = pytest.mark.django_db


def structured_data(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return extruct.extract(
        response.content.decode(),
        base_url="http://testserver" + url,
        syntaxes=["json-ld", "opengraph"],
        uniform=True,
    )


def nodes_by_type(data):
    nodes = {}
    for block in data["json-ld"]:
        for node in block.get("@graph", [block]):
            assert node["@type"] not in nodes, f"two {node['@type']} nodes"
            nodes[node["@type"]] = node
    return nodes


def test_article_page_publishes_a_complete_graph(client):
    """WebSite with search, Organization with logo, MedicalWebPage whose main entity is the Article
    (headline, author with url, publisher, dates, language), the page's medical review, and the
    breadcrumbs."""
    article = make_article(
        title="Magnesium and leg cramps",
        summary="What the trials say.",
        author=make_author(name="Dana Reyes", slug="dana-reyes"),
        tags=["magnesium"],
    )
    make_review(article, reviewer=make_reviewer(name="Dr. Sam Lee", slug="sam-lee", credentials="MD"))
    url = f"http://testserver{article.get_absolute_url()}"
    nodes = nodes_by_type(structured_data(client, article.get_absolute_url()))
    assert set(nodes) == {"WebSite", "Organization", "MedicalWebPage", "Article", "BreadcrumbList"}

    website, organization = nodes["WebSite"], nodes["Organization"]
    assert website["url"] == "http://testserver/"
    action = website["potentialAction"]
    assert action["@type"] == "SearchAction"
    assert action["target"]["urlTemplate"] == "http://testserver/search/?q={search_term_string}"
    assert action["query-input"] == "required name=search_term_string"
    assert organization["url"] == "http://testserver/"
    assert organization["logo"]["url"] == "http://testserver" + static("img/logo.png")

    page, entry = nodes["MedicalWebPage"], nodes["Article"]
    assert page["url"] == url
    assert page["mainEntity"] == {"@id": entry["@id"]}
    assert page["breadcrumb"] == {"@id": nodes["BreadcrumbList"]["@id"]}
    assert entry["headline"] == "Magnesium and leg cramps"
    assert entry["author"]["name"] == "Dana Reyes"
    assert entry["author"]["url"] == "http://testserver/authors/dana-reyes/"
    assert page["reviewedBy"]["name"] == "Dr. Sam Lee"
    assert page["reviewedBy"]["url"] == "http://testserver/reviewers/sam-lee/"
    assert page["lastReviewed"]
    assert entry["publisher"] == {"@id": organization["@id"]}
    assert entry["datePublished"] == article.published_at.isoformat(timespec="seconds")
    assert entry["dateModified"] == page["dateModified"]
    assert entry["inLanguage"] == page["inLanguage"] == "en"
    assert "image" not in entry  # no hero image: no image (tests/articles/test_images_pages.py has one)

    crumbs = nodes["BreadcrumbList"]["itemListElement"]
    assert [(c["position"], c["item"]) for c in crumbs] == [
        (1, "http://testserver/"),
        (2, "http://testserver/articles/"),
        (3, url),
    ]
    assert crumbs[-1]["name"] == "Magnesium and leg cramps"


def test_logo_is_a_real_png_served_by_the_site(client):
    """The Organization's logo is a square PNG of at least 112 pixels that the site serves."""
    from io import BytesIO

    from PIL import Image

    response = client.get(static("img/logo.png"))
    assert response.status_code == 200
    image = Image.open(BytesIO(b"".join(response.streaming_content)))
    assert image.format == "PNG"
    assert image.size[0] == image.size[1] >= 112


def test_home_page_names_the_website_and_organization(client):
    """The home page's JSON-LD: the WebSite with its SearchAction and the publishing Organization."""
    make_article()
    nodes = nodes_by_type(structured_data(client, "/"))
    assert set(nodes) == {"WebSite", "Organization"}
    assert nodes["WebSite"]["publisher"] == {"@id": nodes["Organization"]["@id"]}


def test_article_open_graph_as_parsed(client):
    """extruct reads the article's own Open Graph: type article, its title, summary and URL."""
    article = make_article(title="Zinc and colds", summary="What zinc lozenges can do.")
    og = structured_data(client, article.get_absolute_url())["opengraph"][0]
    assert og["@type"] == "article"  # extruct's uniform shape turns og:type into @type
    assert og["og:title"] == "Zinc and colds"
    assert og["og:description"] == "What zinc lozenges can do."
    assert og["og:url"] == f"http://testserver{article.get_absolute_url()}"
