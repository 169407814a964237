"""The REST client's visit and request calls against the real server (VI-1, VI-2, RQ-1..RQ-4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services.errors import NotFoundError, ValidationError
from app.services.portal_client import PortalClient
from app.services.uploads import ChosenFile
from tests.client import company
from tests.client.live_server import LivePortal

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(300)


@pytest.fixture
def robin(live_portal: LivePortal) -> PortalClient:
    client = PortalClient(live_portal.portal_url("east"))
    client.login(company.REQUESTER, company.PASSWORD)
    return client


def chosen(tmp_path: Path, name: str, content: bytes) -> ChosenFile:
    path = tmp_path / name
    path.write_bytes(content)
    return ChosenFile(path=path, size=len(content))


def rowan_request_id(client: PortalClient) -> int:
    return next(r.id for r in client.requests().items if r.number == company.REQUESTER_REQUEST)


def test_completed_window_widens_with_days(robin: PortalClient) -> None:  # VI-1
    assert len(robin.visits("completed").items) == 1
    assert len(robin.visits("completed", days=90).items) == 2
    assert len(robin.visits("completed", days=365).items) == len(company.REQUESTER_COMPLETED_AGO)


def test_visit_detail_has_only_published_notes(robin: PortalClient) -> None:  # VI-2
    visit = robin.visits("completed").items[0]
    detail = robin.visit(visit.id)
    assert detail.summary == visit
    assert [n.text for n in detail.notes] == [company.PUBLISHED_NOTE]
    assert detail.service_contact is not None
    assert detail.service_contact.name == "Riley Rep"
    assert detail.service_contact.email == "riley@example.com"
    assert detail.service_contact.phone is None  # the branch hides the rep's phone


def test_request_thread_shows_public_comments_oldest_first(robin: PortalClient) -> None:  # RQ-1
    detail = robin.request(rowan_request_id(robin))
    assert detail.summary.number == company.REQUESTER_REQUEST
    assert detail.description == "The outdoor tap drips all night."
    bodies = [c.body for c in detail.comments]
    assert bodies[:2] == ["We will replace the washer on Tuesday.", "Thank you!"]
    assert company.INTERNAL_COMMENT not in bodies
    assert [c.created_at for c in detail.comments] == sorted(c.created_at for c in detail.comments)


def test_create_request_with_a_file_and_download_it(robin: PortalClient, tmp_path: Path) -> None:  # RQ-2, RQ-4
    prop = next(p for p in robin.properties() if p.name == company.REQUESTER_PROPERTY)
    created = robin.create_request(prop.id, "Hole in the lawn", "Near the oak.", [chosen(tmp_path, "hole.png", PNG)])
    assert created.summary.number.startswith("WEB-")
    assert created.author_name == "Robin Requests"
    assert [(a.filename, a.size, a.content_type) for a in created.attachments] == [("hole.png", len(PNG), "image/png")]
    target = tmp_path / "saved" / "copy.png"
    target.parent.mkdir()
    assert robin.download_attachment(created.attachments[0].id, target) == target
    assert target.read_bytes() == PNG
    assert not list(target.parent.glob("*.part"))


def test_create_request_as_json_without_files(robin: PortalClient) -> None:  # RQ-2
    prop = next(p for p in robin.properties() if p.name == company.REQUESTER_PROPERTY)
    created = robin.create_request(prop.id, "Question about invoices", "")
    assert created.attachments == ()
    assert created.summary.subject == "Question about invoices"


def test_comment_with_a_file_joins_the_thread(robin: PortalClient, tmp_path: Path) -> None:  # RQ-2, RQ-4
    request_id = rowan_request_id(robin)
    comment = robin.add_comment(request_id, "Photo of the tap", [chosen(tmp_path, "tap.txt", b"drip drip\n")])
    assert comment.author_name == "Robin Requests"
    assert comment.captured_by is None
    assert [(a.filename, a.content_type) for a in comment.attachments] == [("tap.txt", "text/plain")]
    thread = robin.request(request_id)
    assert thread.comments[-1].id == comment.id
    assert thread.attachment(comment.attachments[0].id) == comment.attachments[0]


def test_disguised_executable_is_refused_with_the_servers_sentence(robin: PortalClient, tmp_path: Path) -> None:
    # RQ-4: the type is judged by content, so the extension the client checks is not enough.
    with pytest.raises(ValidationError) as refused:
        robin.add_comment(rowan_request_id(robin), "see file", [chosen(tmp_path, "photo.png", EXE)])
    assert refused.value.status == 415
    assert refused.value.code == "unsupported_file_type"
    assert refused.value.detail.startswith('"photo.png" is not a type of file the portal accepts.')


def test_empty_comment_is_refused_with_field_errors(robin: PortalClient) -> None:  # RQ-2
    with pytest.raises(ValidationError) as refused:
        robin.add_comment(rowan_request_id(robin), "   ")
    assert refused.value.status == 422
    assert [e.field for e in refused.value.field_errors] == ["body"]


def test_other_customer_cannot_see_the_request_or_its_files(
    robin: PortalClient, live_portal: LivePortal, tmp_path: Path
) -> None:  # RQ-4
    request_id = rowan_request_id(robin)
    comment = robin.add_comment(request_id, "", [chosen(tmp_path, "private.png", PNG)])
    morgan = PortalClient(live_portal.portal_url("east"))
    morgan.login(company.MORGAN, company.PASSWORD)
    with pytest.raises(NotFoundError):
        morgan.request(request_id)
    with pytest.raises(NotFoundError):
        morgan.download_attachment(comment.attachments[0].id, tmp_path / "stolen.png")
    assert not (tmp_path / "stolen.png").exists()
    assert not (tmp_path / "stolen.png.part").exists()
