"""The lab: a live local web app to play with a scenario (``viralsim lab``).

A page in the browser with a scenario picker, a control per key parameter
(each with its field's description), a seed, Run and Reset, and the scenario
as set beside the same without the push, each with its key numbers, reach by
source and push stages. It sits above the report in the layers and may import
experiments, io, plots, report and the public API; nothing but the ``lab``
command imports it, and dash (the ``lab`` extra) is imported only when a lab
starts. Modules: :mod:`~viralsim.lab.params` (controls), :mod:`~viralsim.lab.runs`
(scenarios, runs), :mod:`~viralsim.lab.live` (runs watched as they go, in the
background), :mod:`~viralsim.lab.figures` and :mod:`~viralsim.lab.bands`,
:mod:`~viralsim.lab.app` (the Dash page), :mod:`~viralsim.lab.running` (Run,
Stop, the live update), :mod:`~viralsim.lab.server` (port, browser).
"""

from viralsim.lab.runs import LabError
from viralsim.lab.server import LabServer, serve, start

__all__ = ["LabError", "LabServer", "serve", "start"]
