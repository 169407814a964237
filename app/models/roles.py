"""Custom item roles shared by the models, their delegates and the tests."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import cast

from PySide6.QtCore import QModelRoleData, QModelRoleDataSpan, Qt


class Role(IntEnum):
    RECORD = Qt.ItemDataRole.UserRole + 1  # the frozen record behind the row
    ID = Qt.ItemDataRole.UserRole + 2
    STATUS = Qt.ItemDataRole.UserRole + 3  # status key for the chip delegate ("due", "overdue", ...)
    SORT = Qt.ItemDataRole.UserRole + 4  # the value the column sorts by
    SECONDARY = Qt.ItemDataRole.UserRole + 5  # second line of text (property address, role)
    SEARCH = Qt.ItemDataRole.UserRole + 6  # case-folded text a search box matches (property name and address)


def role_slots(span: QModelRoleDataSpan | QModelRoleData) -> Iterable[QModelRoleData]:
    """The slots of a multiData() request (PySide iterates a span; its type stubs do not say so)."""
    return (span,) if isinstance(span, QModelRoleData) else cast(Iterable[QModelRoleData], span)
