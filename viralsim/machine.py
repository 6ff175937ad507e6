"""The machine a run happens on: how much memory it may use, and bytes written for people.

Knows nothing of scenarios or engines (it sits just above ``rng``); the memory
estimates that are compared with :func:`machine_memory` belong to each engine.
"""

from __future__ import annotations

import os

__all__ = ["DEFAULT_MEMORY", "USABLE_FRACTION", "format_bytes", "machine_memory"]

#: Used when the machine's memory cannot be found out.
DEFAULT_MEMORY = 16 * 2**30
#: The share of the physical memory a run may plan to use: the rest is the system's, the
#: interpreter's and the estimates' error (a run estimated at 22.2 GiB was killed by the
#: kernel on a 23.5 GiB machine instead of being refused in one line).
USABLE_FRACTION = 0.85


def machine_memory() -> int:
    """Memory a run may use on this machine, in bytes.

    :data:`USABLE_FRACTION` of the physical memory, lowered to the address-space
    limit (``ulimit -v``) when one is set; :data:`DEFAULT_MEMORY` where neither can
    be found out.
    """
    found: list[int] = []
    try:
        found.append(int(USABLE_FRACTION * os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")))
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        pass
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY and soft > 0:
            found.append(soft)
    except (ImportError, ValueError, OSError):
        pass
    found = [b for b in found if b > 0]
    return min(found) if found else DEFAULT_MEMORY


def format_bytes(b: float) -> str:
    """``5.5 TiB``, ``330 GiB``, ``700 MiB``: binary units, three significant digits."""
    for unit, size in (("PiB", 2.0**50), ("TiB", 2.0**40), ("GiB", 2.0**30), ("MiB", 2.0**20)):
        if b >= size:
            return f"{b / size:.3g} {unit}"
    return f"{b / 2**10:.3g} KiB"
