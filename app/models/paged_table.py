"""A table of records that grows page by page as the view scrolls.

The model never fetches: `fetchMore` only emits `more_requested`; whoever owns the list's
feed answers with `append_page`. That keeps HTTP out of models and lets tests feed pages by hand.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import contains, is_, itemgetter
from typing import Any, cast

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from app.models.roles import Role, role_slots
from app.services.records import Page

Index = QModelIndex | QPersistentModelIndex
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
# data() runs for every visible cell, several roles each, on every repaint: the roles as plain
# ints, because each access to a Qt or IntEnum member costs more than the comparison itself.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_RECORD, _ID, _STATUS, _SORT = int(Role.RECORD), int(Role.ID), int(Role.STATUS), int(Role.SORT)
# The roles the model answers; painting asks for seven roles a cell, most of which none answers.
_ANSWERED = frozenset((_DISPLAY, _ALIGNMENT, _TOOLTIP, _RECORD, _ID, _STATUS, _SORT))
# Between the cells of a row's search text: a search box cannot type it, so no search matches
# across two cells.
_CELL_BREAK = "\n"
_TEXT_OF_ENTRY = itemgetter(1)  # of a (record, search text) entry
# Rows a worker searches in one C loop (see `matcher`): 60,000 rows in one held the GIL, and with
# it the GUI thread, for 50-80 ms on a busy machine.
_SEARCH_RUN = 2048
# Rows a worker sorts in one C call. list.sort holds the GIL throughout (comparing dates, Decimals
# and strings never returns to the interpreter): 60,000 rows in one call held it, and with it the
# GUI thread, for 40-60 ms; runs of this size take a few, and merging them is Python, which lets
# the GUI thread in between.
_SORT_RUN = 4096


@dataclass(frozen=True)
class SearchablePage(Page[Any]):
    """A page with each row's search text, made where the page was fetched (off the GUI thread):
    made on the first search instead, formatting 5,000 rows' money and dates held the window
    0.3-2 s. `text_generation` is the model's when they were made; texts made before the cells'
    wording changed (currency, the branch's day) are not used."""

    search_texts: tuple[str, ...] = ()
    text_generation: int = -1


@dataclass(frozen=True)
class Matches:
    """A worker's search (see `PagedTableModel.matcher`): the rows found, ascending, and the
    search texts it made for rows that had none, with the model's text generation and resets
    when it started."""

    rows: list[int]
    made: dict[int, tuple[Any, str]]
    text_generation: int
    resets: int


@dataclass(frozen=True)
class Ordering:
    """Rows in a new order, and where each went: `moved_to[i]` is the new row of the row that was
    at `i`. Made on the worker that sorts, so the GUI thread moves the selection and current row
    with their records by a lookup each, not by looking for them among 60,000 rows."""

    rows: list[Any]
    moved_to: list[int]

    @classmethod
    def of(cls, rows: Sequence[Any], sources: Sequence[int]) -> Ordering:
        """`sources`: the old row of each new row, in the new order. The rows are gathered in
        runs of _SORT_RUN, each one C loop, so a worker lets the GUI thread in between."""
        moved_to = [0] * len(sources)
        for new, old in enumerate(sources):
            moved_to[old] = new
        ordered: list[Any] = []
        for start in range(0, len(sources), _SORT_RUN):
            ordered += map(rows.__getitem__, sources[start : start + _SORT_RUN])
        return cls(ordered, moved_to)


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    text: Callable[[Any], str]
    sort_key: Callable[[Any], Any]
    numeric: bool = False
    status: Callable[[Any], str] | None = None
    tooltip: Callable[[Any], str] | None = field(default=None)
    # Descriptive text (a title, a property name) that may give up width and be elided, its full
    # text in the tooltip; numbers, dates, money and statuses are never cut.
    elastic: bool = False
    # Elided in the middle, not at the end: names that differ only in their ends ("Aspen Campus
    # Hall 0014" and "... 0041") stay told apart in a narrow column.
    elide_middle: bool = False
    # The same value in fewer characters ("11/1/26" for "Nov 1, 2026"), painted where the column is
    # too narrow for `text` (a small screen); search, sort and copy keep `text`.
    short: Callable[[Any], str] | None = field(default=None)


class PagedTableModel(QAbstractTableModel):
    more_requested = Signal()

    def __init__(self, columns: Sequence[Column], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._columns = tuple(columns)
        self._rows: list[Any] = []
        self._total = 0
        self._has_more = False
        self._waiting_for_more = False
        self._sort: tuple[int, Qt.SortOrder] | None = None
        # Each cell's text, formatted once (money, dates, joined services) rather than on every
        # repaint; keyed by the record's identity, so sorting and later pages keep it valid.
        self._texts: dict[tuple[int, int], str] = {}
        # Each row's cells as one case-folded string, made with its page off the GUI thread (see
        # `searchable`), else the first time a search looks at the row: a filter then looks once
        # per row, not once per cell (5,000 rows x 7 columns was 35,000 Python calls a search).
        # Keyed by the record's identity and holding the record, so an id reused by a later
        # record never finds another's text.
        self._search_texts: dict[int, tuple[Any, str]] = {}
        self._text_generation = 0  # counts changes of the cells' wording
        self._rows_version = 0  # counts changes of which rows are loaded (not of their order)
        self._resets = 0  # counts replacements of all rows (set_page, clear)
        self._moves: list[int] | None = None

    @property
    def columns(self) -> tuple[Column, ...]:
        return self._columns

    @property
    def total(self) -> int:
        """Rows the server has for the query, loaded or not."""
        return self._total

    def column_index(self, key: str) -> int:
        return next(i for i, c in enumerate(self._columns) if c.key == key)

    @property
    def sort_order(self) -> tuple[int, Qt.SortOrder] | None:
        """The column and order the rows are (or are being) sorted by; None keeps the server's."""
        return self._sort

    @property
    def rows_version(self) -> int:
        return self._rows_version

    def rows(self) -> tuple[Any, ...]:
        """The loaded rows as they stand, for a worker to sort (see `ordered`)."""
        return tuple(self._rows)

    def record(self, row: int) -> Any:
        return self._rows[row]

    def text(self, row: int, column: int) -> str:
        """The cell's display text, as painted (the view measures columns with it)."""
        return self._text(self._rows[row], column)

    # -- feeding -----------------------------------------------------------------------

    def searchable(self, page: Page[Any]) -> SearchablePage:
        """`page` with its rows' search texts. Runs on the worker that fetched the page: it only
        reads the columns and what their texts read (the currency, the branch's zone), never
        the GUI thread's caches."""
        generation = self._text_generation  # first: wording that changes meanwhile voids the texts
        columns = self._columns
        texts = tuple(_row_text(columns, item) for item in page.items)
        return SearchablePage(page.items, page.next_cursor, page.total, texts, generation)

    def adopt_search_texts(self, page: Page[Any]) -> None:
        """Keeps the search texts `page` came with, unless the cells' wording changed since."""
        if isinstance(page, SearchablePage) and page.text_generation == self._text_generation:
            for item, text in zip(page.items, page.search_texts, strict=True):
                self._search_texts[id(item)] = (item, text)

    def forget_texts(self) -> None:
        """The cells' texts depend on more than their records (e.g. the currency) and changed."""
        self._texts.clear()
        self._forget_search_texts()

    def show_rows_again(self) -> None:
        """What the cells say depends on more than their records (the branch's day) and changed."""
        self._forget_search_texts()  # a status ("Overdue") is searched as it reads
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, self.columnCount() - 1))

    def _forget_search_texts(self) -> None:
        self._text_generation += 1
        self._search_texts.clear()

    def set_page(self, page: Page[Any], ordered: bool = False) -> None:
        """`ordered`: the rows are in the model's sort order already (sorted on a worker by
        `ordered`), so the GUI thread does not sort them again."""
        self.beginResetModel()
        self._rows_version += 1
        self._resets += 1
        self._texts.clear()
        # The new rows' texts adopted as their pages came (a refresh gathers several pages first).
        kept = self._search_texts
        self._search_texts = {
            id(item): entry for item in page.items if (entry := kept.get(id(item))) is not None and entry[0] is item
        }
        self._rows = list(page.items)
        self._accept(page)
        if not ordered:
            self._apply_sort()
        self.endResetModel()

    def append_page(self, page: Page[Any]) -> None:
        if page.items:
            self._rows_version += 1
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(page.items) - 1)
            self._rows.extend(page.items)
            self.endInsertRows()
        self._accept(page)
        if self._sort is not None:
            self._resort()

    def more_failed(self) -> None:
        """Lets the view ask again (e.g. after F5 or scrolling) once a page request failed."""
        self._waiting_for_more = False

    def clear(self) -> None:
        self.beginResetModel()
        self._texts.clear()
        self._search_texts.clear()
        self._rows = []
        self._rows_version += 1
        self._resets += 1
        self._total = 0
        self._has_more = False
        self._waiting_for_more = False
        self.endResetModel()

    def _accept(self, page: Page[Any]) -> None:
        self._total = page.total
        self._has_more = page.next_cursor is not None
        self._waiting_for_more = False

    # -- Qt model API ------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def canFetchMore(self, parent: Index) -> bool:
        return not parent.isValid() and self._has_more and not self._waiting_for_more

    def fetchMore(self, parent: Index) -> None:
        if self.canFetchMore(parent):
            self._waiting_for_more = True
            self.more_requested.emit()

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        column = self._columns[section]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return column.title
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            return f"Column {column.title}; activate to sort by it"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if column.numeric else _LEFT
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ANSWERED:
            return None
        row = index.row()  # -1 for an invalid index
        if not 0 <= row < len(self._rows):
            return None
        return self._value(self._rows[row], index.column(), role)

    def multiData(self, index: Index, roleDataSpan: QModelRoleDataSpan | QModelRoleData) -> None:  # noqa: N803
        """Every role a painted cell needs in one Python call: Qt's default asks data() once per
        role (seven a cell, through the proxy), which was most of a table repaint's time."""
        row = index.row()
        item = self._rows[row] if 0 <= row < len(self._rows) else None
        column = index.column()
        for role_data in role_slots(roleDataSpan):
            role = role_data.role()
            role_data.setData(None if item is None or role not in _ANSWERED else self._value(item, column, role))

    def _value(self, item: Any, column: int, role: int) -> Any:
        if role == _DISPLAY:
            return self._text(item, column)
        if role == _ALIGNMENT:
            return _RIGHT if self._columns[column].numeric else _LEFT
        if role == _STATUS:
            status = self._columns[column].status
            return status(item) if status else None
        if role == _RECORD:
            return item
        if role == _ID:
            return item.id
        if role == _TOOLTIP:
            tooltip = self._columns[column].tooltip
            return tooltip(item) if tooltip else None
        if role == _SORT:
            return self._columns[column].sort_key(item)
        return None

    def rows_matching(self, needle: str, start: int = 0, end: int | None = None) -> list[int]:
        """The rows from `start` to `end` whose search text holds `needle` (case-folded already),
        on the GUI thread: texts not made yet (the cells' wording changed) are made and kept."""
        return _matching(
            self._rows, start, len(self._rows) if end is None else end, needle, self._search_text, self._search_texts
        )

    def matcher(self, needle: str) -> Callable[[], Matches]:
        """`rows_matching` over the rows loaded now, for a worker: it reads the rows (a list
        only ever appended to, never reordered in place: a sort or a reset makes a new one) and
        the search texts, in runs of _SEARCH_RUN rows, each one C loop (the GUI thread gets the
        GIL back between runs). A text not made yet is made there and handed back with the rows
        (`adopt_matches`): made and dropped, every search after the branch's day turned made
        all 60,000 again, 1.1-1.2 s each instead of 30 ms."""
        rows, texts, columns = self._rows, self._search_texts, self._columns
        generation, resets = self._text_generation, self._resets  # first, as in `searchable`
        count = len(rows)

        def run() -> Matches:
            made: dict[int, tuple[Any, str]] = {}

            def text_of(item: Any) -> str:
                text = _row_text(columns, item)
                made[id(item)] = (item, text)
                return text

            found: list[int] = []
            for start in range(0, count, _SEARCH_RUN):
                found += _matching(rows, start, min(start + _SEARCH_RUN, count), needle, text_of, texts)
            return Matches(found, made, generation, resets)

        return run

    def adopt_matches(self, matches: Matches) -> None:
        """Keeps the search texts a worker's search made (see `matcher`), unless the cells'
        wording changed since or the rows were replaced (their texts would keep old records)."""
        if matches.made and (matches.text_generation, matches.resets) == (self._text_generation, self._resets):
            self._search_texts.update(matches.made)

    def _search_text(self, item: Any) -> str:
        entry = self._search_texts.get(id(item))
        if entry is not None and entry[0] is item:
            return entry[1]
        text = _CELL_BREAK.join(self._text(item, column) for column in range(len(self._columns))).casefold()
        self._search_texts[id(item)] = (item, text)
        return text

    def _text(self, item: Any, column: int) -> str:
        key = (id(item), column)
        text = self._texts.get(key)
        if text is None:
            field = self._columns[column]
            text = field.text(item)
            if field.status is None:  # a status may depend on the day ("overdue"): never kept
                self._texts[key] = text
        return text

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder, now: bool = True) -> None:
        """Sorts the loaded rows; pages arriving later are merged into the same order. `now` False
        only records the order: a worker sorts the rows (`ordered`) and `adopt_order` shows them."""
        if not 0 <= column < len(self._columns):
            return
        self._sort = (column, order)
        if now:
            self._resort()

    def ordered(self, rows: Sequence[Any], column: int, order: Qt.SortOrder) -> Ordering:
        """`rows` sorted as `sort` would (stable, so equal keys keep their order), for a worker:
        it reads only the column's sort key, in runs of _SORT_RUN merged in Python, so the GUI
        thread is never held off the GIL for long. Row numbers are sorted by their keys rather
        than (key, row) pairs: 60,000 pairs were 60,000 objects for the cycle collector, whose
        pass on the GUI thread then took 20-30 ms."""
        key = self._columns[column].sort_key
        reverse = order == Qt.SortOrder.DescendingOrder
        keys = [key(item) for item in rows]
        key_of = keys.__getitem__
        runs = []
        for start in range(0, len(keys), _SORT_RUN):
            run = list(range(start, min(start + _SORT_RUN, len(keys))))
            run.sort(key=key_of, reverse=reverse)
            runs.append(run)
        if len(runs) == 1:
            return Ordering.of(rows, runs[0])
        return Ordering.of(rows, list(heapq.merge(*runs, key=key_of, reverse=reverse)))

    def adopt_order(self, ordering: Ordering, version: int) -> bool:
        """Shows the loaded rows in `ordering` (of `ordered`), the selection and current row moving
        with their records; False when the loaded rows changed since `version` (the order is then
        of rows no longer all here). No step here goes through the rows one by one in Python:
        60,000 rows took the window 10-20 ms that way."""
        if version != self._rows_version or len(ordering.rows) != len(self._rows):
            return False
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        moved_to = ordering.moved_to
        self._rows = ordering.rows
        self.changePersistentIndexList(persistent, [self.index(moved_to[i.row()], i.column()) for i in persistent])
        self._moves = moved_to
        try:
            self.layoutChanged.emit()
        finally:
            self._moves = None
        return True

    @property
    def moves(self) -> list[int] | None:
        """While layoutChanged is being emitted: the new row of each row (`Ordering.moved_to`), so
        a proxy that shows some of the rows moves them without looking at each row's data."""
        return self._moves

    def _resort(self) -> None:
        """Re-sorts and moves persistent indexes (selection, current row) with their rows."""
        rows = self._rows
        sources = list(range(len(rows)))
        if self._sort is not None:
            column, order = self._sort
            keys = list(map(self._columns[column].sort_key, rows))
            sources.sort(key=keys.__getitem__, reverse=order == Qt.SortOrder.DescendingOrder)
        self.adopt_order(Ordering.of(rows, sources), self._rows_version)

    def _apply_sort(self) -> None:
        if self._sort is None:
            return
        column, order = self._sort
        key = self._columns[column].sort_key
        self._rows.sort(key=key, reverse=order == Qt.SortOrder.DescendingOrder)


def _row_text(columns: Sequence[Column], item: Any) -> str:
    return _CELL_BREAK.join(column.text(item) for column in columns).casefold()


def _matching(
    rows: list[Any],
    start: int,
    end: int,
    needle: str,
    text_of: Callable[[Any], str],
    texts: dict[int, tuple[Any, str]],
) -> list[int]:
    """The rows from `start` to `end` whose search text holds `needle`. The texts are looked up
    and tested by C loops (map, compress), not a Python step per row; `text_of` makes the few
    not in `texts`. An entry found by a row's id is that row's: the entry holds its record,
    which therefore still lives, so no other live row has its id."""
    part = rows[start:end]
    entries = list(map(texts.get, map(id, part)))
    found: list[str]
    if any(map(is_, entries, repeat(None))):
        found = [entry[1] if entry is not None else text_of(item) for entry, item in zip(entries, part, strict=True)]
    else:
        found = list(map(_TEXT_OF_ENTRY, cast("list[tuple[Any, str]]", entries)))
    return list(compress(range(start, start + len(part)), map(contains, found, repeat(needle))))
