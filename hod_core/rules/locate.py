"""Find the line of a table or key in TOML source, for error messages.

tomllib gives values without positions; a policy author still needs "line
42", so we look the key up in the text: the header of its table (or the
n-th `[[rules]]` entry), then the first `key =` line inside that block.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


class Locator:
    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.headers: list[tuple[int, str, bool]] = []  # (line, name, is_array)
        for number, line in enumerate(self.lines, start=1):
            match = _HEADER.match(line)
            if match:
                self.headers.append((number, match.group(1), line.lstrip().startswith("[[")))

    def block(self, table: str, index: int | None = None) -> tuple[int, int]:
        """First and last line of a table, or of entry `index` of an array of tables."""
        starts = [
            n for n, name, array in self.headers if name == table and (index is None) != array
        ]
        if not starts:
            return (1, len(self.lines)) if table == "" else (0, 0)
        start = starts[index or 0] if (index or 0) < len(starts) else starts[-1]
        later = [n for n, _, _ in self.headers if n > start]
        return start, (later[0] - 1 if later else len(self.lines))

    def line(self, table: str, key: str | None = None, index: int | None = None) -> int | None:
        start, end = self.block(table, index)
        if start == 0:
            return None
        if key is None:
            return start
        pattern = re.compile(rf"^\s*(\"{re.escape(key)}\"|{re.escape(key)})\s*=")
        for number in range(start, end + 1):
            if pattern.match(self.lines[number - 1]):
                return number
        return start

    def value_starts_on_next_line(self, line: int) -> bool:
        """A multi-line string whose first newline TOML trims: content starts below."""
        text = self.lines[line - 1].split("=", 1)[-1].strip()
        return text in ("'''", '"""')
