"""Property tests: arbitrary text in every form field and query parameter never gives a 500
and never stores a row from invalid input."""

from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from articles.models import Article
from protocols.models import EmailDelivery, Protocol, Signup
from protocols.seed import seed_protocols
from tests.articles.factories import make_article
from tests.helpers import log_in_staff

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Any text Django can receive: unicode, control characters, NUL, quotes, SQL and FTS syntax.
anything = st.one_of(
    st.text(max_size=300),
    st.sampled_from(['"', "NEAR(", "a AND", "*", "-x", "title:x", "C++", "' OR 1=1 --", "\x00", "%", "0", "-1",
                     "99999999999999999999", "1e9", "<script>alert(1)</script>", "\r\nBcc: victim@example.com"]),
)  # fmt: skip
OK_STATUSES = {200, 301, 302, 400, 404, 405, 409, 429}


@pytest.fixture
def content():
    for n in range(3):
        make_article(title=f"Magnesium article {n}", tags=["magnesium", "sleep"])
    return seed_protocols()


@pytest.fixture
def anonymous():
    return Client(raise_request_exception=True)


@FUZZ
@given(param=st.sampled_from(["q", "tag", "page"]), value=anything, extra=anything)
def test_search_parameters(content, anonymous, param, value, extra):
    """Any text in the search query, tag or page parameter gives a page or a clear error, never a 500."""
    response = anonymous.get("/search/", {param: value, "q": extra} if param != "q" else {"q": value, "tag": extra})
    assert response.status_code in OK_STATUSES


@FUZZ
@given(path=st.sampled_from(["/", "/articles/", "/tags/", "/tags/magnesium/", "/protocols/", "/feed/"]), page=anything)
def test_listing_pages_take_any_page_number(content, anonymous, path, page):
    """Any page number on a listing gives a page or a 404, never a 500."""
    response = anonymous.get(path, {"page": page})
    assert response.status_code in OK_STATUSES


@FUZZ
@given(slug=anything)
def test_any_path_segment(content, anonymous, slug):
    """Any text as an article, tag, protocol or token slug gives a page or a 404, never a 500."""
    for prefix in ("/articles/", "/tags/", "/protocols/", "/protocols/confirm/", "/protocols/unsubscribe/"):
        response = anonymous.get(prefix + quote(slug, safe="") + "/")
        assert response.status_code in OK_STATUSES


def _truthy_checkbox(value):
    # Django's CheckboxInput: any value but "" and "false" means ticked (browsers send "on").
    return value.lower() not in ("", "false")


@FUZZ
@given(
    email=st.one_of(anything, st.emails().map(lambda e: e if len(e) < 240 else "x@example.com")),
    consent=st.one_of(st.sampled_from(["", "on", "true", "false", "0"]), anything),
    website=st.one_of(st.just(""), anything),
    status=st.sampled_from(Protocol.Status.values),
)
def test_signup_form_stores_nothing_from_invalid_input(content, anonymous, email, consent, website, status):
    """Open, waitlist (upcoming) and closed protocols alike."""
    protocol = content
    Protocol.objects.filter(pk=protocol.pk).update(status=status)
    before = set(Signup.objects.values_list("pk", flat=True))
    deliveries_before = EmailDelivery.objects.count()
    response = anonymous.post(protocol.get_absolute_url(), {"email": email, "consent": consent, "website": website})
    assert response.status_code in OK_STATUSES
    new_rows = Signup.objects.exclude(pk__in=before)
    if response.status_code != 302:
        assert not new_rows.exists(), "a refused signup stored a row"
        assert EmailDelivery.objects.count() == deliveries_before, "a refused signup queued an email"
        return
    assert status != Protocol.Status.CLOSED, "a closed protocol took a signup"
    # Whatever was accepted must have been valid input.
    assert website == "", "the honeypot was filled in, yet the signup went through"
    assert _truthy_checkbox(consent)
    for signup in new_rows:
        assert not any(ch in signup.email for ch in "\r\n\x00")
        assert len(signup.email) <= 254
        try:
            validate_email(signup.email)
        except ValidationError:
            pytest.fail(f"stored an invalid address: {signup.email!r}")


