"""The list tables' cells, painted by hand with the look style.qss gives `QTableView::item`.

Qt's own path costs about twice as much a cell: its delegate asks the model for seven roles (a call
into Python through the filter proxy each time), then the style-sheet style resolves the item rule
for every cell before laying its text out. A table repaints all its visible cells (120 on a full
invoices page) whenever its rows change, and that paint was the GUI thread's longest stretch when
a property-filter change repopulated the lists (`python -m bench`). Here a cell costs one Python
call: its text comes straight from the table model's cache, the geometry from the style once.
"""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QFontMetricsF,
    QPainter,
    QPalette,
    QStaticText,
    QTextLayout,
    QTransform,
)
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from app.models.paged_table import PagedTableModel
from app.views.proxy import RowListProxy
from app.views.theme import chip_colors, colors

Index = QModelIndex | QPersistentModelIndex

_ELIDE_RIGHT = Qt.TextElideMode.ElideRight
_ELIDE_MIDDLE = Qt.TextElideMode.ElideMiddle
# State and feature flags as plain ints: a Qt flag operation in Python costs more than a cell's arithmetic.
_SELECTED = QStyle.StateFlag.State_Selected.value
_ENABLED = QStyle.StateFlag.State_Enabled.value
_ALTERNATE = QStyleOptionViewItem.ViewItemFeature.Alternate.value
_LINES_KEPT = 5000  # laid-out texts a table keeps (a few pages' worth of distinct cell texts)
_CHIP_LEFT = 10  # the chip's distance from the cell's left edge
_CHIP_PADDING = 20  # the chip's width beyond its text
_CHIP_EXTRA_WIDTH = 24  # a status column's width beyond its text (the chip's padding and margin)


def _edges(rect: QRect) -> tuple[int, int, int, int]:
    """left, top, width, height in one call into Qt rather than four."""
    return cast(tuple[int, int, int, int], rect.getRect())


class _Line:
    """A cell text measured once and, once painted a second time, laid out for good: the cells of a
    list repeat their texts (dates, services, statuses) and are repainted often (scrolling, selection),
    and a laid-out text draws in two thirds of the time; laying out costs half again as much as
    drawing, so a text painted only once (a list replaced by a filter change) is simply drawn."""

    __slots__ = ("advance", "exact_advance", "laid_out", "painted", "text")

    def __init__(self, text: str, look: _CellLook) -> None:
        self.text = text
        self.advance = look.metrics.horizontalAdvance(text)
        self.exact_advance = look.exact.horizontalAdvance(text)
        self.laid_out: QStaticText | None = None
        self.painted = False

    def draw(self, painter: QPainter, x: float, top: int, look: _CellLook) -> None:
        """Draws the text with its line box's top at `top`."""
        if self.laid_out is not None:
            painter.drawStaticText(QPointF(x, top), self.laid_out)
        elif self.painted:
            self.laid_out = QStaticText(self.text)
            self.laid_out.setTextFormat(Qt.TextFormat.PlainText)
            self.laid_out.prepare(QTransform(), look.font)
            painter.drawStaticText(QPointF(x, top), self.laid_out)
        else:
            self.painted = True
            painter.drawText(QPointF(x, top + look.ascent), self.text)


class _CellLook:
    """What painting a cell needs from the view's font, palette and style, worked out once per font and
    palette: where text goes relative to the cell (style.qss's padding and border, the style's text
    margin and Qt's vertical centring) and the colours, so that no cell asks the style again."""

    def __init__(self, option: QStyleOptionViewItem) -> None:
        # Copies: PySide hands out the option's own font and palette colours, which die with the option.
        font = QFont(option.font)
        self.font = font
        self.palette_key = option.palette.cacheKey()
        self.metrics = QFontMetrics(font)
        self.exact = QFontMetricsF(font)
        # Qt lays an item's text out as one QTextLayout line and centres that line's box with
        # QStyle.alignedRect, which halves the cell's and the line's heights separately.
        layout = QTextLayout("x", font)
        layout.beginLayout()
        line = layout.createLine()
        layout.endLayout()
        self.half_line = int(line.height()) // 2
        self.ascent = line.ascent()
        self._lines: dict[str, _Line] = {}
        self.chip_font = QFont(font)
        self.chip_font.setPointSizeF(max(font.pointSizeF() - 1, 7.5))
        self.chip_font.setWeight(QFont.Weight.DemiBold)
        self.chip_metrics = QFontMetrics(self.chip_font)
        palette = option.palette
        # The app's palette gives the active and inactive groups the same colours (theme.qpalette).
        active, disabled = QPalette.ColorGroup.Active, QPalette.ColorGroup.Disabled
        self.selection = QColor(palette.color(active, QPalette.ColorRole.Highlight))
        self.alternate = QColor(palette.color(active, QPalette.ColorRole.AlternateBase))
        self.text = QColor(palette.color(active, QPalette.ColorRole.Text))
        self.selected_text = QColor(palette.color(active, QPalette.ColorRole.HighlightedText))
        self.disabled_text = QColor(palette.color(disabled, QPalette.ColorRole.Text))
        self.row_line = QColor(colors().row_line)
        sample = QStyleOptionViewItem(option)
        sample.rect = QRect(0, 0, 400, 40)
        sample.features |= QStyleOptionViewItem.ViewItemFeature.HasDisplay
        sample.text = "x"
        widget = option.widget
        style = widget.style() if widget is not None else None
        self.left, self.right, self.top, self.bottom = 8, 8, 0, 0
        if style is None:
            return
        text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, sample, widget)
        # Qt's item text keeps a focus-frame margin inside the text rectangle (QCommonStyle).
        margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget) + 1
        self.left = text_rect.left() + margin
        self.right = sample.rect.right() - text_rect.right() + margin
        self.top = text_rect.top()
        self.bottom = sample.rect.bottom() - text_rect.bottom()

    def line(self, text: str) -> _Line:
        line = self._lines.get(text)
        if line is None:
            if len(self._lines) >= _LINES_KEPT:
                self._lines.clear()
            line = self._lines[text] = _Line(text, self)
        return line


