"""Qt's style sheet caches, kept for the whole test session as the app keeps them.

Qt 6 keeps one set of style sheet caches (rules per widget) for all its style sheet styles and
deletes it when the last one goes. A widget gets its rules cached once it is marked as styled
(WA_StyleSheet); the first time it is marked, Qt also connects its `destroyed` signal to the
caches, which is what removes a dead widget's entry. The app sets its style sheet once at
start-up and only ever replaces it by another (theme._apply), so its caches live as long as the
app and every widget's entry goes with the widget.

The client tests also clear the application style sheet between tests (so the next one sees
plain Qt), and that is where it went wrong: clearing it unpolishes every widget, but unpolishing
a table (its palette and font changes lay out its header and scroll bars) asks the sheet style,
still in place until the end of the clearing, for the metrics of widgets it has just unpolished,
so scroll bars, headers and views came out marked again, connected to caches that were deleted a
moment later. The next style sheet built new caches; for a widget already marked Qt skips the
`destroyed` connection, so when the widgets of the test before (closed by pytest-qt and waiting
for their deferred deletion) were deleted, their entries stayed, and the next theme change walked
those dead pointers: a segfault in QApplication::setStyleSheet (the themed fixtures of
test_platform_fit, after any test of test_list_edges or test_list_columns that built a ListTab).

A widget with a style sheet of its own owns a style sheet style, so while one lives the caches
are never deleted: every `destroyed` connection stays valid, as in the app."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

ANCHOR_NAME = "StyleSheetCachesAnchor"


def keep_style_sheet_caches() -> QWidget:
    """A hidden widget whose own (empty-ruled) sheet keeps Qt's caches alive while it lives."""
    anchor = QWidget()
    anchor.setObjectName(ANCHOR_NAME)
    anchor.setStyleSheet(f"#{ANCHOR_NAME} {{}}")
    return anchor
