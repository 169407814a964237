"""Request attachments (RQ-4): size limit while streaming, type by content, safe names, who may download."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.models import Attachment, RequestComment, ServiceRequest
from server.services.attachments import display_name, sniff
from server.settings import Settings
from tests.server import support_requests as samples
from tests.server.conftest import NORTH, property_ids
from tests.server.support_requests import db, id_of

MIB = 1024 * 1024


def upload(
    client: TestClient, headers: dict[str, str], files: list[tuple[str, bytes]], **fields: str
) -> httpx.Response:
    """A new request on Oak Plaza with `files` as multipart."""
    oak = property_ids(client, headers)["Oak Plaza"]
    return client.post(
        f"{NORTH}/requests",
        headers=headers,
        data={"property_id": str(oak), "subject": fields.get("subject", "With files"), **fields},
        files=[("files", (name, content, "application/octet-stream")) for name, content in files],
    )


def stored_files(settings: Settings) -> list[Path]:
    root = settings.attachments_dir
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def attachment_count(settings: Settings) -> int:
    with db(settings) as session:
        return int(session.scalar(select(func.count(Attachment.id))) or 0)


ACCEPTED = [
    ("report.pdf", samples.PDF, "application/pdf"),
    ("photo.png", samples.PNG, "image/png"),
    ("photo.jpg", samples.JPEG, "image/jpeg"),
    ("IMG_0001.HEIC", samples.HEIC, "image/heic"),
    ("anim.gif", samples.GIF, "image/gif"),
    ("pic.webp", samples.WEBP, "image/webp"),
    ("notes.txt", samples.TEXT, "text/plain"),
    ("notepad.txt", samples.UTF16_TEXT, "text/plain"),
    ("letter.docx", samples.DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("sheet.xlsx", samples.XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("old.doc", samples.DOC, "application/msword"),
    ("old.xls", samples.XLS, "application/vnd.ms-excel"),
]

REFUSED = [
    ("setup.png", samples.EXE),  # a Windows executable renamed
    ("tool.pdf", samples.ELF),
    ("archive.docx", samples.PLAIN_ZIP),
    ("macro.docx", samples.DOCM),
    ("macro.doc", samples.DOC_WITH_MACROS),
    ("installer.doc", samples.MSI),
    ("movie.heic", samples.MP4),
    ("random.bin", os.urandom(4096) + b"\x00"),
]


@pytest.mark.parametrize(("name", "content", "content_type"), ACCEPTED)
def test_accepted_types_are_decided_by_content(name: str, content: bytes, content_type: str) -> None:  # RQ-4
    import io

    assert sniff(io.BytesIO(content)) == content_type


@pytest.mark.parametrize(("name", "content"), REFUSED)
def test_other_content_is_refused_whatever_its_name(name: str, content: bytes) -> None:  # RQ-4
    import io

    assert sniff(io.BytesIO(content)) is None


def test_every_accepted_type_uploads_and_downloads(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # RQ-4
    response = upload(client, pat, [(name, content) for name, content, _ in ACCEPTED[:10]])
    assert response.status_code == 201, response.text
    created = response.json()
    attachments = created["attachments"]
    assert [(a["filename"], a["content_type"], a["size"]) for a in attachments] == [
        (name, content_type, len(content)) for name, content, content_type in ACCEPTED[:10]
    ]
    for attachment, (_, content, content_type) in zip(attachments, ACCEPTED, strict=False):
        download = client.get(f"{NORTH}/attachments/{attachment['id']}", headers=pat)
        assert download.status_code == 200
        assert download.content == content
        assert download.headers["content-type"].split(";")[0] == content_type
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["x-content-type-options"] == "nosniff"
    assert client.get(f"{NORTH}/requests/{created['id']}", headers=pat).json()["attachments"] == attachments


def test_executable_renamed_png_is_refused_with_415(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # RQ-4
    before = client.get(f"{NORTH}/requests", headers=pat).json()["total"]
    response = upload(client, pat, [("photo.png", samples.PNG), ("holiday.png", samples.EXE)])
    assert response.status_code == 415
    problem = response.json()
    assert problem["code"] == "unsupported_file_type"
    assert "holiday.png" in problem["detail"]
    assert "PDF" in problem["detail"]
    # Nothing of the refused message is kept: no request, no rows, no files.
    assert client.get(f"{NORTH}/requests", headers=pat).json()["total"] == before
    assert attachment_count(settings) == 0
    assert stored_files(settings) == []


def test_eleven_mib_file_is_refused_with_413(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # RQ-4
    big = samples.PNG + bytes(11 * MIB)
    response = upload(client, pat, [("huge.png", big)])
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert "10 MiB" in response.json()["detail"]
    assert stored_files(settings) == []  # the partial upload was discarded
    exactly = upload(client, pat, [("limit.png", samples.PNG + bytes(10 * MIB - len(samples.PNG)))])
    assert exactly.status_code == 201, exactly.text
    assert exactly.json()["attachments"][0]["size"] == 10 * MIB


def _multipart_stream(
    boundary: str, fields: dict[str, str], filename: str, size: int, sent: list[int]
) -> AsyncIterator[bytes]:
    async def body() -> AsyncIterator[bytes]:
        for name, value in fields.items():
            yield f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        chunk = samples.PNG + bytes(MIB - len(samples.PNG))
        while sent[0] < size:
            sent[0] += len(chunk)
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    return body()


def test_oversized_upload_is_refused_without_reading_the_rest(
    app: Any, client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # RQ-4
    """A 200 MiB file sent as a stream (no Content-Length): the server answers 413 after about 10 MiB."""
    oak = property_ids(client, pat)["Oak Plaza"]
    sent = [0]

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as http:
            return await http.post(
                f"{NORTH}/requests",
                headers={**pat, "Content-Type": "multipart/form-data; boundary=XyZ"},
                content=_multipart_stream(
                    "XyZ", {"property_id": str(oak), "subject": "Big"}, "big.png", 200 * MIB, sent
                ),
            )

    response = asyncio.run(send())
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert sent[0] <= 12 * MIB
    assert stored_files(settings) == []


def test_declared_oversized_body_is_refused_before_reading(
    app: Any, client: TestClient, pat: dict[str, str]
) -> None:  # RQ-4
    sent = [0]

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as http:
            return await http.post(
                f"{NORTH}/requests",
                headers={
                    **pat,
                    "Content-Type": "multipart/form-data; boundary=XyZ",
                    "Content-Length": str(500 * MIB),
                },
                content=_multipart_stream("XyZ", {}, "big.png", 500 * MIB, sent),
            )

    response = asyncio.run(send())
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert sent[0] == 0


@pytest.mark.parametrize(
    ("sent_name", "shown"),
    [
        ("../../../../etc/cron.d/evil.png", "evil.png"),
        ("..\\..\\Windows\\System32\\evil.png", "evil.png"),
        ("/absolute/path/evil.png", "evil.png"),
        ("..", "attachment.png"),
        ("", "attachment.png"),
        (".bashrc.png", "bashrc.png"),
        ("report\u202egnp.exe", "reportgnp.exe.png"),
        ('in"va|lid<>?*:.png', "in_va_lid_____.png"),
        ("CON.png", "_CON.png"),
        ("invoice.exe", "invoice.exe.png"),
        ("tab\tand\nnewline.png", "tabandnewline.png"),
        ("x" * 300 + ".png", "x" * 146 + ".png"),
    ],
)
def test_display_names_are_sanitised(sent_name: str, shown: str) -> None:  # RQ-4
    assert display_name(sent_name, "image/png") == shown


def test_path_traversal_filename_is_neutralised(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # RQ-4
    outside = settings.data_dir.parent / "evil.png"
    sent_name = "../" * 12 + str(outside).lstrip("/")
    response = upload(client, pat, [(sent_name, samples.PNG), ("..\\..\\win.png", samples.PNG)])
    assert response.status_code == 201, response.text
    assert [a["filename"] for a in response.json()["attachments"]] == ["evil.png", "win.png"]
    assert not outside.exists()
    stored = stored_files(settings)
    assert len(stored) == 2
    for path in stored:
        assert path.resolve().is_relative_to(settings.attachments_dir.resolve())
        assert len(path.name) == 32
        assert all(ch in "0123456789abcdef" for ch in path.name)
    assert not list(settings.data_dir.rglob("*evil*"))
    with db(settings) as session:
        assert all(a.storage_name != a.filename for a in session.scalars(select(Attachment)))


def test_download_offers_the_sanitised_original_name(client: TestClient, pat: dict[str, str]) -> None:  # RQ-4
    created = upload(client, pat, [("Grüße aus dem Garten.txt", samples.TEXT)]).json()
    attachment = created["attachments"][0]
    assert attachment["filename"] == "Grüße aus dem Garten.txt"
    download = client.get(f"{NORTH}/attachments/{attachment['id']}", headers=pat)
    disposition = download.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="Gr__e aus dem Garten.txt"')
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == "Grüße aus dem Garten.txt"
    assert download.headers["content-length"] == str(len(samples.TEXT))
    assert download.content == samples.TEXT


def test_another_customer_gets_404_on_the_request_and_the_file(
    client: TestClient, pat: dict[str, str], otto: dict[str, str], office: dict[str, str]
) -> None:  # RQ-4
    created = upload(client, pat, [("private.pdf", samples.PDF)]).json()
    attachment_id = created["attachments"][0]["id"]
    assert client.get(f"{NORTH}/requests/{created['id']}", headers=otto).status_code == 404
    response = client.get(f"{NORTH}/attachments/{attachment_id}", headers=otto)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert client.get(f"{NORTH}/attachments/{attachment_id + 1000}", headers=pat).status_code == 404
    assert client.get(f"{NORTH}/attachments/{attachment_id}", headers=office).status_code == 403
    assert client.get(f"{NORTH}/attachments/{attachment_id}").status_code == 401


def test_files_of_internal_comments_and_hidden_requests_are_not_downloadable(
    client: TestClient, pat: dict[str, str], settings: Settings
) -> None:  # RQ-4
    store = client.app.state.attachment_store  # type: ignore[attr-defined]
    hidden = id_of(settings, ServiceRequest, "r-hidden")
    with db(settings) as session:
        open_request = session.scalar(select(ServiceRequest).where(ServiceRequest.key == "r-open"))
        internal = session.scalar(select(RequestComment).where(RequestComment.public.is_(False)))
        assert open_request is not None
        assert internal is not None
        rows = [
            Attachment(
                request_id=open_request.id,
                comment_id=internal.id,
                filename="internal.txt",
                storage_name="a" * 32,
                size=4,
                content_type="text/plain",
            ),
            Attachment(
                request_id=hidden, filename="hidden.txt", storage_name="b" * 32, size=4, content_type="text/plain"
            ),
        ]
        session.add_all(rows)
        session.flush()
        ids = [row.id for row in rows]
    import io

    for name in ("a" * 32, "b" * 32):
        store.put(name, io.BytesIO(b"nope"))
    for attachment_id in ids:
        assert client.get(f"{NORTH}/attachments/{attachment_id}", headers=pat).status_code == 404
    assert "internal.txt" not in client.get(f"{NORTH}/requests/{open_request.id}", headers=pat).text


def test_comment_with_files(client: TestClient, pat: dict[str, str], settings: Settings) -> None:  # RQ-4
    request_id = id_of(settings, ServiceRequest, "r-open")
    response = client.post(
        f"{NORTH}/requests/{request_id}/comments",
        headers=pat,
        data={"body": "Photos attached"},
        files=[("files", ("a.jpg", samples.JPEG, "image/jpeg")), ("files", ("b.xlsx", samples.XLSX, "x/y"))],
    )
    assert response.status_code == 201, response.text
    comment = response.json()
    assert [a["filename"] for a in comment["attachments"]] == ["a.jpg", "b.xlsx"]
    detail = client.get(f"{NORTH}/requests/{request_id}", headers=pat).json()
    assert detail["comments"][-1] == comment
    assert detail["attachments"] == []  # the files belong to the comment, not to the request
    bad = client.post(
        f"{NORTH}/requests/{request_id}/comments",
        headers=pat,
        data={"body": "Script"},
        files=[("files", ("run.png", samples.ELF, "image/png"))],
    )
    assert bad.status_code == 415
    assert len(client.get(f"{NORTH}/requests/{request_id}", headers=pat).json()["comments"]) == len(detail["comments"])


def test_multipart_field_rules(client: TestClient, pat: dict[str, str]) -> None:  # RQ-4
    too_many = upload(client, pat, [(f"f{i}.png", samples.PNG) for i in range(11)])
    assert too_many.status_code == 422
    assert too_many.json()["code"] == "too_many_files"
    empty = upload(client, pat, [("empty.txt", b"")])
    assert empty.status_code == 422
    assert empty.json()["code"] == "empty_file"
    oak = property_ids(client, pat)["Oak Plaza"]
    unknown = upload(client, pat, [("a.png", samples.PNG)], status="closed")
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "status"
    # Without files httpx sends a urlencoded form, which is neither of the two accepted bodies.
    urlencoded = client.post(f"{NORTH}/requests", headers=pat, data={"property_id": str(oak), "subject": "x"})
    assert urlencoded.status_code == 415
    wrong_field = client.post(
        f"{NORTH}/requests",
        headers=pat,
        data={"property_id": str(oak), "subject": "x"},
        files=[("photo", ("a.png", samples.PNG, "image/png"))],
    )
    assert wrong_field.status_code == 422
    not_a_number = client.post(
        f"{NORTH}/requests",
        headers=pat,
        data={"property_id": "oak", "subject": "x"},
        files=[("files", ("a.png", samples.PNG, "image/png"))],
    )
    assert not_a_number.status_code == 422
    assert not_a_number.json()["errors"][0]["field"] == "property_id"
    broken = client.post(
        f"{NORTH}/requests",
        headers={**pat, "Content-Type": "multipart/form-data; boundary=abc"},
        content=b'--abc\r\nContent-Disposition: form-data; name="subject"\r\n\r\nunfinished',
    )
    assert broken.status_code == 400
