"""The one place that knows where bundled files live (source tree or a PyInstaller bundle)."""

from __future__ import annotations

import sys
from pathlib import Path


def resource_path(name: str) -> Path:
    frozen_root = getattr(sys, "_MEIPASS", None)
    root = Path(frozen_root) if frozen_root else Path(__file__).resolve().parent.parent
    return root / "resources" / name
