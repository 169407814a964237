"""Request attachments (RQ-4): type by content, display names that cannot become paths, storage behind one interface.

The client's filename is never used to build a path: files are stored under a random name
and the original name survives only as sanitised display text. The type is decided by
looking at the bytes against a short allow-list, so an executable renamed `.png` is refused.
"""

from __future__ import annotations

import codecs
import logging
import os
import re
import secrets
import struct
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import quote

from server.errors import FieldError, Problem, invalid

log = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
HEIC = "image/heic"
HEIF = "image/heif"
GIF = "image/gif"
WEBP = "image/webp"
TEXT = "text/plain"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOC = "application/msword"
XLS = "application/vnd.ms-excel"

# Extensions a display name may keep for each type; the first is added when the name has none of them,
# so a PNG uploaded as "invoice.exe" is offered for download as "invoice.exe.png".
EXTENSIONS: dict[str, tuple[str, ...]] = {
    PDF: (".pdf",),
    PNG: (".png",),
    JPEG: (".jpg", ".jpeg", ".jpe", ".jfif"),
    HEIC: (".heic", ".heif"),
    HEIF: (".heif", ".heic"),
    GIF: (".gif",),
    WEBP: (".webp",),
    TEXT: (".txt", ".text", ".csv", ".log", ".md"),
    DOCX: (".docx",),
    XLSX: (".xlsx",),
    DOC: (".doc",),
    XLS: (".xls",),
}
SUPPORTED_TYPES_SENTENCE = (
    "Attach PDF files, pictures (PNG, JPEG, HEIC, GIF, WebP), text files, or Word or Excel documents."
)

_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"}
_HEIF_BRANDS = {b"mif1", b"msf1"}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_END = 0xFFFFFFFA  # sector ids at or above this are markers, not sectors
_OLE_MACROS = {"macros", "_vba_project_cur", "vba"}
# Bytes that never occur in a text file (NUL and most C0 controls; tab, newlines, form feed and
# the DOS end-of-file mark are allowed).
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f\x7f]")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0e-\x19\x1b-\x1f\x7f]")


class AttachmentStore(Protocol):
    """Where attachment bytes live; a folder today, object storage could implement the same three calls."""

    def put(self, name: str, source: BinaryIO) -> None: ...

    def open(self, name: str) -> BinaryIO: ...

    def delete(self, name: str) -> None: ...


_STORAGE_NAME = re.compile(r"[0-9a-f]{32}")


def new_storage_name() -> str:
    return secrets.token_hex(16)


class FolderStore:
    """Files under one folder, named only by generated hex names (two-letter subfolders keep folders small)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        if not _STORAGE_NAME.fullmatch(name):
            raise ValueError("not a generated storage name")
        return self.root / name[:2] / name

    def put(self, name: str, source: BinaryIO) -> None:
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        source.seek(0)
        with partial.open("xb") as target:
            while chunk := source.read(CHUNK_SIZE):
                target.write(chunk)
            target.flush()
            os.fsync(target.fileno())
        os.replace(partial, path)

    def open(self, name: str) -> BinaryIO:
        return self._path(name).open("rb")

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)


def read_chunks(file: BinaryIO) -> Iterator[bytes]:
    """Yields a stored file in chunks and closes it, so a download never holds a whole file in memory."""
    try:
        while chunk := file.read(CHUNK_SIZE):
            yield chunk
    finally:
        file.close()


# --- content sniffing -------------------------------------------------------------------------


def sniff(file: BinaryIO) -> str | None:
    """The allow-listed content type of `file`, judged by its bytes; None when it is none of them."""
    file.seek(0)
    head = file.read(64)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp":
        return _heif_type(head)
    if head.startswith(b"PK\x03\x04"):
        return _office_open_xml_type(file)
    if head.startswith(_OLE_MAGIC):
        return _legacy_office_type(file)
    return TEXT if _is_text(file) else None


def _heif_type(head: bytes) -> str | None:
    # ISO media "ftyp" box: major brand at 8, then compatible brands from 16 to the box's end.
    size = struct.unpack(">I", head[:4])[0]
    brands = {head[8:12]} | {head[i : i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
    if brands & _HEIC_BRANDS:
        return HEIC
    if brands & _HEIF_BRANDS:
        return HEIF
    return None


def _office_open_xml_type(file: BinaryIO) -> str | None:
    """docx/xlsx are ZIP packages; other ZIPs (archives, .jar, .apk) and macro-enabled documents are refused."""
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as package:
            names = {info.filename for info in package.infolist()}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return None
    if "[Content_Types].xml" not in names or any(name.lower().endswith("vbaproject.bin") for name in names):
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def _legacy_office_type(file: BinaryIO) -> str | None:
    """.doc/.xls are OLE compound files; so are installers (.msi), hence the look at the stream names."""
    try:
        names = {name.lower() for name in _ole_entry_names(file)}
    except (struct.error, ValueError, OSError):
        return None
    if names & _OLE_MACROS:
        return None
    if "worddocument" in names:
        return DOC
    if "workbook" in names or "book" in names:
        return XLS
    return None


def _ole_entry_names(file: BinaryIO) -> list[str]:
    """Names in an OLE compound file's directory (MS-CFB): header -> FAT -> directory sector chain."""
    file.seek(0)
    header = file.read(512)
    if len(header) < 512:
        raise ValueError("short header")
    sector_shift = struct.unpack_from("<H", header, 30)[0]
    if sector_shift not in (9, 12):
        raise ValueError("bad sector size")
    sector_size = 1 << sector_shift
    fat_count, first_directory = struct.unpack_from("<II", header, 44)
    next_difat, difat_count = struct.unpack_from("<II", header, 68)
    file.seek(0, os.SEEK_END)
    sector_total = file.tell() // sector_size  # an upper bound for every chain below

    def sector(number: int) -> bytes:
        file.seek((number + 1) * sector_size)
        data = file.read(sector_size)
        if len(data) < sector_size:
            raise ValueError("sector past the end of the file")
        return data

    per_sector = sector_size // 4
    fat_sectors = list(struct.unpack_from("<109I", header, 76))
    for _ in range(min(difat_count, sector_total)):
        if next_difat >= _OLE_END:
            break
        entries = struct.unpack(f"<{per_sector}I", sector(next_difat))
        fat_sectors.extend(entries[:-1])
        next_difat = entries[-1]
    fat: list[int] = []
    for number in [s for s in fat_sectors[: min(fat_count, sector_total)] if s < _OLE_END]:
        fat.extend(struct.unpack(f"<{per_sector}I", sector(number)))

    names: list[str] = []
    current, seen = first_directory, set()
    while current < _OLE_END and current not in seen and current < len(fat):
        seen.add(current)
        data = sector(current)
        for offset in range(0, sector_size, 128):
            name_length = struct.unpack_from("<H", data, offset + 64)[0]
            if data[offset + 66] in (1, 2, 5) and 2 <= name_length <= 64:
                names.append(data[offset : offset + name_length - 2].decode("utf-16-le", "replace"))
        current = fat[current]
    return names


