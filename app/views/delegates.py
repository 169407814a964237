"""Painting for the two-line rows of the property filter and the staff's recent customers (the
lists' cells are list_cells.py)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QEvent, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.models.properties import ROLE_CHIPS
from app.models.roles import Role
from app.views.theme import colors

Index = QModelIndex | QPersistentModelIndex

_MOUSE_EVENTS = (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick)


class _Fonts:
    """The fonts a delegate derives from the view's font, and their metrics, made once per view
    font rather than on every cell painted (a QFont and a QFontMetrics each cost a font lookup)."""

    def __init__(self, base: QFont) -> None:
        self.bold = QFont(base)
        self.bold.setWeight(QFont.Weight.DemiBold)
        self.bold_metrics = QFontMetrics(self.bold)
        self.regular_metrics = QFontMetrics(base)
        self.small = QFont(base)
        self.small.setPointSizeF(max(base.pointSizeF() - 1, 7.5))
        self.small_metrics = QFontMetrics(self.small)
        self.role = QFont(self.small)
        self.role.setPointSizeF(max(self.small.pointSizeF() - 0.5, 7.0))
        self.role_metrics = QFontMetrics(self.role)


_fonts: dict[str, _Fonts] = {}
_colors: dict[str, QColor] = {}


def _fonts_for(font: QFont) -> _Fonts:
    key = font.key()
    fonts = _fonts.get(key)
    if fonts is None:
        fonts = _fonts[key] = _Fonts(font)
    return fonts


def _color(name: str) -> QColor:
    color = _colors.get(name)
    if color is None:
        color = _colors[name] = QColor(name)
    return color


def _draw_item_without_text(
    delegate: QStyledItemDelegate, painter: QPainter, option: QStyleOptionViewItem, index: Index
) -> tuple[QStyleOptionViewItem, QStyle, str] | None:
    """The row's background, selection, focus and check box as the style draws them, but not its text,
    which the delegate draws in its own lines; None when the view has no style to draw with."""
    opt = QStyleOptionViewItem(option)
    delegate.initStyleOption(opt, index)
    text, opt.text = opt.text, ""
    widget = opt.widget
    style = widget.style() if widget else None
    if style is None:
        return None
    style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
    return opt, style, text


class PropertyDelegate(QStyledItemDelegate):
    """Name with the contact's role as a small chip at the right; the address beneath, in grey.

    The role has its own place so it is never the part cut off; a long name is cut in its middle
    and a long address at its end, both shown whole in the row's tooltip."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        drawn = _draw_item_without_text(self, painter, option, index)
        if drawn is None:
            return
        opt, style, name = drawn  # the display role, drawn by hand below
        widget = opt.widget
        text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, widget)
        prop = index.data(Role.RECORD)
        role = ROLE_CHIPS.get(prop.role, prop.role) if prop else ""
        fonts = _fonts_for(opt.font)
        palette = colors()
        line_one = fonts.bold_metrics.height()
        small_height = fonts.small_metrics.height()
        painter.save()
        top = text_rect.top() + (text_rect.height() - line_one - small_height) // 2
        first = QRect(text_rect.left() + 4, top, text_rect.width() - 8, line_one)
        name_rect = QRect(first)
        if role:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            chip_width = fonts.role_metrics.horizontalAdvance(role) + 12
            chip_height = fonts.role_metrics.height() + 2
            chip = QRect(first.right() - chip_width, first.center().y() - chip_height // 2, chip_width, chip_height)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(_color(palette.soft))
            painter.drawRoundedRect(chip, chip_height / 2, chip_height / 2)
            painter.setFont(fonts.role)
            painter.setPen(_color(palette.accent_text))
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, role)
            name_rect.setRight(chip.left() - 6)
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        elide = Qt.TextElideMode.ElideRight
        painter.setFont(fonts.bold)
        painter.setPen(_color(palette.text))
        # A portfolio's names share their start and differ at the end ("Aspen Campus Hall 0047"):
        # cut at the end, six rows read "Aspen Camp…"; cut in the middle, both ends stay.
        middle = Qt.TextElideMode.ElideMiddle
        painter.drawText(name_rect, left, fonts.bold_metrics.elidedText(name, middle, name_rect.width()))
        painter.setFont(fonts.small)
        painter.setPen(_color(palette.muted))
        second = QRect(first.left(), first.bottom() + 1, first.width(), small_height)
        address = prop.address if prop else ""
        painter.drawText(second, left, fonts.small_metrics.elidedText(address, elide, second.width()))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        """As wide as the list makes it: asked for the name's own width, a long one made every row
        wider than the pane, cut by its edge (no "…") and scrolled sideways."""
        return QSize(0, QFontMetrics(option.font).height() * 2 + 16)

    def editorEvent(self, event: QEvent, model: QAbstractItemModel, option: QStyleOptionViewItem, index: Index) -> bool:
        """Mouse clicks are left to the sidebar, which toggles the whole row; the default
        handling would toggle a second time when the click lands on the box itself."""
        if event.type() in _MOUSE_EVENTS:
            return False
        return super().editorEvent(event, model, option, index)


class ContactDelegate(QStyledItemDelegate):
    """A recent customer (staff): the name in bold, the phone and email beneath it in grey.

    The item's text stays the plain lines ("name\\nphone\\nemail") for tests, copying and screen
    readers; drawn as one block in one colour the name did not stand out from the numbers a clerk
    reads out on the phone. The lines start where the style would draw the text, so they stay
    level with the list's title above them."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        drawn = _draw_item_without_text(self, painter, option, index)
        if drawn is None:
            return
        opt, style, text = drawn
        widget = opt.widget
        lines = text.replace("\u2028", "\n").split("\n")  # Qt shows "\n" as a line separator
        margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget) + 1
        text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, widget).adjusted(
            margin, 0, -margin, 0
        )
        fonts = _fonts_for(opt.font)
        palette = colors()
        heights = [fonts.bold_metrics.height()] + [fonts.regular_metrics.height()] * (len(lines) - 1)
        top = text_rect.top() + (text_rect.height() - sum(heights)) // 2
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.save()
        for number, (line, height) in enumerate(zip(lines, heights, strict=True)):
            first = number == 0
            painter.setFont(fonts.bold if first else opt.font)
            painter.setPen(_color(palette.text if first else palette.muted))
            metrics = fonts.bold_metrics if first else fonts.regular_metrics
            row = QRect(text_rect.left(), top, text_rect.width(), height)
            painter.drawText(row, left, metrics.elidedText(line, Qt.TextElideMode.ElideRight, row.width()))
            top += height
        painter.restore()
