import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client

from protocols.models import RateLimitCounter, Signup
from protocols.ratelimit import Rate, hit, parse_rate


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5/10m", Rate(5, 600)),
        ("5/m", Rate(5, 60)),
        ("100/h", Rate(100, 3600)),
        (" 3 / 30s ", Rate(3, 30)),
        ("20/1d", Rate(20, 86400)),
        ("off", None),
        ("", None),
    ],
)
def test_parse_rate(value, expected):
    """SIGNUP_RATE_LIMIT reads as "<count>/<amount><s|m|h|d>"; "off" disables it."""
    assert parse_rate(value) == expected


@pytest.mark.parametrize("value", ["five", "5/10x", "5per10m", "-1/m"])
def test_parse_rate_rejects_nonsense(value):
    """A mistyped limit is an error, not silently no limit."""
    with pytest.raises(ValueError, match="SIGNUP_RATE_LIMIT"):
        parse_rate(value)


def redis_available():
    try:
        import redis

        redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=0.5).ping()
        return True
    except Exception:
        return False


@pytest.fixture(
    params=["database", pytest.param("redis", marks=pytest.mark.skipif(not redis_available(), reason="no Redis"))]
)
def rate_store(request, settings):
    """Each limit test runs against both stores: the database, and Redis as several app
    servers share it (a fresh key prefix per test, so nothing needs flushing)."""
    if request.param == "database":
        settings.REDIS_URL = ""
    else:
        url = django_settings.REDIS_URL or "redis://127.0.0.1:6379/15"
        settings.REDIS_URL = url
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": f"rl-test-{uuid.uuid4().hex}",
            }
        }
    return request.param


def post(client, protocol, email, **extra):
    return client.post(protocol.get_absolute_url(), {"email": email, "consent": "on"}, **extra)


@pytest.mark.django_db
def test_too_many_signups_from_one_address_get_a_429_that_says_when(protocol, settings, rate_store):
    """Past the limit a client gets 429, a Retry-After header and a page saying when to try again; nothing stored."""
    settings.SIGNUP_RATE_LIMIT = "2/10m"
    client = Client()
    assert post(client, protocol, "one@example.org").status_code == 302
    assert post(client, protocol, "two@example.org").status_code == 302
    response = post(client, protocol, "three@example.org")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 600
    html = response.content.decode()
    assert "Please try again in" in html and "UTC" in html
    assert Signup.objects.count() == 2
    assert RateLimitCounter.objects.exists() == (rate_store == "database")


@pytest.mark.django_db
def test_limit_is_per_client_address(protocol, settings, rate_store):
    """Another client address has its own allowance."""
    settings.SIGNUP_RATE_LIMIT = "1/10m"
    client = Client()
    assert post(client, protocol, "a@example.org", REMOTE_ADDR="10.0.0.1").status_code == 302
    assert post(client, protocol, "b@example.org", REMOTE_ADDR="10.0.0.1").status_code == 429
    assert post(client, protocol, "c@example.org", REMOTE_ADDR="10.0.0.2").status_code == 302


@pytest.mark.django_db
def test_trusted_proxy_header_names_the_client(protocol, settings, rate_store):
    """With DJANGO_CLIENT_IP_HEADER set, the proxy's right-most X-Forwarded-For entry is the client."""
    settings.SIGNUP_RATE_LIMIT = "1/10m"
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    client = Client()
    assert post(client, protocol, "a@example.org", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.5").status_code == 302
    # A forged left-hand entry does not buy a new allowance.
    assert post(client, protocol, "b@example.org", HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.5").status_code == 429
    assert post(client, protocol, "c@example.org", HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 302


@pytest.mark.django_db
def test_invalid_posts_do_not_use_up_the_allowance(protocol, settings, rate_store):
    """Typos are not counted: only submissions that would send an email are."""
    settings.SIGNUP_RATE_LIMIT = "1/10m"
    client = Client()
    for _ in range(3):
        assert post(client, protocol, "not-an-email").status_code == 400
    assert post(client, protocol, "ok@example.org").status_code == 302


@pytest.mark.django_db
def test_limit_off_never_blocks(protocol, settings):
    """SIGNUP_RATE_LIMIT=off disables the limit (the test settings' default)."""
    settings.SIGNUP_RATE_LIMIT = "off"
    client = Client()
    for i in range(10):
        assert post(client, protocol, f"r{i}@example.org").status_code == 302
    assert RateLimitCounter.objects.count() == 0


@pytest.mark.django_db
def test_fixed_window_resets_and_old_windows_are_deleted(settings):
    """A new window starts from zero, and counters of finished windows are cleaned up."""
    settings.REDIS_URL = ""
    rate = Rate(limit=2, seconds=60)
    start = datetime(2026, 1, 1, 12, 0, 5, tzinfo=UTC)
    assert [hit("t", "ip", rate, now=start).count for _ in range(3)] == [1, 2, 3]
    verdict = hit("t", "ip", rate, now=start + timedelta(seconds=60))
    assert verdict.count == 1 and verdict.allowed
    assert verdict.retry_at == datetime(2026, 1, 1, 12, 2, tzinfo=UTC)
    assert RateLimitCounter.objects.count() == 1


@pytest.mark.django_db
def test_rate_limited_expired_link_resends(protocol, make_signup, settings, rate_store):
    """The "email me a new link" button is rate-limited like the signup form."""
    from django.urls import reverse

    from protocols.tokens import make_confirm_token

    settings.SIGNUP_RATE_LIMIT = "1/10m"
    signup = make_signup(protocol)
    url = reverse("protocols:resend", args=[make_confirm_token(signup)])
    assert Client().post(url).status_code == 302
    assert Client().post(url).status_code == 429


@pytest.mark.django_db
@pytest.mark.skipif(not redis_available(), reason="no Redis on 127.0.0.1:6379")
def test_redis_store_counts_atomically(settings):
    """With REDIS_URL the counter lives in Redis (INCR): shared by every app server, no database row."""
    import threading

    url = django_settings.REDIS_URL or "redis://127.0.0.1:6379/15"
    settings.REDIS_URL = url
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url, "KEY_PREFIX": "rl-test"}
    }
    scope = f"test-{uuid.uuid4().hex}"  # a fresh key: no need to flush a shared Redis
    rate = Rate(limit=5, seconds=600)
    results = []
    threads = [threading.Thread(target=lambda: results.append(hit(scope, "ip", rate).count)) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == list(range(1, 21))
    assert not RateLimitCounter.objects.exists()
