"""WSGI entry point: Django behind the page cache's read path (see page_cache.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings")

django_application = get_wsgi_application()

from .page_cache import PageCacheWSGI, page_cache_enabled  # noqa: E402 (needs settings configured above)

# Anonymous GET/HEAD hits are answered from the shared cache without building a Django
# request; everything else (and every miss) goes to Django. Off with DEBUG (development);
# PAGE_CACHE_READ_PATH=0 turns the read path off (benchmarks compare with and without it).
if os.environ.get("PAGE_CACHE_READ_PATH", "1") == "0" or not page_cache_enabled():
    application = django_application
else:
    application = PageCacheWSGI(django_application)