class ListCellDelegate(QStyledItemDelegate):
    """Every cell of a PagedTableModel's table shown through `proxy`: background (selected or
    alternate row), the row's bottom line, and the text, or the status chip in a status column."""

    def __init__(self, proxy: RowListProxy, model: PagedTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._proxy = proxy
        self._model = model
        self._look: _CellLook | None = None
        self._chip_colors: dict[str, tuple[QColor, QColor]] = {}
        # Columns (of the model) whose dates are all painted short: the columns were fitted so,
        # and one column never mixes "Nov 1, 2026" with "10/21/26".
        self.short_columns: frozenset[int] = frozenset()

    def look(self, option: QStyleOptionViewItem) -> _CellLook:
        look = self._look
        if look is None or look.palette_key != option.palette.cacheKey() or look.font != option.font:
            look = self._look = _CellLook(option)
            self._chip_colors.clear()  # a new palette is a new theme
        return look

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        source = self._proxy.mapToSource(index)
        row, column = source.row(), source.column()
        model = self._model
        if not 0 <= row < model.rowCount():
            return
        look = self.look(option)
        state = self.paint_background(painter, option, look)
        field = model.columns[column]
        text = model.text(row, column)
        status = field.status(model.record(row)) if field.status is not None else ""
        if status:
            self._paint_chip(painter, option.rect, look, status, text)
        elif text:
            color = look.selected_text if state & _SELECTED else look.text if state & _ENABLED else look.disabled_text
            if field.short is not None and (
                column in self.short_columns or look.line(text).advance > option.rect.width() - look.left - look.right
            ):
                text = field.short(model.record(row))  # "11/1/26": a date elided to "Nov 1, …" says nothing
            elide = _ELIDE_MIDDLE if field.elide_middle else _ELIDE_RIGHT
            self._paint_text(painter, option.rect, look, text, field.numeric, color, elide)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        """The style's size for the text (as Qt's delegate gives it), wider by the chip's margins in
        a status column; asked only for the few widest cells when the columns are fitted."""
        hint = super().sizeHint(option, index)
        column = self._proxy.mapToSource(index).column()
        if 0 <= column < len(self._model.columns) and self._model.columns[column].status is not None:
            return QSize(hint.width() + _CHIP_EXTRA_WIDTH, hint.height())
        return hint

    def paint_background(self, painter: QPainter, option: QStyleOptionViewItem, look: _CellLook) -> int:
        """The cell's background (selected or alternate row) and its row line; gives the option's state."""
        state: int = option.state.value
        left, top, width, height = _edges(option.rect)
        if state & _SELECTED:
            painter.fillRect(left, top, width, height, look.selection)
        elif option.features.value & _ALTERNATE:
            painter.fillRect(left, top, width, height, look.alternate)
        painter.fillRect(left, top + height - 1, width, 1, look.row_line)
        return state

    def _paint_text(
        self,
        painter: QPainter,
        rect: QRect,
        look: _CellLook,
        text: str,
        numeric: bool,
        color: QColor,
        elide: Qt.TextElideMode,
    ) -> None:
        left, top, width, height = _edges(rect)
        room = width - look.left - look.right
        line = look.line(text)
        if line.advance > room:
            line = look.line(look.metrics.elidedText(text, elide, room))
        # Right-aligned text ends at the text box's edge to the fraction of a pixel, as Qt places it.
        x = left + width - look.right - line.exact_advance if numeric else left + look.left
        inner = height - look.top - look.bottom
        painter.setPen(color)
        painter.setFont(look.font)
        line.draw(painter, x, top + look.top + inner // 2 - look.half_line, look)

    def _paint_chip(self, painter: QPainter, rect: QRect, look: _CellLook, status: str, text: str) -> None:
        colors_of_chip = self._chip_colors.get(status)
        if colors_of_chip is None:
            background, foreground = chip_colors(status)
            colors_of_chip = self._chip_colors[status] = (QColor(background), QColor(foreground))
        width = look.chip_metrics.horizontalAdvance(text) + _CHIP_PADDING
        height = look.chip_metrics.height() + 6
        chip = QRectF(rect.left() + _CHIP_LEFT, rect.center().y() - height / 2 + 1, width, height)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colors_of_chip[0])
        painter.drawRoundedRect(chip, height / 2, height / 2)
        painter.setPen(colors_of_chip[1])
        painter.setFont(look.chip_font)
        painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()
