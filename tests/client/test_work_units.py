"""Visit and request pieces without a server: file checks, the attachment draft, the detail
pages' HTML, day grouping, and the reply box keeping its draft (RQ-4, VI-2)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QPlainTextEdit
from pytestqt.qtbot import QtBot

from app.models.comments import AttachmentDraft
from app.models.dates import relative_day
from app.models.lists import VisitsModel
from app.services.portal_client import PortalClient
from app.services.records import Page, PersonContact, PropertyRef, RequestSummary, StaffRef, VisitSummary
from app.services.tasks import TaskRunner
from app.services.uploads import MAX_FILE_BYTES, MAX_FILES, ChosenFile, FileRefused, check_file, size_text
from app.services.work_records import (
    AttachmentInfo,
    Comment,
    RequestDetail,
    VisitDetail,
    VisitNote,
    parse_request_detail,
)
from app.views.attachment_picker import AttachmentPicker
from app.views.detail_pages import OPEN_SCHEME, attachment_id, request_page, visit_page
from app.views.request_detail import RequestDetailDialog
from app.views.visits_tab import starts_day
from tests.client.fault_server import FaultServer, answer, problem

OAK = PropertyRef(1, "Oak Plaza")
NOON = datetime(2026, 5, 3, 12, 0, tzinfo=UTC)


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


# -- file checks (RQ-4) ------------------------------------------------------------------


def test_accepted_file_keeps_its_size(tmp_path: Path) -> None:
    chosen = check_file(write(tmp_path / "Photo.JPG", b"\xff\xd8\xff" + bytes(100)))
    assert chosen == ChosenFile(tmp_path / "Photo.JPG", 103)
    assert chosen.content_type == "image/jpeg"


def test_refusals_say_which_file_and_why(tmp_path: Path) -> None:
    big = tmp_path / "survey.pdf"
    with big.open("wb") as out:
        out.truncate(MAX_FILE_BYTES + 1)
    cases = {
        write(tmp_path / "setup.exe", b"MZ"): "“setup.exe” is not a type of file the portal accepts.",
        write(tmp_path / "empty.txt", b""): "“empty.txt” is empty.",
        big: "“survey.pdf” is 10.0 MB; files can be at most 10 MB each.",
        tmp_path: f"“{tmp_path.name}” is a folder, not a file.",
        # It was said to be a folder, too.
        tmp_path / "gone.png": "“gone.png” is not there any more: it was moved or deleted.",
    }
    for path, sentence in cases.items():
        with pytest.raises(FileRefused) as refused:
            check_file(path)
        assert str(refused.value).startswith(sentence)


def test_size_text() -> None:
    assert [size_text(n) for n in (1, 900, 2048, 3 * 1024 * 1024 + 200_000)] == [
        "1 byte",
        "900 bytes",
        "2 KB",
        "3.2 MB",
    ]


def test_draft_adds_removes_and_limits(tmp_path: Path, qtbot: QtBot) -> None:
    draft = AttachmentDraft()
    files = [write(tmp_path / f"note-{i}.txt", b"hello") for i in range(MAX_FILES + 1)]
    with qtbot.waitSignal(draft.changed):
        assert draft.add_paths([*files[:2], files[0]]) == []  # the same file twice is one attachment
    assert [f.name for f in draft.files] == ["note-0.txt", "note-1.txt"]
    refusals = draft.add_paths([*files[2:], write(tmp_path / "run.bat", b"x")])
    assert len(draft.files) == MAX_FILES
    assert len(refusals) == 2
    assert refusals[0].startswith("“run.bat” is not a type of file")
    assert refusals[1] == "“note-10.txt” was not added: attach at most 10 files at a time."
    # Many past the limit: one sentence for them all, not a line each.
    more = [write(tmp_path / f"photo-{i}.jpg", b"jpeg") for i in range(5)]
    assert draft.add_paths(more) == [
        "5 files were not added (“photo-0.jpg”, “photo-1.jpg”, “photo-2.jpg” and 2 more): "
        "attach at most 10 files at a time."
    ]
    draft.remove(files[0])
    assert files[0] not in [f.path for f in draft.files]
    draft.clear()
    assert draft.files == ()


def test_picker_shows_refusals_and_rows_and_takes_drops(tmp_path: Path, qtbot: QtBot) -> None:
    draft = AttachmentDraft()
    picker = AttachmentPicker(draft)
    qtbot.addWidget(picker)
    picker.show()
    picker.ask_paths = lambda parent: [write(tmp_path / "plan.pdf", b"%PDF-1.4"), write(tmp_path / "virus.exe", b"MZ")]
    qtbot.mouseClick(picker.attach_button, Qt.MouseButton.LeftButton)
    assert [f.name for f in draft.files] == ["plan.pdf"]
    assert picker.refusal_label.isVisible()
    assert "“virus.exe” is not a type of file the portal accepts." in picker.refusal_label.text()
    assert picker.rows.count() == 1
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(write(tmp_path / "photo.png", b"\x89PNG")))])
    drop = QDropEvent(
        QPointF(QPoint(5, 5)), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    picker.dropEvent(drop)
    assert [f.name for f in draft.files] == ["plan.pdf", "photo.png"]
    assert not picker.refusal_label.isVisible()
    # Files dropped on the text box are attached, not pasted as file names.
    text_box = QPlainTextEdit()
    qtbot.addWidget(text_box)
    picker.watch_drops_on(text_box)
    mime.setUrls([QUrl.fromLocalFile(str(write(tmp_path / "notes.txt", b"hi")))])
    assert picker.eventFilter(text_box, drop)
    assert [f.name for f in draft.files] == ["plan.pdf", "photo.png", "notes.txt"]
    assert text_box.toPlainText() == ""


# -- detail pages ---------------------------------------------------------------------------


def visit(day: date, visit_id: int = 1, status: str = "completed") -> VisitSummary:
    return VisitSummary(visit_id, day, OAK, ("Mowing", "Edging & trimming"), status)


def test_visit_page_lists_services_notes_and_a_mail_link() -> None:  # VI-2
    today = date(2026, 5, 10)
    summary = visit(date(2026, 5, 8))
    detail = VisitDetail(
        summary,
        (VisitNote("Beds <edged> & mulched.", NOON),),
        PersonContact("Sam Rep", "sam@example.com", "555-0100"),
    )
    html = visit_page(summary, detail, today, "UTC")
    assert "Friday, May 8, 2026" in html
    assert "Edging &amp; trimming" in html
    assert "Beds &lt;edged&gt; &amp; mulched." in html
    assert 'href="mailto:sam@example.com"' in html
    assert 'href="tel:5550100"' in html
    assert "2 days ago" in html
    assert "Loading" in visit_page(summary, None, today, "UTC")
    assert "No such visit." in visit_page(summary, None, today, "UTC", problem="No such visit.")


def request_detail(comments: tuple[Comment, ...], captured_by: StaffRef | None = None) -> RequestDetail:
    summary = RequestSummary(5, "WEB-5", "Broken <gate>", OAK, "open", NOON, NOON, len(comments))
    return RequestDetail(summary, "It swings open.", "Pat Customer", captured_by, (), comments)


def test_request_page_reads_as_a_conversation() -> None:  # RQ-1, RQ-4
    reply = Comment(8, "Sam Rep", "We'll fix it", NOON + timedelta(hours=1), None, ())
    mine = Comment(
        9,
        "Pat Customer",
        "Thanks",
        NOON + timedelta(hours=2),
        StaffRef(3, "Olivia Office"),
        (AttachmentInfo(41, "gate.png", 2048, "image/png"),),
    )
    detail = request_detail((reply, mine))
    html = request_page(detail.summary, detail, "Pat Customer", "UTC")
    assert "Broken &lt;gate&gt;" in html
    assert html.index("It swings open.") < html.index("We'll fix it") < html.index("Thanks")
    assert html.count("Captured by office staff (Olivia Office)") == 1
    assert 'href="attachment:41"' in html
    assert "gate.png" in html
    assert "2 KB" in html
    assert "Pat Customer (you)" in html
    assert detail.attachment(41) == mine.attachments[0]
    assert "No replies yet." in request_page(detail.summary, request_detail(()), "Pat Customer", "UTC")


def test_captured_by_is_a_staff_reference_like_everywhere_else() -> None:  # RQ-2 (SA-3)
    olivia = {"id": 3, "name": "Olivia Office"}
    data = {
        "id": 5,
        "number": "WEB-5",
        "subject": "Gate",
        "property": {"id": 1, "name": "Oak Plaza"},
        "status": "open",
        "created_at": NOON.isoformat(),
        "last_activity_at": NOON.isoformat(),
        "comment_count": 1,
        "description": "",
        "author_name": "Pat Customer",
        "captured_by": olivia,
        "attachments": [],
        "comments": [
            {"id": 8, "author_name": "Pat Customer", "body": "Hi", "created_at": NOON.isoformat(), "captured_by": None}
        ],
    }
    detail = parse_request_detail(data)
    assert detail.captured_by == StaffRef(3, "Olivia Office")
    assert detail.comments[0].captured_by is None
    assert "Captured by office staff (Olivia Office)" in request_page(detail.summary, detail, "Someone else", "UTC")


def test_pdfs_and_pictures_can_be_opened_as_well_as_downloaded() -> None:  # RQ-4
    files = (
        AttachmentInfo(41, "plan.pdf", 9000, "application/pdf"),
        AttachmentInfo(42, "gate.png", 10, "image/png"),
        AttachmentInfo(43, "quote.docx", 10, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    )
    comment = Comment(8, "Sam Rep", "See the plan", NOON, None, files)
    html = request_page(request_detail((comment,)).summary, request_detail((comment,)), "Pat Customer", "UTC")
    assert 'href="attachment-open:41"' in html
    assert 'href="attachment-open:42"' in html
    assert 'href="attachment-open:43"' not in html
    assert html.count('href="attachment:43"') == 2  # the name and "Download"
    assert attachment_id(QUrl("attachment-open:41"), OPEN_SCHEME) == 41
    assert attachment_id(QUrl("attachment-open:41")) is None


def test_attachment_links() -> None:
    assert attachment_id(QUrl("attachment:41")) == 41
    assert attachment_id(QUrl("mailto:sam@example.com")) is None
    assert attachment_id(QUrl("attachment:../etc")) is None


# -- visits grouped by day (VI-1) ---------------------------------------------------------


def test_day_groups_follow_the_rows_shown(qtbot: QtBot) -> None:
    model = VisitsModel()
    days = [date(2026, 5, 1), date(2026, 5, 1), date(2026, 5, 2), date(2026, 5, 2), date(2026, 5, 3)]
    model.set_page(Page(tuple(visit(d, i) for i, d in enumerate(days)), None, len(days)))
    column = model.column_index("date")
    assert [starts_day(model.index(r, column), column) for r in range(len(days))] == [True, False, True, False, True]
    model.sort(model.column_index("property"))  # still one heading per run of equal days
    assert starts_day(model.index(0, column), column)


def test_relative_days() -> None:
    today = date(2026, 5, 10)
    shifts = [0, 1, -1, 4, -5, -21, -100]
    assert [relative_day(today + timedelta(days=d), today) for d in shifts] == [
        "Today",
        "Tomorrow",
        "Yesterday",
        "In 4 days",
        "5 days ago",
        "3 weeks ago",
        "3 months ago",
    ]


# -- the server's own refusal sentence (413) ---------------------------------------------------


def test_server_413_sentence_is_shown_and_the_draft_kept(qtbot: QtBot, tmp_path: Path) -> None:
    # RQ-4: a server with a lower limit than this app's check refuses with its own words.
    server = FaultServer().start()
    try:
        detail = {
            "id": 3,
            "number": "WEB-3",
            "subject": "Gate",
            "property": {"id": 1, "name": "Oak Plaza"},
            "status": "open",
            "created_at": NOON.isoformat(),
            "last_activity_at": NOON.isoformat(),
            "comment_count": 0,
            "description": "",
            "author_name": "Pat Customer",
            "captured_by": None,
            "attachments": [],
            "comments": [],
        }
        sentence = '"plan.pdf" is larger than 5 MiB. Attach files of at most 5 MiB each.'
        server.route("GET", "/requests/3", answer(200, detail))
        server.route("POST", "/requests/3/comments", problem(413, "file_too_large", sentence))
        runner = TaskRunner()
        summary = RequestSummary(3, "WEB-3", "Gate", OAK, "open", NOON, NOON, 0)
        dialog = RequestDetailDialog(
            PortalClient(server.portal_url, token="t" * 20), runner, summary, "Pat Customer", "UTC"
        )
        qtbot.addWidget(dialog)
        qtbot.waitUntil(lambda: dialog.detail is not None, timeout=5000)
        dialog.composer.text_edit.setPlainText("The plan")
        dialog.composer.picker.add_paths([write(tmp_path / "plan.pdf", b"%PDF-1.4 " + bytes(1000))])
        dialog.send()
        qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
        assert dialog.composer.error_label.text() == sentence
        assert dialog.composer.text_edit.toPlainText() == "The plan"
        assert [f.name for f in dialog.composer.files] == ["plan.pdf"]
    finally:
        server.stop()
