"""gunicorn's own log in the project's format: stdout, one JSON object a line.

gunicorn.conf.py names this class as `logger_class`. (A `logconfig_dict` would do the
formatting too, but gunicorn then writes an access line for every request, whatever
`accesslog` says: at cache-hit speeds that is thousands of lines a second.)
"""

import sys

from gunicorn.glogging import Logger

from .logging import OneLineFormatter


class OneLineLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        formatter = OneLineFormatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if getattr(handler, "_gunicorn", False):
                    handler.setFormatter(formatter)
                    if getattr(handler, "stream", None) is sys.stderr:
                        handler.setStream(sys.stdout)
