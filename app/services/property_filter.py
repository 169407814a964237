"""Which of the caller's properties a list or the balance covers, as the portal's query names them (PF-2)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PropertyFilter:
    """Some of the caller's properties: those in `ids`, or with `leave_out` every other one.

    A portfolio of a thousand properties with one unticked would otherwise put 999 ids in every URL:
    about 17 KB, past the 8 KB a typical reverse proxy (nginx's default) accepts, so every list would
    fail behind one. Naming the shorter side keeps any selection's URL at most half the portfolio.
    Frozen, so a filter can stand in the query key that tells a late answer from the current one.
    """

    ids: tuple[int, ...]
    leave_out: bool = False

    @classmethod
    def only(cls, ids: Sequence[int]) -> PropertyFilter:
        return cls(tuple(ids))

    @classmethod
    def choosing(cls, selected: Collection[int], every: Collection[int]) -> PropertyFilter | None:
        """The filter for `selected` out of `every` property: None (the portal's default) for all of them."""
        chosen = set(selected)
        if chosen >= set(every):
            return None
        left_out = sorted(set(every) - chosen)
        if len(left_out) < len(chosen):
            return cls(tuple(left_out), leave_out=True)
        return cls(tuple(sorted(chosen)))

    def query(self) -> list[tuple[str, str]]:
        name = "exclude_property_id" if self.leave_out else "property_id"
        return [(name, str(pid)) for pid in self.ids]
