"""Look and feel: a light and a dark palette, the style sheet filled in from the chosen one, the
app icon and the font, applied at start-up and again whenever the system switches between
light and dark.

style.qss names colours as `@token@`, icons as `@icon:name@` (the scheme's drawing, as `icon()`
picks it) and the resources folder as `@RES@`; the same colour tokens build the QPalette, so
widgets the sheet does not style (menus, message boxes, native parts) match, and the painting
delegates read them through `colors()`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal, TypeVar

from PySide6.QtCore import QObject, Qt, Signal, SignalInstance
from PySide6.QtGui import QColor, QFont, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from app.resources import resource_path

Scheme = Literal["light", "dark"]
SchemeChoice = Literal["system", "light", "dark"]


@dataclass(frozen=True)
class Palette:
    scheme: Scheme
    window: str  # behind the cards
    surface: str  # cards, inputs, tables, sidebar
    surface_alt: str  # alternate table rows
    text: str
    muted: str  # secondary text
    border: str
    input_border: str
    input_border_hover: str
    accent: str  # primary buttons, checked boxes, the selected tab's underline
    accent_hover: str
    accent_text: str  # green text: links, selected tab, amounts
    focus: str  # the keyboard focus ring
    header: str  # the green bar at the top
    soft: str  # selected rows in menus and lists
    hover: str
    selection: str  # selected table row
    row_line: str
    disabled_bg: str
    disabled_text: str
    readonly_bg: str
    check_border: str
    balance_bg: str
    balance_border: str
    error_bg: str
    error_border: str
    error_text: str
    info_bg: str
    info_border: str
    info_text: str
    warn_bg: str
    warn_border: str
    warn_text: str
    on_accent: str  # text on the accent buttons and the header bar
    header_muted: str  # the header's divider
    header_hover: str  # header buttons under the mouse
    header_pressed: str
    header_focus: str
    header_progress: str  # the busy bar's track in the header
    header_progress_chunk: str
    assist_bg: str  # the staff assist banner: orange in both schemes, never overlooked (SA-2)
    assist_text: str
    assist_border: str
    viewer_bg: str  # behind the pages of the PDF viewer
    paper_border: str  # the frame of the signature pad's paper (the paper itself stays white)


# Paper is paper in both schemes: a signature is drawn dark ink on white, as on the signed PDF,
# and PDF pages are rendered as printed. Their colours are therefore not part of a palette.
PAPER = "#ffffff"
INK = "#122054"
PAPER_LINE = "#9aa5b1"  # the signature line
PAPER_HINT = "#5b6875"  # "Sign above the line": 5.7:1 on the paper
SEARCH_HIT = "#5affd500"  # #AARRGGBB: translucent yellow over a PDF page
CURRENT_SEARCH_HIT = "#82ff8c00"


LIGHT = Palette(
    scheme="light",
    window="#f4f6f8",
    surface="#ffffff",
    surface_alt="#f8fafb",
    text="#1f2933",
    muted="#5b6875",
    border="#dfe4ea",
    input_border="#cfd6de",
    input_border_hover="#b7c2cc",
    accent="#23784a",
    accent_hover="#1d6340",
    accent_text="#1d6340",
    focus="#23784a",
    header="#1d6340",
    soft="#e8f3ec",
    hover="#f1f5f3",
    selection="#e1f0e7",
    row_line="#eef1f4",
    disabled_bg="#e9edf1",
    disabled_text="#8a96a2",
    readonly_bg="#f1f3f5",
    check_border="#aab6c2",
    balance_bg="#f4f8f5",
    balance_border="#d3e6da",
    error_bg="#fdecec",
    error_border="#f3c1c1",
    error_text="#9b1c1c",
    info_bg="#e8f3ec",
    info_border="#c4dfcf",
    info_text="#1d5236",
    warn_bg="#fff6dc",
    warn_border="#f0d48a",
    warn_text="#5c4100",
    on_accent="#ffffff",
    header_muted="rgba(255, 255, 255, 0.35)",
    header_hover="rgba(255, 255, 255, 0.12)",
    header_pressed="rgba(255, 255, 255, 0.2)",
    header_focus="rgba(255, 255, 255, 0.85)",
    header_progress="rgba(255, 255, 255, 0.18)",
    header_progress_chunk="#b9e4c9",
    assist_bg="#b45309",
    assist_text="#ffffff",
    assist_border="#92400e",
    viewer_bg="#e6e9ed",
    paper_border="#c5ccd3",
)

DARK = Palette(
    scheme="dark",
    window="#16181b",
    surface="#202327",
    surface_alt="#24282c",
    text="#e6e9ed",
    muted="#9ea9b4",
    border="#33383e",
    input_border="#454c54",
    input_border_hover="#5d656e",
    accent="#2a8653",
    accent_hover="#247a4b",  # darker under the mouse: a lighter green left white text at 3.5:1
    accent_text="#74d49e",
    focus="#5fc98d",
    header="#163d29",
    soft="#1f3a2b",
    hover="#2a2f34",
    selection="#23412f",
    row_line="#2a2e33",
    disabled_bg="#2a2d31",
    disabled_text="#737c86",
    readonly_bg="#1b1e21",
    check_border="#6b737c",
    balance_bg="#1b2a21",
    balance_border="#2c4a38",
    error_bg="#3a1f1f",
    error_border="#6b2c2c",
    error_text="#ffb4b4",
    info_bg="#1f3a2b",
    info_border="#2c5a40",
    info_text="#a8e6c1",
    warn_bg="#3a2f12",
    warn_border="#6b5520",
    warn_text="#f5d68a",
    on_accent="#ffffff",
    header_muted="rgba(255, 255, 255, 0.3)",
    header_hover="rgba(255, 255, 255, 0.1)",
    header_pressed="rgba(255, 255, 255, 0.16)",
    header_focus="rgba(255, 255, 255, 0.8)",
    header_progress="rgba(255, 255, 255, 0.14)",
    header_progress_chunk="#74d49e",
    assist_bg="#9a4408",
    assist_text="#ffffff",
    assist_border="#c2570c",
    viewer_bg="#0e1012",
    paper_border="#5d656e",
)

# status key -> (background, text) of the chips in the lists, per scheme
CHIPS: dict[Scheme, dict[str, tuple[str, str]]] = {
    "light": {
        "pending": ("#fff4d6", "#8a5a00"),
        "accepted": ("#dff3e6", "#1d6340"),
        "rejected": ("#fde4e4", "#9b1c1c"),
        "scheduled": ("#e1ecfb", "#1e4e8c"),
        "completed": ("#dff3e6", "#1d6340"),
        "due": ("#fff4d6", "#8a5a00"),
        "overdue": ("#fde4e4", "#9b1c1c"),
        "paid": ("#dff3e6", "#1d6340"),
        "open": ("#e1ecfb", "#1e4e8c"),
        "closed": ("#eceff2", "#4a5562"),
    },
    "dark": {
        "pending": ("#4a3a10", "#f5d68a"),
        "accepted": ("#1f4030", "#8fe0b0"),
        "rejected": ("#4a1f1f", "#ffb4b4"),
        "scheduled": ("#1d3350", "#a9c8f5"),
        "completed": ("#1f4030", "#8fe0b0"),
        "due": ("#4a3a10", "#f5d68a"),
        "overdue": ("#4a1f1f", "#ffb4b4"),
        "paid": ("#1f4030", "#8fe0b0"),
        "open": ("#1d3350", "#a9c8f5"),
        "closed": ("#33383e", "#c5ccd3"),
    },
}
NEUTRAL_CHIP: dict[Scheme, tuple[str, str]] = {"light": ("#eceff2", "#4a5562"), "dark": ("#33383e", "#c5ccd3")}

_current: Palette = LIGHT
_choice: SchemeChoice = "system"
SCHEME_CHOICES: tuple[tuple[SchemeChoice, str], ...] = (("system", "System"), ("light", "Light"), ("dark", "Dark"))


class _Notifier(QObject):
    changed = Signal()


_notifier: _Notifier | None = None


def theme_changed() -> SignalInstance:
    """Emitted after the palette changed (the user's Appearance choice, or the system switched).
    Widgets repaint by themselves; pages built as HTML from `colors()` connect here to rebuild."""
    global _notifier
    if _notifier is None:
        _notifier = _Notifier()
    return _notifier.changed


def scheme_choice() -> SchemeChoice:
    """What the user chose under Appearance ("system" follows the operating system)."""
    return _choice


def colors() -> Palette:
    """The palette in use, for code that paints by hand."""
    return _current


def chip_colors(status: str) -> tuple[str, str]:
    return CHIPS[_current.scheme].get(status, NEUTRAL_CHIP[_current.scheme])


def icon(name: str) -> QIcon:
    """An SVG icon; the dark scheme uses `name-dark.svg` where the light drawing would not show."""
    return _icon(name, _current.scheme)


_icons: dict[tuple[str, Scheme], QIcon] = {}


def _icon(name: str, scheme: Scheme) -> QIcon:
    """One QIcon per icon and scheme (QIcon is implicitly shared): widgets ask again on every
    style change (IconLabel), and a file check plus a new SVG icon engine each time added up to
    a noticeable part of building the window. A null icon (asked for before the application
    could load the SVG engine) is not kept, so a later call gets the real one."""
    cached = _icons.get((name, scheme))
    if cached is not None:
        return cached
    made = QIcon(str(icon_path(name, scheme)))
    if not made.isNull():
        _icons[(name, scheme)] = made
    return made


def icon_path(name: str, scheme: Scheme) -> Path:
    """The SVG of an icon for a scheme, for QIcons and the style sheet alike (its drop-down
    chevron and check mark), so a drawing made for light backgrounds never shows on dark ones."""
    if scheme == "dark":
        dark = resource_path(f"icons/{name}-dark.svg")
        if dark.exists():
            return dark
    return resource_path(f"icons/{name}.svg")


def scheme_for(choice: SchemeChoice, reported: Qt.ColorScheme) -> Scheme:
    """The scheme to use: the user's explicit choice, else what the system reports
    (QStyleHints.colorScheme()); "light" when the system does not say (Unknown)."""
    if choice != "system":
        return choice
    return "dark" if reported == Qt.ColorScheme.Dark else "light"


def palette_for(choice: SchemeChoice, reported: Qt.ColorScheme) -> Palette:
    return DARK if scheme_for(choice, reported) == "dark" else LIGHT


_SHEET_ICON = re.compile(r"@icon:([a-z0-9-]+)@")


def style_sheet(palette: Palette) -> str:
    sheet = resource_path("style.qss").read_text(encoding="utf-8")
    for field in fields(palette):
        sheet = sheet.replace(f"@{field.name}@", str(getattr(palette, field.name)))
    sheet = _SHEET_ICON.sub(lambda found: icon_path(found[1], palette.scheme).as_posix(), sheet)
    return sheet.replace("@RES@", resource_path("").as_posix().rstrip("/"))


def qpalette(palette: Palette) -> QPalette:
    result = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    for roles, value in (
        ((role.Window,), palette.window),
        ((role.WindowText, role.Text, role.ButtonText, role.ToolTipText), palette.text),
        ((role.Base, role.Button, role.ToolTipBase), palette.surface),
        ((role.AlternateBase,), palette.surface_alt),
        ((role.Highlight,), palette.accent),
        ((role.HighlightedText,), palette.on_accent),
        ((role.PlaceholderText,), palette.muted),
        ((role.Link,), palette.accent_text),
        ((role.Mid, role.Dark), palette.input_border),
        ((role.Light, role.Midlight), palette.border),
    ):
        for each in roles:
            result.setColor(each, QColor(value))
    for each in (role.WindowText, role.Text, role.ButtonText):
        result.setColor(group.Disabled, each, QColor(palette.disabled_text))
    return result


def apply_theme(app: QApplication, choice: SchemeChoice = "system") -> Palette:
    """Applies the palette for `choice`; with "system" it follows later light/dark switches too."""
    global _choice
    _choice = choice
    if app.property("portalDeskThemed") is None:
        app.setProperty("portalDeskThemed", True)
        app.setStyle("Fusion")
        font = QFont(app.font())
        font.setPointSize(10)
        app.setFont(font)
        app.setWindowIcon(icon("app"))
        app.styleHints().colorSchemeChanged.connect(lambda scheme: _follow_system(app, scheme))
    return _apply(app, palette_for(choice, app.styleHints().colorScheme()))


def _follow_system(app: QApplication, reported: Qt.ColorScheme) -> None:
    """The system switched between light and dark while the app runs."""
    if _choice == "system":
        _apply(app, palette_for("system", reported))


def _apply(app: QApplication, palette: Palette) -> Palette:
    """Replaces the sheet, never clears it: Qt then repolishes with the same style sheet style and
    caches. Clearing it while widgets live deletes those caches, and the widgets marked styled
    while it was being cleared never get their `destroyed` hook into the next ones, so a later
    change walked dead widgets (a segfault the tests hit; tests/client/style_sheet_caches.py)."""
    global _current
    changed = palette is not _current
    _current = palette
    app.setPalette(qpalette(palette))
    app.setStyleSheet(style_sheet(palette))
    if changed:
        theme_changed().emit()
    return palette


W = TypeVar("W", bound=QWidget)


def named(widget: W, name: str) -> W:
    """Sets the object name the style sheet selects on, inline where the widget is built."""
    widget.setObjectName(name)
    return widget
