"""Painting for status chips in the lists and two-line rows in the property filter."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QEvent, QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from app.models.properties import ROLE_CHIPS
from app.models.roles import Role
from app.views.theme import chip_colors, colors

Index = QModelIndex | QPersistentModelIndex

_MOUSE_EVENTS = (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick)


class StatusChipDelegate(QStyledItemDelegate):
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        status = index.data(Role.STATUS)
        if not status:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = opt.text
        opt.text = ""
        style = opt.widget.style() if opt.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        background, foreground = chip_colors(str(status))
        font = QFont(opt.font)
        font.setPointSizeF(max(font.pointSizeF() - 1, 7.5))
        font.setWeight(QFont.Weight.DemiBold)
        metrics = QFontMetrics(font)
        width = metrics.horizontalAdvance(text) + 20
        height = metrics.height() + 6
        rect = opt.rect
        chip = QRectF(rect.left() + 10, rect.center().y() - height / 2 + 1, width, height)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(background))
        painter.drawRoundedRect(chip, height / 2, height / 2)
        painter.setPen(QColor(foreground))
        painter.setFont(font)
        painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(hint.width() + 24, hint.height())


class PropertyDelegate(QStyledItemDelegate):
    """Name with the contact's role as a small chip at the right; the address beneath, in grey.

    The role has its own place so it is never the part cut off; a long address is elided and
    shown whole in the row's tooltip."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget else None
        if style is None:
            return
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, widget)
        name = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        prop = index.data(Role.RECORD)
        role = ROLE_CHIPS.get(prop.role, prop.role) if prop else ""
        bold = QFont(opt.font)
        bold.setWeight(QFont.Weight.DemiBold)
        small = QFont(opt.font)
        small.setPointSizeF(max(small.pointSizeF() - 1, 7.5))
        line_one = QFontMetrics(bold).height()
        painter.save()
        top = text_rect.top() + (text_rect.height() - line_one - QFontMetrics(small).height()) // 2
        first = QRect(text_rect.left() + 4, top, text_rect.width() - 8, line_one)
        name_rect = QRect(first)
        if role:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            chip_font = QFont(small)
            chip_font.setPointSizeF(max(small.pointSizeF() - 0.5, 7.0))
            chip_width = QFontMetrics(chip_font).horizontalAdvance(role) + 12
            chip_height = QFontMetrics(chip_font).height() + 2
            chip = QRect(first.right() - chip_width, first.center().y() - chip_height // 2, chip_width, chip_height)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(colors().soft))
            painter.drawRoundedRect(chip, chip_height / 2, chip_height / 2)
            painter.setFont(chip_font)
            painter.setPen(QColor(colors().accent_text))
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, role)
            name_rect.setRight(chip.left() - 6)
        painter.setFont(bold)
        painter.setPen(QColor(colors().text))
        painter.drawText(
            name_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, _elide(bold, name, name_rect)
        )
        painter.setFont(small)
        painter.setPen(QColor(colors().muted))
        second = QRect(first.left(), first.bottom() + 1, first.width(), QFontMetrics(small).height())
        address = prop.address if prop else ""
        painter.drawText(
            second, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, _elide(small, address, second)
        )
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        hint = super().sizeHint(option, index)
        return QSize(hint.width(), QFontMetrics(option.font).height() * 2 + 16)

    def editorEvent(self, event: QEvent, model: QAbstractItemModel, option: QStyleOptionViewItem, index: Index) -> bool:
        """Mouse clicks are left to the sidebar, which toggles the whole row; the default
        handling would toggle a second time when the click lands on the box itself."""
        if event.type() in _MOUSE_EVENTS:
            return False
        return super().editorEvent(event, model, option, index)


def _elide(font: QFont, text: str, rect: QRect) -> str:
    return QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, rect.width())
