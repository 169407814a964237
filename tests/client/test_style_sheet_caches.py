"""A theme change never walks a dead widget in Qt's style sheet caches: not in the app, where the
style sheet is only ever replaced, and not in the tests, which also clear it between tests
(tests/client/style_sheet_caches.py says how that left dead pointers behind).

Each case runs in a fresh interpreter, since what it guards against is a segfault. glibc's
MALLOC_PERTURB_ fills freed memory, so a dead widget's pointer crashes at once instead of
whenever the allocator happens to reuse its memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.client.live_server import ROOT

pytestmark = pytest.mark.gui

# A ListTab with more rows than fit, so its overlay scroll bar shows, as on a real list.
LIST_TAB = textwrap.dedent(
    """
    from dataclasses import dataclass

    from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.models.paged_table import Column, PagedTableModel
    from app.services.records import Page
    from app.services.tasks import TaskRunner
    from app.views import theme
    from app.views.list_tab import ListTab, TabSpec

    app = QApplication([])


    @dataclass(frozen=True)
    class Note:
        id: int
        text: str


    COLUMNS = (
        Column("text", "Text", lambda r: r.text, lambda r: r.text, elastic=True),
        Column("status", "Status", lambda r: "Open", lambda r: "open", status=lambda r: "open"),
    )


    def wait(condition):
        for _ in range(1000):
            if condition():
                return
            loop = QEventLoop()
            QTimer.singleShot(10, loop.quit)
            loop.exec()
        raise SystemExit("timed out")


    def scrolled_list():
        tab = ListTab(TabSpec("notes", "Notes", "notes", (), "text"), PagedTableModel(COLUMNS), TaskRunner())
        tab.resize(900, 400)
        tab.show()
        page = Page(tuple(Note(n, f"Note {n}") for n in range(40)), None, 40)
        tab.load(lambda cursor: page)
        wait(lambda: tab.model.rowCount() == 40 and tab.scroll_bar.isVisible())
        return tab


    def delete_pending():
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    """
)

# The fixtures' order: pytest-qt closes a test's widgets and deletes them later; the test's
# `themed` fixture clears the application style sheet before that; the next test applies it again,
# the widgets go while it runs, and its teardown changes the theme once more.
BETWEEN_TESTS = textwrap.dedent(
    """
    if ANCHORED:
        from tests.client.style_sheet_caches import keep_style_sheet_caches

        anchor = keep_style_sheet_caches()
    theme.apply_theme(app, "light")
    tab = scrolled_list()
    tab.close()
    tab.deleteLater()
    app.setStyleSheet("")
    theme.apply_theme(app, "light")
    delete_pending()
    theme.apply_theme(app, "dark")
    print("survived")
    """
)

# As the app runs (main.py, MainWindow.set_appearance): the theme applied before any window, then
# switched back and forth while lists come and go.
APPEARANCE_SWITCHES = textwrap.dedent(
    """
    theme.apply_theme(app, "system")
    first = scrolled_list()
    theme.apply_theme(app, "dark")
    theme.apply_theme(app, "light")
    first.close()
    first.deleteLater()
    delete_pending()
    theme.apply_theme(app, "dark")
    second = scrolled_list()
    second.close()
    second.deleteLater()
    theme.apply_theme(app, "system")
    delete_pending()
    theme.apply_theme(app, "light")
    theme.apply_theme(app, "dark")
    print("survived")
    """
)


def run(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "MALLOC_PERTURB_": "165",
        "PORTAL_DESK_HOME": str(tmp_path),
        "PYTHONFAULTHANDLER": "1",
    }
    return subprocess.run(
        [sys.executable, "-c", LIST_TAB + script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_clearing_the_style_sheet_between_tests_leaves_no_dead_widget_in_the_caches(tmp_path: Path) -> None:
    kept = run("ANCHORED = True\n" + BETWEEN_TESTS, tmp_path)
    assert (kept.returncode, kept.stdout.strip()) == (0, "survived"), kept.stderr
    # Without the kept caches the same steps crash: what makes the case above worth anything. If
    # this starts to survive, Qt no longer leaves the dead entry and conftest's anchor can go.
    plain = run("ANCHORED = False\n" + BETWEEN_TESTS, tmp_path)
    assert plain.returncode == -signal.SIGSEGV, (plain.returncode, plain.stderr[-2000:])


def test_switching_the_appearance_in_the_app_with_lists_coming_and_going_does_not_crash(tmp_path: Path) -> None:
    switched = run(APPEARANCE_SWITCHES, tmp_path)
    assert (switched.returncode, switched.stdout.strip()) == (0, "survived"), switched.stderr
