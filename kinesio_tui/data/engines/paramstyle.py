"""SQLite's placeholders (`?`, `:name`) in psycopg's (`%s`, `%(name)s`), for the PostgreSQL engine.

The domain writes each statement once, in SQLite's paramstyle, so SQLite runs byte for byte
the SQL it always ran; the PostgreSQL engine translates each statement text once (cached).
String literals and quoted names are copied as they are (with `%` doubled: psycopg reads
`%` even inside literals), a PostgreSQL cast (`::bigint`) is not a placeholder, and a bare
`%` (LIKE patterns written into the SQL) becomes `%%`. psycopg honours `%%` only when it
is given parameters, so the engine always passes a sequence, empty if need be.
"""

from __future__ import annotations

import functools
import re

_TOKEN = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|::|\?|(?<!:):[A-Za-z_]\w*|%""")


def _translate(match: re.Match[str]) -> str:
    token = match.group(0)
    if token[0] in "'\"":
        return token.replace("%", "%%")
    if token == "::":
        return token
    if token == "?":
        return "%s"
    if token == "%":
        return "%%"
    return f"%({token[1:]})s"


@functools.lru_cache(maxsize=2048)
def to_pyformat(sql: str) -> str:
    """`sql` with SQLite's placeholders as psycopg's, and every other `%` escaped."""
    return _TOKEN.sub(_translate, sql)
