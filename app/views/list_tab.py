"""One tab of the main window: a "Show" filter, a search box, the lazily paged list, and an
empty state that says why nothing is listed."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QFocusEvent, QKeySequence, QPainter, QRegion
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
from app.models.paged_table import PagedTableModel
from app.models.roles import Role
from app.services.feeds import ListFeed, PageFetcher
from app.services.records import Page
from app.services.tasks import TaskRunner, is_connection_problem
from app.views.activation import SteadyOnActivation, SteadyTableView
from app.views.compact_label import CompactLabel
from app.views.detail_support import error_sentence
from app.views.empty_state import EmptyState
from app.views.list_cells import ListCellDelegate
from app.views.list_look import set_up_list_table
from app.views.overlay_scroll_bar import OverlayScrollBar
from app.views.proxy import MultiDataProxy
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
MIN_ELASTIC_WIDTH = 100  # no descriptive column is squeezed below this (or below its header)
# The widest cells by plain text width that get a real size hint when columns are fitted.
SIZE_HINT_CANDIDATES = 3


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
    """A refresh of the rows on screen, gathered page by page until it has as many rows as were
    loaded; the old rows stay on screen meanwhile, so the view neither jumps nor loses the rows the
    user selected further down."""

    wanted: int
    position: ViewPosition
    gathered: Page[Any]  # the rows so far, with the last page's cursor and total

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


class _SearchProxy(MultiDataProxy):
    """Filters loaded rows by the search box; sorting stays with the source model, which also
    keeps later pages in order."""

    def __init__(self, model: PagedTableModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._needle = ""  # case-folded
        self.setSourceModel(model)

    def set_needle(self, text: str) -> None:
        self._needle = text.casefold()
        self.setFilterFixedString(self._needle)  # refilters

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        """The row's one search text, straight from the model: Qt's own filter asked the model
        through data() and a QModelIndex, and matched case-insensitively, for every row."""
        return not self._needle or self._needle in self._model.search_text(source_row)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sourceModel().sort(column, order)


class ListTab(QWidget):
    item_activated = Signal(object)  # the record; detail views of the feature issues attach here
    filter_changed = Signal()

    PAGE_TABLE, PAGE_EMPTY = 0, 1

    def __init__(self, spec: TabSpec, model: PagedTableModel, runner: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.spec = spec
        self.model = model
        self.feed = ListFeed(runner, self)
        self.proxy = _SearchProxy(model, self)
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
        # What the rows on screen answer (filter, properties, portal) and what is being asked for:
        # a refresh of the same query that fails keeps the rows, marked as possibly out of date.
        self._rows_query: Hashable | None = None
        self._pending_query: Hashable | None = None
        self._loaded_at: datetime | None = None
        self._refill: _Refill | None = None
        self.stale = False

        # Containers first, each in place before its children are made: the style sheet then
        # resolves each widget about once (see MainWindow.__init__).
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.setSpacing(12)
        toolbar = self.toolbar = QHBoxLayout()  # feature actions (e.g. "Pay selected") go before the search box
        toolbar.setSpacing(8)
        layout.addLayout(toolbar)
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
        table.setItemDelegate(ListCellDelegate(self.proxy, self.model, table))
        table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
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

    def load(self, fetch: PageFetcher, query: Hashable | None = None) -> None:
        """`query` identifies what `fetch` asks for; when it equals the query of the rows on
        screen, a failure keeps those rows (marked stale) instead of replacing them by an error."""
        self._error = None
        self._reason = None
        self._pending_query = query
        self._refill = None
        model = self.model
        # The rows' search texts are made with each page, on the worker that fetched it.
        self.feed.load(lambda cursor: model.searchable(fetch(cursor)))

    def reload(self) -> None:
        self._error = None
        self._refill = None
        self.feed.reload()

    def show_reason(self, title: str, message: str) -> None:
        """Nothing to load at all (e.g. no property selected): say so instead of asking the server."""
        self.feed.clear()
        self.model.clear()
        self._refill = None
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
        to a stub; the stretching column takes whatever is left. Where that is less than
        MIN_ELASTIC_WIDTH, it keeps that much and the list scrolls sideways instead.
        Only while the table shows (a hidden one has no final width) and the user never sized them."""
        table, header = self.table, self.table.horizontalHeader()
        width = table.viewport().width()
        has_rows = self.proxy.rowCount() > 0
        if self._user_sized or not table.isVisible() or width <= 0:
            return
        if width == self._fitted_width and has_rows == self._fitted_rows:
            return
        columns = self.model.columns
        stretch = self.model.column_index(self.spec.stretch_column)
        widths: dict[int, int] = {}
        for index in range(header.count()):
            if index != stretch:
                natural = max(self._content_width(index), header.sectionSizeHint(index)) + 2
                widths[index] = min(natural, MAX_AUTO_WIDTH) if columns[index].elastic else natural
        room = max(self._content_width(stretch) + 2, header.sectionSizeHint(stretch))
        least = max(MIN_ELASTIC_WIDTH, header.sectionSizeHint(stretch))
        descriptive = {
            i: (widths[i], max(MIN_ELASTIC_WIDTH, header.sectionSizeHint(i))) for i in widths if columns[i].elastic
        }
        descriptive[stretch] = (room, least)
        for index, cut in share_shortfall(room + sum(widths.values()) - width, descriptive).items():
            if index != stretch:
                widths[index] -= cut
        squeezed = width - sum(widths.values()) < least
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

    def _content_width(self, column: int) -> int:
        """The width the column's widest loaded cell needs, measured once per page of rows.

        Not `sizeHintForColumn`: it asks the delegate for every loaded cell's size hint, each a
        dozen Python data() calls plus the style sheet's sizing, which held the GUI thread for
        100-300 ms per tab on a 100-row page (and fitting runs again on every width change). Plain
        text widths are cheap, so they pick the few widest cells and only those get a real size
        hint (delegates such as the status chip add their own margins)."""
        if column not in self._content_widths:
            metrics, model = self.table.fontMetrics(), self.model
            widest = sorted(
                (metrics.horizontalAdvance(model.text(row, column)), row) for row in range(model.rowCount())
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
            self._refill = _Refill(loaded, kept, page)
            self.feed.load_more()
            return
        self._show_rows(page, kept)

    def _show_rows(self, page: Page[Any], kept: ViewPosition | None) -> None:
        """A query's rows from its first page on, the user's place in them kept when `kept`."""
        self._refill = None
        self.model.set_page(page)
        self._lay_out_rows()
        self._content_widths.clear()
        self._rows_query = self._pending_query
        self._loaded_at = datetime.now()
        self._set_stale(None)
        if not self._fitted_rows and self.model.rowCount():
            self.fit_columns()  # now with content to measure (the first fit may have had headers only)
        if kept is not None:
            self._restore_view_position(kept)
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
                self._show_rows(refill.gathered, refill.position)
            else:
                self.feed.load_more()
            return
        self.model.append_page(page)
        self._lay_out_rows()
        self._refresh_state()

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
        if self._refill is not None:  # the refreshed rows gathered so far, the rest loadable by scrolling
            self._show_rows(self._refill.gathered, self._refill.position)
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
        for row in range(self.model.rowCount()):
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
            self._show_empty(
                "No matches", f"None of the {loaded} {noun} loaded so far match “{self.search_edit.text().strip()}”."
            )
        else:
            self.stack.setCurrentIndex(self.PAGE_TABLE)
        self._update_count(loaded, visible)

    def _update_count(self, loaded: int, visible: int) -> None:
        if self._error is not None or (loaded == 0 and (self.feed.loading or self._reason)):
            self.count_label.setText("")
        elif self.proxy.filterRegularExpression().pattern():
            self.count_label.set_text(
                f"{visible} of {loaded} loaded {self.spec.noun} match", f"{visible} of {loaded} match"
            )
        else:
            total = self.model.total
            self.count_label.setText(
                f"{count_text(total)} {self.spec.noun if total != 1 else self.spec.noun.rstrip('s')}"
            )

    def _current_option(self) -> ShowOption:
        if self.spec.options:
            return self.spec.options[max(self.show_combo.currentIndex(), 0)]
        return ShowOption("", "", f"No {self.spec.noun}", f"There are no {self.spec.noun} for the selected properties.")

    def _show_empty(self, title: str, message: str) -> None:
        self.empty.set_text(title, message)
        self.stack.setCurrentIndex(self.PAGE_EMPTY)
