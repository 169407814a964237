"""Request bodies that are JSON or multipart with files, read as a stream (RQ-2, RQ-4).

Starlette's form parser spools every file completely before the endpoint runs; here each file
part is counted as it arrives and the upload is refused with 413 the moment one passes the
limit, so the rest of the body is never read.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from server.errors import FieldError, Problem, invalid
from server.services.attachments import StagedFile, display_name

MAX_FILES = 10
MAX_TEXT_BYTES = 64 * 1024  # a JSON body, or one text field of a multipart body
MAX_PARTS = 50
_SPOOL_IN_MEMORY = 1024 * 1024
_MIB = 1024 * 1024

B = TypeVar("B", bound=BaseModel)


@dataclass
class Submission:
    """The text fields and the staged files of one request body."""

    fields: dict[str, Any] = field(default_factory=dict)
    files: list[StagedFile] = field(default_factory=list)

    def close(self) -> None:
        for staged in self.files:
            staged.file.close()


def too_large(detail: str) -> Problem:
    return Problem(413, "too_large", detail, "Too large")


def bad_body(detail: str) -> Problem:
    return Problem(400, "bad_request", detail, "Bad request")


@asynccontextmanager
async def received(request: Request, staging_dir: Path, max_file_bytes: int) -> AsyncIterator[Submission]:
    """Reads a JSON or multipart body; staged files are removed when the block ends, whatever happens."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FILES * max_file_bytes + _MIB:
        raise too_large(
            f"The upload is too large: attach at most {MAX_FILES} files of {max_file_bytes // _MIB} MiB each."
        )
    submission = Submission()
    try:
        if content_type == b"application/json":
            submission.fields = await _read_json(request)
        elif content_type == b"multipart/form-data" and options.get(b"boundary"):
            staging_dir.mkdir(parents=True, exist_ok=True)
            reader = _MultipartReader(staging_dir, max_file_bytes, submission)
            await reader.read(request, options[b"boundary"])
        else:
            raise Problem(
                415,
                "unsupported_media_type",
                "Send this request as JSON or as multipart/form-data.",
                "Unsupported media type",
            )
        yield submission
    finally:
        submission.close()


def parse_fields(model: type[B], fields: dict[str, Any]) -> B:
    """Validates the text fields like a JSON body: unknown fields and bad values give 422 with field errors."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        errors = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "body"
            if error["type"] == "extra_forbidden":
                message = f"'{name}' is not a field this request accepts."
            elif error["type"] == "missing":
                message = f"'{name}' is required."
            else:
                message = f"{name}: {str(error['msg']).removeprefix('Value error, ')}"
            errors.append(FieldError(name, message))
        raise invalid(errors) from exc


async def _read_json(request: Request) -> dict[str, Any]:
    body = bytearray()
    try:
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_TEXT_BYTES:
                raise too_large("The request is too large.")
    except ClientDisconnect as exc:
        raise bad_body("The upload was interrupted.") from exc
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(400, "malformed_json", "The request body is not valid JSON.") from exc
    if not isinstance(value, dict):
        raise invalid([FieldError("body", "The request body must be a JSON object.")])
    return value


class _MultipartReader:
    """python-multipart callbacks: text fields into memory (capped), `files` parts into spooled temp files."""

    def __init__(self, staging_dir: Path, max_file_bytes: int, submission: Submission) -> None:
        self.staging_dir = staging_dir
        self.max_file_bytes = max_file_bytes
        self.submission = submission
        self.parts = 0
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.disposition = b""
        self.field_name = ""
        self.text: bytearray | None = None
        self.file: StagedFile | None = None

    async def read(self, request: Request, boundary: bytes) -> None:
        callbacks: dict[str, Callable[..., None]] = {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
        }
        parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
        try:
            async for chunk in request.stream():
                # Parsing writes file data to disk: off the event loop.
                await run_in_threadpool(parser.write, chunk)
            parser.finalize()
        except MultipartParseError as exc:
            raise bad_body("The multipart body could not be read.") from exc
        except ClientDisconnect as exc:
            raise bad_body("The upload was interrupted.") from exc
        if self.file is not None or self.text is not None:
            raise bad_body("The multipart body ended in the middle of a part.")

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise too_large("The request has too many parts.")
        self.disposition = b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name.extend(data[start:end])

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value.extend(data[start:end])
        if len(self.header_value) > 8192:
            raise bad_body("A part's header is too long.")

    def on_header_end(self) -> None:
        if bytes(self.header_name).lower() == b"content-disposition":
            self.disposition = bytes(self.header_value)
        self.header_name.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        # Latin-1 maps bytes to characters one to one, so the UTF-8 of names survives the header parser.
        _, options = parse_options_header(self.disposition.decode("latin-1"))
        if b"name" not in options:
            raise bad_body('Each part needs a Content-Disposition "name".')
        self.field_name = options[b"name"].decode("utf-8", "replace")
        if b"filename" not in options:
            if self.field_name in self.submission.fields:
                raise invalid([FieldError(self.field_name, f"'{self.field_name}' was given twice.")])
            self.text = bytearray()
            return
        if self.field_name != "files":
            raise invalid([FieldError(self.field_name, "Send files in the 'files' field.")])
        if len(self.submission.files) >= MAX_FILES:
            raise invalid([FieldError("files", f"Attach at most {MAX_FILES} files at a time.")], "too_many_files")
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY, dir=str(self.staging_dir))  # noqa: SIM115
        self.file = StagedFile(options[b"filename"].decode("utf-8", "replace"), spool, 0)  # type: ignore[arg-type]
        self.submission.files.append(self.file)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.file is not None:
            self.file.size += end - start
            if self.file.size > self.max_file_bytes:
                name = display_name(self.file.filename, "")
                raise Problem(
                    413,
                    "file_too_large",
                    f'"{name}" is larger than {self.max_file_bytes // _MIB} MiB. Attach files of at most '
                    f"{self.max_file_bytes // _MIB} MiB each.",
                    "File too large",
                )
            self.file.file.write(data[start:end])
        elif self.text is not None:
            self.text.extend(data[start:end])
            if len(self.text) > MAX_TEXT_BYTES:
                raise too_large(f"The text in '{self.field_name}' is too long.")

    def on_part_end(self) -> None:
        if self.file is not None:
            self.file.file.seek(0)
            self.file = None
        elif self.text is not None:
            try:
                self.submission.fields[self.field_name] = self.text.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise invalid([FieldError(self.field_name, "The text is not valid UTF-8.")]) from exc
            self.text = None
