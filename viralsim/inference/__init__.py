"""Inference: what a video's analytics say about a scenario's fields, and which fields move a metric.

- :mod:`~viralsim.inference.summary` — the observation (:class:`Observed`) and the summary statistics
  that compare a run with it;
- :mod:`~viralsim.inference.abc` — :func:`fit`: ABC-SMC (pyabc) of named fields with uniform priors;
- :mod:`~viralsim.inference.predictive` — posterior-predictive reach curves;
- :mod:`~viralsim.inference.sensitivity` — :func:`sensitivity`: Sobol or Morris indices (SALib).

pyabc and SALib are the ``infer`` extra (``pip install "viralsim[infer]"``); they are imported
only when a fit or a sensitivity analysis runs. Reading and writing observed files is
``viralsim.io.observed``; the figures are ``viralsim.plots.inference``.
"""

from viralsim.inference.abc import Fit, Prior, fit
from viralsim.inference.sensitivity import sensitivity
from viralsim.inference.summary import Observed, observed_from_run

__all__ = ["Fit", "Observed", "Prior", "fit", "observed_from_run", "sensitivity"]
