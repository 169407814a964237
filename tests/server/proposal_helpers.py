"""Helpers for the proposal tests: drawn signatures, ids by number, an assist session."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pymupdf
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.server.conftest import NORTH


def drawn_png(width: int = 300, height: int = 100, *, ink: bool = True, transparent: bool = True) -> bytes:
    """A PNG like the client's signature pad exports: a transparent (or white) canvas with a dark stroke."""
    pixmap = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, width, height), transparent)
    if transparent:
        pixmap.clear_with()  # every byte 0: fully transparent
    else:
        pixmap.clear_with(255)
    if ink:
        for step in range(0, width - 40, 2):
            y = height // 2 + (step % 20) - 10
            colour = (20, 30, 90, 255) if transparent else (20, 30, 90)
            pixmap.set_rect(pymupdf.IRect(20 + step, y, 23 + step, y + 3), colour)
    data: bytes = pixmap.tobytes("png")
    return data


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


SIGNATURE = b64(drawn_png())


def sign_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "signer_name": "Pat Customer",
        "signature_png": SIGNATURE,
        "optional_service_ids": [],
        "agree": True,
    }
    body.update(overrides)
    return body


def proposal_ids(client: TestClient, headers: dict[str, str], base: str = NORTH) -> dict[str, int]:
    response = client.get(f"{base}/proposals", params={"limit": 500}, headers=headers)
    assert response.status_code == 200, response.text
    return {item["number"]: item["id"] for item in response.json()["items"]}


def proposal_id_by_key(client: TestClient, key: str) -> int:
    """Any proposal's id, visible or not (for testing that hidden ones answer 404)."""
    from server.models import Proposal

    with client.app.state.session_factory() as session:  # type: ignore[attr-defined]
        proposal_id = session.scalar(select(Proposal.id).where(Proposal.key == key))
    assert proposal_id is not None
    return int(proposal_id)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pdf_text(data: bytes) -> str:
    with pymupdf.open("pdf", data) as document:
        return "\n".join(page.get_text() for page in document)
