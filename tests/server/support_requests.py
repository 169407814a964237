"""Helpers for the visits and requests tests: direct database setup and sample files of every accepted type."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db import make_engine, make_session_factory
from server.settings import Settings


@contextmanager
def db(settings: Settings) -> Iterator[Session]:
    """A session on the test's database for arranging data the import format cannot express; commits on exit."""
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            yield session
    finally:
        engine.dispose()


def id_of(settings: Settings, model: Any, key: str) -> int:
    with db(settings) as session:
        return int(session.scalar(select(model.id).where(model.key == key)))


# --- sample files, by content ------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200)
GIF = b"GIF89a" + bytes(100)
WEBP = b"RIFF" + struct.pack("<I", 100) + b"WEBPVP8 " + bytes(100)
HEIC = struct.pack(">I", 24) + b"ftypheic" + bytes(4) + b"mif1heic" + bytes(100)
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TEXT = "Grüße from the garden.\r\nThe gate sticks.\tThanks!\n".encode()
UTF16_TEXT = "Notes from Notepad\r\n".encode("utf-16")
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + bytes(200)
    + b"This program cannot be run in DOS mode."
)
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(200)
MP4 = struct.pack(">I", 24) + b"ftypisom" + bytes(4) + b"isomavc1" + bytes(100)


def zip_package(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name in names:
            package.writestr(name, "<xml/>")
    return buffer.getvalue()


DOCX = zip_package(["[Content_Types].xml", "_rels/.rels", "word/document.xml"])
XLSX = zip_package(["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml"])
DOCM = zip_package(["[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"])
PLAIN_ZIP = zip_package(["readme.txt", "setup.exe"])


def compound_file(stream_names: list[str]) -> bytes:
    """A minimal OLE compound file (MS-CFB v3): sector 0 is the FAT, sector 1 the directory."""
    end_of_chain, fat_sector, free = 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<I", header, 44, 1)  # one FAT sector
    struct.pack_into("<I", header, 48, 1)  # directory starts at sector 1
    struct.pack_into("<I", header, 56, 4096)
    struct.pack_into("<III", header, 60, end_of_chain, 0, end_of_chain)
    struct.pack_into("<I", header, 72, 0)
    struct.pack_into("<109I", header, 76, 0, *([free] * 108))
    fat = struct.pack("<128I", fat_sector, end_of_chain, *([free] * 126))
    directory = bytearray(512)
    for index, (name, kind) in enumerate([("Root Entry", 5), *((n, 2) for n in stream_names)][:4]):
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        offset = index * 128
        directory[offset : offset + len(encoded)] = encoded
        struct.pack_into("<HB", directory, offset + 64, len(encoded), kind)
    return bytes(header) + fat + bytes(directory)


DOC = compound_file(["WordDocument", "1Table"])
XLS = compound_file(["Workbook"])
DOC_WITH_MACROS = compound_file(["WordDocument", "Macros"])
MSI = compound_file(["\u4840\u45f2\u4628", "SummaryInformation"])
