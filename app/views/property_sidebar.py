"""Left sidebar: the property filter (PF-1, PF-2) and the balance of the selection (PF-3)."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.models.formatting import clock_text, money_text
from app.models.properties import PropertiesModel
from app.models.roles import Role
from app.services.records import Balance
from app.views.delegates import PropertyDelegate
from app.views.fitted_amount import FittedAmount
from app.views.proxy import MultiDataProxy
from app.views.theme import icon, named

# Below this many properties a search box is clutter.
SEARCH_THRESHOLD = 6
# Typing in the search box filters once the typing pauses, not on every key: a click on a
# property, by contrast, applies at once (the main window reloads then, unless its lists are still
# loading for the click before: see MainWindow._selection_changed).
SEARCH_DELAY_MS = 120
# Ctrl+F (Cmd+F) finds in the current list; this one goes to the properties. Nothing else uses it.
FIND_PROPERTY_KEYS = QKeySequence("Ctrl+Shift+F")


class PropertySidebar(QFrame):
    def __init__(self, model: PropertiesModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Sidebar")
        self.model = model
        # Qt filters on the model's prepared search text (name and address, case-folded), so a
        # thousand properties are matched in C++ rather than by a Python call per row; checking a
        # property changes no search text, so check changes need no re-filtering.
        self.proxy = MultiDataProxy(self)
        self.proxy.setSourceModel(model)
        self.proxy.setFilterRole(Role.SEARCH)
        self.proxy.setDynamicSortFilter(False)

        title = named(QLabel("PROPERTIES"), "SidebarTitle")
        self.select_all_button = named(QPushButton("All"), "LinkButton")
        self.select_none_button = named(QPushButton("None"), "LinkButton")
        for button in (self.select_all_button, self.select_none_button):
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setAutoDefault(False)
        self.select_all_button.setAccessibleName("Select all properties")
        self.select_none_button.setAccessibleName("Select no properties")
        self.search_edit = QLineEdit(placeholderText="Find a property", clearButtonEnabled=True)
        self.search_edit.setAccessibleName("Find a property")
        keys = FIND_PROPERTY_KEYS.toString(QKeySequence.SequenceFormat.NativeText)
        self.search_edit.setToolTip(
            f"Find a property ({keys}). Down moves into the list; Enter shows only the properties found."
        )
        self.search_edit.setAccessibleDescription(
            "Down moves into the list of properties; Enter shows only the properties found"
        )
        self.search_edit.installEventFilter(self)
        self.search_edit.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        # Says why the list below is empty: a blank list looked as if no property had loaded.
        self.no_match_label = named(QLabel(""), "Hint")
        self.no_match_label.setWordWrap(True)
        self.no_match_label.hide()
        # A plain list, not activation.SteadyOnActivation: its focus ring (style.qss, #PropertyList:focus)
        # follows hasFocus(), which changes when the window does, so it must repaint then.
        self.list_view = named(QListView(), "PropertyList")
        self.list_view.setModel(self.proxy)
        self.list_view.setAccessibleName("Properties")
        self.list_view.setAccessibleDescription(
            "Check the properties whose items the lists show; Space checks or unchecks"
        )
        self.list_view.setItemDelegate(PropertyDelegate(self.list_view))
        self.list_view.setSelectionMode(QListView.SelectionMode.NoSelection)
        self.list_view.setUniformItemSizes(True)
        self.list_view.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)

        self.stale = False
        self.balance_card = card = named(QFrame(), "BalanceCard")
        self.balance_caption = named(QLabel("CURRENT BALANCE"), "BalanceCaption")
        # Money is never cut (a clipped "$950,260.7" is a wrong amount): the font steps down instead.
        self.balance_label = named(FittedAmount("—"), "BalanceAmount")
        self.balance_detail = named(QLabel(""), "BalanceDetail")
        self.credits_label = named(QLabel(""), "CreditsLine")
        for label in (self.balance_detail, self.credits_label):
            label.setWordWrap(True)
        card.setAccessibleName("Current balance")
        card_layout = QVBoxLayout(card)
        card_layout.setContentsMargins(16, 14, 16, 14)
        card_layout.setSpacing(4)
        card_layout.addWidget(self.balance_caption)
        card_layout.addWidget(self.balance_label)
        card_layout.addWidget(self.balance_detail)
        card_layout.addWidget(self.credits_label)

        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch()
        header.addWidget(self.select_all_button)
        header.addWidget(self.select_none_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 18, 16, 16)
        layout.setSpacing(10)
        layout.addLayout(header)
        layout.addWidget(self.search_edit)
        layout.addWidget(self.no_match_label)
        layout.addWidget(self.list_view, 1)
        layout.addWidget(card)

        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_search)
        self.search_edit.textChanged.connect(self._search_typed)
        self.select_all_button.clicked.connect(lambda: self._check_visible(True))
        self.select_none_button.clicked.connect(lambda: self._check_visible(False))
        model.modelReset.connect(self._properties_changed)
        model.selection_changed.connect(self._update_buttons)
        self.list_view.clicked.connect(self._toggle)
        self._properties_changed()

    def focus_search(self) -> None:
        """The property search (FIND_PROPERTY_KEYS), its text selected to type over; with too few
        properties for a search box, the list itself."""
        if self.search_edit.isVisibleTo(self):
            self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
            self.search_edit.selectAll()
        else:
            self.list_view.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """In the search box, Down goes on to the properties found (Space then checks one) and Enter
        shows only those. Enter does not toggle the first match: every property starts checked, so
        toggling would hide the very property the user typed the name of."""
        if watched is self.search_edit and isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress:
            if event.key() == Qt.Key.Key_Down:
                self.enter_list()
                return True
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.show_only_found()
                return True
        return super().eventFilter(watched, event)

    def enter_list(self) -> None:
        self.apply_search()  # typed a moment ago: the list is filtered before the focus goes there
        if self.proxy.rowCount() == 0:
            return
        if not self.list_view.currentIndex().isValid():
            self.list_view.setCurrentIndex(self.proxy.index(0, 0))
        self.list_view.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_only_found(self) -> None:
        self.apply_search()
        if not self.search_edit.text().strip() or self.proxy.rowCount() == 0:
            return
        self.model.check_only(self.proxy.index(row, 0).data(Role.ID) for row in range(self.proxy.rowCount()))

    def _set_card_stale(self, stale: bool) -> None:
        """Restyles the card only when its look changes: every balance that arrives (each property
        filter change) restyled it and its labels, and relaid the sidebar out, for nothing."""
        if self.balance_card.property("stale") is not stale:
            self.balance_card.setProperty("stale", stale)
            self._repolish(self.balance_card)

    @staticmethod
    def _repolish(widget: QWidget) -> None:
        """Re-applies the style sheet to the card and its labels after the dynamic property it
        selects on changed (Qt does not restyle on its own)."""
        for each in (widget, *widget.findChildren(QLabel)):
            each.style().unpolish(each)
            each.style().polish(each)

    def _search_typed(self, text: str) -> None:
        if text.strip():
            self._search_timer.start()
        else:
            self.apply_search()  # cleared (the clear button, another branch): the whole list at once

    def apply_search(self) -> None:
        """Filters the list by the search box now (the box itself waits for a pause in typing)."""
        self._search_timer.stop()
        text = self.search_edit.text().strip()
        self.proxy.setFilterFixedString(text.casefold())
        none_found = bool(text) and self.proxy.rowCount() == 0
        self.no_match_label.setText(f"No property matches “{text}”." if none_found else "")
        self.no_match_label.setVisible(none_found)
        self._update_buttons()

    def _toggle(self, proxy_index: object) -> None:
        """A click anywhere on the row toggles it, not only on the small box."""
        index = self.proxy.mapToSource(proxy_index)  # type: ignore[arg-type]
        current = Qt.CheckState(index.data(Qt.ItemDataRole.CheckStateRole))
        flipped = Qt.CheckState.Unchecked if current == Qt.CheckState.Checked else Qt.CheckState.Checked
        self.model.setData(index, flipped.value, Qt.ItemDataRole.CheckStateRole)

    def _check_visible(self, checked: bool) -> None:
        """With a search active, "Select all" / "None" act on the properties found."""
        self.apply_search()
        ids = [self.proxy.index(row, 0).data(Role.ID) for row in range(self.proxy.rowCount())]
        self.model.set_checked(ids, checked)

    def _properties_changed(self) -> None:
        self.search_edit.setVisible(self.model.rowCount() >= SEARCH_THRESHOLD)
        self._update_buttons()

    def _update_buttons(self) -> None:
        """All / None act on the properties listed (with a search, the ones found), so each is
        enabled only when it would change one of those. With a search that finds nothing both
        are off and their tooltip says why: "None" stayed enabled there and silently did nothing,
        and acting on the hidden properties instead would change what the user cannot see."""
        total, listed = self.model.rowCount(), self.proxy.rowCount()
        if listed == total:
            checked = len(self.model.selected_ids())
            all_tip, none_tip = "Check every property", "Uncheck every property"
        else:
            selected = set(self.model.selected_ids())
            checked = sum(self.proxy.index(row, 0).data(Role.ID) in selected for row in range(listed))
            all_tip, none_tip = "Check the properties found", "Uncheck the properties found"
        if listed == 0 and total > 0:
            all_tip = none_tip = "No property is listed: change or clear the search to choose properties."
        self.select_all_button.setEnabled(checked < listed)
        self.select_none_button.setEnabled(checked > 0)
        self.select_all_button.setToolTip(all_tip)
        self.select_none_button.setToolTip(none_tip)

    # -- balance -------------------------------------------------------------------

    def show_balance_loading(self) -> None:
        self.balance_detail.setText("Updating…")

    def show_balance(self, balance: Balance, currency: str) -> None:
        self.stale = False
        self._set_card_stale(False)
        self.balance_card.setToolTip("")
        self._show_amount(money_text(balance.current_balance, currency))
        selected, total = len(self.model.selected_ids()), self.model.rowCount()
        scope = "all properties" if selected == total else f"{selected} of {total} properties"
        due = balance.due_invoice_count
        invoices = "No invoices due" if due == 0 else f"{due} invoice{'s' if due != 1 else ''} due"
        self.balance_detail.setText(f"{invoices} · {scope}")
        if balance.unapplied_credits > 0:
            # Plain words: "Unapplied credits … (not deducted above)" is the bookkeeper's phrase.
            self.credits_label.setText(
                f"{money_text(balance.unapplied_credits, currency)} in credit, not yet applied to an invoice"
            )
            self.credits_label.show()
        else:
            self.credits_label.hide()

    def show_no_selection(self) -> None:
        """No property checked: no amount at all, as "$0.00" read as "nothing owed" when nothing was asked."""
        self.stale = False
        self._set_card_stale(False)
        self.balance_card.setToolTip("")
        self._show_amount("—")
        self.balance_detail.setText("No property selected")
        self.credits_label.hide()

    def mark_balance_stale(self, loaded_at: datetime, reason: str) -> None:
        """Keeps the amount last loaded for the same properties, saying it may be out of date."""
        self.stale = True
        self._set_card_stale(True)
        self.balance_card.setToolTip(reason)
        self.balance_detail.setText(f"Not up to date · as of {clock_text(loaded_at)}")

    def show_balance_error(self, message: str) -> None:
        self.stale = False
        self._show_amount("—")
        self.balance_detail.setText(message)
        self.credits_label.hide()

    def _show_amount(self, text: str) -> None:
        """The exact amount is also the label's tooltip and accessible name, whatever size it is drawn at."""
        self.balance_label.setText(text)
        amount = text if text != "—" else "none"
        self.balance_label.setToolTip(f"Current balance: {amount}" if text != "—" else "")
        self.balance_label.setAccessibleName(f"Current balance: {amount}")
