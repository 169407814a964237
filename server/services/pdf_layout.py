"""Shared building blocks for the portal's PDF documents (proposals, invoices, ...).

`PageFlow` lays text, tables and reserved boxes top to bottom on Letter pages and breaks pages
by itself (table headers repeat). Text is written with embedded, subset fonts, so every page is
real, selectable text that also shows names outside Latin-1. Output is byte-for-byte
deterministic for the same input: metadata dates come from the document's own date and no
random file id is written, so a document's SHA-256 can be quoted (PR-9) and stays true.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Literal

from server.services.pdf_engine import pymupdf

Color = tuple[float, float, float]
Align = Literal["left", "right", "center"]

PAGE = pymupdf.paper_rect("letter")
MARGIN = 54.0  # 0.75 inch
FOOTER_SPACE = 30.0
LEFT = MARGIN
RIGHT = PAGE.width - MARGIN
WIDTH = RIGHT - LEFT

ACCENT: Color = (0x2F / 255, 0x6B / 255, 0x3A / 255)  # a calm green: these are landscaping companies' documents
ACCENT_TINT: Color = (0.94, 0.96, 0.94)
INK: Color = (0.13, 0.15, 0.17)
BODY_INK: Color = (0.24, 0.26, 0.29)
MUTED: Color = (0.42, 0.45, 0.48)
RULE: Color = (0.83, 0.85, 0.87)
WHITE: Color = (1.0, 1.0, 1.0)
NOTE_TINT: Color = (1.0, 0.965, 0.86)
NOTE_INK: Color = (0.42, 0.31, 0.0)
PRODUCER = "Portal Desk"

FontName = Literal["regular", "bold", "mono"]
_FONT_CODES: dict[str, str] = {"regular": "helv", "bold": "hebo", "mono": "cour"}


@cache
def font(name: FontName) -> pymupdf.Font:
    return pymupdf.Font(_FONT_CODES[name])


@dataclass(frozen=True)
class Style:
    size: float = 9.5
    font: FontName = "regular"
    color: Color = BODY_INK
    leading: float = 1.35

    @property
    def line_height(self) -> float:
        return self.size * self.leading


TEXT = Style()
SMALL = Style(size=8, color=MUTED)
LABEL = Style(size=7, font="bold", color=MUTED)
STRONG = Style(font="bold", color=INK)
HEADING = Style(size=11, font="bold", color=ACCENT)
COMPANY = Style(size=20, font="bold", color=ACCENT)
NUMBER = Style(size=13, font="bold", color=INK)
TOTAL = Style(size=12, font="bold", color=ACCENT)
NOTE = Style(size=9, font="bold", color=NOTE_INK)


@dataclass(frozen=True)
class DocumentInfo:
    """What every document states about itself: metadata, the footer line and its own date."""

    title: str
    subject: str
    author: str
    dated: date
    footer: str


@dataclass(frozen=True)
class Anchor:
    """Where a laid-out element landed: page index and rectangle in points."""

    page: int
    rect: pymupdf.Rect


@dataclass(frozen=True)
class Column:
    title: str
    width: float  # a share of the table width; shares are normalised
    align: Align = "left"


@dataclass
class Row:
    cells: Sequence[str]
    key: str | None = None  # when set, the row's Anchor is returned under this key (its tag's under "key:tag")
    tag: str | None = None  # a small coloured word under the first cell (e.g. OPTIONAL)
    styles: Sequence[Style | None] = field(default_factory=tuple)


def money_text(amount: Decimal, currency: str = "USD") -> str:
    """$1,234.50 for dollars; other currencies keep their code so nothing is ambiguous."""
    sign = "-" if amount < 0 else ""
    digits = f"{abs(amount):,.2f}"
    return f"{sign}${digits}" if currency == "USD" else f"{sign}{currency} {digits}"


def quantity_text(quantity: Decimal) -> str:
    """2 rather than 2.000; 1.5 stays 1.5."""
    return f"{quantity.normalize():f}"


def long_date(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def inset(rect: pymupdf.Rect, left: float, top: float, right: float, bottom: float) -> pymupdf.Rect:
    return pymupdf.Rect(rect.x0 + left, rect.y0 + top, rect.x1 - right, rect.y1 - bottom)


@cache
def _advance(name: FontName, char: str) -> float:
    """Width of one character at size 1; measuring glyph by glyph through MuPDF is far slower."""
    return float(font(name).glyph_advance(ord(char)))


def text_width(text: str, style: Style) -> float:
    return sum(_advance(style.font, char) for char in text) * style.size


def fit(text: str, width: float, style: Style) -> str:
    """The text, cut with an ellipsis when it would be wider than `width` (single-line places)."""
    if text_width(text, style) <= width:
        return text
    while text and text_width(text + "…", style) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def wrap(text: str, width: float, style: Style) -> list[str]:
    """Greedy word wrap that keeps explicit line breaks and splits words longer than a line."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        words = raw.split()
        if not words:
            lines.append("")
            continue
        current = ""
        for word in words:
            candidate = f"{current} {word}" if current else word
            if text_width(candidate, style) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            while text_width(word, style) > width and len(word) > 1:
                cut = len(word)
                while cut > 1 and text_width(word[:cut], style) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    return lines


