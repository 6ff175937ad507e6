"""A set of user ids whose size follows its members, not the id range.

An implicit population of 1.5e9 users cannot keep a byte per user to remember
who was reached (1.5 GB, and a run may touch a few thousand of them). This set
is an open-addressing hash table with linear probing, held in one ``int64``
numpy array and probed for a whole batch of ids at once: each round of
``contains`` or ``add`` is a few vectorised operations over the ids still
probing, and at a load of at most 0.6 almost all ids settle in one or two
rounds. It costs ~8 / load bytes a member (about 14-27), whatever the range of
the ids.

A table lookup is a cache miss (~50-100 ns an id); a byte per possible id is
several times faster and, up to :data:`MASK_MAX_IDS` ids (16 MiB), costs no
more than the table of a run that reaches a few hundred thousand users.
:func:`id_set` picks one by the id range. Pure numpy; no IO.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MASK_MAX_IDS", "ByteMask", "IdSet", "LowestFirst", "first_occurrences", "id_set"]

_EMPTY = -1
# Fibonacci hashing: multiply by 2^64 / golden ratio (mod 2^64), keep the top bits
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MAX_LOAD = 0.6
#: Up to this many possible ids (16 MiB of bytes), :func:`id_set` uses a :class:`ByteMask`.
MASK_MAX_IDS = 1 << 24


def id_set(n: int, capacity: int = 0) -> ByteMask | IdSet:
    """A set of ids in ``0 .. n-1``: a byte mask for small ranges, else a hash set sized for ``capacity``."""
    return ByteMask(n) if n <= MASK_MAX_IDS else IdSet(capacity)


class ByteMask:
    """A set of ids in ``0 .. n-1`` as one byte per possible id (same interface as :class:`IdSet`)."""

    def __init__(self, n: int) -> None:
        self._mask = np.zeros(n, dtype=bool)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    @property
    def nbytes(self) -> int:
        """Bytes held by the mask."""
        return int(self._mask.nbytes)

    def contains(self, ids: np.ndarray) -> np.ndarray:
        """Boolean mask: which of ``ids`` are members."""
        return self._mask.take(ids)  # = self._mask[ids], a little faster

    def add(self, ids: np.ndarray) -> None:
        """Add ``ids``: distinct ids that are not members yet (the caller's guarantee)."""
        self._mask[ids] = True
        self._n += len(ids)

    def members(self) -> np.ndarray:
        """Every member, in increasing order."""
        return np.flatnonzero(self._mask)


def first_occurrences(users: np.ndarray) -> np.ndarray:
    """Mask of the first occurrence of each user in ``users`` (non-negative ints).

    One plain sort of keys holding the user in the high bits and the position in the
    low bits (faster than the stable argsort behind ``np.unique(..., return_index=True)``):
    within a user, positions sort in order; shifts and masks split a key again.
    """
    k = len(users)
    once = np.zeros(k, dtype=bool)
    if not k:
        return once
    bits = max(1, (k - 1).bit_length())
    if int(users.max()) >= 1 << (62 - bits):  # keys would overflow: the general way
        _, first = np.unique(users, return_index=True)
        once[first] = True
        return once
    keys = users.astype(np.int64)  # a copy
    keys <<= bits
    keys |= np.arange(k)
    keys.sort()
    user = keys >> bits
    head = np.empty(k, dtype=bool)
    head[0] = True
    np.not_equal(user[1:], user[:-1], out=head[1:])
    first = keys[head]
    first &= (1 << bits) - 1
    once[first] = True
    return once


class IdSet:
    """A set of non-negative int64 ids, stored in a hash table grown by doubling.

    Parameters
    ----------
    capacity
        Members expected; the table starts big enough for them (it grows anyway).
    """

    def __init__(self, capacity: int = 0) -> None:
        bits = 10
        while (1 << bits) * _MAX_LOAD < capacity:
            bits += 1
        self._allocate(bits)
        self._n = 0

    def _allocate(self, bits: int) -> None:
        self._bits = bits
        self._mask = (1 << bits) - 1
        self._keys = np.full(1 << bits, _EMPTY, dtype=np.int64)

    def __len__(self) -> int:
        return self._n

    @property
    def nbytes(self) -> int:
        """Bytes held by the table."""
        return int(self._keys.nbytes)

    def _slots(self, ids: np.ndarray) -> np.ndarray:
        h = ids.astype(np.uint64) * _GOLDEN  # wraps modulo 2^64, as intended
        return (h >> np.uint64(64 - self._bits)).astype(np.int64)

    def contains(self, ids: np.ndarray) -> np.ndarray:
        """Boolean mask: which of ``ids`` are members."""
        ids = np.asarray(ids, dtype=np.int64)
        found = np.zeros(len(ids), dtype=bool)
        if not self._n or not len(ids):
            return found
        keys, mask = self._keys, self._mask
        slot = self._slots(ids)
        todo = np.arange(len(ids))
        want = ids
        while len(todo):
            at = keys[slot]
            hit = at == want
            found[todo[hit]] = True
            go_on = ~hit & (at != _EMPTY)  # a different id sits here: probe the next slot
            todo, want = todo[go_on], want[go_on]
            slot = (slot[go_on] + 1) & mask
        return found

    def add(self, ids: np.ndarray) -> None:
        """Add ``ids``: distinct ids that are not members yet (the caller's guarantee)."""
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids):
            return
        if int(ids.min()) < 0:
            raise ValueError("ids must be non-negative")
        if (self._n + len(ids)) > _MAX_LOAD * len(self._keys):
            self._grow(self._n + len(ids))
        self._insert(ids)
        self._n += len(ids)

    def _insert(self, ids: np.ndarray) -> None:
        keys, mask = self._keys, self._mask
        slot = self._slots(ids)
        want = ids
        while len(want):
            free = keys[slot] == _EMPTY
            keys[slot[free]] = want[free]  # several ids may race for one slot: one of them wins
            placed = np.zeros(len(want), dtype=bool)
            placed[free] = keys[slot[free]] == want[free]
            want = want[~placed]
            slot = (slot[~placed] + 1) & mask

    def _grow(self, members: int) -> None:
        old = self._keys
        bits = self._bits
        while (1 << bits) * _MAX_LOAD < members:
            bits += 1
        self._allocate(bits)
        self._insert(old[old != _EMPTY])

    def members(self) -> np.ndarray:
        """Every member, in no particular order."""
        return self._keys[self._keys != _EMPTY].copy()