def _is_text(file: BinaryIO) -> bool:
    """Plain text: UTF-16 with its byte-order mark, or 8-bit/UTF-8 text without control bytes."""
    file.seek(0)
    first = file.read(CHUNK_SIZE)
    if not first:
        return False
    if first[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        decoder = codecs.getincrementaldecoder("utf-16")(errors="strict")
        chunk = first
        try:
            while chunk:
                if _CONTROL_CHARACTERS.search(decoder.decode(chunk)):
                    return False
                chunk = file.read(CHUNK_SIZE)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
        return True
    chunk = first
    while chunk:
        if _BINARY_BYTES.search(chunk):
            return False
        chunk = file.read(CHUNK_SIZE)
    return True


# --- display names ----------------------------------------------------------------------------

_UNSAFE_CHARACTERS = re.compile(r'[<>:"/\\|?*]')
_WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
MAX_DISPLAY_NAME = 150


def display_name(raw: str | None, content_type: str) -> str:
    """A filename safe to show and to offer in a save dialog: no folders, no control or direction-changing
    characters, no leading dots, an extension that matches the content."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    # Control characters (Cc) and invisible formatting such as right-to-left overrides (Cf) that
    # can disguise "gpj.exe" as "exe.jpg".
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf"))
    name = _UNSAFE_CHARACTERS.sub("_", name)
    name = " ".join(name.split()).strip(" .")
    stem, extension = os.path.splitext(name)
    if not stem:
        name, stem, extension = "attachment", "attachment", ""
    if stem.split(".", 1)[0].lower() in _WINDOWS_DEVICES:
        name = f"_{name}"
    allowed = EXTENSIONS.get(content_type, ())
    if allowed and extension.lower() not in allowed:
        name, extension = f"{name}{allowed[0]}", allowed[0]
    if len(name) > MAX_DISPLAY_NAME:
        name = name[: MAX_DISPLAY_NAME - len(extension)].rstrip(" .") + extension
    return name


# --- checking staged uploads ------------------------------------------------------------------


@dataclass
class StagedFile:
    """One received file, waiting in a temporary file until it is checked and stored."""

    filename: str  # as the client sent it: display text only once sanitised
    file: BinaryIO
    size: int


@dataclass
class CheckedFile:
    staged: StagedFile
    content_type: str
    display_name: str
    storage_name: str


def check_files(files: list[StagedFile]) -> list[CheckedFile]:
    """Decides each file's type by content (RQ-4); refuses the whole message when one is empty or not allowed."""
    checked = []
    for staged in files:
        shown = display_name(staged.filename, "")
        if staged.size == 0:
            raise invalid([FieldError("files", f'"{shown}" is empty.')], "empty_file")
        content_type = sniff(staged.file)
        if content_type is None:
            raise Problem(
                415,
                "unsupported_file_type",
                f'"{shown}" is not a type of file the portal accepts. {SUPPORTED_TYPES_SENTENCE}',
                "Unsupported file type",
            )
        checked.append(
            CheckedFile(staged, content_type, display_name(staged.filename, content_type), new_storage_name())
        )
    return checked


def store_files(store: AttachmentStore, files: list[CheckedFile]) -> None:
    """Puts every file in the store, or none: a failure part-way removes the ones already written."""
    written: list[str] = []
    try:
        for item in files:
            store.put(item.storage_name, item.staged.file)
            written.append(item.storage_name)
    except BaseException:
        discard_files(store, written)
        raise


def discard_files(store: AttachmentStore, storage_names: list[str]) -> None:
    """Best effort: a file left behind is only wasted space, never visible without its database row."""
    for name in storage_names:
        try:
            store.delete(name)
        except OSError:
            log.warning("could not remove attachment file %s", name, exc_info=True)


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the exact name in RFC 5987 form for clients that read it."""
    fallback = filename.encode("ascii", "replace").decode("ascii").replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
