"""Look and feel: the style sheet, the app icon and the font, applied once at start-up."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import QApplication, QWidget

from app.resources import resource_path


def icon(name: str) -> QIcon:
    return QIcon(str(resource_path(f"icons/{name}.svg")))


def apply_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    font = QFont(app.font())
    font.setPointSize(10)
    app.setFont(font)
    app.setWindowIcon(icon("app"))
    style = resource_path("style.qss").read_text(encoding="utf-8")
    app.setStyleSheet(style.replace("@RES@", resource_path("").as_posix().rstrip("/")))


W = TypeVar("W", bound=QWidget)


def named(widget: W, name: str) -> W:
    """Sets the object name the style sheet selects on, inline where the widget is built."""
    widget.setObjectName(name)
    return widget
