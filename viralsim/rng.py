"""Randomness: one ``SeedSequence`` per run, one named child stream per source.

No module of viralsim touches global random state. A run with root seed ``S``
and index ``i`` gets ``SeedSequence(S, spawn_key=(i,))``; each stochastic
source (population, moderation, each push stage, shares, ...) draws from its
own child, keyed by a stable hash of the source's *name*, so adding a source
never shifts another one and the variants of a scenario share their draws
(common random numbers). The scenario is deliberately not part of the key.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["Streams", "run_seed_sequence"]


def run_seed_sequence(seed: int, run: int = 0) -> np.random.SeedSequence:
    """The seed sequence of run ``run`` of root seed ``seed``."""
    return np.random.SeedSequence(seed, spawn_key=(run,))


class Streams:
    """Named, independent random generators derived from one run's seed sequence.

    ``streams["shares"]`` always returns the same generator object for a name,
    and the generator of a name does not depend on which other names exist or
    in which order they were asked for.
    """

    def __init__(self, seed: int, run: int = 0, namespace: str = "") -> None:
        self.seed = seed
        self.run = run
        #: Prefix of every name (``"cross_post"``: the streams of a second platform in the same
        #: run, independent of the first platform's); ``""`` leaves the names as they are.
        self.namespace = namespace
        self._root = run_seed_sequence(seed, run)
        self._cache: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        gen = self._cache.get(name)
        if gen is None:
            full = f"{self.namespace}/{name}" if self.namespace else name
            key = zlib.crc32(full.encode("utf-8"))
            ss = np.random.SeedSequence(self._root.entropy, spawn_key=(*self._root.spawn_key, key))
            gen = np.random.Generator(np.random.PCG64(ss))
            self._cache[name] = gen
        return gen