class LowestFirst:
    """Taken ids of an exchangeable population: every id below a watermark, plus a set.

    When users are interchangeable (nothing about a user depends on its id: an
    annealed social graph, attributes drawn on demand), "k uniformly random users
    not taken yet" may as well be the k lowest ids not taken yet: every later
    random draw is uniform over ids, so it meets those users exactly as often as
    it would meet random ones. :meth:`take_lowest` hands them out by moving a
    watermark, so the push's millions of users cost no memory at all; only the
    users reached at random (followers, share recipients) go into the hash set.
    """

    def __init__(self, n: int, capacity: int = 0) -> None:
        self.n = n
        self.low = 0  # every id below this is taken
        self._others = IdSet(capacity)
        self._above: np.ndarray = np.empty(0, dtype=np.int64)  # sorted ids taken at random, >= low
        self._pending: list[np.ndarray] = []  # taken at random since _above was sorted
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def nbytes(self) -> int:
        """Bytes held by the set of ids taken at random."""
        return self._others.nbytes

    def contains(self, ids: np.ndarray) -> np.ndarray:
        """Boolean mask: which of ``ids`` are taken."""
        ids = np.asarray(ids, dtype=np.int64)
        out = ids < self.low
        rest = np.flatnonzero(~out)
        if len(rest):
            out[rest] = self._others.contains(ids[rest])
        return out

    def add(self, ids: np.ndarray) -> None:
        """Take ``ids`` (distinct, not taken yet) reached at random."""
        ids = np.asarray(ids, dtype=np.int64)
        self._others.add(ids)
        self._pending.append(ids)
        self._count += len(ids)

    def take_lowest(self, k: int) -> np.ndarray:
        """Take the ``k`` lowest ids not taken yet (there must be that many), in increasing order.

        The ids taken at random above the watermark are kept sorted, so the ``k``-th
        free id is found by counting them (a few binary searches), not by probing
        every id of the range.
        """
        if k <= 0:
            return np.empty(0, dtype=np.int64)
        if self._pending:
            self._above = np.sort(np.concatenate([self._above, *self._pending]))
            self._pending = []
        above = self._above[np.searchsorted(self._above, self.low) :]
        last = self.low + k - 1  # the k-th free id: k free ids and every taken one in [low, last]
        while True:
            nxt = self.low + k - 1 + int(np.searchsorted(above, last, side="right"))
            if nxt == last:
                break
            last = nxt
        if last >= self.n:
            raise ValueError(f"fewer than {k} ids are free")
        blocked = above[: int(np.searchsorted(above, last, side="right"))]
        free = np.ones(last - self.low + 1, dtype=bool)
        free[blocked - self.low] = False
        out = self.low + np.flatnonzero(free)
        self.low = last + 1
        self._above = above[len(blocked) :]
        self._count += k
        return out

    def members(self) -> np.ndarray:
        """Every taken id, in no particular order."""
        others = self._others.members()
        return np.concatenate([np.arange(self.low, dtype=np.int64), others[others >= self.low]])
