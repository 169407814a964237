"""The one place that knows where bundled files live (source tree or a PyInstaller bundle)."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path


@cache
def _root() -> Path:
    """Resolved once: `Path.resolve` stats every folder on the way, and the window asks for
    dozens of icons while it is being built."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    return Path(frozen_root) if frozen_root else Path(__file__).resolve().parent.parent


def resource_path(name: str) -> Path:
    return _root() / "resources" / name
