"""Cursor paging for one on-screen list, with stale answers dropped.

A filter change starts a new generation; a page that arrives for an older generation (the
user clicked faster than the server answered) is discarded instead of overwriting newer rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.services.records import Page
from app.services.tasks import TaskRunner

PageFetcher = Callable[[str | None], Page[Any]]
SizedPageFetcher = Callable[[str | None, int | None], Page[Any]]  # (cursor, limit); None: the server's default


class ListFeed(QObject):
    """Loads the first page of a query, then further pages on demand (`load_more`).

    `fetch_many` fetches the same query in larger pages, for loading a whole list (to sort or
    search all of it): one call for 500 rows answers in about the time of one for 100."""

    started = Signal()
    reset = Signal(object)  # Page: the first page of a new query
    appended = Signal(object)  # Page: a further page of the same query
    failed = Signal(object)  # Exception: the first page of a query could not be loaded
    more_failed = Signal(object)  # Exception: a further page could not be loaded

    def __init__(self, runner: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._fetch: PageFetcher | None = None
        self._fetch_many: PageFetcher | None = None
        self._generation = 0
        self._next_cursor: str | None = None
        self._loading = False

    @property
    def loading(self) -> bool:
        return self._loading

    @property
    def has_more(self) -> bool:
        return self._next_cursor is not None

    def load(self, fetch: PageFetcher, fetch_many: PageFetcher | None = None) -> None:
        self._fetch, self._fetch_many = fetch, fetch_many
        self._generation += 1
        self._next_cursor = None
        self._start(fetch, None, self.reset, self.failed)

    def reload(self) -> None:
        if self._fetch is not None:
            self.load(self._fetch, self._fetch_many)

    def clear(self) -> None:
        """Forgets the query (e.g. no property selected) and drops answers still in flight."""
        self._fetch = self._fetch_many = None
        self._generation += 1
        self._next_cursor = None
        self._loading = False

    def load_more(self, many: bool = False) -> None:
        """The next page; `many` asks for a large one (see `fetch_many`)."""
        if self._fetch is None or self._next_cursor is None or self._loading:
            return
        fetch = self._fetch_many if many and self._fetch_many is not None else self._fetch
        self._start(fetch, self._next_cursor, self.appended, self.more_failed)

    def cancel(self) -> None:
        """Drops the page in flight, keeping the query and its cursor: what was loaded stays,
        and the next `load_more` asks for the same page again."""
        if self._loading:
            self._generation += 1
            self._loading = False

    def _start(self, fetch: PageFetcher, cursor: str | None, deliver: Any, fail: Any) -> None:
        generation = self._generation
        self._loading = True
        self.started.emit()

        def succeeded(page: Page[Any]) -> None:
            if generation != self._generation:
                return
            self._loading = False
            self._next_cursor = page.next_cursor
            deliver.emit(page)

        def failed(error: Exception) -> None:
            if generation != self._generation:
                return
            self._loading = False
            fail.emit(error)

        self._runner.run(lambda: fetch(cursor), succeeded, failed)
