"""When users open the app: sessions as a Poisson process modulated by a diurnal profile.

Used by both engines (the cohort engine draws a reached user's next session,
the agent engine every user's sessions for the whole horizon). Pure and
vectorised: explicit generators only, no IO.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SessionClock"]


class SessionClock:
    """When a user next opens the app: a Poisson process modulated by a diurnal profile.

    ``profile`` holds the relative intensity of each local hour; it is
    normalised to mean 1, so a user with ``rate_per_h`` has that many sessions
    per hour on average over a day. The next session comes from time-change
    inversion: the cumulative intensity ``W`` is piecewise linear in the local
    hour, so ``W`` and its inverse are evaluated by arithmetic, not by search.
    """

    _CELLS_PER_H = 64  # resolution of the table that finds the hour of a cumulative intensity

    def __init__(self, profile: list[float]) -> None:
        w = np.asarray(profile, dtype=float) + 1e-9
        w = w * 24.0 / w.sum()
        cum = np.concatenate([[0.0], np.cumsum(w)])
        cum[-1] = 24.0  # W(24) = 24 exactly: a day of intensity is 24 hours at mean rate
        self._cum = cum  # W(h) at h = 0..24
        self._w = np.diff(cum)  # intensity of each local hour
        edges = np.arange(24 * self._CELLS_PER_H + 1) / self._CELLS_PER_H
        # the hour whose segment of W contains the left edge of each cell of W ...
        hour = np.minimum(np.searchsorted(cum, edges, side="right") - 1, 23)
        self._cell_hour = hour[:-1]
        # ... and, where the cell lies inside that segment, the inverse as intercept + slope x W
        self._cell_mixed = cum[hour[:-1] + 1] < edges[1:]  # the cell holds the end of an hour
        self._cell_a = hour[:-1] - cum[hour[:-1]] / self._w[hour[:-1]]
        self._cell_b = 1.0 / self._w[hour[:-1]]

    def cumulative(self, local_h: np.ndarray | float) -> np.ndarray:
        """``W(local_h)``: expected sessions (at rate 1 per hour) from local time 0 to ``local_h``."""
        local = np.asarray(local_h, dtype=float)
        days = np.floor(local / 24.0)
        h = local - days * 24.0
        i = np.minimum(h.astype(np.intp), 23)
        return days * 24.0 + self._cum[i] + self._w[i] * (h - i)

    def inverse(self, w: np.ndarray) -> np.ndarray:
        """The local time at which the cumulative intensity reaches ``w`` (the inverse of ``W``)."""
        start = np.floor(w / 24.0)
        start *= 24.0  # the start of the day (hours)
        r = w - start
        cell = (r * self._CELLS_PER_H).astype(np.intp)
        np.minimum(cell, 24 * self._CELLS_PER_H - 1, out=cell)
        local = self._cell_b[cell]
        local *= r
        local += self._cell_a[cell]
        mixed = np.flatnonzero(self._cell_mixed[cell])
        if len(mixed):  # cells that hold the end of an hour (or of several near-empty hours)
            rm = r[mixed]
            i = self._cell_hour[cell[mixed]]
            while True:
                ahead = (rm >= self._cum[i + 1]) & (i < 23)
                if not ahead.any():
                    break
                i = i + ahead
            local[mixed] = i + (rm - self._cum[i]) / self._w[i]
        local += start
        return local

    def next_session(
        self,
        t_h: np.ndarray | float,
        rate_per_h: np.ndarray | float,
        tz_h: np.ndarray | float,
        *,
        rng: np.random.Generator,
        size: int | None = None,
    ) -> np.ndarray:
        """Time (hours) of each user's next session after ``t_h`` (time-change inversion).

        ``size`` is the number of users when every argument is a scalar.
        """
        shapes = {np.shape(t_h), np.shape(rate_per_h), np.shape(tz_h), () if size is None else (size,)} - {()}
        # one array shape (the usual case) needs no np.broadcast_shapes, which costs ~20 us a call
        shape = next(iter(shapes)) if len(shapes) == 1 else np.broadcast_shapes(*shapes)
        w_now = self.cumulative(np.add(t_h, tz_h))  # a scalar when every user shares t_h and tz_h
        target = rng.standard_exponential(shape) / rate_per_h
        target += w_now
        out = self.inverse(target)
        out -= tz_h
        return np.maximum(out, t_h, out=out)
