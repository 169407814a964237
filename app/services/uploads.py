"""Checking files before they are uploaded (RQ-4), so a customer hears "too large" at once
instead of after minutes of uploading.

The server decides the type by content; this check goes by the name's extension and the size,
which catches the usual mistakes without reading the file. A file that passes here can still be
refused by the server (an executable renamed .png): the views show the server's sentence then.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES = 10
ACCEPTED_EXTENSIONS = frozenset(
    {
        ".pdf",
        ".png",
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".heic",
        ".heif",
        ".gif",
        ".webp",
        ".txt",
        ".text",
        ".csv",
        ".log",
        ".md",
        ".doc",
        ".docx",
        ".xls",
        ".xlsx",
    }
)
ACCEPTED_SENTENCE = (
    "The portal accepts PDF files, pictures (PNG, JPEG, HEIC, GIF, WebP), text files, and Word or Excel documents."
)
# For the file dialog's filter.
FILE_DIALOG_FILTER = (
    "Documents and pictures (" + " ".join(f"*{e}" for e in sorted(ACCEPTED_EXTENSIONS)) + ");;All files (*)"
)


@dataclass(frozen=True)
class ChosenFile:
    path: Path
    size: int

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def content_type(self) -> str:
        """Only a hint for the multipart part: the server sniffs the real type."""
        return mimetypes.guess_type(self.path.name)[0] or "application/octet-stream"


class FileRefused(Exception):
    """`str(error)` says which file and why, in words for the customer."""


def size_text(size: int) -> str:
    """Sizes as people read them in a file manager: 512 bytes, 14 KB, 3.2 MB (binary units)."""
    if size < 1024:
        return f"{size} byte{'s' if size != 1 else ''}"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def check_file(path: Path) -> ChosenFile:
    """Raises FileRefused for a missing path, a folder, an unreadable, empty, too large or unsupported file."""
    name = path.name
    try:
        if not path.exists():  # e.g. dropped from an archive's preview, or moved since it was chosen
            raise FileRefused(f"“{name}” is not there any more: it was moved or deleted.")
        if not path.is_file():
            raise FileRefused(f"“{name}” is a folder, not a file. Choose the files inside it instead.")
        size = path.stat().st_size
    except OSError as exc:
        raise FileRefused(f"“{name}” cannot be read: {exc.strerror or 'access denied'}.") from exc
    if path.suffix.lower() not in ACCEPTED_EXTENSIONS:
        raise FileRefused(f"“{name}” is not a type of file the portal accepts. {ACCEPTED_SENTENCE}")
    if size == 0:
        raise FileRefused(f"“{name}” is empty.")
    if size > MAX_FILE_BYTES:
        raise FileRefused(
            f"“{name}” is {size_text(size)}; files can be at most {MAX_FILE_BYTES // (1024 * 1024)} MB each."
        )
    return ChosenFile(path=path, size=size)
