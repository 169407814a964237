"""The sidebar's checkable property list (PF-1): every property starts selected."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from app.models.roles import Role, role_slots
from app.services.records import ROLE_NAMES, Property

Index = QModelIndex | QPersistentModelIndex

ROLE_LABELS = {"primary": "Primary contact", "billing": "Billing contact", "other": "Contact"}
# The sidebar chip: short enough to sit beside the property name (the tooltip has the full label).
ROLE_CHIPS = ROLE_NAMES


class PropertiesModel(QAbstractListModel):
    selection_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._properties: list[Property] = []
        self._search_text: list[str] = []  # what the sidebar's search matches, case-folded
        self._checked: set[int] = set()

    def set_properties(self, properties: Sequence[Property]) -> None:
        self.beginResetModel()
        self._properties = sorted(properties, key=lambda p: p.name.casefold())
        self._search_text = [f"{p.name} {p.address}".casefold() for p in self._properties]
        self._checked = {p.id for p in self._properties}
        self.endResetModel()
        self.selection_changed.emit()

    @property
    def properties(self) -> tuple[Property, ...]:
        return tuple(self._properties)

    def selected_ids(self) -> list[int]:
        return [p.id for p in self._properties if p.id in self._checked]

    def all_selected(self) -> bool:
        return len(self._checked) == len(self._properties)

    def set_checked(self, ids: Iterable[int], checked: bool) -> None:
        """Checks or unchecks several properties with one selection_changed."""
        wanted = set(ids)
        before = set(self._checked)
        self._checked = self._checked | wanted if checked else self._checked - wanted
        if before != self._checked:
            self.dataChanged.emit(
                self.index(0), self.index(len(self._properties) - 1), [Qt.ItemDataRole.CheckStateRole]
            )
            self.selection_changed.emit()

    def check_only(self, ids: Iterable[int]) -> None:
        """Checks exactly these properties, with one selection_changed (one reload, not two)."""
        wanted = set(ids) & {p.id for p in self._properties}
        if wanted != self._checked:
            self._checked = wanted
            self.dataChanged.emit(
                self.index(0), self.index(len(self._properties) - 1), [Qt.ItemDataRole.CheckStateRole]
            )
            self.selection_changed.emit()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._properties)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsUserCheckable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._properties):
            return None
        prop = self._properties[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return prop.name
        if role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if prop.id in self._checked else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{prop.name}\n{prop.address}\n{ROLE_LABELS.get(prop.role, prop.role)}"
        if role == Role.SECONDARY:
            return prop.address
        if role == Role.SEARCH:
            return self._search_text[index.row()]
        if role == Role.RECORD:
            return prop
        if role == Role.ID:
            return prop.id
        if role == Role.STATUS:
            return prop.role
        return None

    def multiData(self, index: Index, roleDataSpan: QModelRoleDataSpan | QModelRoleData) -> None:  # noqa: N803
        """A painted row's roles in one Python call rather than one call per role."""
        for role_data in role_slots(roleDataSpan):
            role_data.setData(self.data(index, role_data.role()))

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.CheckStateRole or not index.isValid():
            return False
        checked = Qt.CheckState(value) == Qt.CheckState.Checked
        prop_id = self._properties[index.row()].id
        if (prop_id in self._checked) == checked:
            return True
        if checked:
            self._checked.add(prop_id)
        else:
            self._checked.discard(prop_id)
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.CheckStateRole])
        self.selection_changed.emit()
        return True
