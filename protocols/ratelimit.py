"""A fixed-window rate limit that holds across every gunicorn worker and app server.

Store: Redis (INCR, atomic) when REDIS_URL is set; otherwise the database, with one
counter row per client and window incremented by a single atomic
`INSERT ... ON CONFLICT DO UPDATE ... RETURNING` (SQLite 3.35+ and PostgreSQL). The
per-machine file cache is not used: its increments are read-modify-write, not atomic.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from core.client_ip import get_client_ip

from .models import RateLimitCounter

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    limit: int
    retry_at: datetime

    @property
    def retry_after_seconds(self):
        return max(1, int((self.retry_at - timezone.now()).total_seconds() + 0.999))


def parse_rate(value):
    """'5/10m' -> Rate(5, 600); 'off' or '' -> None. Raises ValueError on nonsense."""
    value = (value or "").strip().lower()
    if value in {"", "off", "none", "0"}:
        return None
    match = _RATE.match(value)
    if not match:
        raise ValueError(f"SIGNUP_RATE_LIMIT must look like '5/10m' or 'off', not {value!r}")
    limit, amount, unit = int(match[1]), int(match[2] or 1), match[3]
    return Rate(limit=limit, seconds=amount * _UNIT_SECONDS[unit])


def hit(scope, ident, rate, *, now=None):
    """Count one event for `ident` in `scope` and say whether it is within `rate`."""
    now = now or timezone.now()
    epoch = int(now.timestamp())
    window = epoch - epoch % rate.seconds
    window_end = datetime.fromtimestamp(window + rate.seconds, tz=UTC)
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    key = f"rl:{scope}:{rate.seconds}:{window}:{digest}"
    count = _incr_redis(key, rate) if settings.REDIS_URL else _incr_database(key, window_end, now)
    return Verdict(allowed=count <= rate.limit, count=count, limit=rate.limit, retry_at=window_end)


def _incr_redis(key, rate):
    cache.add(key, 0, timeout=rate.seconds + 5)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 0, timeout=rate.seconds + 5)
        return cache.incr(key)


def _incr_database(key, window_end, now):
    qn = connection.ops.quote_name
    table, key_col, count_col, expires_col = (
        qn(RateLimitCounter._meta.db_table),
        qn("key"),
        qn("count"),
        qn("expires_at"),
    )
    # Identifiers from the model, values as parameters: no input reaches the SQL text.
    sql = (
        f"INSERT INTO {table} ({key_col}, {count_col}, {expires_col}) VALUES (%s, 1, %s) "  # noqa: S608
        f"ON CONFLICT ({key_col}) DO UPDATE SET {count_col} = {table}.{count_col} + 1 RETURNING {count_col}"
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, [key, connection.ops.adapt_datetimefield_value(window_end)])
            (count,) = cursor.fetchone()
        if count == 1:
            # A new window began: drop finished ones (indexed, usually a handful of rows).
            RateLimitCounter.objects.filter(expires_at__lt=now).delete()
    return count


def signup_limit(request):
    """The SIGNUP_RATE_LIMIT verdict for this request, or None when limits are off."""
    rate = parse_rate(settings.SIGNUP_RATE_LIMIT)
    if rate is None:
        return None
    return hit("signup", get_client_ip(request), rate)
