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

from protocols.models import Signup
from protocols.seed import seed_protocols
from tests.articles.factories import make_article

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
    response = anonymous.get("/search/", {param: value, "q": extra} if param != "q" else {"q": value, "tag": extra})
    assert response.status_code in OK_STATUSES


@FUZZ
@given(path=st.sampled_from(["/", "/articles/", "/tags/", "/tags/magnesium/", "/protocols/", "/feed/"]), page=anything)
def test_listing_pages_take_any_page_number(content, anonymous, path, page):
    response = anonymous.get(path, {"page": page})
    assert response.status_code in OK_STATUSES


@FUZZ
@given(slug=anything)
def test_any_path_segment(content, anonymous, slug):
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
)
def test_signup_form_stores_nothing_from_invalid_input(content, anonymous, email, consent, website):
    protocol = content
    before = set(Signup.objects.values_list("pk", flat=True))
    response = anonymous.post(protocol.get_absolute_url(), {"email": email, "consent": consent, "website": website})
    assert response.status_code in OK_STATUSES
    new_rows = Signup.objects.exclude(pk__in=before)
    if response.status_code != 302:
        assert not new_rows.exists(), "a refused signup stored a row"
        return
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
    response = anonymous.post(f"/protocols/{action}/{quote(token, safe='') or 'x'}/", {"anything": token})
    assert response.status_code in OK_STATUSES


@FUZZ
@given(username=anything, password=anything)
def test_admin_login_form(anonymous, username, password):
    before = get_user_model().objects.count()
    response = anonymous.post("/admin/login/", {"username": username, "password": password})
    assert response.status_code in OK_STATUSES
    assert get_user_model().objects.count() == before
