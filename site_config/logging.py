import json
import logging


class OneLineFormatter(logging.Formatter):
    """One JSON object per line, tracebacks included, so log collectors see one event."""

    def format(self, record):
        event = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            event["traceback"] = self.formatException(record.exc_info)
        status = getattr(record, "status_code", None)
        if status:
            event["status"] = status
        return json.dumps(event, default=str)
