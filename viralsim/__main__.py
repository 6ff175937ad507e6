"""``python -m viralsim``: the same command line as ``viralsim``."""

from viralsim.cli import main

main()
