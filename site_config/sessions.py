"""Django's database sessions, with the read on every request as one plain statement.

`SESSION_ENGINE = "site_config.sessions"`. A request that carries a session cookie (staff,
a reader whose session expired) reads its session before the page knows who is asking:
Django's engine builds `Session.objects.get(session_key=..., expire_date__gt=now)` for it,
and under gunicorn that queryset was a fifth of an uncached page's CPU, three times the
query itself (py-spy, docs/performance.md). This reads the same row with the same
conditions; writing, expiry, `clearsessions` and the async path stay Django's.
"""

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        """The unexpired Session with this key, or None (and the key dropped), as Django's."""
        model = self.model
        connection = connections[router.db_for_read(model)]
        table = connection.ops.quote_name(model._meta.db_table)
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT session_data FROM {table} WHERE session_key = %s AND expire_date > %s",  # noqa: S608 (model metadata)
                [self.session_key, now],
            )
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return model(session_key=self.session_key, session_data=row[0])
