"""One tab of the main window: a "Show" filter, a search box, the lazily paged list, and an
empty state that says why nothing is listed."""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QFocusEvent, QKeySequence, QPainter, QRegion, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QStyle,
    QStyleOptionHeader,
    QVBoxLayout,
    QWidget,
)

from app.models.formatting import clock_text, count_text
from app.models.paged_table import Matches, Ordering, PagedTableModel
from app.models.roles import Role
from app.services.feeds import ListFeed, PageFetcher, SizedPageFetcher
from app.services.records import Page
from app.services.tasks import BackgroundOp, TaskRunner, is_connection_problem
from app.views.activation import SteadyOnActivation, SteadyTableView
from app.views.compact_label import CompactLabel
from app.views.detail_support import error_sentence
from app.views.empty_state import EmptyState
from app.views.list_cells import ListCellDelegate
from app.views.list_look import set_up_list_table
from app.views.overlay_scroll_bar import OverlayScrollBar
from app.views.proxy import RowListProxy
from app.views.theme import icon, named


@dataclass(frozen=True)
class ShowOption:
    value: str
    label: str
    empty_title: str
    empty_message: str


@dataclass(frozen=True)
class TabSpec:
    key: str
    title: str
    noun: str  # plural, lower case: "invoices"
    options: tuple[ShowOption, ...]
    stretch_column: str


SEARCH_MIN_WIDTH = 150  # with "Not up to date" and "Pay selected (2)" beside it in a 1000 px window
# The search box filters once typing pauses (as the property sidebar's and Find customer's do):
# refiltering thousands of loaded rows on every keystroke held the window 85-400 ms a key.
SEARCH_DELAY_MS = 150
MAX_AUTO_WIDTH = 180  # descriptive (elastic) columns start at most this wide
RIGHT_ALIGNED_HEADER_ROOM = 12  # px a right-aligned header needs beyond its measured text
SORT_ARROW_ROOM = 14  # px the sorted column's label gives up for the arrow (gap included)
SORT_ARROW_SIZE = 10
HEADER_PADDING = 10  # the sections' right padding in style.qss: the arrow ends where text would
MIN_ELASTIC_WIDTH = 100  # no descriptive column is squeezed below this (or below its header)...
NARROW_ELASTIC_WIDTH = 64  # ...unless the list would scroll sideways otherwise (a 1000 px window)
# The widest cells by plain text width that get a real size hint when columns are fitted.
SIZE_HINT_CANDIDATES = 3
# Sorting or searching a list with more pages loads the rest first, so the top row is the true
# top and a search finds what the server has. Up to this many rows that happens by itself: 10
# calls of WHOLE_PAGE_ROWS, a second or two, a few MB. A bigger list (a manager's 60,000
# invoices: 120 calls, some 100 MB) loads whole only when asked ("Load all"), and meanwhile says
# that it is sorted or searched among the rows loaded.
AUTO_WHOLE_ROWS = 5_000
CONTENT_SAMPLE_ROWS = 500  # rows measured to fit the columns (see ListTab._content_width)
WHOLE_PAGE_ROWS = 500  # the most the server gives in one page (api.md)
# Above this many loaded rows a sort runs on a worker (the header's arrow turns at once, the rows
# follow): on the GUI thread 60,000 rows took 170-520 ms, mostly in the columns' sort keys.
SORT_ON_GUI_ROWS = 3_000
# Above this many loaded rows a search runs on a worker (the rows found are shown at once): on the
# GUI thread, looking up and testing 60,000 rows' search texts took 50-80 ms on a busy machine.
SEARCH_ON_GUI_ROWS = 3_000


def share_shortfall(shortfall: int, columns: dict[int, tuple[int, int]]) -> dict[int, int]:
    """How much each descriptive column gives up, given {column: (width, floor)}: the widest gives
    first, down to the width of the next, then those two alike, and so on (a water level lowered
    over them), and none goes below its floor. Office staff need a property's name as much as the
    subject or the services beside it: a rule where one column gave everything first left the other
    a stub of a few letters, and one sharing in proportion still cut "Cedar Ridge Clubhouse" beside
    a title with hundreds of pixels to spare."""
    spare = {index: width - floor for index, (width, floor) in columns.items() if width > floor}
    if shortfall <= 0 or not spare:
        return {}
    taken = min(shortfall, sum(spare.values()))
    widths = {index: columns[index][0] for index in spare}
    floors = {index: columns[index][1] for index in spare}
    level = max(widths.values())
    while sum(width - max(level, floors[i]) for i, width in widths.items() if width > level) < taken:
        level -= 1
    cuts = {i: width - max(level, floors[i]) for i, width in widths.items() if width > max(level, floors[i])}
    over = sum(cuts.values()) - taken  # the last pixel of level went to more columns than needed
    for index in sorted(cuts, key=lambda i: (floors[i], i))[:over]:
        cuts[index] -= 1
    return {index: cut for index, cut in cuts.items() if cut}


@dataclass(frozen=True)
class ViewPosition:
    """Where the user was in a list: the current row, the selected rows (by record id) and the scroll offset."""

    current: object
    selected: frozenset[object]
    scroll: int


@dataclass
class _Refill:
    """Rows gathered page by page before they are shown: a refresh of the rows on screen, until
    it has as many rows as were loaded (the old rows stay on screen meanwhile, so the view
    neither jumps nor loses the rows the user selected further down), or, `whole`, the rest of
    a sorted list (shown once all are here and sorted: rows re-sorted with every page would move
    under the user's pointer, and each re-sort of thousands of rows costs the GUI thread)."""

    wanted: int
    gathered: Page[Any]  # the rows so far, with the last page's cursor and total
    whole: bool = False
    sorting: bool = False  # all gathered; a worker is sorting them

    def add(self, page: Page[Any]) -> bool:
        """True once there is nothing more to gather."""
        self.gathered = Page(self.gathered.items + page.items, page.next_cursor, page.total)
        return len(self.gathered.items) >= self.wanted or page.next_cursor is None


