"""The client's rotating log file, with a last-line defence against secrets."""

from __future__ import annotations

import logging
import re
from logging.handlers import RotatingFileHandler
from pathlib import Path

from app.services.paths import log_dir

_SECRET = re.compile(r"(Bearer\s+|\"?(?:password|token|new_password|current_password)\"?\s*[:=]\s*\"?)[^\s\",}]+", re.I)


class RedactSecrets(logging.Filter):
    """Masks bearer tokens and password fields should a message or exception ever carry one."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _SECRET.sub(r"\1***", message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure_logging(level: int = logging.INFO) -> Path:
    path = log_dir() / "portal-desk.log"
    handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(handler)
    # urllib3 logs full URLs at DEBUG; keep it quiet whatever the root level.
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    return path