class Painter:
    """Collects a document's drawing and writes it in one go: shapes below, then text, per page.

    Committing one shape or one TextWriter per line costs milliseconds each, which adds up to
    seconds on a long document; grouped, a page costs about as much as one line did.
    """

    def __init__(self, document: pymupdf.Document) -> None:
        self.document = document
        self._shapes: dict[int, pymupdf.Shape] = {}
        self._writers: dict[tuple[int, Color], pymupdf.TextWriter] = {}

    def _shape(self, page: pymupdf.Page) -> pymupdf.Shape:
        number = int(page.number)
        if number not in self._shapes:
            self._shapes[number] = page.new_shape()
        return self._shapes[number]

    def line(
        self, page: pymupdf.Page, start: tuple[float, float], end: tuple[float, float], color: Color, width: float
    ) -> None:
        shape = self._shape(page)
        shape.draw_line(start, end)
        shape.finish(color=color, width=width)

    def rect(
        self,
        page: pymupdf.Page,
        rect: pymupdf.Rect,
        *,
        fill: Color | None = None,
        color: Color | None = None,
        width: float = 0.6,
    ) -> None:
        shape = self._shape(page)
        shape.draw_rect(rect)
        shape.finish(color=color, fill=fill, width=width if color else 0)

    def add(self, page: pymupdf.Page, x: float, baseline: float, text: str, style: Style) -> None:
        key = (int(page.number), style.color)
        if key not in self._writers:
            self._writers[key] = pymupdf.TextWriter(page.rect)
        self._writers[key].append((x, baseline), text, font=font(style.font), fontsize=style.size)

    def flush(self) -> None:
        # Call before adding pages: inserting a page makes PyMuPDF's existing Page objects stale.
        for shape in self._shapes.values():
            shape.commit()
        for (page_number, color), writer in self._writers.items():
            writer.write_text(self.document[page_number], color=color)
        self._shapes.clear()
        self._writers.clear()


def draw_text(
    page: pymupdf.Page,
    x: float,
    baseline: float,
    text: str,
    style: Style,
    align: Align = "left",
    batch: Painter | None = None,
) -> None:
    """One line of text whose left (or right/centre) edge is at x; written now unless a batch collects it."""
    if align == "right":
        x -= text_width(text, style)
    elif align == "center":
        x -= text_width(text, style) / 2
    if batch is not None:
        batch.add(page, x, baseline, text, style)
        return
    writer = pymupdf.TextWriter(page.rect)
    writer.append((x, baseline), text, font=font(style.font), fontsize=style.size)
    writer.write_text(page, color=style.color)


def draw_lines(
    page: pymupdf.Page,
    x: float,
    top: float,
    width: float,
    lines: Sequence[str],
    style: Style,
    align: Align = "left",
    batch: Painter | None = None,
) -> float:
    """Wrapped lines from `top`; returns the height used."""
    anchor_x = {"left": x, "right": x + width, "center": x + width / 2}[align]
    for index, line in enumerate(lines):
        baseline = top + index * style.line_height + style.size
        if line:
            draw_text(page, anchor_x, baseline, line, style, align, batch)
    return len(lines) * style.line_height


