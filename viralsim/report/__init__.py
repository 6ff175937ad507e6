"""The interactive HTML report: one self-contained page per scenario (edge layer, like plots).

``build_report(scenario, seed=...)`` returns the page: the scenario in words,
key numbers of one run and of paired runs of every variant, an animation of
the staged push (play button and time slider) and the variants compared.
plotly.js is embedded inline, so the file works offline. ``write_report``
writes it atomically. Nothing in the core imports this package.
"""

from viralsim.report.page import DEFAULT_RUNS, build_report, write_report

__all__ = ["DEFAULT_RUNS", "build_report", "write_report"]