@FUZZ
@given(token=anything, action=st.sampled_from(["confirm", "unsubscribe"]))
def test_confirm_and_unsubscribe_posts_with_any_token(content, anonymous, token, action):
    """Posting any text as a confirm or unsubscribe token never gives a 500."""
    response = anonymous.post(f"/protocols/{action}/{quote(token, safe='') or 'x'}/", {"anything": token})
    assert response.status_code in OK_STATUSES


@FUZZ
@given(token=anything)
def test_new_link_requests_with_any_token_send_nothing(content, anonymous, token):
    """ "Email me a new link" takes only a genuine expired link: any other token sends nothing."""
    response = anonymous.post(f"/protocols/confirm/{quote(token, safe='') or 'x'}/new-link/", {"x": token})
    assert response.status_code in OK_STATUSES
    assert not EmailDelivery.objects.exists()


@pytest.fixture
def staff():
    client = Client(raise_request_exception=True)
    log_in_staff(client, get_user_model().objects.create_superuser("fuzz-admin", "fuzz@example.org", "x"))
    return client


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["q", "status__exact", "tags__id__exact", "author__id__exact", "o", "p", "published_at__gte",
                         "published_at__year", "published_at__month", "e", "all"]),
        anything,
        max_size=3,
    ),
    changelist=st.sampled_from(
        ["articles/article", "protocols/signup", "protocols/protocol", "protocols/emaildelivery"]
    ),
)  # fmt: skip
def test_admin_lists_take_any_query_string(content, staff, params, changelist):
    """Any query string on an admin list never gives a 500."""
    response = staff.get(f"/admin/{changelist}/", params)
    assert response.status_code in OK_STATUSES


@FUZZ
@given(title=anything, slug=anything, summary=anything, body=anything, tags=anything, status=anything)
def test_admin_article_form_stores_nothing_invalid(content, staff, title, slug, summary, body, tags, status):
    """Any text in the admin's article form never gives a 500, and a refused form stores no article."""
    before = Article.objects.count()
    data = {"title": title, "slug": slug, "summary": summary, "body": body, "tags": tags, "status": status,
            "references-TOTAL_FORMS": "0", "references-INITIAL_FORMS": "0",
            "reviews-TOTAL_FORMS": "0", "reviews-INITIAL_FORMS": "0"}  # fmt: skip
    response = staff.post("/admin/articles/article/add/", data)
    assert response.status_code in OK_STATUSES
    if response.status_code != 302:
        assert Article.objects.count() == before


@FUZZ
@given(username=anything, password=anything)
def test_admin_login_form(anonymous, username, password):
    """Any username and password on the admin sign-in never gives a 500 or creates a user."""
    before = get_user_model().objects.count()
    response = anonymous.post("/admin/login/", {"username": username, "password": password})
    assert response.status_code in OK_STATUSES
    assert get_user_model().objects.count() == before


def test_admin_article_form_shape_is_the_real_one(staff):
    """The fuzzed post above has the add form's real shape: valid values save an article."""
    page = staff.get("/admin/articles/article/add/").content.decode()
    assert 'name="references-TOTAL_FORMS"' in page and 'name="reviews-TOTAL_FORMS"' in page
    data = {"title": "Real", "slug": "real", "summary": "S.", "body": "B.", "tags": "zinc", "status": "draft",
            "references-TOTAL_FORMS": "0", "references-INITIAL_FORMS": "0",
            "reviews-TOTAL_FORMS": "0", "reviews-INITIAL_FORMS": "0"}  # fmt: skip
    assert staff.post("/admin/articles/article/add/", data).status_code == 302
    assert Article.objects.filter(slug="real").exists()