class PageFlow:
    """A document written top to bottom; `ensure` starts a new page when the next block would not fit."""

    def __init__(self, info: DocumentInfo) -> None:
        self.info = info
        self.document = pymupdf.open()
        self.page: pymupdf.Page = self.document.new_page(width=PAGE.width, height=PAGE.height)
        self.y = MARGIN
        self.batch = Painter(self.document)

    @property
    def page_index(self) -> int:
        return int(self.page.number)

    @property
    def bottom(self) -> float:
        return float(PAGE.height - MARGIN - FOOTER_SPACE)

    def new_page(self) -> None:
        # Adding a page invalidates PyMuPDF's Page objects, so what was drawn so far is written first.
        self.batch.flush()
        self.page = self.document.new_page(width=PAGE.width, height=PAGE.height)
        self.y = MARGIN

    def ensure(self, height: float) -> None:
        if self.y + height > self.bottom and self.y > MARGIN:
            self.new_page()

    def space(self, height: float) -> None:
        self.y += height

    def paragraph(
        self, text: str, style: Style = TEXT, *, x: float = LEFT, width: float = WIDTH, align: Align = "left"
    ) -> Anchor:
        """Wrapped text; a long paragraph continues on the next page line by line."""
        lines = wrap(text, width, style)
        start_page, start_y = self.page_index, self.y
        for line in lines:
            self.ensure(style.line_height)
            draw_lines(self.page, x, self.y, width, [line], style, align, self.batch)
            self.y += style.line_height
        return Anchor(start_page, pymupdf.Rect(x, start_y, x + width, self.y))

    def heading(self, text: str, style: Style = HEADING, space_before: float = 14) -> None:
        # Keep a heading with at least three lines of what follows it.
        self.ensure(space_before + style.line_height + 3 * TEXT.line_height)
        self.y += space_before
        self.paragraph(text, style)
        self.y += 3

    def rule(self, color: Color = RULE, width: float = 0.6, x0: float = LEFT, x1: float = RIGHT) -> None:
        self.batch.line(self.page, (x0, self.y), (x1, self.y), color, width)

    def band(self, height: float, color: Color = ACCENT) -> None:
        self.ensure(height)
        self.batch.rect(self.page, pymupdf.Rect(LEFT, self.y, RIGHT, self.y + height), fill=color)
        self.y += height

    def reserve(self, height: float, *, x: float = LEFT, width: float = WIDTH) -> Anchor:
        """A blank region (e.g. for a signature) on the current page, never split."""
        self.ensure(height)
        anchor = Anchor(self.page_index, pymupdf.Rect(x, self.y, x + width, self.y + height))
        self.y += height
        return anchor

    def table(
        self,
        columns: Sequence[Column],
        rows: Sequence[Row],
        *,
        header: bool = True,
        style: Style = TEXT,
        padding: float = 5.0,
    ) -> dict[str, Anchor]:
        """Rows that grow with their wrapped text; the header repeats after a page break."""
        total_share = sum(column.width for column in columns)
        widths = [WIDTH * column.width / total_share for column in columns]
        lefts = [LEFT + sum(widths[:index]) for index in range(len(widths))]
        header_style = Style(size=7, font="bold", color=WHITE)
        header_height = header_style.line_height + 2 * padding
        anchors: dict[str, Anchor] = {}

        def draw_header() -> None:
            rect = pymupdf.Rect(LEFT, self.y, RIGHT, self.y + header_height)
            self.batch.rect(self.page, rect, fill=ACCENT)
            for column, left, width in zip(columns, lefts, widths, strict=True):
                draw_lines(
                    self.page, left + padding, self.y + padding, width - 2 * padding,
                    [column.title.upper()], header_style, column.align, self.batch,
                )  # fmt: skip
            self.y += header_height

        if header:
            self.ensure(header_height + 2 * style.line_height + 2 * padding)
            draw_header()
        tag_style = Style(size=6.5, font="bold", color=ACCENT)
        for row in rows:
            cell_lines = []
            for index, (text, width) in enumerate(zip(row.cells, widths, strict=True)):
                cell_style = row.styles[index] if index < len(row.styles) and row.styles[index] else style
                assert cell_style is not None
                cell_lines.append((wrap(text, width - 2 * padding, cell_style), cell_style))
            heights = [len(lines) * cell_style.line_height for lines, cell_style in cell_lines]
            if row.tag:
                heights[0] += tag_style.line_height + 1
            height = max(heights) + 2 * padding
            if self.y + height > self.bottom:
                self.new_page()
                if header:
                    draw_header()
            top = self.y
            for index, ((lines, cell_style), column, left, width) in enumerate(
                zip(cell_lines, columns, lefts, widths, strict=True)
            ):
                used = draw_lines(
                    self.page, left + padding, top + padding, width - 2 * padding, lines, cell_style, column.align,
                    self.batch,
                )  # fmt: skip
                if index == 0 and row.tag:
                    tag_top = top + padding + used + 1
                    draw_lines(
                        self.page, left + padding, tag_top, width - 2 * padding, [row.tag], tag_style, batch=self.batch
                    )
                    if row.key:
                        tag_rect = pymupdf.Rect(left + padding, tag_top, left + width, tag_top + tag_style.line_height)
                        anchors[f"{row.key}:tag"] = Anchor(self.page_index, tag_rect)
            self.y = top + height
            self.rule()
            if row.key:
                anchors[row.key] = Anchor(self.page_index, pymupdf.Rect(LEFT, top, RIGHT, self.y))
        return anchors

    def letterhead(self, company: str, tagline: str, kind: str, number: str, facts: Sequence[str]) -> None:
        """The top of a document: company and tagline on the left; kind, number and dates on the
        right; then an accent band. Proposals and invoices open the same way."""
        page, top, batch = self.page, self.y, self.batch
        left_width, right_width = WIDTH * 0.6, WIDTH * 0.4
        left_height = draw_lines(page, LEFT, top, left_width, wrap(company, left_width, COMPANY), COMPANY, batch=batch)
        draw_lines(page, LEFT, top + left_height, left_width, [tagline], SMALL, batch=batch)
        right = [([kind.upper()], LABEL), ([number], NUMBER), *(([fact], SMALL) for fact in facts)]
        y = top
        for lines, style in right:
            y += draw_lines(page, RIGHT - right_width, y, right_width, lines, style, align="right", batch=batch)
        self.y = max(y, top + left_height + SMALL.line_height) + 8
        self.band(3)
        self.space(12)

    def boxes(self, boxes: Sequence[tuple[str, Sequence[tuple[str, Style]]]]) -> None:
        """Side-by-side tinted boxes, each a small label over a few lines ("PREPARED FOR", "BILL TO")."""
        gap, pad = 12.0, 10.0
        box_width = (WIDTH - gap * (len(boxes) - 1)) / len(boxes)
        inner = box_width - 2 * pad
        laid = [(label, [(wrap(text, inner, style), style) for text, style in lines if text]) for label, lines in boxes]
        height = max(
            LABEL.line_height + 3 + sum(len(lines) * style.line_height for lines, style in content)
            for _, content in laid
        )
        self.ensure(height + 2 * pad)
        top = self.y
        for index, (label, content) in enumerate(laid):
            x = LEFT + index * (box_width + gap)
            self.batch.rect(self.page, pymupdf.Rect(x, top, x + box_width, top + height + 2 * pad), fill=ACCENT_TINT)
            self.batch.rect(self.page, pymupdf.Rect(x, top, x + 2.5, top + height + 2 * pad), fill=ACCENT)
            y = top + pad + draw_lines(self.page, x + pad, top + pad, inner, [label], LABEL, batch=self.batch) + 3
            for lines, style in content:
                y += draw_lines(self.page, x + pad, y, inner, lines, style, batch=self.batch)
        self.y = top + height + 2 * pad + 16

    def note(self, text: str, style: Style = NOTE) -> None:
        """A tinted band that must not be missed (a change order, PAID IN FULL)."""
        lines = wrap(text, WIDTH - 16, style)
        height = len(lines) * style.line_height + 10
        self.ensure(height)
        fill = ACCENT_TINT if style.color == ACCENT else NOTE_TINT
        self.batch.rect(self.page, pymupdf.Rect(LEFT, self.y, RIGHT, self.y + height), fill=fill)
        draw_lines(self.page, LEFT + 8, self.y + 5, WIDTH - 16, lines, style, batch=self.batch)
        self.y += height

    def total(self, label: str, amount: str, style: Style = TOTAL) -> None:
        """The figure a document is about, right-aligned under a short accent rule."""
        self.ensure(style.line_height + 8)
        self.rule(ACCENT, 1.0, x0=RIGHT - WIDTH * 0.45)
        self.space(5)
        draw_text(self.page, RIGHT - WIDTH * 0.2, self.y + style.size, label, style, align="right", batch=self.batch)
        draw_text(self.page, RIGHT - 5, self.y + style.size, amount, style, align="right", batch=self.batch)
        self.space(style.line_height + 2)

    def finish(self, *, page_numbers: bool = True) -> pymupdf.Document:
        """Adds the footers and hands the document over (to `to_bytes`, or to be appended to another)."""
        self.batch.flush()
        add_footers(self.document, self.info.footer, page_numbers=page_numbers)
        return self.document


