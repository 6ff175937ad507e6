"""Experiments: plans of many runs, running them on an executor, and their statistics.

- :mod:`~viralsim.experiments.plan` — which runs (variants, grid points, run indices);
- :mod:`~viralsim.experiments.executors` — where they run (in-process, local processes, Dask);
- :mod:`~viralsim.experiments.run` — chunks of runs, one flat row per run, resumable sinks;
- :mod:`~viralsim.experiments.stats` — tables, bands, medians and paired differences.

The public names are re-exported by :mod:`viralsim.ensemble` and :mod:`viralsim.executors`.
"""
