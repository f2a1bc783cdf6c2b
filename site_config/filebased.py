"""The file cache every worker of one machine shares (when REDIS_URL is not set)."""

import itertools

from django.core.cache.backends.filebased import FileBasedCache

# Django's file cache lists its whole directory on every set() to decide whether to cull:
# with thousands of stored pages that listing cost milliseconds a page stored (measured:
# 1.5 s of 9 s profiled over 100 new searches with 700 files). Checking on one set in
# CULL_CHECK_EVERY lets a worker overshoot MAX_ENTRIES by at most that many entries.
CULL_CHECK_EVERY = 100


class SharedFileCache(FileBasedCache):
    def __init__(self, dir, params):
        super().__init__(dir, params)
        self._sets = itertools.count(1)

    def _cull(self):
        if next(self._sets) % CULL_CHECK_EVERY == 0:
            super()._cull()