def add_footers(document: pymupdf.Document, footer: str, *, page_numbers: bool = True) -> None:
    """A thin rule, the document's footer line and "Page n of N" on every page.

    Pages made to be appended to another document (an audit page) go without numbers.
    """
    count = document.page_count
    batch = Painter(document)
    for index, page in enumerate(document):
        baseline = PAGE.height - MARGIN
        batch.line(page, (LEFT, baseline - 12), (RIGHT, baseline - 12), RULE, 0.6)
        room = WIDTH
        if page_numbers:
            label = f"Page {index + 1} of {count}"
            draw_text(page, RIGHT, baseline, label, SMALL, align="right", batch=batch)
            room -= text_width(label, SMALL) + 18
        draw_text(page, LEFT, baseline, fit(footer, room, SMALL), SMALL, batch=batch)
    batch.flush()


def to_bytes(document: pymupdf.Document, info: DocumentInfo) -> bytes:
    """Deterministic bytes: fixed metadata (dated by the document itself), no new file id, subset fonts."""
    stamp = f"D:{info.dated:%Y%m%d}000000Z"
    document.set_metadata(
        {
            "title": info.title,
            "subject": info.subject,
            "author": info.author,
            "creator": PRODUCER,
            "producer": PRODUCER,
            "creationDate": stamp,
            "modDate": stamp,
            "keywords": "",
        }
    )
    document.subset_fonts()
    data: bytes = document.tobytes(garbage=4, deflate=True, no_new_id=True)
    document.close()
    return data
