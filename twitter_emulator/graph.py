"""Follower and following lists that are never materialised.

A list is a sequence of entries numbered by a *sequence number* (``seq``): the older the follow,
the smaller the number, and the API walks it from the highest number down ("most recent first",
as Twitter documents). The initial entries are a pure function ``seq -> account slot``; entries
added later (mutations) are appended with higher numbers and removals are remembered as a small
set of numbers. Sequence numbers never change, so a cursor that encodes one stays valid while the
list grows at the front or loses entries, as Twitter's cursors do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from math import gcd

logger = logging.getLogger(__name__)


class ContactList:
    """An ordered list of account slots, addressed by stable sequence numbers (1-based)."""

    __slots__ = ("base_count", "_base_member", "_base_seq_of", "added", "_added_seq", "removed")

    def __init__(
        self,
        base_count: int,
        base_member: Callable[[int], int],
        base_seq_of: Callable[[int], int | None] | None = None,
    ) -> None:
        self.base_count = base_count
        self._base_member = base_member
        self._base_seq_of = base_seq_of
        self.added: list[int] = []  # slots appended by mutations; seq = base_count + 1 + index
        self._added_seq: dict[int, int] = {}
        self.removed: set[int] = set()  # seqs no longer in the list

    @property
    def max_seq(self) -> int:
        return self.base_count + len(self.added)

    def __len__(self) -> int:
        return self.max_seq - len(self.removed)

    def member(self, seq: int) -> int:
        if seq > self.base_count:
            return self.added[seq - self.base_count - 1]
        return self._base_member(seq)

    def seq_of(self, slot: int) -> int | None:
        """The sequence number of a current member, or None (needs an inverse for base entries)."""
        seq = self._added_seq.get(slot)
        if seq is None and self._base_seq_of is not None:
            seq = self._base_seq_of(slot)
        if seq is None or seq in self.removed:
            return None
        return seq

    def add(self, slot: int) -> int:
        self.added.append(slot)
        seq = self.max_seq
        self._added_seq[slot] = seq
        return seq

    def remove(self, seq: int) -> None:
        self.removed.add(seq)

    def down(self, start: int) -> Iterator[tuple[int, int]]:
        """(seq, slot) from ``start`` downwards, skipping removed entries."""
        removed = self.removed
        for seq in range(min(start, self.max_seq), 0, -1):
            if seq not in removed:
                yield seq, self.member(seq)

    def next_below(self, seq: int) -> int:
        """The highest live seq strictly below ``seq``, or 0."""
        for s in range(min(seq - 1, self.max_seq), 0, -1):
            if s not in self.removed:
                return s
        return 0

    def up(self, start: int, n: int) -> list[int]:
        """Up to ``n`` live seqs from ``start`` upwards (for negative, "previous page" cursors)."""
        out: list[int] = []
        s = max(start, 1)
        while s <= self.max_seq and len(out) < n:
            if s not in self.removed:
                out.append(s)
            s += 1
        return out

    def has_above(self, seq: int) -> bool:
        return any(s not in self.removed for s in range(seq + 1, self.max_seq + 1))


class Progression:
    """``n`` distinct pool indices out of ``pool`` (``start + j*step mod pool``), skipping one
    index (the account itself). O(1) per member, no storage: used for the lists of accounts
    other than the main one, whose sizes must match their counts but whose members matter less."""

    __slots__ = ("pool", "start", "step", "skip_j")

    def __init__(self, pool: int, h: int, skip_index: int | None) -> None:
        self.pool = pool
        self.start = h % pool
        step = (h >> 24) % max(pool - 1, 1) + 1
        while gcd(step, pool) != 1:
            step += 1
        self.step = step
        self.skip_j = None
        if skip_index is not None and 0 <= skip_index < pool:
            self.skip_j = ((skip_index - self.start) * pow(step, -1, pool)) % pool

    def __call__(self, pos: int) -> int:
        j = pos if self.skip_j is None or pos < self.skip_j else pos + 1
        return (self.start + j * self.step) % self.pool
