"""The framing between the app and its PDF render child (app/pdf_render_child.py).

One message is `<header length, payload length>` as two little-endian uint32, a UTF-8 JSON header
(the operation or the answer's figures) and the raw payload (a PDF's bytes, a page's pixels).
Plain JSON and bytes, never pickle: the child parses documents from the network, and whatever it
sends back must not be able to run code in the app. Imported by the child, so standard library only.
"""

from __future__ import annotations

import json
import struct
from typing import IO, Any

PREFIX = struct.Struct("<II")
# A header is a few numbers and page rectangles; a search of a long document stays far below this.
MAX_HEADER = 64 * 1024 * 1024
# A 300 dpi render of a very large page (an A0 plan is ~10,000 x 14,000 pixels, 400 MB) fits.
MAX_PAYLOAD = 1024 * 1024 * 1024

Header = dict[str, Any]


class ProtocolError(Exception):
    """The other side closed the pipe, or sent something that is not a message."""


def write_message(stream: IO[bytes], header: Header, payload: bytes = b"") -> None:
    encoded = json.dumps(header, separators=(",", ":")).encode()
    stream.write(PREFIX.pack(len(encoded), len(payload)) + encoded)
    if payload:
        stream.write(payload)
    stream.flush()


def read_message(stream: IO[bytes]) -> tuple[Header, bytes] | None:
    """The next message, or None at a clean end of the stream (between two messages)."""
    prefix = stream.read(PREFIX.size)
    if not prefix:
        return None
    if len(prefix) < PREFIX.size:
        raise ProtocolError("the stream ended inside a message")
    header_length, payload_length = PREFIX.unpack(prefix)
    if header_length > MAX_HEADER or payload_length > MAX_PAYLOAD:
        raise ProtocolError("a message is larger than the protocol allows")
    try:
        header = json.loads(_read_exactly(stream, header_length))
    except ValueError as exc:  # also UnicodeDecodeError
        raise ProtocolError("a message header is not JSON") from exc
    if not isinstance(header, dict):
        raise ProtocolError("a message header is not an object")
    return header, _read_exactly(stream, payload_length)


def _read_exactly(stream: IO[bytes], length: int) -> bytes:
    data = stream.read(length) if length else b""
    if len(data) < length:
        raise ProtocolError("the stream ended inside a message")
    return data
