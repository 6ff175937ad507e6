"""What a viewer does with a video: a pure, vectorised function of (user, video).

Engagement ``e`` in [0, 1] combines the video's appeal with the viewer's
interest in its true topic; the watch fraction is Beta-distributed with a
mean that rises with ``e`` (and falls with duration); every action is a
Bernoulli draw whose probability rises with ``e`` and with the viewer's own
propensity. No state, no IO.

How it is drawn (the model above, computed cheaply). Everything depends on a
view only through ``e``, so it is tabulated once per (video, behaviour) on a
grid of ``e`` (:class:`Viewing`, cached):

- the watch fraction is the Beta quantile function at a uniform draw, read from
  a table over (e, u) by bilinear interpolation (error ~1e-4 of the fraction);
- a viewer's propensity for an action (log-normal, mean 1) is used in one
  Bernoulli trial only (a user views a video once), so it is integrated out:
  the action happens with probability ``E[min(1, p x propensity)]``, exactly;
- actions are rare, so their Bernoulli trials are drawn by geometric skips
  (O(expected events), not O(views)); each action comes back as the sorted
  indices of the views that took it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from viralsim.model.beta import beta_quantile_table
from viralsim.model.population import ACTIONS
from viralsim.scenario import Behaviour, Video

__all__ = [
    "ACTION_COLUMNS",
    "ViewOutcomes",
    "Viewing",
    "action_probability",
    "engagement",
    "mean_watch_fraction",
    "view_outcomes",
]

#: Views-log column of each action, in the order of ``ACTIONS``.
ACTION_COLUMNS = ("liked", "commented", "shared", "followed", "profile_click")

_E_ROWS = 129  # engagement grid of the watch-fraction table
_U_COLS = 2049  # uniform-draw grid of the watch-fraction table
_P_ROWS = 1025  # engagement grid of the action probabilities
_TAIL_STEP = 0.25
_TAIL_LOG2 = np.arange(11.0, 26.0 + _TAIL_STEP / 2, _TAIL_STEP)  # -log2 t: from the edge cell (1/2048) out
_DENSE_ABOVE = 0.3  # above this probability a Bernoulli draw per view beats geometric skips


def engagement(interest: np.ndarray, video: Video, behaviour: Behaviour) -> np.ndarray:
    """Engagement in [0, 1] of viewers with ``interest`` (in [0, 1]) in the video's topic."""
    floor = behaviour.interest_floor
    e = video.appeal * (floor + (1.0 - floor) * np.asarray(interest, dtype=float))
    e = e * (1.0 - behaviour.novelty_weight * (1.0 - video.originality)) * (1.0 + video.trend_boost)
    return np.clip(e, 0.0, 1.0)


def mean_watch_fraction(e: np.ndarray, video: Video, behaviour: Behaviour) -> np.ndarray:
    """Mean watch fraction in (0, 1) at engagement ``e``; longer videos are watched less."""
    b = behaviour
    mu = b.watch_fraction_min + (b.watch_fraction_max - b.watch_fraction_min) * e
    mu = mu * min(1.0, (b.reference_duration_s / video.duration_s) ** b.duration_elasticity)
    return np.clip(mu, 1e-3, 1.0 - 1e-3)


def _upper_tail(x: np.ndarray) -> np.ndarray:
    """Standard normal upper tail ``P(Z > x)`` (Chebyshev fit of erfc, relative error < 1.2e-7)."""
    z = np.abs(x) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.5 * z)
    with np.errstate(over="ignore", invalid="ignore"):  # far tails: exp(-inf) = 0
        poly = (
            -z * z
            - 1.26551223
            + t
            * (
                1.00002368
                + t
                * (
                    0.37409196
                    + t
                    * (
                        0.09678418
                        + t
                        * (
                            -0.18628806
                            + t
                            * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))
                        )
                    )
                )
            )
        )
        erfc = t * np.exp(poly)
    return 0.5 * np.where(x >= 0, erfc, 2.0 - erfc)


