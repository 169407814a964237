"""Small pieces the visit and request windows share."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QStandardPaths, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog, QWidget

from app.services.errors import PortalError, ValidationError

GENERIC_FAILURE = "Something went wrong on this computer. Please try again."


# Answers whose server sentence speaks to programs, said for the person at the keyboard instead.
_PLAIN = {
    # A draft resent under its key after a file changed on disk at the same size: the client takes a
    # new key for it, so the next Send goes through.
    "idempotency_key_reused": "What you are sending changed since it was last tried. Send it again to send it as it is now.",
}


def error_sentence(error: Exception) -> str:
    """The server's own sentence, plus the field messages a 422 carries when they add something."""
    if not isinstance(error, PortalError):
        return GENERIC_FAILURE
    if error.code in _PLAIN:
        return _PLAIN[error.code]
    sentence = error.detail
    if isinstance(error, ValidationError):
        extra = [e.message for e in error.field_errors if e.message and e.message not in sentence]
        if extra:
            sentence = " ".join([sentence, *extra])
    return sentence


def downloads_folder() -> Path:
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DownloadLocation)
    return Path(location) if location else Path.home()


def ask_save_path(parent: QWidget, filename: str) -> Path | None:
    """The platform's save dialog, starting in Downloads with the server's (sanitised) name."""
    chosen, _ = QFileDialog.getSaveFileName(parent, "Save attachment", str(downloads_folder() / filename))
    return Path(chosen) if chosen else None


PROPOSAL_LINK = "proposal:"  # proposal:12 opens proposal 12 in the app (an invoice's or a change order's)


def follow_link(url: QUrl, open_proposal: Callable[[int], None]) -> None:
    """A detail page's link: a proposal opens in the app, anything else as open_link says."""
    text = url.toString()
    if text.startswith(PROPOSAL_LINK):
        open_proposal(int(text.removeprefix(PROPOSAL_LINK)))
    else:
        open_link(url)


def open_link(url: QUrl) -> None:
    """mailto:, tel: and web links go to the programs the user chose for them."""
    if url.scheme() in ("mailto", "tel", "http", "https", "file"):
        QDesktopServices.openUrl(url)
