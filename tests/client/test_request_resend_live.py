"""Send again after a lost answer makes no duplicate request or reply (the draft's Idempotency-Key).

A proxy in front of a real portal forwards everything but drops the connection instead of relaying
the answer to the first new request or reply: the portal made it, the client sees an error and keeps
the draft. Pressing Send again must give back that request or reply, not make (and mail) a second.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.models.draft_keys import DraftKey
from app.services.errors import PortalError, UnreachableError
from app.services.session import PortalSession, sign_in
from app.services.tasks import TaskRunner
from app.views.detail_support import error_sentence
from app.views.new_request_dialog import NewRequestDialog
from app.views.request_detail import RequestDetailDialog
from tests.client import company
from tests.client.live_server import LivePortal, running_portal
from tests.client.portal_proxy import Proxy, QuietHandler, relay, reply, serving

pytestmark = pytest.mark.gui

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)
WAIT_MS = 15000


class DropFirstWrite(Proxy):
    """Forwards everything; the first answer to each kind of write (new request, new reply) is lost."""

    def __init__(self, upstream: str) -> None:
        self.keys: dict[str, list[str]] = {"request": [], "comment": []}
        super().__init__(upstream, _Handler)


class _Handler(QuietHandler):
    server: DropFirstWrite

    def _forward(self) -> None:
        answer = relay(self, self.server.upstream)
        path = self.path.split("?")[0]
        kind = "comment" if path.endswith("/comments") else "request" if path.endswith("/requests") else None
        if self.command == "POST" and kind is not None:
            self.server.keys[kind].append(self.headers.get("Idempotency-Key", ""))
            if len(self.server.keys[kind]) == 1:
                self.close_connection = True
                return  # made by the portal; the answer never reaches the client
        reply(self, answer.status_code, answer.headers, answer.content)

    do_GET = do_POST = do_PATCH = do_DELETE = _forward  # noqa: N815


@pytest.fixture(scope="module")
def own_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    """Its own portal: the requests and replies made here change no other test's data."""
    with running_portal(tmp_path_factory.mktemp("resend-server"), company.build(date.today())) as portal:
        yield portal


@pytest.fixture
def proxy(own_portal: LivePortal) -> Iterator[DropFirstWrite]:
    with serving(DropFirstWrite(own_portal.origin)) as server:
        yield server


@pytest.fixture
def session(proxy: DropFirstWrite) -> PortalSession:
    return sign_in(f"{proxy.origin}/portal/east", company.REQUESTER, company.PASSWORD)


def test_new_request_sent_again_after_a_lost_answer_is_made_once(
    qtbot: QtBot, proxy: DropFirstWrite, session: PortalSession, tmp_path: Path
) -> None:  # RQ-2
    runner = TaskRunner()
    client = session.client
    dialog = NewRequestDialog(client, runner, client.properties(), "East")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.subject_edit, "Gate hinge broken")
    qtbot.keyClicks(dialog.description_edit, "It swings open.")
    photo = tmp_path / "gate.png"
    photo.write_bytes(PNG)
    dialog.picker.add_paths([photo])
    qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error_label.isVisible() and not dialog.sending, timeout=WAIT_MS)
    assert dialog.subject_edit.text() == "Gate hinge broken", "the draft is kept"
    made = [r for r in client.requests().items if r.subject == "Gate hinge broken"]
    assert len(made) == 1, "the portal did make it"
    with qtbot.waitSignal(dialog.finished, timeout=WAIT_MS):
        qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
    assert dialog.created is not None
    assert dialog.created.summary.id == made[0].id
    assert [a.filename for a in dialog.created.attachments] == ["gate.png"]
    assert [r.id for r in client.requests().items if r.subject == "Gate hinge broken"] == [made[0].id]
    first, again = proxy.keys["request"]
    assert first and first == again, "Send again reused the draft's key"


def test_reply_sent_again_after_a_lost_answer_is_posted_once(
    qtbot: QtBot, proxy: DropFirstWrite, session: PortalSession, tmp_path: Path
) -> None:  # RQ-2
    runner = TaskRunner()
    client = session.client
    summary = next(r for r in client.requests().items if r.number == company.REQUESTER_REQUEST)
    dialog = RequestDetailDialog(client, runner, summary, "Robin Requests", "UTC")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.detail is not None and not runner.busy, timeout=WAIT_MS)
    qtbot.keyClicks(dialog.composer.text_edit, "Any news on the hinge?")
    note = tmp_path / "note.txt"
    note.write_bytes(b"hello\n")
    dialog.composer.picker.add_paths([note])
    dialog.send()
    qtbot.waitUntil(lambda: dialog.composer.error_label.isVisible() and not runner.busy, timeout=WAIT_MS)
    assert dialog.composer.text_edit.toPlainText() == "Any news on the hinge?", "the draft is kept"
    dialog.send()
    qtbot.waitUntil(lambda: dialog.composer.text_edit.toPlainText() == "" and not runner.busy, timeout=WAIT_MS)
    comments = [c for c in client.request(summary.id).comments if c.body == "Any news on the hinge?"]
    assert len(comments) == 1
    first, again = proxy.keys["comment"]
    assert first and first == again
    # The next reply is another write: a new key.
    qtbot.keyClicks(dialog.composer.text_edit, "Thanks")
    dialog.send()
    qtbot.waitUntil(lambda: dialog.composer.text_edit.toPlainText() == "" and not runner.busy, timeout=WAIT_MS)
    assert proxy.keys["comment"][2] not in ("", first)


def test_a_draft_keeps_its_key_until_it_changes_or_is_sent() -> None:
    draft = DraftKey()
    key = draft.for_content(("Gate", ()))
    draft.failed(UnreachableError("lost", code="timeout"))
    assert draft.for_content(("Gate", ())) == key, "Send again: the same write"
    changed = draft.for_content(("Gate hinge", ()))
    assert changed != key, "a changed draft is another write"
    draft.failed(PortalError("used", status=409, code="idempotency_key_reused"))
    assert draft.for_content(("Gate hinge", ())) != changed, "a key the portal refuses is not sent again"
    settled = draft.for_content(("Gate hinge", ()))
    draft.sent()
    assert draft.for_content(("Gate hinge", ())) != settled, "after a success the next draft is new"
    # What the person sees for that refusal is a sentence for them, not the API's word for it.
    refused = PortalError(
        "This Idempotency-Key was already used with another body.", status=409, code="idempotency_key_reused"
    )
    assert "Idempotency" not in error_sentence(refused) and "Send it again" in error_sentence(refused)
