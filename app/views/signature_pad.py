"""A signature-capture pad: smooth strokes from a mouse, a pen tablet (with pressure) or touch.

Strokes are kept as points, not pixels, so undo removes exactly the last stroke and the export
is a tight-cropped, transparent PNG at a fixed height whatever the pad's size on screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QBuffer, QByteArray, QEvent, QIODevice, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QTabletEvent,
    QTouchEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.views import theme

INK = QColor(theme.INK)
BASE_WIDTH = 2.4
EXPORT_HEIGHT = 160
EXPORT_MARGIN = 6.0
MAX_EXPORT_SCALE = 3.0
MIN_POINT_DISTANCE = 0.8  # device-independent pixels; closer points add nothing but noise


@dataclass
class Stroke:
    points: list[QPointF] = field(default_factory=list)
    pressures: list[float] = field(default_factory=list)

    def add(self, point: QPointF, pressure: float) -> bool:
        if self.points:
            last = self.points[-1]
            if abs(last.x() - point.x()) + abs(last.y() - point.y()) < MIN_POINT_DISTANCE:
                return False
        self.points.append(QPointF(point))
        self.pressures.append(max(0.1, min(1.0, pressure)))
        return True

    def bounds(self) -> QRectF:
        xs = [p.x() for p in self.points]
        ys = [p.y() for p in self.points]
        return QRectF(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def _width(pressure: float) -> float:
    return BASE_WIDTH * (0.55 + 0.9 * pressure)


def paint_strokes(painter: QPainter, strokes: list[Stroke], scale: float = 1.0, offset: QPointF | None = None) -> None:
    """Quadratic curves through the midpoints of successive points: smooth without lagging the pen."""
    shift = offset or QPointF(0, 0)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)

    def at(point: QPointF) -> QPointF:
        return QPointF((point.x() + shift.x()) * scale, (point.y() + shift.y()) * scale)

    for stroke in strokes:
        points = [at(p) for p in stroke.points]
        if not points:
            continue
        if len(points) == 1:
            radius = _width(stroke.pressures[0]) * scale / 2
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(INK)
            painter.drawEllipse(points[0], radius, radius)
            continue
        previous_mid = points[0]
        for index in range(1, len(points)):
            mid = (points[index - 1] + points[index]) / 2
            path = QPainterPath(previous_mid)
            path.quadTo(points[index - 1], mid)
            pen = QPen(INK, _width(stroke.pressures[index]) * scale)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            previous_mid = mid
        painter.drawLine(previous_mid, points[-1])


class SignaturePad(QWidget):
    """Draw with the left button, a pen or a finger; `undo()`, `clear()`, `is_empty`, `to_png()`."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.strokes: list[Stroke] = []
        self._current: Stroke | None = None
        self._tablet_down = False
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_StaticContents)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setMinimumSize(QSize(320, 130))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Signature pad")
        self.setAccessibleDescription("Draw your signature here with the mouse, a pen or your finger.")

    def sizeHint(self) -> QSize:
        return QSize(520, 160)

    @property
    def is_empty(self) -> bool:
        return not any(stroke.points for stroke in self.strokes)

    def undo(self) -> None:
        if self.strokes:
            self.strokes.pop()
            self.update()
            self.changed.emit()

    def clear(self) -> None:
        if self.strokes:
            self.strokes = []
            self.update()
            self.changed.emit()

    # -- input -------------------------------------------------------------------------

    def _begin(self, point: QPointF, pressure: float) -> None:
        self._current = Stroke()
        self._current.add(point, pressure)
        self.strokes.append(self._current)
        self.update()

    def _extend(self, point: QPointF, pressure: float) -> None:
        if self._current is not None and self._current.add(point, pressure):
            self.update()

    def _end(self) -> None:
        if self._current is not None:
            self._current = None
            self.changed.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and not self._tablet_down:
            self._begin(event.position(), 0.5)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton and not self._tablet_down:
            self._extend(event.position(), 0.5)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and not self._tablet_down:
            self._end()

    def tabletEvent(self, event: QTabletEvent) -> None:
        kind = event.type()
        pressure = event.pressure() if event.pressure() > 0 else 0.5
        if kind == QEvent.Type.TabletPress:
            self._tablet_down = True
            self._begin(event.position(), pressure)
        elif kind == QEvent.Type.TabletMove and self._tablet_down:
            self._extend(event.position(), pressure)
        elif kind == QEvent.Type.TabletRelease:
            self._tablet_down = False
            self._end()
        event.accept()  # no synthesized mouse events: they would draw the stroke twice

    def event(self, event: QEvent) -> bool:
        if isinstance(event, QTouchEvent) and event.points():
            point = event.points()[0]
            pressure = point.pressure() if point.pressure() > 0 else 0.5
            if event.type() == QEvent.Type.TouchBegin:
                self._begin(point.position(), pressure)
            elif event.type() == QEvent.Type.TouchUpdate:
                self._extend(point.position(), pressure)
            elif event.type() in (QEvent.Type.TouchEnd, QEvent.Type.TouchCancel):
                self._end()
            event.accept()
            return True
        return super().event(event)

    # -- painting and export -----------------------------------------------------------

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        # White paper in both schemes (the ink is dark, as on the signed PDF); its frame follows the
        # palette so the pad sits in a dark window like any other input.
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = theme.colors()
        painter.setBrush(QColor(theme.PAPER))
        if self.hasFocus():  # a visible keyboard focus, like every other control
            painter.setPen(QPen(QColor(palette.focus), 2))
            painter.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        else:
            painter.setPen(QPen(QColor(palette.paper_border), 1))
            painter.drawRoundedRect(rect, 6, 6)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        baseline = self.height() - 34
        painter.setPen(QPen(QColor(theme.PAPER_LINE), 1))
        painter.drawLine(QPointF(24, baseline), QPointF(self.width() - 24, baseline))
        painter.drawText(QPointF(24, baseline - 8), "✕")
        if self.is_empty:
            painter.setPen(QColor(theme.PAPER_HINT))
            painter.drawText(
                QRectF(0, baseline + 6, self.width(), 22), Qt.AlignmentFlag.AlignCenter, "Sign above the line"
            )
        paint_strokes(painter, self.strokes)
        painter.end()

    def to_image(self, height: int = EXPORT_HEIGHT) -> QImage:
        """The strokes cropped to their bounds plus a margin, scaled to `height` pixels, on transparency."""
        if self.is_empty:
            return QImage()
        bounds = QRectF()
        for stroke in self.strokes:
            if stroke.points:
                bounds = bounds.united(stroke.bounds()) if not bounds.isNull() else stroke.bounds()
        pad = EXPORT_MARGIN + BASE_WIDTH * 1.5
        bounds = bounds.adjusted(-pad, -pad, pad, pad)
        # A flat scribble is not blown up into a thick bar: at most 3x, centred in the fixed height.
        scale = min(height / max(bounds.height(), 1.0), MAX_EXPORT_SCALE)
        width = max(1, round(bounds.width() * scale))
        image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        lift = (height / scale - bounds.height()) / 2
        paint_strokes(painter, self.strokes, scale, QPointF(-bounds.x(), -bounds.y() + lift))
        painter.end()
        return image

    def to_png(self, height: int = EXPORT_HEIGHT) -> bytes:
        image = self.to_image(height)
        if image.isNull():
            return b""
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stub says bytes, PySide wants str
        buffer.close()
        return bytes(data.data())
