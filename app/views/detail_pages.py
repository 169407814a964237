"""HTML for the visit and request detail windows, shown in a QTextBrowser.

Qt's rich text knows a subset of HTML 4 and CSS 2: no rounded corners or flex boxes, so cards are
one-cell tables and chips are table cells. Everything the server sent is escaped here, the one
place that turns records into markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from functools import cache
from html import escape

from PySide6.QtCore import QUrl
from PySide6.QtGui import QImageReader
from PySide6.QtWidgets import QTextBrowser, QWidget

from app.models.dates import long_day, moment_long, relative_day
from app.services.records import RequestSummary, StaffRef, VisitSummary
from app.services.uploads import size_text
from app.services.work_records import AttachmentInfo, Comment, RequestDetail, VisitDetail
from app.views.document_page import chip
from app.views.theme import colors, named

ATTACHMENT_SCHEME = "attachment"  # attachment:41 downloads attachment 41
OPEN_SCHEME = "attachment-open"  # attachment-open:41 shows a PDF or a picture in the app
RELOAD_URL = "reload:"  # the "Try again" link of a page that could not be (re)loaded


def page_css() -> str:
    """The pages' style sheet in the palette in use (light or dark)."""
    c = colors()
    return f"""
body {{ color: {c.text}; }}
a {{ color: {c.accent_text}; text-decoration: none; font-weight: 600; }}
.title {{ font-size: 16pt; font-weight: 700; }}
.meta {{ color: {c.muted}; }}
.section {{ font-size: 8.5pt; font-weight: 700; color: {c.muted}; }}
.muted {{ color: {c.muted}; }}
.small {{ font-size: 9pt; }}
.author {{ font-weight: 700; }}
.body {{ white-space: pre-wrap; }}
.marker {{ color: {c.warn_text}; font-size: 9pt; font-weight: 600; }}
.error {{ color: {c.error_text}; }}
"""


def make_browser(parent: QWidget | None = None) -> QTextBrowser:
    """A read-only page whose links the dialog handles itself (mail, downloads)."""
    browser = named(QTextBrowser(parent), "DetailBrowser")
    browser.setOpenLinks(False)
    browser.setOpenExternalLinks(False)
    browser.document().setDefaultStyleSheet(page_css())
    browser.document().setDocumentMargin(20)
    return browser


def attachment_id(url: QUrl, scheme: str = ATTACHMENT_SCHEME) -> int | None:
    """The attachment a link in the thread points at (to download; to open with OPEN_SCHEME),
    or None for any other link."""
    if url.scheme() != scheme or not url.path().isdigit():
        return None
    return int(url.path())


def is_pdf(attachment: AttachmentInfo) -> bool:
    return attachment.content_type == "application/pdf" or attachment.filename.lower().endswith(".pdf")


@cache
def _picture_types() -> frozenset[str]:
    return frozenset(bytes(name.data()).decode() for name in QImageReader.supportedMimeTypes())


def is_picture(attachment: AttachmentInfo) -> bool:
    """A picture this Qt can draw (PNG, JPEG, GIF, WebP; not HEIC, which is only downloaded)."""
    return attachment.content_type in _picture_types()


# -- building blocks ---------------------------------------------------------------------


def _text(value: str) -> str:
    return escape(value, quote=False)


def _section(title: str) -> str:
    return f'<p class="section" style="margin-top:18px; margin-bottom:6px;">{_text(title.upper())}</p>'


def _card(inner: str, *, background: str | None = None, border: str | None = None) -> str:
    background = background or colors().surface
    border = border or colors().border
    return (
        f'<table width="100%" cellspacing="0" cellpadding="14" bgcolor="{background}" '
        f'style="border: 1px solid {border}; border-style: solid; margin-bottom: 10px;">'
        f"<tr><td>{inner}</td></tr></table>"
    )


def _page(*parts: str) -> str:
    return "<html><body>" + "".join(parts) + "</body></html>"


