"""Line numbers of the keys of a TOML document, found by scanning its text once.

Neither ``tomllib`` nor ``tomlkit`` keeps line numbers, so error messages look
up their line here. :func:`build_index` maps every key path it sees to the line
where it appears: table headers (``[a.b]``), arrays of tables (``[[a.b]]``,
path ``("a", "b", n)`` for the n-th entry, counted from 0), dotted and quoted
keys, keys of inline tables, and the entries of arrays (``("x", i)``, on their
own line when the array spans several lines). Multi-line strings and comments
are skipped. :func:`line_of` answers for the longest known prefix of a path, so
a field missing from a table points at the table's header and anything unknown
at the top level points at line 1.

The scanner expects text that ``tomllib`` has accepted; on anything else it
stops where it is lost and returns what it has found so far. It never raises.
It does not decode values and is not a TOML parser. :func:`too_deep` runs the
same scanner *before* ``tomllib`` to refuse absurdly nested keys, on which
``tomllib`` takes time and memory quadratic in the depth (a 100 kB line
``a.a.a...a = 1`` takes it over a minute and 9 GiB).
"""

from __future__ import annotations

import string
from bisect import bisect_left
from collections.abc import Sequence

__all__ = ["MAX_DEPTH", "Key", "LineIndex", "build_index", "line_of", "too_deep"]

#: A key path: table and key names, and 0-based indexes into arrays.
Key = tuple[str | int, ...]
#: Key path -> 1-based line number.
LineIndex = dict[Key, int]

_BARE = frozenset(string.ascii_letters + string.digits + "_-")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", "e": "\x1b", '"': '"', "\\": "\\"}
_SCALAR_END = frozenset(",]}#\n")
#: Deepest key path :func:`too_deep` accepts (a scenario's deepest is
#: ``variants.NAME.platform.recognition.confusion.TOPIC.TOPIC``, 7).
MAX_DEPTH = 32


def build_index(text: str) -> LineIndex:
    """Map every key path of the TOML ``text`` to the line (1-based) where it appears.

    Parameters
    ----------
    text : str
        A TOML document, normally one that ``tomllib`` parsed without error.

    Returns
    -------
    LineIndex
        Key path -> line. A table header gives the line of its table, an
        array of tables the line of its first ``[[...]]`` header.
    """
    return _Scanner(text).scan()


def too_deep(text: str, limit: int = MAX_DEPTH) -> int | None:
    """Line of the first key whose path is deeper than ``limit``, or None.

    A path counts its tables, dotted key parts, inline tables and arrays
    (``a.b = [[1]]`` is 4 deep). Runs in time linear in the text, also on text
    that is not TOML (it stops where it is lost, like :func:`build_index`).

    Parameters
    ----------
    text : str
        A TOML document, not yet parsed.
    limit : int
        The deepest path allowed.

    Returns
    -------
    int or None
        A 1-based line number, or None when every path is at most ``limit`` deep.
    """
    scanner = _Scanner(text, limit)
    try:
        scanner.scan()
    except _TooDeep as err:
        return err.line
    return None


def line_of(index: LineIndex, loc: Sequence[str | int]) -> int:
    """Line of the longest prefix of ``loc`` found in ``index``; 1 if there is none.

    Parameters
    ----------
    index : LineIndex
        From :func:`build_index`.
    loc : sequence of str or int
        A key path, e.g. a pydantic error location ``("platform", "push", "cohorts", 2)``.

    Returns
    -------
    int
        A 1-based line number.
    """
    key = tuple(loc)
    for n in range(len(key), 0, -1):
        line = index.get(key[:n])
        if line is not None:
            return line
    return 1


class _Lost(Exception):
    """The text is not TOML the scanner understands: stop scanning."""


