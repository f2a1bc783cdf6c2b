"""The shared file cache checks its size on one set() in 100, and still keeps to its limit."""

from site_config.filebased import CULL_CHECK_EVERY, SharedFileCache


def make_cache(tmp_path, max_entries):
    return SharedFileCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": max_entries}})


def test_a_set_does_not_list_the_whole_directory_each_time(tmp_path, monkeypatch):
    """Django's file cache lists every stored file on each set(): this one on one set in 100."""
    cache = make_cache(tmp_path, 20_000)
    listings = []
    real = cache._list_cache_files
    monkeypatch.setattr(cache, "_list_cache_files", lambda: listings.append(1) or real())
    for n in range(CULL_CHECK_EVERY - 1):
        cache.set(f"page-{n}", "html")
    assert listings == []
    cache.set("one-more", "html")
    assert listings == [1]


def test_the_entry_limit_is_overshot_by_at_most_one_check_period(tmp_path):
    """At the limit a check removes a third of the entries (Django's default), more than the
    100 sets until the next check can add back."""
    cache = make_cache(tmp_path, 300)
    for n in range(1000):
        cache.set(f"page-{n}", "html")
        assert len(cache._list_cache_files()) <= 300 + CULL_CHECK_EVERY
    assert len(cache._list_cache_files()) < 1000
    assert cache.get("page-999") == "html"


def test_the_site_uses_it_without_redis():
    """The production settings (not the tests', which cache in memory) pick it when REDIS_URL is unset."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    code = "import site_config.settings as s; print(s.CACHES['default']['BACKEND'])"
    backend = subprocess.run(  # noqa: S603 (this interpreter, fixed code)
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**env, "DJANGO_DEBUG": "1"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert backend == "site_config.filebased.SharedFileCache"
