"""Checks a drawn signature before it is accepted (PR-5): a real PNG, of sane size, with visible ink."""

from __future__ import annotations

import base64
import binascii
import struct
import zlib

from server.services.pdf_engine import pymupdf

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 1024 * 1024
MAX_SIDE = 4000
MIN_SIDE = 8
# A pixel counts as ink when it is clearly darker than paper once composited onto white;
# a signature needs at least a short stroke of them (a stray dot is not a signature).
INK_LEVEL = 200
MIN_INK_PIXELS = 20
EMPTY = "The signature is empty. Please draw your signature."
_CHECK_SIDE = 1200.0  # big images are checked at reduced size; a pen stroke survives that


class SignatureImageError(ValueError):
    """The reason, as a sentence for the signer."""


def decode_signature(encoded: str) -> bytes:
    """Base64 text -> PNG bytes that show a signature, or SignatureImageError saying what is wrong."""
    text = encoded.strip()
    if text.startswith("data:"):
        _, _, text = text.partition(",")
    if not text:
        raise SignatureImageError(EMPTY)
    if len(text) > (MAX_BYTES * 4) // 3 + 4:
        raise SignatureImageError("The signature image is too large (at most 1 MiB).")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureImageError("The signature must be a base64-encoded PNG image.") from exc
    if not data.startswith(PNG_MAGIC) or len(data) < 33 or data[12:16] != b"IHDR":
        raise SignatureImageError("The signature must be a PNG image.")
    if not chunks_intact(data):
        raise SignatureImageError("The signature image could not be read as a PNG; it may be cut short.")
    width, height = struct.unpack(">II", data[16:24])
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise SignatureImageError(
            f"The signature image must be between {MIN_SIDE} and {MAX_SIDE} pixels wide and high."
        )
    if ink_pixels(data, width, height) < MIN_INK_PIXELS:
        raise SignatureImageError(EMPTY)
    return data


def chunks_intact(data: bytes) -> bool:
    """Every chunk's length and CRC check out and the image ends with IEND (a cut-off upload does not)."""
    offset = len(PNG_MAGIC)
    while offset + 12 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        end = offset + 12 + length
        if end > len(data):
            return False
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(data[offset + 4 : end - 4]) != crc:
            return False
        if kind == b"IEND":
            return True
        offset = end
    return False


def ink_pixels(data: bytes, width: int, height: int) -> int:
    """Dark pixels after compositing onto white, so transparent and all-white images both count as blank."""
    scale = min(1.0, _CHECK_SIDE / max(width, height))
    page_width, page_height = width * scale, height * scale
    try:
        with pymupdf.open() as document:
            page = document.new_page(width=page_width, height=page_height)
            page.insert_image(page.rect, stream=data)
            pixmap = page.get_pixmap(colorspace=pymupdf.csGRAY, alpha=False)
    except (RuntimeError, ValueError) as exc:  # MuPDF reports a corrupt image as one of these
        raise SignatureImageError("The signature image could not be read as a PNG.") from exc
    samples: bytes = pixmap.samples
    dark = bytes(1 if level < INK_LEVEL else 0 for level in range(256))
    return samples.translate(dark).count(1)
