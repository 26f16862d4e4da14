"""Line numbers for Bundle entries in pretty-printed JSON, found only when needed.

Standard JSON parsers drop positions. Rather than slow every read with a position-aware
parser, the engine asks for the lines of the few Bundle entries that have findings, after
the run: one scan of the file's tokens finds where each ``entry`` element starts.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\]:,]')


def bundle_entry_lines(data: bytes) -> list[int]:
    """1-based line of each element of a Bundle's top-level ``entry`` array, in order."""
    lines: list[int] = []
    depth = 0
    in_entry = False
    entry_depth = -1
    last_key: bytes | None = None
    line = 1
    last_pos = 0
    expect_key = False
    for match in _TOKEN.finditer(data):
        token = match.group()
        first = token[:1]
        if first == b'"':
            if expect_key and depth == 1:
                last_key = token
            continue
        if token == b":":
            expect_key = False
            continue
        if token == b",":
            expect_key = depth >= 1 and not (in_entry and depth == entry_depth)
            continue
        if first in b"{[":
            if in_entry and depth == entry_depth and first == b"{":
                start = match.start()
                line += data.count(b"\n", last_pos, start)
                last_pos = start
                lines.append(line)
            if depth == 1 and first == b"[" and last_key == b'"entry"':
                in_entry = True
                entry_depth = depth + 1
            depth += 1
            expect_key = first == b"{"
        else:
            depth -= 1
            if in_entry and depth < entry_depth - 1:
                in_entry = False
                break
            expect_key = False
    return lines
