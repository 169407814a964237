"""The Visits tab (VI-1): visits grouped by day, and "Show older" for completed visits.

Grouping is painted rather than modelled: the date shows once, on the first row of each day,
with a rule above it. Header rows in the model would break sorting, searching and paging,
which the plain table already does right.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QPushButton, QStyleOptionViewItem, QWidget

from app.models.dates import day_heading, relative_day
from app.models.lists import VisitsModel
from app.models.paged_table import PagedTableModel
from app.models.roles import Role
from app.services.tasks import TaskRunner
from app.views.list_cells import ListCellDelegate
from app.views.list_tab import ListTab, ShowOption, TabSpec
from app.views.proxy import RowListProxy
from app.views.theme import colors, named

Index = QModelIndex | QPersistentModelIndex
DAY_WINDOWS = (30, 90, 365)  # "Show older" steps through these (the server allows up to 365)


def starts_day(index: Index, date_column: int) -> bool:
    """True on the first row of a day in the order the view shows (sorting and search included)."""
    row = index.row()
    if row == 0:
        return True
    model = index.model()
    here = model.index(row, date_column).data(Role.SORT)
    above = model.index(row - 1, date_column).data(Role.SORT)
    return bool(here != above)


def _draw_rule(painter: QPainter, rect: QRect) -> None:
    painter.save()
    painter.setPen(QColor(colors().input_border))
    painter.drawLine(rect.topLeft(), rect.topRight())
    painter.restore()


class VisitDayDelegate(ListCellDelegate):
    """The date column: the day and how far away it is, once per day, against the branch's today."""

    def __init__(
        self, proxy: RowListProxy, model: VisitsModel, date_column: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(proxy, model, parent)
        self.date_column = date_column
        self.day = model.day

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        self.paint_background(painter, option, self.look(option))
        if not starts_day(index, self.date_column):
            return
        if index.row() > 0:
            _draw_rule(painter, option.rect)
        visit = index.data(Role.RECORD)
        if visit is None:
            return
        today = self.day.today()
        bold, small = _fonts(option.font)
        first, second = QFontMetrics(bold).height(), QFontMetrics(small).height()
        rect = option.rect.adjusted(12, 0, -6, 0)
        top = rect.top() + (rect.height() - first - second) // 2
        painter.save()
        painter.setFont(bold)
        painter.setPen(QColor(colors().text))
        align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(QRect(rect.left(), top, rect.width(), first), align, day_heading(visit.date, today))
        painter.setFont(small)
        painter.setPen(QColor(colors().accent_text if visit.date >= today else colors().muted))
        painter.drawText(QRect(rect.left(), top + first, rect.width(), second), align, relative_day(visit.date, today))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        visit = index.data(Role.RECORD)
        bold, _ = _fonts(option.font)
        text = day_heading(visit.date, self.day.today()) if visit is not None else "Wed, Sep 30, 2026"
        return QSize(QFontMetrics(bold).horizontalAdvance(text) + 28, QFontMetrics(bold).height() * 2 + 12)


class _GroupedCellDelegate(ListCellDelegate):
    """Other columns: the normal cell, plus the day's rule."""

    def __init__(
        self, proxy: RowListProxy, model: PagedTableModel, date_column: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(proxy, model, parent)
        self.date_column = date_column

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        super().paint(painter, option, index)
        if index.row() > 0 and starts_day(index, self.date_column):
            _draw_rule(painter, option.rect)


def _fonts(base: QFont) -> tuple[QFont, QFont]:
    bold = QFont(base)
    bold.setWeight(QFont.Weight.DemiBold)
    small = QFont(base)
    small.setPointSizeF(max(small.pointSizeF() - 1, 7.5))
    return bold, small


class VisitsTab(ListTab):
    def __init__(
        self, spec: TabSpec, model: PagedTableModel, runner: TaskRunner, parent: QWidget | None = None
    ) -> None:
        super().__init__(spec, model, runner, parent)
        assert isinstance(model, VisitsModel)  # its branch's day words the dates
        self.days = DAY_WINDOWS[0]
        date_column = model.column_index("date")
        table = self.table
        table.setAlternatingRowColors(False)
        table.verticalHeader().setDefaultSectionSize(46)
        table.setItemDelegate(_GroupedCellDelegate(self.proxy, model, date_column, table))
        table.setItemDelegateForColumn(date_column, VisitDayDelegate(self.proxy, model, date_column, table))

        self.older_button = named(QPushButton(""), "LinkButton")
        self.older_button.setAutoDefault(False)
        self.older_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.toolbar.insertWidget(self.toolbar.indexOf(self.count_label) + 1, self.older_button)
        self.older_button.clicked.connect(self.show_older)
        self.show_combo.currentIndexChanged.connect(lambda _: self._update_older())
        self._update_older()

    def completed_days(self) -> int | None:
        """The `days` to ask for: only completed visits have a window to widen."""
        return self.days if self.filter_value == "completed" else None

    def show_older(self) -> None:
        wider = [d for d in DAY_WINDOWS if d > self.days]
        if not wider:
            return
        self.days = wider[0]
        self._update_older()
        self.filter_changed.emit()

    def _update_older(self) -> None:
        wider = [d for d in DAY_WINDOWS if d > self.days]
        self.older_button.setVisible(self.filter_value == "completed" and bool(wider))
        if wider:
            self.older_button.setText(f"Show older (last {wider[0]} days)")

    def _current_option(self) -> ShowOption:
        option = super()._current_option()
        if option.value != "completed":
            return option
        further = " Use “Show older” to look further back." if self.days < DAY_WINDOWS[-1] else ""
        return ShowOption(
            option.value,
            option.label,
            f"No visits in the last {self.days} days",
            f"Visits completed in the past {self.days} days show here.{further}",
        )

    def _update_count(self, loaded: int, visible: int) -> None:
        super()._update_count(loaded, visible)
        text = self.count_label.text()
        if self.filter_value == "completed" and text and not self.proxy.shown_search:
            self.count_label.set_text(f"{text} in the last {self.days} days", text)
