"""The files chosen for a new comment or request: the part of a draft that is not plain text.

Kept apart from the widgets so a failed send can leave the draft exactly as it was, and so the
refusal rules can be tested without a window.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.services.uploads import MAX_FILES, ChosenFile, FileRefused, check_file

MAX_TEXT = 10_000  # the portal's limit for a request's description and for a reply


def text_too_long(text: str, what: str) -> str | None:
    """The sentence for a description or reply the portal would refuse, else None. Said while
    typing and checked before sending, instead of the portal's refusal after the upload, and with
    how much to cut: 10,000 characters cannot be judged by eye in a pasted e-mail."""
    length = len(text.strip())  # as the portal counts
    if length <= MAX_TEXT:
        return None
    return (
        f"{what} is {length:,} characters long; the portal takes at most {MAX_TEXT:,}. "
        f"Shorten it by {length - MAX_TEXT:,}, or attach the text as a file."
    )


class AttachmentDraft(QObject):
    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._files: list[ChosenFile] = []

    @property
    def files(self) -> tuple[ChosenFile, ...]:
        return tuple(self._files)

    def add_paths(self, paths: Iterable[Path]) -> list[str]:
        """Adds every acceptable file and returns the sentences saying what was refused: one per file
        refused for itself, and one for all the files past the limit (a folder of twenty photos gave
        ten identical lines)."""
        refusals: list[str] = []
        over_limit: list[str] = []
        known = {f.path.resolve() for f in self._files}
        added = False
        for path in paths:
            if path.resolve() in known:
                continue
            try:
                chosen = check_file(path)
            except FileRefused as refused:
                refusals.append(str(refused))
                continue
            if len(self._files) >= MAX_FILES:
                over_limit.append(path.name)
                continue
            self._files.append(chosen)
            known.add(path.resolve())
            added = True
        if over_limit:
            refusals.append(_over_limit_sentence(over_limit))
        if added:
            self.changed.emit()
        return refusals

    def remove(self, path: Path) -> None:
        before = len(self._files)
        self._files = [f for f in self._files if f.path != path]
        if len(self._files) != before:
            self.changed.emit()

    def clear(self) -> None:
        if self._files:
            self._files = []
            self.changed.emit()


def _over_limit_sentence(names: list[str]) -> str:
    limit = f"attach at most {MAX_FILES} files at a time."
    if len(names) == 1:
        return f"“{names[0]}” was not added: {limit}"
    shown = ", ".join(f"“{name}”" for name in names[:3])
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return f"{len(names)} files were not added ({shown}{more}): {limit}"
