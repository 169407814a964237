"""A filter proxy that passes multiData() through to its Python source model."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QModelRoleData, QModelRoleDataSpan, QPersistentModelIndex, QSortFilterProxyModel


class MultiDataProxy(QSortFilterProxyModel):
    """Qt's proxy answers a painted item's seven roles with seven data() calls, each a call into
    the Python source model; the source's own multiData answers them in one."""

    def multiData(
        self,
        index: QModelIndex | QPersistentModelIndex,
        roleDataSpan: QModelRoleDataSpan | QModelRoleData,  # noqa: N803 (Qt's name)
    ) -> None:
        self.sourceModel().multiData(self.mapToSource(index), roleDataSpan)