def _header(title: str, meta: str, status: str) -> str:
    """The title, then the status chip leading the facts line, as on the proposal and invoice pages
    (the chip stood alone above the title here, so the four detail windows had two layouts)."""
    return (
        f'<p class="title" style="margin:0 0 6px 0;">{_text(title)}</p>'
        f'<p class="meta" style="margin:0 0 10px 0;">{chip(status)}&nbsp;&nbsp;{meta}</p>'
    )


def _problem_card(problem: str, *, kept: bool, retry: bool = False) -> str:
    """Why the page could not be (re)loaded. With `kept`, what was loaded before stays below it, as
    the lists keep their rows when a refresh fails: reopening a window while the portal is away
    must not take away what the customer was reading."""
    text = f"{_text(problem)} What you see may be out of date." if kept else _text(problem)
    if retry:
        text += f' <a href="{RELOAD_URL}">Try again</a>'
    return _card(f'<p class="error">{text}</p>', background=colors().error_bg, border=colors().error_border)


def message_page(title: str, message: str, *, error: bool = False) -> str:
    """A whole page for "Loading…" or a failure, so the window never shows stale content."""
    css = "error" if error else "muted"
    return _page(_card(f'<p class="author">{_text(title)}</p><p class="{css}">{_text(message)}</p>'))


# -- visits (VI-2) -------------------------------------------------------------------------


def visit_page(
    visit: VisitSummary, detail: VisitDetail | None, today: date, time_zone: str, *, problem: str | None = None
) -> str:
    """The row's facts at once; notes and the contact when the detail has arrived. `today` and the
    notes' times are the branch's (`time_zone`)."""
    meta = f"{_text(visit.property.name)} &nbsp;·&nbsp; {_text(relative_day(visit.date, today))}"
    # A bullet cell beside the text: a <ul> drew its bullet flush against the word ("•Mowing").
    services = "".join(
        f"<tr><td width='16' class='muted'>•</td><td style='padding-bottom:3px;'>{_text(s)}</td></tr>"
        for s in visit.services
    )
    parts = [
        _header(long_day(visit.date), meta, visit.status),
        _section("Services"),
        _card(
            f'<table cellspacing="0" cellpadding="0">{services}</table>'
            if services
            else '<p class="muted">No services listed.</p>'
        ),
    ]
    if problem is not None:
        parts.append(_problem_card(problem, kept=detail is not None))
    elif detail is None:
        parts.append(_card('<p class="muted">Loading notes and contact…</p>'))
    if detail is None:
        return _page(*parts)
    parts.append(_section("Notes from your crew"))
    parts.append(_card(_notes(detail, time_zone)))
    parts.append(_section("Service contact"))
    parts.append(_card(_contact(detail)))
    return _page(*parts)


def _notes(detail: VisitDetail, time_zone: str) -> str:
    if not detail.notes:
        message = "No notes yet." if detail.summary.status == "scheduled" else "The crew left no notes for this visit."
        return f'<p class="muted">{message}</p>'
    blocks = []
    for index, note in enumerate(sorted(detail.notes, key=lambda n: n.created_at)):
        spacing = "margin-top:12px;" if index else ""
        blocks.append(
            f'<p class="body" style="margin:0; {spacing}">{_text(note.text)}</p>'
            f'<p class="muted small" style="margin:2px 0 0 0;">{_text(moment_long(note.created_at, time_zone))}</p>'
        )
    return "".join(blocks)


def _contact(detail: VisitDetail) -> str:
    contact = detail.service_contact
    if contact is None:
        return '<p class="muted">Your service company has not named a contact for this property yet.</p>'
    lines = [
        f'<p class="author" style="margin:0 0 4px 0;">{_text(contact.name)}</p>',
        f'<p style="margin:0 0 2px 0;"><a href="mailto:{escape(contact.email)}">{_text(contact.email)}</a></p>',
    ]
    if contact.phone:
        digits = "".join(ch for ch in contact.phone if ch.isdigit() or ch == "+")
        lines.append(f'<p style="margin:0;"><a href="tel:{escape(digits)}">{_text(contact.phone)}</a></p>')
    return "".join(lines)