def action_probability(c: np.ndarray, spread: float) -> np.ndarray:
    """``E[min(1, c X)]`` for a log-normal propensity ``X`` (mean 1, sigma ``spread``).

    With ``t = spread/2 - ln(c)/spread`` it is ``c + Q(t) - c Q(t - spread)``
    (``Q`` the normal upper tail): ``c`` itself unless ``c X`` can exceed 1.
    """
    c = np.asarray(c, dtype=float)
    if spread <= 0:
        return np.minimum(c, 1.0)
    with np.errstate(divide="ignore", over="ignore"):
        t = spread / 2.0 - np.log(c) / spread
    p = c + _upper_tail(t) - c * _upper_tail(t - spread)
    return np.clip(np.where(c > 0, p, 0.0), 0.0, 1.0)


@dataclass(frozen=True)
class ViewOutcomes:
    """Outcomes of ``n`` views: watch time, completion, and the views that took each action."""

    watch_s: np.ndarray  # float32 seconds watched
    completed: np.ndarray  # bool
    actions: dict[str, np.ndarray]  # column name (``ACTION_COLUMNS``) -> sorted indices of the views

    def __len__(self) -> int:
        return len(self.watch_s)

    def column(self, name: str) -> np.ndarray:
        """One outcome as a boolean column (``completed`` or an action)."""
        if name == "completed":
            return self.completed
        col = np.zeros(len(self), dtype=bool)
        col[self.actions[name]] = True
        return col

    def head(self, k: int) -> ViewOutcomes:
        """The outcomes of the first ``k`` views."""
        return ViewOutcomes(
            self.watch_s[:k],
            self.completed[:k],
            {c: idx[: int(np.searchsorted(idx, k))] for c, idx in self.actions.items()},
        )


