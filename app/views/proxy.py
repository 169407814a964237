"""Proxies over the lists' Python models: Qt's filter proxy with multiData() passed through, and a
proxy that shows a precomputed list of the source's rows."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from app.models.paged_table import PagedTableModel


class MultiDataProxy(QSortFilterProxyModel):
    """Qt's proxy answers a painted item's seven roles with seven data() calls, each a call into
    the Python source model; the source's own multiData answers them in one."""

    def multiData(
        self,
        index: QModelIndex | QPersistentModelIndex,
        roleDataSpan: QModelRoleDataSpan | QModelRoleData,  # noqa: N803 (Qt's name)
    ) -> None:
        self.sourceModel().multiData(self.mapToSource(index), roleDataSpan)


class RowListProxy(QAbstractTableModel):
    """Shows some rows of a PagedTableModel, in its order, as one precomputed list of its rows
    (`shown_rows`); a change of which rows show is applied in one layout change (`show`).

    Qt's QSortFilterProxyModel asks a Python filterAcceptsRow about every source row whenever
    the filter or the source's order changes: with 60,000 rows that held the window 60-400 ms
    per sort or keystroke, most of it in making and releasing 60,000 index wrappers. Here a
    subclass answers for many rows in one call, a sort moves the rows shown by the source's
    own record of where each row went, and the mapping is a list (source rows, ascending)
    searched by bisection.

    The source resets, appends rows, reorders them (a layout change) and changes their data;
    it never removes or moves rows."""

    def __init__(self, source: PagedTableModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self._rows: list[int] | None = None  # the source rows shown, ascending; None: all of them
        # While the source reorders: this proxy's persistent indexes and the source rows they show.
        self._moving: list[tuple[QModelIndex, QPersistentModelIndex]] = []
        self.layout_epoch = 0  # counts the source's resets and reorders: rows listed before one are void
        source.modelAboutToBeReset.connect(self.beginResetModel)
        source.modelReset.connect(self._source_reset)
        source.rowsAboutToBeInserted.connect(self._source_rows_coming)
        source.rowsInserted.connect(self._source_rows_came)
        source.layoutAboutToBeChanged.connect(self._source_layout_changing)
        source.layoutChanged.connect(self._source_layout_changed)
        source.dataChanged.connect(self._source_data_changed)

    def shown_rows(self, start: int, end: int) -> list[int] | None:
        """The source rows from `start` to `end` to show, ascending; None: all rows."""
        raise NotImplementedError

    def refilter(self) -> None:
        """Which rows show changed: worked out here, on the GUI thread, and shown (see `show`)."""
        self.show(self.shown_rows(0, self._source.rowCount()))

    def rows_reworded(self) -> None:
        """What the source's cells say changed, so which rows show may have: `refilter` here; a
        subclass that works it out on a worker for many rows does so."""
        self.refilter()

    def show(self, rows: list[int] | None) -> None:
        """Shows the source rows `rows` (ascending; None: all) in one layout change, the
        selection and current row kept where their rows still show."""
        if rows == self._rows:
            return
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        sources = [self.mapToSource(index) for index in persistent]
        self._rows = rows
        self.changePersistentIndexList(persistent, [self.mapFromSource(index) for index in sources])
        self.layoutChanged.emit()

    # -- mapping ---------------------------------------------------------------------

    def mapToSource(self, index: QModelIndex | QPersistentModelIndex) -> QModelIndex:
        row, rows = index.row(), self._rows
        if not index.isValid() or (rows is not None and row >= len(rows)):
            return QModelIndex()
        return self._source.index(row if rows is None else rows[row], index.column())

    def mapFromSource(self, index: QModelIndex | QPersistentModelIndex) -> QModelIndex:
        if not index.isValid():
            return QModelIndex()
        row, rows = index.row(), self._rows
        if rows is not None:
            at = bisect_left(rows, row)
            if at == len(rows) or rows[at] != row:
                return QModelIndex()  # not shown
            row = at
        return self.index(row, index.column())

    # -- Qt model API ----------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        if parent.isValid():
            return 0
        return self._source.rowCount() if self._rows is None else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._source.columnCount()

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return self._source.data(self.mapToSource(index), role)

    def multiData(
        self,
        index: QModelIndex | QPersistentModelIndex,
        roleDataSpan: QModelRoleDataSpan | QModelRoleData,  # noqa: N803 (Qt's name)
    ) -> None:
        self._source.multiData(self.mapToSource(index), roleDataSpan)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return self._source.headerData(section, orientation, role)

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> bool:
        return not parent.isValid() and self._source.canFetchMore(QModelIndex())

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex) -> None:
        if not parent.isValid():
            self._source.fetchMore(QModelIndex())

    # -- following the source --------------------------------------------------------

    def _source_reset(self) -> None:
        self.layout_epoch += 1
        self._rows = self.shown_rows(0, self._source.rowCount())
        self.endResetModel()

    def _source_rows_coming(self, parent: QModelIndex, first: int, last: int) -> None:
        if self._rows is None:
            self.beginInsertRows(QModelIndex(), first, last)

    def _source_rows_came(self, parent: QModelIndex, first: int, last: int) -> None:
        """Rows appended to the source: those to show are appended here."""
        rows = self._rows
        if rows is None:
            self.endInsertRows()
            return
        new = self.shown_rows(first, last + 1)
        if new:
            self.beginInsertRows(QModelIndex(), len(rows), len(rows) + len(new) - 1)
            self._rows = rows + new
            self.endInsertRows()

    def _source_layout_changing(self) -> None:
        """The source reorders its rows: each persistent index here is remembered by the
        source's persistent index of its row, which the source moves with the row."""
        self.layoutAboutToBeChanged.emit()
        self._moving = [(index, QPersistentModelIndex(self.mapToSource(index))) for index in self.persistentIndexList()]

    def _source_layout_changed(self) -> None:
        moving, self._moving = self._moving, []
        self.layout_epoch += 1
        rows, moves = self._rows, self._source.moves
        if rows is not None:
            # The rows shown are the same records at their new rows (a C loop and a C sort).
            self._rows = (
                sorted(map(moves.__getitem__, rows))
                if moves is not None
                else self.shown_rows(0, self._source.rowCount())
            )
        self.changePersistentIndexList(
            [proxy for proxy, _ in moving], [self.mapFromSource(source) for _, source in moving]
        )
        self.layoutChanged.emit()

    def _source_data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex, roles: list[int]) -> None:
        """What the cells say changed (the branch's day: "Overdue"): the rows shown may change too."""
        self.rows_reworded()
        rows = self._rows
        first, last = top_left.row(), bottom_right.row()
        if rows is not None:
            first, last = bisect_left(rows, first), bisect_right(rows, last) - 1
        if 0 <= first <= last:
            self.dataChanged.emit(self.index(first, top_left.column()), self.index(last, bottom_right.column()), roles)
