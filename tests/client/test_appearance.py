"""Light and dark alike: text keeps a 4.5:1 contrast where the palette puts it (the staff assist
banner and the sign dialog's note included, measured on the widgets as the style sheet paints
them); no view hard-codes a colour outside theme.py; the signature pad stays paper, framed like
the window around it; the Appearance choice is kept in the settings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from app.services.accounts import Accounts
from app.services.session import PortalSession, sign_in
from app.services.settings import AppSettings
from app.views import theme
from app.views.main_window import MainWindow
from app.views.pdf_viewer import PdfViewer
from app.views.signature_pad import SignaturePad
from tests.client import company
from tests.client.live_server import ROOT, LivePortal

pytestmark = pytest.mark.gui

PALETTES = [pytest.param(theme.LIGHT, id="light"), pytest.param(theme.DARK, id="dark")]
AA_TEXT = 4.5
AA_GRAPHICS = 3.0  # WCAG 1.4.11: icons a control needs to be understood


def luminance(color: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.redF()) + 0.7152 * channel(color.greenF()) + 0.0722 * channel(color.blueF())


def contrast(a: str | QColor, b: str | QColor) -> float:
    """WCAG 2 contrast ratio of two opaque colours."""
    first, second = sorted((luminance(QColor(a)), luminance(QColor(b))), reverse=True)
    return (first + 0.05) / (second + 0.05)


@pytest.fixture
def app() -> Iterator[QApplication]:
    instance = QApplication.instance()
    assert isinstance(instance, QApplication)
    yield instance
    theme.apply_theme(instance, "light")
    instance.setStyleSheet("")
    instance.setPalette(instance.style().standardPalette())


@pytest.mark.parametrize("palette", PALETTES)
def test_text_tokens_keep_aa_contrast_on_their_backgrounds(palette: theme.Palette) -> None:
    pairs = {
        "assist banner": (palette.assist_text, palette.assist_bg),
        "sign dialog note": (palette.warn_text, palette.warn_bg),
        "connection banner": (palette.warn_text, palette.warn_bg),
        "text on window": (palette.text, palette.window),
        "text on cards": (palette.text, palette.surface),
        "secondary text on window": (palette.muted, palette.window),
        "secondary text on cards": (palette.muted, palette.surface),
        "green text (links, approved total)": (palette.accent_text, palette.window),
        "green text on cards": (palette.accent_text, palette.surface),
        "primary buttons": (palette.on_accent, palette.accent),
        "primary buttons under the mouse": (palette.on_accent, palette.accent_hover),
        "selected rows": (palette.text, palette.selection),
        "green text on a selected row": (palette.accent_text, palette.selection),
        "secondary text on alternate rows": (palette.muted, palette.surface_alt),
        "header bar": (palette.on_accent, palette.header),
        "errors": (palette.error_text, palette.error_bg),
        "notes": (palette.info_text, palette.soft),
        "signature hint on paper": (theme.PAPER_HINT, theme.PAPER),
    }
    weak = {name: round(contrast(*pair), 2) for name, pair in pairs.items() if contrast(*pair) < AA_TEXT}
    assert weak == {}


@pytest.mark.parametrize("palette", PALETTES)
def test_status_chips_keep_aa_contrast(palette: theme.Palette) -> None:
    weak = {
        k: round(contrast(fg, bg), 2) for k, (bg, fg) in theme.CHIPS[palette.scheme].items() if contrast(fg, bg) < 4.5
    }
    assert weak == {}


@pytest.mark.parametrize("palette", PALETTES)
def test_assist_banner_and_sign_note_as_painted(qtbot: QtBot, app: QApplication, palette: theme.Palette) -> None:
    """The colours the style sheet gives the real object names, and the pixels behind the text."""
    theme.apply_theme(app, palette.scheme)
    banner = theme.named(QFrame(), "AssistBanner")
    label = QLabel("Assisting Pat Customer — actions are recorded with your name")
    QHBoxLayout(banner).addWidget(label)
    note = theme.named(QLabel("You are signing for the customer in an assist session."), "AssistNote")
    for widget in (banner, note):
        qtbot.addWidget(widget)
        widget.show()
    qtbot.waitExposed(banner)
    banner_bg = banner.grab().toImage().pixelColor(2, 2)
    note_bg = note.grab().toImage().pixelColor(note.width() // 2, 3)
    assert banner_bg == QColor(palette.assist_bg)
    assert note_bg == QColor(palette.warn_bg)
    assert contrast(label.palette().color(QPalette.ColorRole.WindowText), banner_bg) >= AA_TEXT
    assert contrast(note.palette().color(QPalette.ColorRole.WindowText), note_bg) >= AA_TEXT


@pytest.mark.parametrize("palette", PALETTES)
def test_buttons_that_cannot_be_used_look_it_primary_ones_too(
    qtbot: QtBot, app: QApplication, palette: theme.Palette
) -> None:
    """A paid invoice's Pay invoice and a proposal one may not sign had their primary button drawn
    as green as a working one: "#PrimaryButton" outranked the sheet's ":disabled"."""
    theme.apply_theme(app, palette.scheme)
    primary = theme.named(QPushButton("Pay invoice"), "PrimaryButton")
    default = QPushButton("Continue", default=True)
    plain = QPushButton("View invoice")
    for button in (primary, default, plain):
        qtbot.addWidget(button)
        button.show()
    qtbot.waitExposed(primary)
    assert primary.grab().toImage().pixelColor(6, primary.height() // 2) == QColor(palette.accent)
    for button in (primary, default, plain):
        button.setEnabled(False)
        shown = button.grab().toImage().pixelColor(6, button.height() // 2)
        assert shown == QColor(palette.disabled_bg), button.text()


@pytest.mark.parametrize("palette", PALETTES)
def test_drop_down_chevron_shows_on_its_background(qtbot: QtBot, app: QApplication, palette: theme.Palette) -> None:
    """The style sheet's icons follow the scheme as QIcons do: the chevron was drawn dark on dark."""
    theme.apply_theme(app, palette.scheme)
    combo = QComboBox()
    combo.addItems(["All", "Due"])
    qtbot.addWidget(combo)
    combo.resize(160, combo.sizeHint().height())
    combo.show()
    qtbot.waitExposed(combo)
    image = combo.grab().toImage()
    background = QColor(palette.surface)
    middle = image.height() // 2
    arrow = [
        image.pixelColor(x, y)
        for x in range(image.width() - 24, image.width() - 4)
        for y in range(3, image.height() - 3)
    ]
    assert image.pixelColor(image.width() - 30, middle) == background
    assert max(contrast(pixel, background) for pixel in arrow) >= AA_GRAPHICS
    assert "@" not in theme.style_sheet(palette), "every token filled in"


@pytest.mark.parametrize("palette", PALETTES)
def test_a_disabled_field_does_not_look_like_one_that_takes_input(
    qtbot: QtBot, app: QApplication, palette: theme.Palette
) -> None:
    """A disabled drop-down (New request's property, for a one-property account) looked enabled."""
    theme.apply_theme(app, palette.scheme)
    for field in (QComboBox(), QLineEdit("Cedar Ridge")):
        if isinstance(field, QComboBox):
            field.addItems(["Cedar Ridge Clubhouse"])
        qtbot.addWidget(field)
        field.resize(200, field.sizeHint().height())
        field.show()
        qtbot.waitExposed(field)
        inside = (field.width() // 2, field.height() - 4)
        assert field.grab().toImage().pixelColor(*inside) == QColor(palette.surface)
        field.setEnabled(False)
        assert field.grab().toImage().pixelColor(*inside) == QColor(palette.readonly_bg), type(field).__name__


@pytest.mark.parametrize("palette", PALETTES)
def test_a_focused_check_box_shows_a_ring_not_a_green_label(
    qtbot: QtBot, app: QApplication, palette: theme.Palette
) -> None:
    """A focused box's label turned green, which reads as "added" or "selected"; on a ticked box
    the ring was the fill's own green, so nothing at all showed where the focus was."""
    theme.apply_theme(app, palette.scheme)
    window = QWidget()
    layout = QVBoxLayout(window)
    box, radio, elsewhere = QCheckBox("Email me receipts"), QRadioButton("Other amount"), QLineEdit()
    for widget in (box, radio, elsewhere):
        layout.addWidget(widget)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)

    def looks(widget: QCheckBox | QRadioButton, focused: bool) -> tuple[set[str], set[str]]:
        (widget if focused else elsewhere).setFocus()
        qtbot.waitUntil(lambda: widget.hasFocus() == focused)
        image = widget.grab().toImage()
        # The sheet's 16 px indicator and its 8 px spacing: the ring left of x=20, the label right of 24.
        ring = {image.pixelColor(x, y).name() for x in range(20) for y in range(image.height())}
        label = {image.pixelColor(x, y).name() for x in range(24, image.width()) for y in range(image.height())}
        return ring, label

    for widget in (box, radio):
        for checked in (False, True):
            widget.setChecked(checked)
            (plain_ring, plain_label), (focus_ring, focus_label) = looks(widget, False), looks(widget, True)
            assert focus_label == plain_label, f"{widget.text()} checked={checked}: the label stays as it was"
            ring = QColor(palette.text if checked else palette.focus).name()
            assert ring in focus_ring and ring not in plain_ring, f"{widget.text()} checked={checked}: the ring shows"


COLOUR_LITERAL = re.compile(
    r"#[0-9a-fA-F]{3,8}\b|\brgba?\(|QColor\(\s*(\d|[\"'])|Qt\.GlobalColor\.(?!transparent)"
    r"|color:\s*(white|black|red|green|blue|gray|grey|orange|yellow)\b",
    re.IGNORECASE,
)


def test_no_view_hard_codes_a_colour_outside_the_theme() -> None:
    """Colours come from theme.py's palettes (or its PAPER/INK constants), so both schemes hold."""
    offenders = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        if path.name == "theme.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if COLOUR_LITERAL.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    sheet = (ROOT / "resources" / "style.qss").read_text(encoding="utf-8")
    for number, line in enumerate(sheet.splitlines(), 1):
        if COLOUR_LITERAL.search(line):
            offenders.append(f"resources/style.qss:{number}: {line.strip()}")
    assert offenders == []


@pytest.mark.parametrize("palette", PALETTES)
def test_signature_pad_is_paper_framed_like_the_window(qtbot: QtBot, app: QApplication, palette: theme.Palette) -> None:
    theme.apply_theme(app, palette.scheme)
    pad = SignaturePad()
    qtbot.addWidget(pad)
    pad.resize(420, 160)
    pad.show()
    qtbot.waitExposed(pad)
    image = pad.grab().toImage()
    assert image.pixelColor(pad.width() // 2, 20) == QColor(theme.PAPER)
    assert image.pixelColor(pad.width() // 2, 0) == QColor(palette.paper_border)


@pytest.mark.parametrize("palette", PALETTES)
def test_pdf_viewer_backdrop_follows_the_palette(qtbot: QtBot, app: QApplication, palette: theme.Palette) -> None:
    theme.apply_theme(app, palette.scheme)
    viewer = PdfViewer()
    thread = viewer._thread
    try:
        viewer.resize(600, 400)
        viewer.show()
        qtbot.waitExposed(viewer)
        backdrop = viewer.scroll_area.viewport().grab().toImage().pixelColor(5, 5)
    finally:
        viewer.deleteLater()  # its render thread stops when it is destroyed
        qtbot.waitUntil(lambda: not thread.isRunning(), timeout=5000)
    assert backdrop == QColor(palette.viewer_bg)


def test_appearance_setting_round_trips(tmp_path: Path) -> None:
    settings = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert settings.appearance() == "system"
    settings.set_appearance("dark")
    assert settings.appearance() == "dark"
    raw = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    raw.setValue("appearance", "purple")  # edited by hand
    assert AppSettings(raw).appearance() == "system"


@pytest.fixture
def session(live_portal: LivePortal) -> Iterator[PortalSession]:
    opened = sign_in(live_portal.portal_url("east"), company.MORGAN, company.PASSWORD)
    yield opened
    opened.client.close()


def test_appearance_menu_switches_every_window_and_is_remembered(
    qtbot: QtBot, app: QApplication, session: PortalSession, tmp_path: Path
) -> None:
    theme.apply_theme(app, "light")
    accounts = Accounts(AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)))
    window = MainWindow(session, accounts)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=15000)
    labels = [action.text() for action in window.appearance_menu.actions()]
    assert labels == ["System", "Light", "Dark"]
    assert window.appearance_menu.menuAction() in window.profile_menu.actions() or window.menuBar().actions()
    changes: list[None] = []
    theme.theme_changed().connect(lambda: changes.append(None))
    window.appearance_actions["dark"].trigger()
    assert theme.colors() is theme.DARK and changes
    assert app.palette().color(QPalette.ColorRole.Window) == QColor(theme.DARK.window)
    assert accounts.settings.appearance() == "dark"
    window.close()
    again = MainWindow(session, accounts)
    qtbot.addWidget(again)
    assert again.appearance_actions["dark"].isChecked()
    again.appearance_actions["light"].trigger()
    assert theme.colors() is theme.LIGHT
    assert accounts.settings.appearance() == "light"