class _TooDeep(Exception):
    """A key path deeper than the scanner's limit, at ``line``."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _Scanner:
    """One pass over the text with a cursor; methods consume what they recognise."""

    def __init__(self, text: str, limit: int | None = None) -> None:
        self.text = text
        self.limit = limit  # None: index every path; else raise _TooDeep past this depth
        self.pos = 0
        self.index: LineIndex = {}
        self.newlines = [i for i, c in enumerate(text) if c == "\n"]
        self.tables_in_array: dict[Key, int] = {}  # [[path]] -> number of entries so far

    def line(self) -> int:
        return bisect_left(self.newlines, self.pos) + 1

    def check_depth(self, depth: int) -> None:
        if self.limit is not None and depth > self.limit:
            raise _TooDeep(self.line())

    def at(self, s: str) -> bool:
        return self.text.startswith(s, self.pos)

    def scan(self) -> LineIndex:
        table: Key = ()
        try:
            while True:
                self.skip(newlines=True)
                if self.pos >= len(self.text):
                    break
                table = self.header() if self.at("[") else self.key_value(table)
                self.skip()
                if not (self.at("\n") or self.pos >= len(self.text)):
                    raise _Lost
        except (_Lost, RecursionError):
            pass
        return self.index

    def skip(self, newlines: bool = False) -> None:
        """Skip blanks and comments, and line breaks if ``newlines``."""
        t = self.text
        while self.pos < len(t):
            c = t[self.pos]
            if c in " \t\r" or (newlines and c == "\n"):
                self.pos += 1
            elif c == "#":
                end = t.find("\n", self.pos)
                self.pos = len(t) if end < 0 else end
            else:
                break

    def expect(self, s: str) -> None:
        if not self.at(s):
            raise _Lost
        self.pos += len(s)

    def header(self) -> Key:
        """``[a.b]`` or ``[[a.b]]``: record it and return the path of the table it opens."""
        line = self.line()
        in_array = self.at("[[")
        self.pos += 2 if in_array else 1
        self.skip()
        keys = self.key()
        self.skip()
        self.expect("]]" if in_array else "]")
        path: Key = ()
        for k in keys[:-1]:
            path += (k,)
            self.index.setdefault(path, line)
            if path in self.tables_in_array:  # [[a]] then [a.b]: b belongs to the last a
                path += (self.tables_in_array[path] - 1,)
        path += (keys[-1],)
        if in_array:
            n = self.tables_in_array.get(path, 0)
            self.tables_in_array[path] = n + 1
            self.index.setdefault(path, line)
            path += (n,)
        self.check_depth(len(path))
        self.index[path] = line
        return path

    def key_value(self, table: Key) -> Key:
        """``a.b = value`` inside ``table``; returns ``table`` unchanged."""
        line = self.line()
        keys = self.key()
        self.skip()
        self.expect("=")
        self.skip()
        self.value(self.record(table, keys, line))
        return table

    def record(self, base: Key, keys: list[str], line: int) -> Key:
        self.check_depth(len(base) + len(keys))
        for n in range(1, len(keys)):
            self.index.setdefault(base + tuple(keys[:n]), line)
        path = base + tuple(keys)
        self.index[path] = line
        return path

    def key(self) -> list[str]:
        parts = [self.simple_key()]
        while True:
            start = self.pos
            self.skip()
            if not self.at("."):
                self.pos = start
                return parts
            self.pos += 1
            self.skip()
            parts.append(self.simple_key())
            self.check_depth(len(parts))

    def simple_key(self) -> str:
        if self.at('"'):
            return self.basic_string()
        if self.at("'"):
            return self.literal_string()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _BARE:
            self.pos += 1
        if self.pos == start:
            raise _Lost
        return self.text[start : self.pos]

    def basic_string(self) -> str:
        """A one-line ``"..."`` string, escapes decoded (it may be a key)."""
        t = self.text
        self.pos += 1
        out: list[str] = []
        while True:
            c = t[self.pos : self.pos + 1]
            self.pos += 1
            if c in ("", "\n"):
                raise _Lost
            if c == '"':
                return "".join(out)
            if c != "\\":
                out.append(c)
                continue
            e = t[self.pos : self.pos + 1]
            self.pos += 1
            if e and e in "uU":
                n = 4 if e == "u" else 8
                try:
                    out.append(chr(int(t[self.pos : self.pos + n], 16)))
                except (ValueError, OverflowError) as err:
                    raise _Lost from err
                self.pos += n
            else:
                out.append(_ESCAPES.get(e, e))

    def literal_string(self) -> str:
        end = self.text.find("'", self.pos + 1)
        if end < 0 or "\n" in self.text[self.pos : end]:
            raise _Lost
        s = self.text[self.pos + 1 : end]
        self.pos = end + 1
        return s

    def multiline_string(self, quotes: str) -> None:
        t = self.text
        self.pos += 3
        while self.pos < len(t):
            if quotes == '"""' and t[self.pos] == "\\":
                self.pos += 2
            elif self.at(quotes):
                self.pos += 3
                for _ in range(2):  # up to two quotes may end the content: """a""""
                    if self.at(quotes[0]):
                        self.pos += 1
                return
            else:
                self.pos += 1
        raise _Lost

    def value(self, path: Key) -> None:
        if self.at('"""') or self.at("'''"):
            self.multiline_string(self.text[self.pos : self.pos + 3])
        elif self.at('"'):
            self.basic_string()
        elif self.at("'"):
            self.literal_string()
        elif self.at("["):
            self.array(path)
        elif self.at("{"):
            self.inline_table(path)
        else:  # number, boolean or date-time
            start = self.pos
            while self.pos < len(self.text) and self.text[self.pos] not in _SCALAR_END:
                self.pos += 1
            if self.pos == start:
                raise _Lost
            self.pos = start + len(self.text[start : self.pos].rstrip())

    def array(self, path: Key) -> None:
        self.pos += 1
        i = 0
        while True:
            self.skip(newlines=True)
            if not self.at("]"):
                if self.pos >= len(self.text):
                    raise _Lost
                item = (*path, i)
                self.check_depth(len(item))
                self.index[item] = self.line()
                self.value(item)
                self.skip(newlines=True)
                if self.at(","):
                    self.pos += 1
                    i += 1
                    continue
            self.expect("]")
            return

    def inline_table(self, path: Key) -> None:
        self.pos += 1
        while True:
            self.skip(newlines=True)
            if not self.at("}"):
                line = self.line()
                keys = self.key()
                self.skip()
                self.expect("=")
                self.skip()
                self.value(self.record(path, keys, line))
                self.skip(newlines=True)
                if self.at(","):
                    self.pos += 1
                    continue
            self.expect("}")
            return
