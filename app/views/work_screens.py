"""Opens the visit and request windows from the main window's tabs (issue 6).

Kept out of MainWindow so that window only wires signals. A closed visit window is deleted (it
holds nothing the user made, and each one kept cost memory and a repaint at every theme change);
a closed request window stays alive (hidden) only while its reply box holds an unsent reply, so
reopening the request finds it again.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from app.models.roles import Role
from app.services.records import InvoiceSummary, Property, ProposalSummary, RequestSummary, VisitSummary
from app.views.item_windows import present
from app.views.requests_tab import RequestsTab

if TYPE_CHECKING:  # imported when first opened, or in the background once the app is idle
    from app.views.new_request_dialog import NewRequestDialog
    from app.views.request_detail import RequestDetailDialog
    from app.views.sign_dialog import SignDialog
    from app.views.visit_detail import VisitDetailDialog

if TYPE_CHECKING:
    from app.views.main_window import MainWindow


def ask_discard_drafts(parent: QWidget, drafts: list[str], action: str) -> bool:
    """True when the user chooses to throw their unsent work away and `action` (Quit, Sign out,
    End assist, Switch branch); Keep editing is the default, as in the New request dialog's own question."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        action,
        "Discard what you have not sent yet?",
        QMessageBox.StandardButton.NoButton,
        parent,
    )
    box.setInformativeText("\n".join(drafts))
    discard = box.addButton(f"Discard and {action.lower()}", QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("Keep editing", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep)
    box.setEscapeButton(keep)
    box.exec()
    return box.clickedButton() is discard


class WorkScreens(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.visit_dialogs: dict[tuple[str, int], VisitDetailDialog] = {}
        self.request_dialogs: dict[tuple[str, int], RequestDetailDialog] = {}
        self.new_request_dialog: NewRequestDialog | None = None
        window.tabs["visits"].item_activated.connect(self.open_visit)
        requests_tab = window.tabs["requests"]
        requests_tab.item_activated.connect(self.open_request)
        if isinstance(requests_tab, RequestsTab):
            requests_tab.new_request_requested.connect(self.new_request)
        window.monitor.restored.connect(self._portal_back)

    def _portal_back(self) -> None:
        """The portal answers again: an open visit or request window that could not load tries
        again, as the lists do, instead of saying "Cannot reach the portal" until clicked."""
        dialogs: list[VisitDetailDialog | RequestDetailDialog] = [
            *self.visit_dialogs.values(),
            *self.request_dialogs.values(),
        ]
        for dialog in dialogs:
            if dialog.isVisible() and dialog.problem is not None:
                dialog.load()

    def open_visit(self, visit: VisitSummary) -> VisitDetailDialog:
        key = (self.window.session.portal_url, visit.id)
        dialog = self.visit_dialogs.get(key)
        if dialog is None:
            from app.views.visit_detail import VisitDetailDialog

            window = self.window
            dialog = VisitDetailDialog(window.session.client, window.runner, visit, window.branch_day, window)
            dialog.finished.connect(partial(self._visit_closed, key, dialog))
            self.visit_dialogs[key] = dialog
        else:
            dialog.load()
        present(dialog)
        return dialog

    def open_request(self, request: RequestSummary) -> RequestDetailDialog:
        session = self.window.session
        key = (session.portal_url, request.id)
        dialog = self.request_dialogs.get(key)
        if dialog is None:
            from app.views.request_detail import RequestDetailDialog

            zone = session.config.branch.time_zone
            dialog = RequestDetailDialog(
                session.client, self.window.runner, request, session.user.name, zone, self.window
            )
            dialog.posted.connect(partial(self._reply_posted, key, dialog))
            dialog.finished.connect(partial(self._request_closed, key, dialog))
            dialog.viewers_closed.connect(partial(self._request_closed, key, dialog))
            self.request_dialogs[key] = dialog
        else:
            dialog.load()
        present(dialog)
        return dialog

    def new_request(self) -> NewRequestDialog:
        """Offers the properties checked in the sidebar, or every property when none is; the one
        meant is chosen only when known (see _meant_property)."""
        if self.new_request_dialog is not None and self.new_request_dialog.isVisible():
            present(self.new_request_dialog)
            return self.new_request_dialog
        model = self.window.properties_model
        selected = set(model.selected_ids())
        choices: list[Property] = [p for p in model.properties if p.id in selected] or list(model.properties)
        from app.views.new_request_dialog import NewRequestDialog

        session = self.window.session
        dialog = NewRequestDialog(
            session.client,
            self.window.runner,
            choices,
            session.config.branch.name,
            self.window,
            preselected=self._meant_property(choices),
        )
        dialog.finished.connect(lambda result: self._new_request_finished(dialog, result))
        self.new_request_dialog = dialog
        dialog.open()
        return dialog

    def _meant_property(self, choices: list[Property]) -> int | None:
        """The property of the row highlighted in the current tab, if it is one of `choices` (a
        single choice is chosen by the form itself). The first of a thousand had been chosen: a
        request filed against the wrong property emails the wrong account owner (RQ-3)."""
        table = self.window.current_tab().table
        index = table.currentIndex()
        if not index.isValid() or not table.selectionModel().isSelected(index):
            return None
        record = index.data(Role.RECORD)
        if not isinstance(record, ProposalSummary | VisitSummary | InvoiceSummary | RequestSummary):
            return None
        return record.property.id if record.property.id in {p.id for p in choices} else None

    def unsent_drafts(self) -> list[tuple[str, QDialog]]:
        """The windows holding text, files or a signature not sent yet, each with a line naming it:
        request windows (open, or closed and kept hidden with their reply), the New request form
        and a proposal's sign window with a signature drawn or a name typed. What is being sent is
        no draft: it waits for the portal's answer (see MainWindow._waiting_for_portal), never to be
        discarded."""
        drafts: list[tuple[str, QDialog]] = [
            (f"Your reply to {dialog.summary.number} “{dialog.summary.subject}”", dialog)
            for dialog in self.request_dialogs.values()
            if not dialog.composer.is_empty() and not dialog.waiting_for_portal
        ]
        new_request = self.new_request_dialog
        if new_request is not None and new_request.has_draft() and not new_request.waiting_for_portal:
            drafts.append(("Your new request", new_request))
        for sign in self._sign_dialogs():
            if sign.has_draft() and not sign.waiting_for_portal:
                drafts.append((f"Your signature on {sign.proposal.number} “{sign.proposal.title}”", sign))
        return drafts

    def _sign_dialogs(self) -> list[SignDialog]:
        windows = self.window.proposal_windows.open()
        return [window.sign_dialog for window in windows if window.sign_dialog is not None]

    def discard_drafts(self) -> None:
        """The user chose to throw the drafts away: emptied now, so nothing asks about them again
        (the New request form closes without its own "Discard?" question)."""
        for dialog in self.request_dialogs.values():
            if not dialog.waiting_for_portal:
                dialog.composer.clear()
        new_request = self.new_request_dialog
        if new_request is not None and not new_request.waiting_for_portal:  # its own reject() refuses too
            new_request.done(QDialog.DialogCode.Rejected)
        for sign in self._sign_dialogs():
            if not sign.waiting_for_portal:  # its reject() would ask again
                sign.done(QDialog.DialogCode.Rejected)

    def drop_windows(self) -> None:
        """The branch was switched and its windows closed: the visit and request windows kept
        hidden for reopening go too, or the new branch would reopen them on the old session."""
        for dialog in [*self.visit_dialogs.values(), *self.request_dialogs.values()]:
            dialog.deleteLater()
        self.visit_dialogs.clear()
        self.request_dialogs.clear()

    def _visit_closed(self, key: tuple[str, int], dialog: VisitDetailDialog, _result: int) -> None:
        if self.visit_dialogs.get(key) is dialog:
            del self.visit_dialogs[key]
        dialog.deleteLater()

    def _request_closed(self, key: tuple[str, int], dialog: RequestDetailDialog, _result: int = 0) -> None:
        """Deleted unless its reply box holds a reply not sent yet (also one being sent: a failure
        brings the window back with it), or an attachment window it opened is still open (its child:
        deleting the request window closed the document and stopped its printing)."""
        if not dialog.composer.is_empty() or dialog.isVisible() or dialog.has_open_viewer():
            return
        if self.request_dialogs.get(key) is dialog:
            del self.request_dialogs[key]
        dialog.deleteLater()

    def _reply_posted(self, key: tuple[str, int], dialog: RequestDetailDialog, _comment: object) -> None:
        """The list shows the new activity; a window closed while its reply was out goes now."""
        self.window.load_tab("requests")
        self._request_closed(key, dialog)

    def _new_request_finished(self, dialog: NewRequestDialog, result: int) -> None:
        if self.new_request_dialog is dialog:
            self.new_request_dialog = None
        created = dialog.created
        dialog.deleteLater()
        if result != QDialog.DialogCode.Accepted or created is None:
            return
        self.window.load_tab("requests")
        self.window.statusBar().showMessage(
            f"Request {created.summary.number} was sent. Your service company has been notified.", 8000
        )
