"""Security headers, HTTPS mode, the admin lockout, client addresses and database outages."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.db.utils import InterfaceError, OperationalError
from django.test import Client, RequestFactory
from django.urls import path

from core.client_ip import axes_client_ip, get_client_ip
from site_config.urls import urlpatterns as site_urlpatterns
from tests.articles.factories import make_article
from tests.site_config.helpers import assert_security_headers, run_probe


def db_down_view(request):
    raise OperationalError("could not connect to server: Connection refused")


def interface_error_view(request):
    raise InterfaceError("connection already closed")


# The site's own URLs too: the 503 page links to them.
urlpatterns = [path("db-down/", db_down_view), path("db-gone/", interface_error_view), *site_urlpatterns]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["/", "/articles/", "/tags/", "/search/?q=magnesium", "/protocols/", "/feed/", "/healthz", "/robots.txt",
     "/no-such-page/", "/admin/login/"],
)  # fmt: skip
def test_every_response_carries_the_security_headers(client, url):
    """Every kind of public response, 404s included, carries the CSP and the other security headers."""
    make_article(title="Headers everywhere", tags=["magnesium"])
    response = client.get(url)
    assert response.status_code in (200, 404)
    assert_security_headers(response)


@pytest.mark.django_db
def test_article_page_and_protocol_page_carry_the_security_headers(client):
    """An article, a protocol and a tag page carry the security headers."""
    from protocols.seed import seed_protocols

    article = make_article(tags=["sleep"])
    protocol = seed_protocols()
    for url in (article.get_absolute_url(), protocol.get_absolute_url(), "/tags/sleep/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_security_headers(response)


HTTPS_PROBE = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("collectstatic", interactive=False, verbosity=0)
from django.conf import settings
from django.test import Client
client = Client()
plain = client.get("/robots.txt")
secure = client.get("/admin/login/", secure=True)
proxied = client.get("/robots.txt", headers={"X-Forwarded-Proto": "https"})
cookie = secure.cookies["csrftoken"]
print(json.dumps({
    "redirect": [plain.status_code, plain.get("Location")],
    "hsts": secure.get("Strict-Transport-Security"),
    "csrf_cookie_secure": bool(cookie["secure"]),
    "csrf_cookie_httponly": bool(cookie["httponly"]),
    "proxied_status": proxied.status_code,
    "session_cookie": [settings.SESSION_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY],
    "csrf_cookie_secure_setting": settings.CSRF_COOKIE_SECURE,
}))
"""


def test_https_mode_redirects_sets_hsts_and_secure_cookies(tmp_path):
    """DJANGO_HTTPS=1: plain HTTP is redirected, HSTS is sent, cookies are Secure and HttpOnly."""
    result = run_probe(HTTPS_PROBE, tmp_path, DJANGO_HTTPS="1")
    assert result["redirect"] == [301, "https://testserver/robots.txt"]
    assert result["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert result["csrf_cookie_secure"] is True
    assert result["csrf_cookie_httponly"] is True
    assert result["proxied_status"] == 200  # the proxy's X-Forwarded-Proto: https is trusted
    assert result["session_cookie"] == [True, True]
    assert result["csrf_cookie_secure_setting"] is True


def test_admin_path_comes_from_the_environment(tmp_path):
    """DJANGO_ADMIN_URL moves the admin to another path."""
    code = (
        "import json, django; django.setup(); from django.urls import reverse;"
        " print(json.dumps(reverse('admin:login')))"
    )
    assert run_probe(code, tmp_path, DJANGO_HTTPS="0", DJANGO_ADMIN_URL="editors-desk/") == "/editors-desk/login/"


@pytest.mark.django_db
def test_admin_login_locks_out_after_repeated_failures_even_with_the_right_password(settings):
    """django-axes: after AXES_FAILURE_LIMIT wrong passwords, the right one is refused too."""
    settings.AXES_ENABLED = True
    get_user_model().objects.create_superuser("boss", "boss@example.com", "right-password-123")
    client = Client(REMOTE_ADDR="203.0.113.9")
    login = "/admin/login/?next=/admin/"
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(login, {"username": "boss", "password": "wrong"})
        assert response.status_code == 200  # the form again, with an error
    response = client.post(login, {"username": "boss", "password": "wrong"})
    assert response.status_code == 429  # the limit-th failure locks the account for this address
    response = client.post(login, {"username": "boss", "password": "right-password-123"})
    assert response.status_code == 429
    assert "Account temporarily locked" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert_security_headers(response)
    # Another address is not locked out (the lockout is per username and address).
    other = Client(REMOTE_ADDR="198.51.100.7")
    response = other.post(login, {"username": "boss", "password": "right-password-123"})
    assert response.status_code == 302


def test_client_ip_is_remote_addr_unless_a_proxy_header_is_configured(settings):
    """The client address is REMOTE_ADDR unless CLIENT_IP_HEADER names our proxy's header; bad values give none."""
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.20")
    settings.CLIENT_IP_HEADER = ""
    assert get_client_ip(request) == "10.0.0.5"  # a client-sent header is ignored by default
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    assert get_client_ip(request) == "203.0.113.20"  # the entry our proxy appended
    settings.CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    assert get_client_ip(request) == "10.0.0.5"  # header missing: fall back
    assert axes_client_ip(RequestFactory().get("/", REMOTE_ADDR="")) is None
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    assert axes_client_ip(RequestFactory().get("/", HTTP_X_FORWARDED_FOR="not-an-ip")) is None


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/db-down/", "/db-gone/"])
def test_a_database_error_gives_the_static_503_page_quickly(settings, url):
    """A database that refuses connections gives the static 503 page at once, leaking no detail."""
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    started = time.monotonic()
    response = client.get(url)
    assert time.monotonic() - started < 2
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert "Temporarily unavailable" in body
    assert "Connection refused" not in body and "Traceback" not in body
    assert_security_headers(response)


@pytest.mark.django_db
def test_admin_lists_answer_400_not_500_to_a_nul_byte(admin_client):
    """PostgreSQL refuses NUL in text: the admin's filters and search say so with a 400."""
    for url in ("/admin/articles/article/?status__exact=%00", "/admin/protocols/signup/?q=a%00b"):
        response = admin_client.get(url)
        assert response.status_code == 400, url
        assert b"NUL character" in response.content
    assert admin_client.get("/admin/articles/article/?status__exact=draft").status_code == 200


@pytest.mark.django_db
def test_admin_date_hierarchy_answers_400_not_500_to_a_huge_year(admin_client):
    """A year beyond a C int made the admin's date hierarchy raise OverflowError (a 500): now a 400."""
    response = admin_client.get("/admin/articles/article/?published_at__year=2200000000")
    assert response.status_code == 400
    assert admin_client.get("/admin/articles/article/?published_at__year=2026").status_code == 200
