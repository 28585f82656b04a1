"""What the commands print on a terminal: grammatical counts, lists that fit a screen.

The library builds these lines (so tests and scripts get the same text); the CLI modules
only print them. Lists are cut at a screenful with "... and N more", because a campaign of
2,000 rows must not scroll its confirmation prompt out of sight.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

#: Lines of a list shown before "... and N more".
SCREENFUL = 20
#: The narrowest terminal a list is laid out for (rollback's plan fits 80-130 columns).
MIN_WIDTH = 80


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 task`, `2 tasks`, `0 tasks`."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def clip(text: object, width: int) -> str:
    """`text` cut to `width` characters, the cut marked with an ellipsis."""
    value = "" if text is None else " ".join(str(text).split())
    return value if len(value) <= width else value[: max(width - 1, 0)] + "\u2026"


def screenful(lines: Sequence[str], limit: int = SCREENFUL, *, indent: str = "  ") -> list[str]:
    """At most `limit` lines, then one line saying how many more there are."""
    shown = [indent + line for line in lines[:limit]]
    if len(lines) > limit:
        shown.append(f"{indent}... and {len(lines) - limit} more")
    return shown


def row_lines(rows: Iterable[tuple[object, object, object]], width: int = MIN_WIDTH) -> list[str]:
    """`row  NAME  reason` lines of a list of (source row, name, reason), within `width`."""
    out = []
    for row, name, reason in rows:
        head = f"row {row!s:>5}  {clip(name, 30):<30}  "
        out.append(head + clip(reason, max(width - len(head) - 2, 20)))
    return out