# -- requests (RQ-1, RQ-4) -------------------------------------------------------------------


def request_page(
    summary: RequestSummary, detail: RequestDetail | None, me: str, time_zone: str, *, problem: str | None = None
) -> str:
    """The request as a conversation: the description first, then the comments oldest to newest;
    its times on the branch's clock (`time_zone`), as the list dates it."""
    meta = (
        f"{_text(summary.number)} &nbsp;·&nbsp; {_text(summary.property.name)} &nbsp;·&nbsp; "
        f"opened {_text(moment_long(summary.created_at, time_zone))}"
    )
    parts = [_header(summary.subject, meta, summary.status), '<p style="margin:0 0 6px 0;"></p>']
    if problem is not None:
        parts.append(_problem_card(problem, kept=detail is not None, retry=True))
    elif detail is None:
        parts.append(_card('<p class="muted">Loading the conversation…</p>'))
    if detail is None:
        return _page(*parts)
    parts.append(
        _message(
            detail.author_name or "Your service company",
            detail.summary.created_at,
            detail.description or "(No description)",
            detail.captured_by,
            detail.attachments,
            time_zone,
            mine=detail.author_name == me,
            label="Request",
        )
    )
    parts += [_comment(c, me, time_zone) for c in detail.comments]
    if not detail.comments:
        parts.append('<p class="muted" align="center" style="margin-top:8px;">No replies yet.</p>')
    return _page(*parts)


def _comment(comment: Comment, me: str, time_zone: str) -> str:
    return _message(
        comment.author_name,
        comment.created_at,
        comment.body,
        comment.captured_by,
        comment.attachments,
        time_zone,
        mine=comment.author_name == me,
    )


def _message(
    author: str,
    when: datetime,
    body: str,
    captured_by: StaffRef | None,
    attachments: Iterable[AttachmentInfo],
    time_zone: str,
    *,
    mine: bool,
    label: str | None = None,
) -> str:
    who = f"{_text(author)} (you)" if mine else _text(author)
    if label:
        who += f' <span class="muted small">&nbsp;·&nbsp; {_text(label)}</span>'
    head = (
        '<table width="100%" cellspacing="0" cellpadding="0"><tr>'
        f'<td class="author">{who}</td>'
        f'<td align="right" class="muted small">{_text(moment_long(when, time_zone))}</td>'
        "</tr></table>"
    )
    inner = head
    if captured_by:
        inner += f'<p class="marker" style="margin:4px 0 0 0;">Captured by office staff ({_text(captured_by.name)})</p>'
    if body:
        inner += f'<p class="body" style="margin:8px 0 0 0;">{_text(body)}</p>'
    inner += _attachments(attachments)
    if mine:
        return _card(inner, background=colors().info_bg, border=colors().info_border)
    return _card(inner)


def _attachments(attachments: Iterable[AttachmentInfo]) -> str:
    rows = "".join(
        f'<tr><td bgcolor="{colors().hover}" style="border: 1px solid {colors().border}; border-style: solid;">'
        f'<a href="{ATTACHMENT_SCHEME}:{a.id}">{_text(a.filename)}</a>'
        f'&nbsp;&nbsp;<span class="muted small">{_text(size_text(a.size))}</span>'
        + (f'&nbsp;&nbsp;<a class="small" href="{OPEN_SCHEME}:{a.id}">Open</a>' if is_pdf(a) or is_picture(a) else "")
        + f'&nbsp;&nbsp;<a class="small" href="{ATTACHMENT_SCHEME}:{a.id}">Download</a>'
        "</td></tr>"
        for a in attachments
    )
    if not rows:
        return ""
    return f'<table cellspacing="4" cellpadding="6" style="margin-top:8px;">{rows}</table>'
