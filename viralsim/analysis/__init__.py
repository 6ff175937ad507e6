"""Analysis of finished runs: pure functions over a run's logs (no IO, no printing, no matplotlib).

- :mod:`~viralsim.analysis.logs` — an agent run's log (:func:`~viralsim.analysis.logs.log_of`) and its vocabulary;
- :mod:`~viralsim.analysis.inequality` — Gini, CCDF and the concentration of views over videos and creators;
- :mod:`~viralsim.analysis.marketplace` — what predicts views, narrowing feeds, runs and modes compared;
- :mod:`~viralsim.analysis.day` — one user's local day (sessions and views) and a good user-day to show;
- :mod:`~viralsim.analysis.facts` — the stylised facts of real platforms, each measured from arrays;
- :mod:`~viralsim.analysis.stylised` — their published bands and sources, and runs measured against them.

The figures are in :mod:`viralsim.plots.marketplace`; the layer sits beside :mod:`viralsim.experiments`
(docs/design.md §4).
"""
