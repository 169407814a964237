"""Where the client keeps its files.

`PORTAL_DESK_HOME` moves everything under one folder so tests and smoke runs never write
into the real user's profile.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "Portal Desk"
ORG_NAME = "PortalDesk"


def _home() -> Path | None:
    configured = os.environ.get("PORTAL_DESK_HOME")
    return Path(configured) if configured else None


def data_dir() -> Path:
    home = _home()
    path = home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME, ORG_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    home = _home()
    path = home / "logs" if home else Path(platformdirs.user_log_dir(APP_NAME, ORG_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path