class _CompactHeader(SteadyOnActivation, QHeaderView):
    """Qt widens every section by the header's height plus a margin for a sort arrow (about
    40 px a column), though only the sorted column shows one; that is what squeezed the
    descriptive columns at 1280 px. The other sections are measured without it, the sorted one
    with just SORT_ARROW_ROOM; the list fits its columns again when the sorted column changes.

    The header draws the arrow itself (the style sheet hides Qt's): Qt's sits at the section's
    right edge, over the text of a right-aligned column (money, dates). Here the label of the
    sorted section stops SORT_ARROW_ROOM short of the edge and the arrow takes that room."""

    def __init__(self, orientation: Qt.Orientation, parent: QWidget | None = None) -> None:
        super().__init__(orientation, parent)
        self.setObjectName("ListHeader")

    def _arrow_shown(self, logical_index: int) -> bool:
        return (
            self.isSortIndicatorShown()
            and logical_index == self.sortIndicatorSection()
            and self.orientation() == Qt.Orientation.Horizontal
        )

    def sectionSizeFromContents(self, logical_index: int) -> QSize:
        size = super().sectionSizeFromContents(logical_index)
        if self.isSortIndicatorShown() and self.orientation() == Qt.Orientation.Horizontal:
            reserved = size.height() + self.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, self)
            alignment = self.model().headerData(logical_index, self.orientation(), Qt.ItemDataRole.TextAlignmentRole)
            if alignment is not None and Qt.AlignmentFlag(alignment) & Qt.AlignmentFlag.AlignRight:
                reserved -= RIGHT_ALIGNED_HEADER_ROOM  # drawn a few pixels short on the left otherwise
            if self._arrow_shown(logical_index):
                reserved -= SORT_ARROW_ROOM
            size.setWidth(size.width() - reserved)
        return size

    def paintSection(self, painter: QPainter, rect: QRect, logical_index: int) -> None:
        if not self._arrow_shown(logical_index) or rect.width() <= SORT_ARROW_ROOM:
            super().paintSection(painter, rect, logical_index)
            return
        background = QStyleOptionHeader()
        self.initStyleOption(background)
        background.rect = rect
        background.section = logical_index
        self.style().drawControl(QStyle.ControlElement.CE_HeaderSection, background, painter, self)
        super().paintSection(painter, rect.adjusted(0, 0, -SORT_ARROW_ROOM, 0), logical_index)
        ascending = self.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder
        size = SORT_ARROW_SIZE
        arrow = QRect(rect.right() - HEADER_PADDING - size + 1, rect.center().y() - size // 2 + 1, size, size)
        icon("sort-up" if ascending else "sort-down").paint(painter, arrow)


class _SearchProxy(RowListProxy):
    """Filters loaded rows by the search box; sorting stays with the source model, which also
    keeps later pages in order (the list tab decides how and where: `sorter`).

    Over SEARCH_ON_GUI_ROWS loaded rows a search is worked out on a worker: the rows shown
    stay those of the search before (`shown_search`) until its rows are shown at once
    (`searched`); the rows of a search typed over since are dropped."""

    searched = Signal()  # the rows of a search worked out on a worker are shown

    def __init__(
        self, model: PagedTableModel, sorter: Callable[[int, Qt.SortOrder], None], parent: QObject | None = None
    ) -> None:
        super().__init__(model, parent)
        self._model = model
        self._sorter = sorter
        self._text = ""  # the search box's, as typed
        self._shown_text = ""  # the search whose rows show (the box's, once they do)
        self._ticket = 0  # a worker's search whose ticket is no longer this one is dropped

    @property
    def searching(self) -> bool:
        """A search is typed (its rows may still be worked out)."""
        return bool(self._text)

    @property
    def shown_search(self) -> str:
        """The search, as typed, whose rows show: until a worker's search answers, the one before."""
        return self._shown_text

    def set_needle(self, text: str) -> None:
        """Refilters in one pass (a layout change): Qt's setFilterFixedString removed the rows
        that stopped matching range by range, which held the window 5-8 s on 60,000 rows."""
        self._text = text
        self._ticket += 1
        if not text or self._model.rowCount() <= SEARCH_ON_GUI_ROWS:
            self._shown_text = text
            self.refilter()
        else:
            self._search_on_worker()

    def rows_reworded(self) -> None:
        """The branch's day turned (or the currency changed) while a search is typed: every row's
        search text is made again, on a worker as for a typed search over SEARCH_ON_GUI_ROWS rows
        (on the GUI thread, 60,000 rows held the window 1.7 s)."""
        if self._text and self._model.rowCount() > SEARCH_ON_GUI_ROWS:
            self._ticket += 1
            self._search_on_worker()
        else:
            self.refilter()

    def _search_on_worker(self) -> None:
        model, text, ticket, epoch = self._model, self._text, self._ticket, self.layout_epoch
        needle, count = text.casefold(), model.rowCount()

        def found(matches: Matches) -> None:
            model.adopt_matches(matches)  # a search typed over made texts the next one uses
            if ticket != self._ticket:
                return
            if epoch != self.layout_epoch:  # sorted or reloaded meanwhile: rows of another order
                self._search_on_worker()
                return
            self._shown_text = text
            self.show(matches.rows + model.rows_matching(needle, count))  # and of the pages that came meanwhile
            self.searched.emit()

        def failed(_: Exception) -> None:
            if ticket == self._ticket:
                self._shown_text = text
                self.refilter()
                self.searched.emit()

        BackgroundOp(parent=self, op=model.matcher(needle), success=found).failure(failed).run_in_background()

    def shown_rows(self, start: int, end: int) -> list[int] | None:
        """The rows whose one search text, straight from the model, holds the needle: Qt's own
        filter asked the model through data() and a QModelIndex, and matched case-insensitively,
        for every row."""
        needle = self._shown_text.casefold()
        return self._model.rows_matching(needle, start, end) if needle else None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sorter(column, order)


class ListTab(QWidget):
    item_activated = Signal(object)  # the record; detail views of the feature issues attach here
    filter_changed = Signal()

    PAGE_TABLE, PAGE_EMPTY = 0, 1

    def __init__(self, spec: TabSpec, model: PagedTableModel, runner: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.spec = spec
        self.model = model
        self.feed = ListFeed(runner, self)
        self._runner = runner
        self.proxy = _SearchProxy(model, self._sort_requested, self)
        self._error: str | None = None
        self._reason: tuple[str, str] | None = None
        # Columns fit the table's width until the user drags one; from then on theirs stand (and
        # are saved with the window). `_fitted_width` is the viewport width of the last fit.
        self._user_sized = False
        self._fitting = False
        self._header_pressed = False
        self._fitted_width = -1
        self._fitted_rows = False
        self._content_widths: dict[int, int] = {}  # column -> widest cell, for the rows loaded now
        self._short_widths: dict[int, int] = {}  # column -> widest cell in short form ("11/1/26")
        # What the rows on screen answer (filter, properties, portal) and what is being asked for:
        # a refresh of the same query that fails keeps the rows, marked as possibly out of date.
        self._rows_query: Hashable | None = None
        self._pending_query: Hashable | None = None
        self._loaded_at: datetime | None = None
        self._refill: _Refill | None = None
        self.stale = False
        # Loading the whole list (see AUTO_WHOLE_ROWS). Unsorted, its pages are appended as they
        # come (a search's matches show as they are found); sorted, they are gathered (_Refill).
        self.whole_page_rows = WHOLE_PAGE_ROWS
        self._whole_appending = False
        self._whole_asked = False  # "Load all" pressed for this query: past AUTO_WHOLE_ROWS too
        self._whole_declined = False  # cancelled (or failed) for this query: not again by itself
        self._sort_ticket = 0  # a worker's sort whose ticket is no longer this one is dropped
        self._sorting = False  # a worker sorts the rows on screen

        # Containers first, each in place before its children are made: the style sheet then
        # resolves each widget about once (see MainWindow.__init__).
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.setSpacing(12)
        toolbar = self.toolbar = QHBoxLayout()  # feature actions (e.g. "Pay selected") go before the search box
        toolbar.setSpacing(8)
        layout.addLayout(toolbar)
        self.whole_bar = QWidget(self)  # "Loading all 3,884 invoices to sort… 1,500 loaded  [Cancel]"
        layout.addWidget(self.whole_bar)
        self.card = card = named(QFrame(self), "ListCard")
        layout.addWidget(card, 1)
        card_layout = QVBoxLayout(card)
        card_layout.setContentsMargins(2, 2, 2, 2)
        self.stack = QStackedWidget(card)
        card_layout.addWidget(self.stack)

        self.show_combo = QComboBox(self)
        for option in spec.options:
            self.show_combo.addItem(option.label, option.value)
        self.show_combo.setMinimumWidth(120)  # its longest choice ("Completed") fits; 140 crowded a 1000 px window
        self.show_combo.setAccessibleName(f"Show which {spec.noun}")
        show_label = QLabel("Show", self)
        show_label.setBuddy(self.show_combo)
        self.search_edit = QLineEdit(self, placeholderText=f"Search {spec.noun}", clearButtonEnabled=True)
        self.search_edit.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        # It grows with the window; 240 px as a floor pushed the toolbar past a narrow window's edge
        # (Invoices at 1000 px, with "Pay selected (1)"), cutting the box and squeezing the sidebar.
        self.search_edit.setMinimumWidth(SEARCH_MIN_WIDTH)
        self.search_edit.setAccessibleName(f"Search {spec.noun}")
        self.search_edit.setAccessibleDescription(f"Filters the {spec.noun} loaded so far as you type")
        # Compact: with the window narrow they shorten before the toolbar pushes past its edge.
        self.count_label = named(CompactLabel("", self), "CountLabel")
        self.count_label.setAccessibleName(f"Number of {spec.noun}")
        self.stale_label = named(CompactLabel("", self), "StaleMarker")
        self.stale_label.setAlignment(Qt.AlignmentFlag.AlignCenter)  # shortened, in the middle of its pill
        self.stale_label.setAccessibleName(f"{spec.title} may be out of date")
        self.stale_label.hide()
        if spec.options:
            toolbar.addWidget(show_label)
            toolbar.addWidget(self.show_combo)
            toolbar.addSpacing(8)
        else:  # the count starts the row, flush with the list's left edge
            show_label.hide()
            self.show_combo.hide()
        toolbar.addWidget(self.count_label)
        toolbar.addWidget(self.stale_label)
        toolbar.addStretch()
        toolbar.addWidget(self.search_edit)

        self.table = SteadyTableView(self.stack)
        self.stack.addWidget(self.table)
        self._setup_table()

        self.empty = EmptyState(parent=self.stack)
        self.stack.addWidget(self.empty)
        self.empty_icon, self.empty_title, self.empty_message = self.empty.icon, self.empty.title, self.empty.message
        self.retry_button = self.empty.add_action(QPushButton("Try again"))
        self.retry_button.setAccessibleName(f"Try loading {spec.noun} again")
        self.search_all_button = self.empty.add_action(QPushButton(""))
        self.search_all_button.clicked.connect(self.load_whole)

        whole_layout = QHBoxLayout(self.whole_bar)
        whole_layout.setContentsMargins(0, 0, 0, 0)
        whole_layout.setSpacing(8)
        self.whole_label = named(CompactLabel("", self.whole_bar), "CountLabel")
        self.whole_button = QPushButton("", self.whole_bar)
        self.whole_button.setAutoDefault(False)
        whole_layout.addWidget(self.whole_label)
        whole_layout.addWidget(self.whole_button)
        whole_layout.addStretch()
        self.whole_bar.hide()
        self.whole_button.clicked.connect(self._whole_button_clicked)
        self._cancel_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        self._cancel_shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._cancel_shortcut.setEnabled(False)
        self._cancel_shortcut.activated.connect(self.cancel_whole)

        self.show_combo.currentIndexChanged.connect(lambda _: self.filter_changed.emit())
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_search)
        self.search_edit.textChanged.connect(self._search_typed)
        self.retry_button.clicked.connect(self.reload)
        self.table.activated.connect(self._activated)
        model.more_requested.connect(self.feed.load_more)
        self.feed.started.connect(self._refresh_state)
        self.feed.reset.connect(self._first_page)
        self.feed.appended.connect(self._next_page)
        self.feed.failed.connect(self._failed)
        self.feed.more_failed.connect(self._more_failed)
        self.proxy.searched.connect(self._refresh_state)
        self._refresh_state()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Keyboard focus on the table: its card draws the focus ring, and a row is current, so
        the arrow keys start somewhere visible. The columns fit again when the table is first
        shown (a tab that was not showing had no final width) and whenever its width changes."""
        kind = event.type()
        if watched is self.table.viewport() and kind in (QEvent.Type.Show, QEvent.Type.Resize):
            self._fit_timer.start()
        elif watched is self.table.horizontalHeader().viewport() and kind in (
            QEvent.Type.MouseButtonPress,
            QEvent.Type.MouseButtonRelease,
        ):
            self._header_pressed = kind == QEvent.Type.MouseButtonPress
        if watched is self.table and kind in (QEvent.Type.FocusIn, QEvent.Type.FocusOut):
            assert isinstance(event, QFocusEvent)
            if event.reason() == Qt.FocusReason.ActiveWindowFocusReason:
                self._repaint_focus_ring()
            else:
                self._show_focus(kind == QEvent.Type.FocusIn)
            if event.gotFocus() and not self.table.currentIndex().isValid() and self.proxy.rowCount():
                self.table.selectRow(0)
        elif watched is self.card and kind == QEvent.Type.WindowActivate:
            # The focus may have moved to or from the table while the window was inactive, which
            # sends no focus events; the window's focus widget says where it is now.
            self._show_focus(self.table.window().focusWidget() is self.table)
        return super().eventFilter(watched, event)

    def _show_focus(self, focused: bool) -> None:
        """The card draws the table's focus ring (style.qss, #ListCard[focused="true"]:active): its
        `focused` property says that the table has the focus within its window, which a window
        switch does not change. Only the ring depends on the switch, through :active, so then only
        its strip repaints (_repaint_focus_ring); a repolish, which repaints the whole card, rows
        and all, is left for the focus really moving to or from the table."""
        if bool(self.card.property("focused")) == focused:
            return
        self.card.setProperty("focused", focused)
        self.card.style().unpolish(self.card)
        self.card.style().polish(self.card)

    def _repaint_focus_ring(self) -> None:
        """The strip of the card around its contents, where the ring is: the rows stay as they are
        (Qt does not repaint a widget whose palette has the same colours in both groups at a window
        switch, and the rows' own focus look is SteadyOnActivation's)."""
        self.card.update(QRegion(self.card.rect()).subtracted(QRegion(self.stack.geometry())))

    def _setup_table(self) -> None:
        table = self.table
        table.setHorizontalHeader(_CompactHeader(Qt.Orientation.Horizontal, table))
        table.installEventFilter(self)
        self.card.installEventFilter(self)
        table.viewport().installEventFilter(self)
        table.horizontalHeader().viewport().installEventFilter(self)
        # Coalesces the resize events of a window being dragged into one fit per event-loop turn.
        self._fit_timer = QTimer(self, singleShot=True, interval=0)
        self._fit_timer.timeout.connect(self.fit_columns)
        table.setModel(self.proxy)
        table.setAccessibleName(f"{self.spec.title} list")
        set_up_list_table(table)
        self.cells = ListCellDelegate(self.proxy, self.model, table)
        table.setItemDelegate(self.cells)
        table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        # Where a list must scroll sideways, by pixels: by whole columns, the last one jumped in and
        # out of sight and a narrow window could not show a wide column's end.
        table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        # Over the viewport, not beside it: the viewport keeps one width whatever the row count
        # (no second layout and paint of a page), and a short list's rows reach the card's edge.
        self.scroll_bar = OverlayScrollBar(table)
        header = table.horizontalHeader()
        header.setAccessibleName(f"{self.spec.title} columns")
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setMinimumSectionSize(60)
        for column in self.model.columns:
            index = self.model.column_index(column.key)
            if column.key == self.spec.stretch_column:
                header.setSectionResizeMode(index, QHeaderView.ResizeMode.Stretch)
        # No indicator until the user clicks a header: the server's order (newest first) stands.
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        table.setSortingEnabled(True)
        header.sectionResized.connect(self._section_resized)
        header.sortIndicatorChanged.connect(lambda *_: self._refit())
        header.sectionHandleDoubleClicked.connect(lambda _: self._columns_changed_by_user())
        fit_action = QAction("Fit columns to the window", header)
        fit_action.triggered.connect(self.reset_column_widths)
        header.addAction(fit_action)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

    # -- public API ------------------------------------------------------------------

    @property
    def filter_value(self) -> str:
        return str(self.show_combo.currentData() or "")

    def load(
        self, fetch: PageFetcher, query: Hashable | None = None, fetch_sized: SizedPageFetcher | None = None
    ) -> None:
        """`query` identifies what `fetch` asks for; when it equals the query of the rows on
        screen, a failure keeps those rows (marked stale) instead of replacing them by an error.
        `fetch_sized` asks for the same with a page size: the whole list loads in pages of
        `whole_page_rows` with it."""
        self._error = None
        self._reason = None
        if query is None or query != self._rows_query:
            self._whole_asked = self._whole_declined = False
        self._pending_query = query
        self._drop_gathering()
        model = self.model
        # The rows' search texts are made with each page, on the worker that fetched it.
        many = None
        if fetch_sized is not None:
            many = lambda cursor: model.searchable(fetch_sized(cursor, self.whole_page_rows))  # noqa: E731
        self.feed.load(lambda cursor: model.searchable(fetch(cursor)), many)

    def reload(self) -> None:
        self._error = None
        self._drop_gathering()
        self.feed.reload()

    def _drop_gathering(self) -> None:
        """Forgets a refill, a whole-list load and a worker's sort under way: their answers are
        of rows about to be replaced."""
        self._refill = None
        self._whole_appending = False
        self._sort_ticket += 1
        self._sorting = False

    def load_whole(self) -> None:
        """Loads the rest of the list, however long ("Load all", "Search all")."""
        self._whole_asked, self._whole_declined = True, False
        self._load_whole_if_wanted()

    def cancel_whole(self) -> None:
        """Stops loading the whole list (Cancel, Esc): the rows loaded so far stay, sorted and
        searched; the rest can still be loaded by scrolling or "Load all"."""
        refill = self._refill
        if not self._loading_whole():
            return
        self._whole_asked, self._whole_declined = False, True
        self.feed.cancel()
        self._whole_appending = False
        if refill is not None:
            self._finish_gather(refill)
        self._refresh_state()

    def show_reason(self, title: str, message: str) -> None:
        """Nothing to load at all (e.g. no property selected): say so instead of asking the server."""
        self.feed.clear()
        self.model.clear()
        self._drop_gathering()
        self._error = None
        self._reason = (title, message)
        self._rows_query = None
        self._set_stale(None)
        self._refresh_state()

    def focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    @property
    def columns_sized_by_user(self) -> bool:
        return self._user_sized

    def column_widths(self) -> list[int]:
        """The widths the user set, to keep with the window; none while the columns fit by themselves
        (saved fitted widths would stop them fitting another window size next time)."""
        if not self._user_sized:
            return []
        header = self.table.horizontalHeader()
        return [header.sectionSize(i) for i in range(header.count())]

    def restore_column_widths(self, widths: list[int]) -> None:
        header = self.table.horizontalHeader()
        if len(widths) != header.count():
            return
        self._fitting = True
        try:
            for index, width in enumerate(widths):
                if header.sectionResizeMode(index) == QHeaderView.ResizeMode.Interactive and width > 0:
                    header.resizeSection(index, width)
        finally:
            self._fitting = False
        self._user_sized = True

    def reset_column_widths(self) -> None:
        """Back to columns that fit the window ("Fit columns to the window" on the header)."""
        self._user_sized = False
        self._refit()

    def _refit(self) -> None:
        self._fitted_width = -1
        self._fit_timer.start()

    def fit_columns(self) -> None:
        """Numbers, dates, money and statuses get their full width, header included; descriptive
        columns start at most MAX_AUTO_WIDTH wide (the stretching one, the list's main text, as
        wide as its text) and, on a narrow table, share the shortfall (see share_shortfall), so
        that a request's subject and its property are both cut a little rather than one of them
        to a stub; the stretching column takes whatever is left, at least MIN_ELASTIC_WIDTH.
        Short of that, dates take their short form ("11/1/26", see Column.short), then the
        descriptive columns go down to NARROW_ELASTIC_WIDTH (never below their header): at
        1000 px the invoices had scrolled the Balance out of sight. Only where even that does not
        fit does the list scroll sideways, by pixels.
        Only while the table shows (a hidden one has no final width) and the user never sized them."""
        table, header = self.table, self.table.horizontalHeader()
        width = table.viewport().width()
        has_rows = self.proxy.rowCount() > 0
        if self._user_sized or not table.isVisible() or width <= 0:
            return
        if width == self._fitted_width and has_rows == self._fitted_rows:
            return
        stretch = self.model.column_index(self.spec.stretch_column)
        has_short = any(column.short is not None for column in self.model.columns)
        tries = [(False, MIN_ELASTIC_WIDTH), (True, MIN_ELASTIC_WIDTH), (True, NARROW_ELASTIC_WIDTH)]
        for short, floor in tries if has_short else [tries[0], tries[2]]:
            widths, least = self._fitted_widths(width, stretch, short=short, floor=floor)
            squeezed = width - sum(widths.values()) < least
            if not squeezed:
                break
        shorts = frozenset(i for i, column in enumerate(self.model.columns) if short and column.short)
        if shorts != self.cells.short_columns:
            self.cells.short_columns = shorts
            table.viewport().update()
        self._fitting = True
        try:
            if squeezed:  # a fixed width: the table grows past the viewport and scrolls sideways
                header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Interactive)
                widths[stretch] = least
            else:
                header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
            for index, size in widths.items():
                header.resizeSection(index, size)
        finally:
            self._fitting = False
        self._fitted_width, self._fitted_rows = width, has_rows

    def _fitted_widths(self, width: int, stretch: int, *, short: bool, floor: int) -> tuple[dict[int, int], int]:
        """The widths of the columns but the stretching one, in a table `width` wide, with dates
        short or not and descriptive columns no narrower than `floor` (nor their header); and the
        least the stretching one keeps."""
        header, columns = self.table.horizontalHeader(), self.model.columns
        widths: dict[int, int] = {}
        for index in range(header.count()):
            if index != stretch:
                content = self._short_width(index) if short and columns[index].short else self._content_width(index)
                natural = max(content, header.sectionSizeHint(index)) + 2
                widths[index] = min(natural, MAX_AUTO_WIDTH) if columns[index].elastic else natural
        room = max(self._content_width(stretch) + 2, header.sectionSizeHint(stretch))
        least = max(floor, header.sectionSizeHint(stretch))
        descriptive = {i: (widths[i], max(floor, header.sectionSizeHint(i))) for i in widths if columns[i].elastic}
        descriptive[stretch] = (room, least)
        for index, cut in share_shortfall(room + sum(widths.values()) - width, descriptive).items():
            if index != stretch:
                widths[index] -= cut
        return widths, least

    def _short_width(self, column: int) -> int:
        """The width the column's widest short text needs ("12/16/26"), with the same margins
        as its full text."""
        if column not in self._short_widths:
            short = self.model.columns[column].short
            assert short is not None
            metrics, model, rows = self.table.fontMetrics(), self.model, range(self.model.rowCount())
            full = max((metrics.horizontalAdvance(model.text(row, column)) for row in rows), default=0)
            widest = max((metrics.horizontalAdvance(short(model.record(row))) for row in rows), default=0)
            self._short_widths[column] = self._content_width(column) - full + widest
        return self._short_widths[column]

    def _content_width(self, column: int) -> int:
        """The width the column's widest loaded cell needs, measured once per page of rows.

        Not `sizeHintForColumn`: it asks the delegate for every loaded cell's size hint, each a
        dozen Python data() calls plus the style sheet's sizing, which held the GUI thread for
        100-300 ms per tab on a 100-row page (and fitting runs again on every width change). Plain
        text widths are cheap, so they pick the few widest cells and only those get a real size
        hint (delegates such as the status chip add their own margins).

        Only the first CONTENT_SAMPLE_ROWS rows are measured: a whole list of 60,000 invoices
        took the GUI thread 5-14 s to measure (and kept every cell's text, tens of MB); the
        first rows of a page's worth show the column's usual width, and a longer cell further
        down is elided with its text in the tooltip."""
        if column not in self._content_widths:
            metrics, model = self.table.fontMetrics(), self.model
            widest = sorted(
                (metrics.horizontalAdvance(model.text(row, column)), row)
                for row in range(min(model.rowCount(), CONTENT_SAMPLE_ROWS))
            )
            content = 0
            for _, row in widest[-SIZE_HINT_CANDIDATES:]:
                cell = self.proxy.mapFromSource(self.model.index(row, column))
                if cell.isValid():
                    content = max(content, self.table.sizeHintForIndex(cell).width())
            self._content_widths[column] = content
        return self._content_widths[column]

    def _section_resized(self, index: int, old: int, new: int) -> None:
        """A drag on a header handle: the user's widths stand from now on."""
        stretching = self.table.horizontalHeader().sectionResizeMode(index) == QHeaderView.ResizeMode.Stretch
        if self._fitting or not self._header_pressed or stretching:
            return
        self._columns_changed_by_user()

    def _columns_changed_by_user(self) -> None:
        self._user_sized = True

    # -- feed and model events -------------------------------------------------------

    def _first_page(self, page: Page[Any]) -> None:
        self.model.adopt_search_texts(page)
        same_query = self._rows_query is not None and self._rows_query == self._pending_query
        kept = self._view_position() if same_query else None
        loaded = self.model.rowCount()
        if kept is not None and loaded > len(page.items) and page.next_cursor is not None:
            self._refill = _Refill(loaded, page)
            self.feed.load_more(many=True)
            return
        self._show_rows(page, kept)

    def _show_rows(self, page: Page[Any], kept: ViewPosition | None, ordered: bool = False) -> None:
        """A query's rows from its first page on, the user's place in them kept when `kept`;
        `ordered`: sorted already (on a worker)."""
        self._refill = None
        self._sorting = False
        self._sort_ticket += 1
        self.model.set_page(page, ordered)
        self._lay_out_rows()
        self._content_widths.clear()
        self._short_widths.clear()
        self._rows_query = self._pending_query
        self._loaded_at = datetime.now()
        self._set_stale(None)
        if not self._fitted_rows and self.model.rowCount():
            self.fit_columns()  # now with content to measure (the first fit may have had headers only)
        if kept is not None:
            self._restore_view_position(kept)
        self._load_whole_if_wanted()
        self._refresh_state()

    def _lay_out_rows(self) -> None:
        """Lays the new rows out now rather than on the view's next timer: the reset has asked for
        a repaint already, and a layout done later asks for a second full repaint of the table."""
        self.table.executeDelayedItemsLayout()

    def _next_page(self, page: Page[Any]) -> None:
        self.model.adopt_search_texts(page)
        refill = self._refill
        if refill is not None:
            if refill.add(page):
                self._finish_gather(refill)
            else:
                self.feed.load_more(many=True)
                self._refresh_state()
            return
        self.model.append_page(page)
        self._lay_out_rows()
        if self._whole_appending:
            self._whole_appending = self.feed.has_more
            self.feed.load_more(many=True)
        else:
            self._load_whole_if_wanted()  # sorted or searched while this page was on its way
        self._refresh_state()

    def _wants_whole(self) -> bool:
        if not self.feed.has_more or self._error is not None or self._whole_declined:
            return False
        if self._whole_asked:
            return True
        return (self.model.sort_order is not None or self.proxy.searching) and self.model.total <= AUTO_WHOLE_ROWS

    def _load_whole_if_wanted(self) -> None:
        """Starts loading the rest of the list when it is sorted or searched (see AUTO_WHOLE_ROWS).
        Not while a page is on its way (scrolling): its arrival asks again."""
        if self._refill is not None or self._whole_appending or self.feed.loading or not self._wants_whole():
            return
        if self.model.sort_order is None:
            self._whole_appending = True
        else:
            self._refill = _Refill(sys.maxsize, Page(self.model.rows(), None, self.model.total), whole=True)
        self.feed.load_more(many=True)

    def _finish_gather(self, refill: _Refill) -> None:
        """Shows the gathered rows, the user's place kept; sorted on a worker when there are more
        than SORT_ON_GUI_ROWS of them."""
        page, sort, model = refill.gathered, self.model.sort_order, self.model
        if sort is None or len(page.items) <= SORT_ON_GUI_ROWS:
            self._show_rows(page, self._view_position())
            return
        refill.sorting = True
        self._sort_ticket += 1
        ticket = self._sort_ticket

        def sorted_rows(ordering: Ordering) -> None:
            if ticket != self._sort_ticket or self._refill is not refill:
                return
            if model.sort_order != sort:  # sorted by another column meanwhile
                self._finish_gather(refill)
            else:
                rows = tuple(ordering.rows)
                self._show_rows(Page(rows, page.next_cursor, page.total), self._view_position(), ordered=True)

        def failed(_: Exception) -> None:
            if ticket == self._sort_ticket and self._refill is refill:
                self._show_rows(page, self._view_position())

        self._off_the_gui_thread(lambda: model.ordered(page.items, *sort), sorted_rows, failed)
        self._refresh_state()

    def _sort_requested(self, column: int, order: Qt.SortOrder) -> None:
        """A header click. Rows over SORT_ON_GUI_ROWS are sorted on a worker (the selection moves
        with its rows once they are shown); a list with more pages loads the rest as well."""
        model, refill = self.model, self._refill
        if not 0 <= column < model.columnCount():  # the view's "no sort column yet" (-1)
            return
        self._whole_declined = False
        if refill is not None and refill.sorting:
            model.sort(column, order, now=False)
            self._finish_gather(refill)
            return
        if self._whole_appending:  # appended unsorted so far: from now on gathered, and sorted once
            self._whole_appending = False
            self._refill = _Refill(sys.maxsize, Page(model.rows(), None, model.total), whole=True)
        if model.rowCount() <= SORT_ON_GUI_ROWS:
            model.sort(column, order)
        else:
            model.sort(column, order, now=False)
            self._sort_on_worker(column, order)
        self._load_whole_if_wanted()
        self._refresh_state()

    def _sort_on_worker(self, column: int, order: Qt.SortOrder) -> None:
        model = self.model
        self._sort_ticket += 1
        ticket, version, rows = self._sort_ticket, model.rows_version, model.rows()
        self._sorting = True

        def sorted_rows(ordering: Ordering) -> None:
            if ticket == self._sort_ticket:
                self._sorting = False
                # False when rows came or went meanwhile: those were sorted as they came.
                model.adopt_order(ordering, version)
                self._refresh_state()

        def failed(_: Exception) -> None:
            if ticket == self._sort_ticket:
                self._sorting = False
                model.sort(column, order)
                self._refresh_state()

        self._off_the_gui_thread(lambda: model.ordered(rows, column, order), sorted_rows, failed)

    def _off_the_gui_thread(
        self, op: Callable[[], Ordering], done: Callable[[Ordering], None], failed: Callable[[Exception], None]
    ) -> None:
        """Work of this list's own, not a call to the portal: kept off the window's runner, whose
        answers tell the connection banner the portal is there and restart an assist's idle clock."""
        BackgroundOp(parent=self, op=op, success=done).failure(failed).run_in_background()

    def _failed(self, error: Exception) -> None:
        message = error_sentence(error)
        if self.model.rowCount() > 0 and self._rows_query == self._pending_query:
            self._set_stale(message, refreshes_itself=is_connection_problem(error))
            return
        self.model.clear()
        self._rows_query = None
        self._set_stale(None)
        self._error = message
        self._refresh_state()

    def _more_failed(self, error: Exception) -> None:
        message = error_sentence(error)
        self._whole_appending, self._whole_asked, self._whole_declined = False, False, True
        if self._refill is not None:  # the rows gathered so far, the rest loadable by scrolling
            self._show_rows(self._refill.gathered, self._view_position())
        self.model.more_failed()
        self.count_label.set_text(
            f"Could not load more {self.spec.noun}: {message}", f"Could not load more {self.spec.noun}"
        )

    def _set_stale(self, reason: str | None, refreshes_itself: bool = False) -> None:
        """Marks the rows on screen as possibly out of date (reason = why the refresh failed).

        Only a portal that did not answer is watched and reloaded from once it answers again; a
        refusal (a 500, a filter the portal no longer accepts) stays until the user refreshes, so the
        tooltip promises only what will happen."""
        self.stale = reason is not None
        if reason is not None and self._loaded_at is not None:
            self.stale_label.set_text(f"Not up to date · as loaded at {clock_text(self._loaded_at)}", "Not up to date")
            if refreshes_itself:
                then = "The list refreshes by itself once the portal answers again."
            else:
                keys = QKeySequence(QKeySequence.StandardKey.Refresh).toString(QKeySequence.SequenceFormat.NativeText)
                then = f"Refresh ({keys}) to try again." if keys else "Refresh to try again."
            self.stale_label.setToolTip(f"{reason}\n{then}")
        self.stale_label.setVisible(self.stale)

    def _view_position(self) -> ViewPosition:
        """The current and selected records' ids and the scroll offset, to put back after a refresh."""
        selection = self.table.selectionModel()
        current = selection.currentIndex()
        return ViewPosition(
            current.data(Role.ID) if current.isValid() else None,
            frozenset(index.data(Role.ID) for index in selection.selectedRows()),
            self.table.verticalScrollBar().value(),
        )

    def _restore_view_position(self, position: ViewPosition) -> None:
        selection, current = QItemSelection(), None
        wanted = position.selected | {position.current}
        for row in [row for row, item in enumerate(self.model.rows()) if item.id in wanted]:  # of thousands
            record_id = self.model.record(row).id
            if record_id in position.selected or record_id == position.current:
                index = self.proxy.mapFromSource(self.model.index(row, 0))
                if not index.isValid():  # hidden by the search
                    continue
                if record_id in position.selected:
                    selection.select(index, index)
                if record_id == position.current:
                    current = index
        flags = QItemSelectionModel.SelectionFlag
        selection_model = self.table.selectionModel()
        if current is not None and not position.selected:  # a current row alone was selected with it
            selection.select(current, current)
        selection_model.select(selection, flags.ClearAndSelect | flags.Rows)
        if current is not None:
            selection_model.setCurrentIndex(current, flags.NoUpdate)
        self.table.verticalScrollBar().setValue(position.scroll)

    def _search_typed(self, text: str) -> None:
        if text.strip():
            self._search_timer.start()
        else:
            self.apply_search()  # cleared: the whole list at once

    def apply_search(self) -> None:
        """Filters the loaded rows by the search box now (typing waits for a pause)."""
        self._search_timer.stop()
        self.proxy.set_needle(self.search_edit.text().strip())
        self._load_whole_if_wanted()
        self._refresh_state()

    def _activated(self, index: QModelIndex) -> None:
        record = index.data(Role.RECORD)
        if record is not None:
            self.item_activated.emit(record)

    def _refresh_state(self) -> None:
        noun = self.spec.noun
        loaded, visible = self.model.rowCount(), self.proxy.rowCount()
        self.retry_button.setVisible(self._error is not None)
        if self._error is not None:
            self._show_empty(f"Could not load {noun}", self._error)
        elif loaded == 0 and self.feed.loading:
            self._show_empty(f"Loading {noun}…", "This takes a moment on a slow connection.")
        elif loaded == 0 and self._reason is not None:
            self._show_empty(*self._reason)
        elif loaded == 0:
            option = self._current_option()
            self._show_empty(option.empty_title, option.empty_message)
        elif visible == 0:
            self._show_no_matches(loaded)
        else:
            self.stack.setCurrentIndex(self.PAGE_TABLE)
        self._update_count(loaded, visible)
        self._refresh_whole_bar()

    def _loading_whole(self) -> bool:
        return self._whole_appending or (self._refill is not None and self._refill.whole and not self._refill.sorting)

    def _show_no_matches(self, loaded: int) -> None:
        """Says whether the search looked at the whole list, is looking, or can."""
        noun, needle, total = self.spec.noun, self.proxy.shown_search, self.model.total
        offer = False
        if self._loading_whole():
            have = len(self._refill.gathered.items) if self._refill is not None else loaded
            self._show_empty(f"Searching all {total:,} {noun}…", f"{have:,} loaded so far.")
        elif self.feed.has_more:
            offer = True
            self._show_empty("No matches so far", f"None of the {loaded:,} {noun} loaded so far match “{needle}”.")
            self.search_all_button.setText(f"Search all {total:,} {noun}")
        else:
            self._show_empty("No matches", f"None of the {loaded:,} {noun} match “{needle}”.")
        self.search_all_button.setVisible(offer)

    def _refresh_whole_bar(self) -> None:
        """The line under the toolbar: a whole-list load under way (Cancel, Esc), a sort on a
        worker, or a list sorted or searched among the rows loaded only (Load all)."""
        model, noun, refill = self.model, self.spec.noun, self._refill
        total, loaded = model.total, model.rowCount()
        sorted_, searched = model.sort_order is not None, self.proxy.searching
        text, button = "", ""
        if refill is not None and refill.whole and refill.sorting:
            text = f"Sorting all {len(refill.gathered.items):,} {noun}…"
        elif self._loading_whole():
            have = len(refill.gathered.items) if refill is not None else loaded
            text, button = (
                f"Loading all {total:,} {noun} to {'sort' if sorted_ else 'search'}… {have:,} loaded",
                "Cancel",
            )
        elif self._sorting:
            text = f"Sorting {loaded:,} {noun}…"
        elif self._error is None and self.feed.has_more and loaded and (sorted_ or searched):
            how = "Sorted and searched" if sorted_ and searched else "Sorted" if sorted_ else "Searched"
            text, button = f"{how} among the {loaded:,} of {total:,} {noun} loaded", f"Load all {total:,}"
        self.whole_label.setText(text)
        self.whole_button.setText(button)
        self.whole_button.setVisible(bool(button))
        self.whole_bar.setVisible(bool(text))
        self._cancel_shortcut.setEnabled(button == "Cancel")
        if button and button != "Cancel":
            self.whole_button.setToolTip(
                f"Lists of more than {AUTO_WHOLE_ROWS:,} rows load whole only when asked: "
                f"{total:,} {noun} take about {-(-total // self.whole_page_rows)} requests."
            )

    def _whole_button_clicked(self) -> None:
        if self._loading_whole():
            self.cancel_whole()
        else:
            self.load_whole()

    def _update_count(self, loaded: int, visible: int) -> None:
        """Of the rows shown: while a worker's search runs, those of the search before, which the
        empty state names too (`shown_search`). Nothing while the empty state says why nothing is
        listed ("0 of 0 loaded invoices match" stood beside "No invoices yet")."""
        if self._error is not None or loaded == 0:
            self.count_label.setText("")
        elif self.proxy.shown_search:
            match = "matches" if visible == 1 else "match"
            self.count_label.set_text(
                f"{count_text(visible)} of {count_text(loaded)} loaded {self._noun(loaded)} {match}",
                f"{count_text(visible)} of {count_text(loaded)} {match}",
            )
        else:
            total = self.model.total
            self.count_label.setText(f"{count_text(total)} {self._noun(total)}")

    def _noun(self, count: int) -> str:
        """The spec's noun for `count` of them: "1 invoice", "2 invoices"."""
        return self.spec.noun if count != 1 else self.spec.noun.rstrip("s")

    def _current_option(self) -> ShowOption:
        if self.spec.options:
            return self.spec.options[max(self.show_combo.currentIndex(), 0)]
        return ShowOption("", "", f"No {self.spec.noun}", f"There are no {self.spec.noun} for the selected properties.")

    def _show_empty(self, title: str, message: str) -> None:
        self.empty.set_text(title, message)
        self.stack.setCurrentIndex(self.PAGE_EMPTY)
