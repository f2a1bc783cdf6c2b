"""Record what staff do with subscribers' data (see AuditEvent)."""

import logging

from .models import AuditEvent

logger = logging.getLogger(__name__)


def record(request, action, *, rows, details=""):
    user = request.user if request.user.is_authenticated else None
    event = AuditEvent.objects.create(
        user=user, username=user.get_username() if user else "", action=action, rows=rows, details=details[:2000]
    )
    logger.info("audit: %s %s %s row(s) %s", event.username, action, rows, details[:200])
    return event
