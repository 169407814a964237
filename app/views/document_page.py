"""The look of the proposal and invoice detail pages, in one place so the two read as one product.

QTextBrowser knows a subset of HTML 4 with inline CSS: headings, tables and spans, no flex boxes
or rounded corners. Every helper escapes what it is given unless the parameter says `_html`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from app.models.formatting import status_label
from app.views.theme import chip_colors, colors


def _note_tone(tone: str) -> tuple[str, str]:
    """(background, text) of a note across the top of a page, from the palette in use (light or dark)."""
    c = colors()
    return {
        "success": (c.balance_bg, c.accent_text),
        "warning": (c.warn_bg, c.warn_text),
        "info": (c.info_bg, c.info_text),
    }[tone]


def e(text: object) -> str:
    return html.escape(str(text))


def chip(status: str) -> str:
    """The status chip of every detail page (proposal, invoice, visit, request), one look for all:
    the proposal and invoice pages had a tight full-size one, the visit and request pages a small
    padded one. Rich text has no rounded corners, so the padding is what makes it read as a chip."""
    background, foreground = chip_colors(status)
    return (
        f"<span style='background-color:{background}; color:{foreground}; font-weight:600; font-size:9pt;'>"
        f"&nbsp;&nbsp;{e(status_label(status))}&nbsp;&nbsp;</span>"
    )


def header(kicker: str, title: str, status: str, meta: str) -> str:
    """Small caps kind and number, the title, then the status chip beside the property and dates."""
    c = colors()
    return (
        f"<p style='margin:0; color:{c.muted}; font-size:9pt;'>{e(kicker)}</p>"
        f"<h1 style='margin:2px 0 6px 0; font-size:18pt; color:{c.text};'>{e(title)}</h1>"
        f"<p style='margin:0 0 10px 0;'>{chip(status)}&nbsp;&nbsp;<span style='color:{c.muted};'>{e(meta)}</span></p>"
    )


def note(text_html: str, tone: str) -> str:
    """A band across the page; its own top margin, as a paragraph's bottom one does not reach a table
    (the balance band sat flush under the status chip)."""
    background, foreground = _note_tone(tone)
    return (
        f"<table width='100%' cellpadding='8' cellspacing='0' "
        f"style='background:{background}; color:{foreground}; margin-top:8px;'>"
        f"<tr><td>{text_html}</td></tr></table><p style='margin:0;'></p>"
    )


def section(title: str) -> str:
    return f"<h3 style='color:{colors().accent_text}; margin-top:14px;'>{e(title)}</h3>"


def hint(text: str) -> str:
    return f"<p style='color:{colors().muted}; margin:0 0 4px 0;'>{e(text)}</p>"


def table(columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[str]]) -> str:
    """`columns` are (heading, "left"|"right"); cells are HTML already escaped by the caller.
    Money columns are right-aligned so the amounts line up. The table keeps its own top margin:
    a heading's bottom margin does not reach a table, whose shaded header row sat flush under
    "Scope of work" as if part of it."""
    head = "".join(f"<th align='{align}'>{e(label.upper())}</th>" for label, align in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td align='{align}'>{cell}</td>" for (_, align), cell in zip(columns, row, strict=True))
        + "</tr>"
        for row in rows
    )
    return (
        "<table width='100%' cellspacing='0' cellpadding='5' style='margin-top:4px;'>"
        f"<tr style='background:{colors().hover}; color:{colors().muted}; font-size:8pt;'>{head}</tr>{body}</table>"
    )


def total_line(label: str, amount_html: str, *, detail: str = "") -> str:
    """The figure the page is about (proposal total, balance due), right-aligned under its table."""
    extra = f"<br/><span style='color:{colors().muted}; font-size:9pt;'>{e(detail)}</span>" if detail else ""
    return (
        f"<p align='right' style='font-size:13pt; margin-top:6px;'>{e(label)}&nbsp;&nbsp;"
        f"<b style='color:{colors().accent_text};'>{amount_html}</b>{extra}</p>"
    )


def contact(name: str, email: str, phone: str | None) -> str:
    lines = [f"<b>{e(name)}</b>", f"<a href='mailto:{e(email)}'>{e(email)}</a>"]
    if phone:
        lines.append(f"<a href='tel:{e(phone)}'>{e(phone)}</a>")
    return f"<p>{'<br/>'.join(lines)}</p>"
