"""Page numbers from the query string: any text gives a page that exists in SQL (never a 500)."""

from __future__ import annotations

from flask import request

#: The highest page number asked of the database; far past any real list, far below bigint overflow.
MAX_PAGE = 100_000


def page_arg(args=None, name: str = "page") -> int:
    """Return the page number in `args` (default: the request's), clamped to 1..MAX_PAGE; bad text is 1."""
    raw = (request.args if args is None else args).get(name, "1")
    try:
        number = int(str(raw).strip())
    except (TypeError, ValueError):  # also digits beyond Python's int string limit
        return 1
    return max(1, min(number, MAX_PAGE))
