"""A visit's page (VI-2): date, services, the notes staff published, and the service contact."""

from __future__ import annotations

from PySide6.QtCore import QSize, QUrl
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPushButton, QVBoxLayout, QWidget

from app.models.branch_day import BranchDay
from app.models.dates import day_heading
from app.services.portal_client import PortalClient
from app.services.records import VisitSummary
from app.services.tasks import OwnedRunner, TaskRunner
from app.services.work_records import VisitDetail
from app.views.detail_pages import make_browser, visit_page
from app.views.detail_support import error_sentence, open_link
from app.views.item_windows import close_with_standard_key, fit_to_screen, reload_with_standard_key
from app.views.theme import theme_changed


class VisitDetailDialog(QDialog):
    def __init__(
        self,
        client: PortalClient,
        runner: TaskRunner,
        visit: VisitSummary,
        day: BranchDay,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        close_with_standard_key(self)
        reload_with_standard_key(self, self.load)
        self.client = client
        self.runner = OwnedRunner(runner, self)
        self.visit = visit
        self.day = day  # the branch's: "Today" is the day the crew comes there
        self.detail: VisitDetail | None = None
        self.problem: str | None = None
        self._generation = 0
        self.setWindowTitle(f"Visit {day_heading(visit.date, day.today())} — {visit.property.name}")
        fit_to_screen(self, QSize(560, 580))

        self.browser = make_browser()
        self.browser.anchorClicked.connect(self._link)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.retry_button = QPushButton("Try again")
        self.retry_button.setAutoDefault(False)
        self.retry_button.clicked.connect(self.load)
        buttons.addButton(self.retry_button, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 12)
        layout.setSpacing(10)
        layout.addWidget(self.browser, 1)
        button_row = QVBoxLayout()
        button_row.setContentsMargins(16, 0, 16, 0)
        button_row.addWidget(buttons)
        layout.addLayout(button_row)
        self._render()
        self.load()
        theme_changed().connect(self._render)  # the page is HTML coloured from the palette in use
        day.changed.connect(self._render)  # "Tomorrow" becomes "Today" at the branch's midnight

    def load(self) -> None:
        """Fetches the detail; an answer to an earlier load that arrives late is ignored."""
        self._generation += 1
        generation = self._generation
        self.problem = None
        self._render()
        client, visit_id = self.client, self.visit.id

        def shown(detail: VisitDetail) -> None:
            if generation == self._generation:
                self.detail = detail
                self.visit = detail.summary
                self._render()

        def failed(error: Exception) -> None:
            if generation == self._generation:
                self.problem = error_sentence(error)
                self._render()

        self.runner.run(lambda: client.visit(visit_id), shown, failed)

    def _render(self) -> None:
        self.retry_button.setVisible(self.problem is not None)
        self.browser.setHtml(
            visit_page(self.visit, self.detail, self.day.today(), self.day.time_zone, problem=self.problem)
        )

    def _link(self, url: QUrl) -> None:
        open_link(url)