class Viewing:
    """How viewers react to one video under one behaviour, tabulated over engagement.

    Build with :func:`viewing` (cached: the tables depend only on the parameters).
    """

    def __init__(self, video: Video, behaviour: Behaviour, propensity_spread: float) -> None:
        b = behaviour
        self.video, self.behaviour = video, behaviour
        # engagement is monotone in interest: its range over interests in [0, 1]
        lo, hi = (float(x) for x in engagement(np.array([0.0, 1.0]), video, b))
        self._lo, self._width = lo, max(hi - lo, 1e-12)
        e = lo + self._width * np.linspace(0.0, 1.0, _E_ROWS)
        mu = mean_watch_fraction(e, video, b)
        u = np.linspace(0.0, 1.0, _U_COLS)
        table = np.empty((_E_ROWS, _U_COLS), dtype=np.float32)
        k = b.watch_concentration
        with np.errstate(divide="ignore"):
            lu_grid = np.log(u) - np.log1p(-u)
        # the first and last cells of u, where the quantile function can be steep: logit x
        # on a grid of log2 of the tail probability t (u = t or u = 1 - t)
        t = 2.0**-_TAIL_LOG2
        lu_tail = np.log(t) - np.log1p(-t)
        tails = np.empty((2, _E_ROWS, len(t)))
        for row, m in enumerate(mu):
            lu, lx = beta_quantile_table(m * k, (1.0 - m) * k, step=0.003)
            table[row] = np.exp(-np.logaddexp(0.0, -np.interp(lu_grid, lu, lx)))
            tails[0, row] = np.interp(lu_tail, lu, lx)
            tails[1, row] = np.interp(-lu_tail, lu, lx)
        table[:, 0], table[:, -1] = 0.0, 1.0
        self._watch = table.ravel()
        self._tails = tails.ravel()
        e_fine = lo + self._width * np.linspace(0.0, 1.0, _P_ROWS)
        lift = (e_fine / 0.5) ** b.engagement_elasticity
        self._p = {
            col: action_probability(getattr(b, f"p_{a}") * lift, propensity_spread)
            for a, col in zip(ACTIONS, ACTION_COLUMNS, strict=True)
        }

    def engagement(self, interest: np.ndarray) -> np.ndarray:
        """Engagement of viewers with ``interest`` (the same as :func:`engagement`)."""
        return engagement(interest, self.video, self.behaviour)

    def probability(self, action: str, e: np.ndarray) -> np.ndarray:
        """Probability that a viewer at engagement ``e`` takes ``action`` (a column name)."""
        pos = np.clip((np.asarray(e, dtype=float) - self._lo) / self._width, 0.0, 1.0) * (_P_ROWS - 1)
        return self._interp(self._p[action], pos)

    @staticmethod
    def _gaps(p: float, size: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """Geometric(p) gaps (trials up to and including a success), capped at ``n + 1``."""
        if p >= 1.0:
            return np.ones(size, dtype=np.int64)
        with np.errstate(divide="ignore", over="ignore"):  # a tiny p: gaps beyond every view
            g = np.floor(np.log(1.0 - rng.random(size)) / math.log1p(-p)) + 1.0
        return np.minimum(g, n + 1).astype(np.int64)

    @staticmethod
    def _interp(table: np.ndarray, pos: np.ndarray) -> np.ndarray:
        i = np.minimum(pos.astype(np.intp), len(table) - 2)
        return table[i] + (pos - i) * (table[i + 1] - table[i])

    def outcomes(self, interest: np.ndarray, *, rng: np.random.Generator) -> ViewOutcomes:
        """Draw the outcomes of one view per viewer with ``interest`` in the video's topic."""
        n = len(interest)
        pos = self._position(interest)
        # watch fraction: bilinear in (engagement row, uniform draw); in place where it can be,
        # the same arithmetic as a + w (b - a) term by term
        fe = pos * (_E_ROWS - 1)
        row = fe.astype(np.intp)
        np.minimum(row, _E_ROWS - 2, out=row)
        we = (fe - row).astype(np.float32)
        fu = rng.random(n, dtype=np.float32)
        fu *= np.float32(_U_COLS - 1)
        col = fu.astype(np.intp)
        wu = col.astype(np.float32)
        np.subtract(fu, wu, out=wu)
        k = row * _U_COLS
        k += col
        t = self._watch
        top = _lerp(t, k, wu)  # row e, columns u and u + 1
        k += _U_COLS
        up = _lerp(t, k, wu)  # row e + 1
        up -= top
        up *= we
        top += up
        edge = np.flatnonzero((col == 0) | (col == _U_COLS - 2))
        if len(edge):
            top[edge] = self._tail_quantile(fe[edge], fu[edge] / np.float32(_U_COLS - 1))
        completed = top >= np.float32(self.behaviour.completion_at_fraction)
        top *= np.float32(self.video.duration_s)
        pos *= _P_ROWS - 1
        return ViewOutcomes(top, completed, self._actions(pos, rng))

    def _position(self, interest: np.ndarray) -> np.ndarray:
        """Where viewers with ``interest`` fall on the engagement grid, in [0, 1] (a new array).

        The arithmetic of :func:`engagement` (then the shift and scale to the grid), done in place.
        """
        b, v = self.behaviour, self.video
        floor = b.interest_floor
        e = np.asarray(interest, dtype=float) * (1.0 - floor)
        e += floor
        e *= v.appeal
        e *= 1.0 - b.novelty_weight * (1.0 - v.originality)
        e *= 1.0 + v.trend_boost
        np.clip(e, 0.0, 1.0, out=e)
        e -= self._lo
        e /= self._width
        return np.clip(e, 0.0, 1.0, out=e)

    def _tail_quantile(self, fe: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Watch fractions of uniform draws ``u`` in the first or last cell (nearest e row, linear in log2 t)."""
        upper = u > 0.5
        t = np.where(upper, 1.0 - u.astype(float), u)
        with np.errstate(divide="ignore"):  # u = 0: the far end of the grid
            fs = np.minimum(-np.log2(t) - _TAIL_LOG2[0], _TAIL_LOG2[-1] - _TAIL_LOG2[0]) / _TAIL_STEP
        j = np.minimum(fs.astype(np.intp), len(_TAIL_LOG2) - 2)
        k = ((upper * _E_ROWS) + (fe + 0.5).astype(np.intp)) * len(_TAIL_LOG2) + j
        lo = self._tails[k]
        logit = lo + (fs - j) * (self._tails[k + 1] - lo)
        return np.exp(-np.logaddexp(0.0, -logit))

    def _actions(self, pos: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Sorted indices of the views taking each action, the probability of view i being ``table(pos[i])``.

        Rare actions are drawn by geometric skips: candidates form a Bernoulli(p_max)
        process (gaps by inversion), thinned to ``p / p_max``; every action's process is
        drawn in the same vectorised pass. Frequent actions get one uniform a view.
        """
        n = len(pos)
        out = {c: np.empty(0, dtype=np.intp) for c in ACTION_COLUMNS}
        if n == 0:
            return out
        rows = slice(int(pos.min()), int(pos.max()) + 2)  # the table rows the views fall between
        skip: list[tuple[str, float, int]] = []
        for c in ACTION_COLUMNS:
            p_max = float(self._p[c][rows].max())
            if p_max > _DENSE_ABOVE:
                out[c] = np.flatnonzero(rng.random(n) < self._interp(self._p[c], pos))
            elif p_max > 0.0:
                mean = n * p_max
                skip.append((c, p_max, int(mean + 5.0 * math.sqrt(mean) + 10)))
        if not skip:
            return out
        sizes = [size for _, _, size in skip]
        seg = np.repeat(np.arange(len(skip)), sizes)
        with np.errstate(divide="ignore", over="ignore"):  # a tiny p: gaps beyond every view
            log_q = np.log1p(-np.array([p for _, p, _ in skip]))
            gaps = np.floor(np.log(1.0 - rng.random(len(seg))) / log_q[seg]) + 1.0
        np.minimum(gaps, n + 1, out=gaps)
        at = np.cumsum(gaps.astype(np.int64))
        ends = np.cumsum(sizes)
        before = np.concatenate([[0], at[ends[:-1] - 1]])
        at -= np.repeat(before, sizes) + 1  # each action's own process, from view 0
        keep = at < n
        u = rng.random(len(seg))
        for j, (c, p, _) in enumerate(skip):
            lo, hi = ends[j] - sizes[j], ends[j]
            if at[hi - 1] < n - 1:  # rare: the draw did not cover every view
                out[c] = self._events(self._p[c], pos, rng)
                continue
            cand = at[lo:hi][keep[lo:hi]]
            out[c] = cand.compress(u[lo:hi][keep[lo:hi]] * p < self._interp(self._p[c], pos[cand]))
        return out

    def _events(self, table: np.ndarray, pos: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Sorted indices of the views where an event of probability ``table(pos)`` happens (one action)."""
        n = len(pos)
        p_max = float(table[int(pos.min()) : int(pos.max()) + 2].max())
        mean = n * p_max
        at = np.cumsum(self._gaps(p_max, int(mean + 5.0 * math.sqrt(mean) + 10), n, rng)) - 1
        while at[-1] < n - 1:
            at = np.concatenate([at, at[-1] + np.cumsum(self._gaps(p_max, int(mean + 10), n, rng))])
        at = at[: int(np.searchsorted(at, n))]
        keep = rng.random(len(at)) * p_max < self._interp(table, pos[at])
        return at[keep]


def _lerp(table: np.ndarray, k: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``table[k] + w (table[k + 1] - table[k])``, as a new array (``k`` is restored)."""
    a = table[k]
    k += 1
    b = table[k]
    k -= 1
    b -= a
    b *= w
    b += a
    return b


_CACHE: dict[tuple[str, str, float], Viewing] = {}  # a memo of pure tables, never of random state


def viewing(video: Video, behaviour: Behaviour, propensity_spread: float) -> Viewing:
    """The :class:`Viewing` tables of a video, a behaviour and a propensity spread (memoised)."""
    key = (video.model_dump_json(), behaviour.model_dump_json(), float(propensity_spread))
    found = _CACHE.get(key)
    if found is None:
        if len(_CACHE) >= 16:
            _CACHE.pop(next(iter(_CACHE)))
        found = _CACHE[key] = Viewing(video, behaviour, float(propensity_spread))
    return found


def view_outcomes(
    interest: np.ndarray,
    video: Video,
    behaviour: Behaviour,
    *,
    propensity_spread: float,
    rng: np.random.Generator,
) -> ViewOutcomes:
    """Outcomes of one view per row.

    Parameters
    ----------
    interest
        Interest of each viewer in the video's true topic mixture, in [0, 1].
    video, behaviour
        The scenario's video and behaviour tables.
    propensity_spread
        Sigma of the viewers' log-normal action propensities (mean 1).
    rng
        Generator for the draws.

    Returns
    -------
    ViewOutcomes
        ``watch_s`` (seconds watched), ``completed`` and the views that took each action.
    """
    return viewing(video, behaviour, propensity_spread).outcomes(interest, rng=rng)
