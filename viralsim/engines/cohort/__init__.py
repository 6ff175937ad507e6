"""The cohort engine (``engine = "core"``): one video, users as rows of numpy arrays.

One SimPy process per platform decision and per batch of deliveries (a push
cohort, the followers, a share generation), never one per viewer; see
:mod:`viralsim.engines.cohort.engine`. This module only re-exports.
"""

from viralsim.engines.cohort.engine import ENGINE

__all__ = ["ENGINE"]
