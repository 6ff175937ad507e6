"""The ``viralsim`` command line (click + rich): the edge where files and terminals live.

Exit codes: 0 ok; 1 bad input or a failed run (one clear line per problem on
stderr, never a traceback); 2 usage errors (click's own). Tables go to stdout,
``--json`` prints exactly one JSON object on stdout.

- :mod:`~viralsim.cli.common` — the ``main`` group and one-line failures;
- :mod:`~viralsim.cli.run` — ``run``;
- :mod:`~viralsim.cli.experiments` — ``compare``, ``sweep`` (and ``run --runs N``);
- :mod:`~viralsim.cli.facts` — ``facts`` (the stylised-facts check);
- :mod:`~viralsim.cli.figures` — ``plot``, ``report``;
- :mod:`~viralsim.cli.files` — ``validate``, ``schema``, ``explain``, ``new``, ``scenarios``, ``lab``;
- :mod:`~viralsim.cli.inference` — ``fit``, ``sensitivity``, ``observe``.
"""

from viralsim.cli import experiments, facts, figures, files, inference, run  # noqa: F401 - each registers its commands
from viralsim.cli.common import main

__all__ = ["main"]
